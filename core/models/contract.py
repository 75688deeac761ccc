"""A model's contract: the inputs and outputs (name, dtype, shape) FaceDeck feeds and reads.

The manifest states one per model (``[models.contract]``); :func:`parse_contract` reads it,
:func:`signature_mismatch` compares a loaded session's inputs and outputs with it and
:func:`result_mismatch` an array a run returned. Both answer ``None`` or the difference in
a few words ("input 'target' expects float32 [1,3,128,128], this file takes float16
[1,3,128,128]"), which the model wrappers put in one sentence with the file and model id.

Shapes hold fixed dims (ints), symbolic dims (names such as "N": any size) and, first only,
``"..."``: any number of leading dims of any size (SCRFD exports with and without a batch
axis). A dim the FILE leaves symbolic is accepted where the contract fixes it: such a graph
takes any size, and the engine always feeds the contract's size (a 128 crop to the
swapper); should the graph still not cope, the run fails and :func:`result_mismatch` or the
run-time error names the file. Symbolic names document which dims vary; they bind nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

ANY_LEADING = "..."

# onnxruntime's type strings -> the dtype names contracts use (numpy's)
ORT_DTYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(bfloat16)": "bfloat16",
    "tensor(int8)": "int8",
    "tensor(int16)": "int16",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
    "tensor(uint8)": "uint8",
    "tensor(uint16)": "uint16",
    "tensor(uint32)": "uint32",
    "tensor(uint64)": "uint64",
    "tensor(bool)": "bool",
    "tensor(string)": "string",
}
DTYPES = tuple(ORT_DTYPES.values())

Dim = int | str
FileDim = int | str | None  # onnxruntime reports an unnamed symbolic dim as None


class ContractFormatError(ValueError):
    """A contract in the manifest is malformed; the message names the bad entry."""


class NodeInfo(Protocol):
    """What onnxruntime's ``NodeArg`` offers (``session.get_inputs()`` / ``get_outputs()``)."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def shape(self) -> Sequence[FileDim]: ...


@dataclass(frozen=True)
class TensorSpec:
    """One input or output. ``name`` None: any name (outputs are read by position)."""

    dtype: str
    shape: tuple[Dim, ...]
    name: str | None = None
    optional: bool = False  # trailing outputs some exports leave out (SCRFD's keypoints)

    def describe(self) -> str:
        return f"{self.dtype} {format_shape(self.shape)}"

    def fits(self, dtype: str, shape: Sequence[FileDim]) -> bool:
        return dtype == self.dtype and shape_fits(self.shape, shape)


@dataclass(frozen=True)
class Contract:
    """A model's inputs and outputs, and a human description of what they carry."""

    description: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    # each output entry stands for this many consecutive outputs (one per SCRFD stride);
    # a file may use any of the counts listed
    output_repeat: tuple[int, ...] = (1,)

    def output_counts(self) -> list[int]:
        required = sum(1 for spec in self.outputs if not spec.optional)
        return sorted({r * n for r in self.output_repeat for n in range(required, len(self.outputs) + 1)})

    def output_layout(self, count: int) -> tuple[TensorSpec, ...] | None:
        """The spec of each of ``count`` outputs, or None when the contract allows no such count."""
        for repeat in self.output_repeat:
            entries, rest = divmod(count, repeat)
            if not rest and sum(not s.optional for s in self.outputs) <= entries <= len(self.outputs):
                return tuple(spec for spec in self.outputs[:entries] for _ in range(repeat))
        return None


def format_shape(shape: Sequence[FileDim]) -> str:
    return "[" + ",".join("?" if dim is None else str(dim) for dim in shape) + "]"


def _fixed(dim: FileDim) -> int | None:
    return dim if isinstance(dim, int) and dim > 0 else None


def shape_fits(expected: Sequence[Dim], found: Sequence[FileDim]) -> bool:
    """Same rank (``...`` takes any leading dims) and equal fixed dims where both are fixed."""
    if expected and expected[0] == ANY_LEADING:
        expected = expected[1:]
        if len(found) < len(expected):
            return False
        found = found[len(found) - len(expected) :]
    elif len(found) != len(expected):
        return False
    for want, have in zip(expected, found, strict=True):
        if isinstance(want, int) and _fixed(have) is not None and have != want:
            return False
    return True


def open_where_fixed(spec: TensorSpec, found: Sequence[FileDim]) -> bool:
    """Whether the file leaves open a dim ``spec`` fixes: only a run's result can tell then."""
    expected = spec.shape[1:] if spec.shape and spec.shape[0] == ANY_LEADING else spec.shape
    trailing = found[len(found) - len(expected) :] if expected else []
    pairs = zip(expected, trailing, strict=False)  # a fitting shape: same length
    return any(isinstance(want, int) and _fixed(have) is None for want, have in pairs)


def file_dtype(type_name: str) -> str:
    return ORT_DTYPES.get(type_name, type_name)


def _node(node: NodeInfo) -> str:
    return f"{file_dtype(node.type)} {format_shape(list(node.shape))}"


def _counts(counts: list[int]) -> str:
    text = str(counts[-1]) if len(counts) == 1 else ", ".join(map(str, counts[:-1])) + f" or {counts[-1]}"
    return text + (" output" if counts == [1] else " outputs")


def signature_mismatch(
    contract: Contract, inputs: Sequence[NodeInfo], outputs: Sequence[NodeInfo]
) -> str | None:
    """The first difference between a session's inputs/outputs and ``contract``, or None."""
    found = {node.name: node for node in inputs}
    for spec in contract.inputs:
        node = found.get(spec.name or "")
        if node is None:
            names = ", ".join(f"'{name}'" for name in found) or "none"
            return f"input '{spec.name}' ({spec.describe()}) is missing; this file's inputs: {names}"
        if not spec.fits(file_dtype(node.type), list(node.shape)):
            return f"input '{spec.name}' expects {spec.describe()}, this file takes {_node(node)}"
    wanted = {spec.name for spec in contract.inputs}
    for node in inputs:
        if node.name not in wanted:
            return f"this file also takes input '{node.name}' ({_node(node)}), which FaceDeck does not feed"
    layout = contract.output_layout(len(outputs))
    if layout is None:
        return f"expects {_counts(contract.output_counts())}, this file gives {len(outputs)}"
    for position, (spec, node) in enumerate(zip(layout, outputs, strict=True), start=1):
        if spec.name is not None and node.name != spec.name:
            return f"output {position} is '{node.name}', expected '{spec.name}'"
        if not spec.fits(file_dtype(node.type), list(node.shape)):
            gives = _node(node)
            return f"output {position} ('{node.name}') expects {spec.describe()}, this file gives {gives}"
    return None


def result_mismatch(spec: TensorSpec, name: str, dtype: str, shape: Sequence[int]) -> str | None:
    """How an array a run returned differs from its output's spec (dims the file left open)."""
    if spec.fits(dtype, shape):
        return None
    return f"output '{name}' came back as {dtype} {format_shape(shape)}, expected {spec.describe()}"
