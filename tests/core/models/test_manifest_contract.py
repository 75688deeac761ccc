"""The manifest's model contracts: what they state, and how a file's signature is compared with them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from facedeck.core.models.contract import (
    Contract,
    TensorSpec,
    open_where_fixed,
    result_mismatch,
    shape_fits,
    signature_mismatch,
)
from facedeck.core.models.manifest import load_manifest

FLOAT = "tensor(float)"
HALF = "tensor(float16)"


@dataclass
class Node:
    """What onnxruntime's NodeArg offers: name, type string, shape (None: an unnamed open dim)."""

    name: str
    type: str
    shape: Sequence[int | str | None]


def contract(model_id: str) -> Contract:
    return load_manifest().models[model_id].contract


SWAPPER_INPUTS = [Node("target", FLOAT, [1, 3, 128, 128]), Node("source", FLOAT, [1, 512])]
SWAPPER_OUTPUTS = [Node("output", FLOAT, [1, 3, 128, 128])]


def test_packaged_contracts_state_the_real_signatures() -> None:
    """DESIGN.md section 4: names, dtypes and shapes of the real files."""

    def inputs(model_id: str) -> list[tuple]:
        return [(s.name, s.dtype, s.shape) for s in contract(model_id).inputs]

    def outputs(model_id: str) -> list[tuple]:
        return [(s.name, s.dtype, s.shape) for s in contract(model_id).outputs]

    assert inputs("det_10g") == [("input.1", "float32", (1, 3, "H", "W"))]
    assert contract("det_10g").output_counts() == [6, 9, 10, 15]
    assert inputs("w600k_r50") == [("input.1", "float32", ("N", 3, 112, 112))]
    assert outputs("w600k_r50") == [(None, "float32", ("N", 512))]
    assert inputs("2d106det") == [("data", "float32", ("N", 3, 192, 192))]
    assert outputs("2d106det") == [(None, "float32", ("N", 212))]
    for swapper in ("inswapper_128", "inswapper_128_fp16"):  # the fp16 file keeps float32 at its edges
        assert inputs(swapper) == [
            ("target", "float32", (1, 3, 128, 128)),
            ("source", "float32", (1, 512)),
        ]
        assert outputs(swapper) == [(None, "float32", (1, 3, 128, 128))]
    assert inputs("gfpgan_1.4") == [("input", "float32", (1, 3, 512, 512))]
    assert outputs("gfpgan_1.4") == [(None, "float32", (1, 3, 512, 512))]
    assert all(spec.contract.description for spec in load_manifest().models.values())


def test_a_matching_signature_passes() -> None:
    assert signature_mismatch(contract("inswapper_128"), SWAPPER_INPUTS, SWAPPER_OUTPUTS) is None


def test_wrong_input_dtype_is_named_with_both_signatures() -> None:
    inputs = [Node("target", HALF, [1, 3, 128, 128]), SWAPPER_INPUTS[1]]
    assert signature_mismatch(contract("inswapper_128"), inputs, SWAPPER_OUTPUTS) == (
        "input 'target' expects float32 [1,3,128,128], this file takes float16 [1,3,128,128]"
    )


@pytest.mark.parametrize(
    ("shape", "accepted"),
    [
        ([1, 3, 128, 128], True),
        (["batch", 3, "h", "w"], True),  # open dims: the engine feeds the contract's size
        ([None, 3, 128, 128], True),
        ([1, 3, 256, 256], False),  # a fixed dim that differs
        ([1, 3, 128], False),  # another rank
        ([1, 1, 3, 128, 128], False),
    ],
)
def test_fixed_dims_must_match_and_open_dims_are_accepted(shape: list, accepted: bool) -> None:
    inputs = [Node("target", FLOAT, shape), SWAPPER_INPUTS[1]]
    problem = signature_mismatch(contract("inswapper_128"), inputs, SWAPPER_OUTPUTS)
    assert (problem is None) == accepted, problem
    if not accepted:
        assert problem is not None and problem.startswith("input 'target' expects float32 [1,3,128,128]")


def test_missing_and_extra_inputs() -> None:
    renamed = [Node("img", FLOAT, [1, 3, 128, 128]), SWAPPER_INPUTS[1]]
    assert signature_mismatch(contract("inswapper_128"), renamed, SWAPPER_OUTPUTS) == (
        "input 'target' (float32 [1,3,128,128]) is missing; this file's inputs: 'img', 'source'"
    )
    extra = [*SWAPPER_INPUTS, Node("strength", FLOAT, [1])]
    assert signature_mismatch(contract("inswapper_128"), extra, SWAPPER_OUTPUTS) == (
        "this file also takes input 'strength' (float32 [1]), which FaceDeck does not feed"
    )


def test_outputs_count_dtype_shape_and_name() -> None:
    swapper = contract("inswapper_128")
    assert signature_mismatch(swapper, SWAPPER_INPUTS, []) == "expects 1 output, this file gives 0"
    two = [*SWAPPER_OUTPUTS, Node("mask", FLOAT, [1, 1, 128, 128])]
    assert signature_mismatch(swapper, SWAPPER_INPUTS, two) == "expects 1 output, this file gives 2"
    half = [Node("output", HALF, [1, 3, 128, 128])]
    assert signature_mismatch(swapper, SWAPPER_INPUTS, half) == (
        "output 1 ('output') expects float32 [1,3,128,128], this file gives float16 [1,3,128,128]"
    )
    recognizer_in = [Node("input.1", FLOAT, ["n", 3, 112, 112])]
    assert signature_mismatch(contract("w600k_r50"), recognizer_in, [Node("683", FLOAT, ["n", 512])]) is None
    assert signature_mismatch(contract("w600k_r50"), recognizer_in, [Node("683", FLOAT, ["n", 128])]) == (
        "output 1 ('683') expects float32 [N,512], this file gives float32 [n,128]"
    )
    # the packaged contracts leave output names out (outputs are read by position): any name passes
    restorer_in = [Node("input", FLOAT, [1, 3, 512, 512])]
    assert (
        signature_mismatch(contract("gfpgan_1.4"), restorer_in, [Node("1288", FLOAT, [1, 3, 512, 512])])
        is None
    )
    # a name a contract does give is checked
    named = Contract("test", (TensorSpec("float32", (1,), "x"),), (TensorSpec("float32", (1,), "y"),))
    assert signature_mismatch(named, [Node("x", FLOAT, [1])], [Node("y", FLOAT, [1])]) is None
    assert signature_mismatch(named, [Node("x", FLOAT, [1])], [Node("z", FLOAT, [1])]) == (
        "output 1 is 'z', expected 'y'"
    )


def scrfd_outputs(strides: int, with_kps: bool, batch_axis: bool = False) -> list[Node]:
    widths = [1, 4, 10] if with_kps else [1, 4]
    lead: list[int | str | None] = [1, "anchors"] if batch_axis else ["anchors"]
    return [Node(f"o{i}_{s}", FLOAT, [*lead, w]) for i, w in enumerate(widths) for s in range(strides)]


@pytest.mark.parametrize(
    ("strides", "with_kps", "batch_axis"),
    [(3, True, False), (3, False, False), (5, True, False), (5, False, True), (3, True, True)],
)
def test_every_scrfd_layout_facedeck_decodes_is_accepted(
    strides: int, with_kps: bool, batch_axis: bool
) -> None:
    inputs = [Node("input.1", FLOAT, [1, 3, "?", "?"])]
    outputs = scrfd_outputs(strides, with_kps, batch_axis)
    assert signature_mismatch(contract("det_10g"), inputs, outputs) is None


def test_scrfd_layouts_it_cannot_decode_are_refused() -> None:
    detector = contract("det_10g")
    inputs = [Node("input.1", FLOAT, [1, 3, 640, 640])]
    nine = scrfd_outputs(3, True)
    assert (
        signature_mismatch(detector, inputs, nine[:8]) == "expects 6, 9, 10 or 15 outputs, this file gives 8"
    )
    wrong_box = [*nine[:3], Node("b", FLOAT, ["anchors", 5]), *nine[4:]]
    assert signature_mismatch(detector, inputs, wrong_box) == (
        "output 4 ('b') expects float32 [...,4], this file gives float32 [anchors,5]"
    )
    # the box and keypoint outputs in the wrong order
    swapped = nine[:3] + nine[6:] + nine[3:6]
    assert signature_mismatch(detector, inputs, swapped) is not None
    layout = detector.output_layout(9)
    assert layout is not None and [spec.shape[-1] for spec in layout] == [1, 1, 1, 4, 4, 4, 10, 10, 10]
    assert detector.output_layout(7) is None


def test_shape_fits_with_leading_dims() -> None:
    assert shape_fits(("...", 4), [12800, 4])
    assert shape_fits(("...", 4), [1, 12800, 4])
    assert shape_fits(("...", 4), ["n", None])
    assert not shape_fits(("...", 4), [12800, 5])
    assert not shape_fits(("...", 4), [])


def test_only_dims_the_file_leaves_open_need_a_check_after_each_run() -> None:
    spec = TensorSpec("float32", (1, 3, 128, 128))
    assert not open_where_fixed(spec, [1, 3, 128, 128])
    assert open_where_fixed(spec, [1, 3, "h", "w"])
    assert open_where_fixed(spec, [None, 3, 128, 128])
    assert not open_where_fixed(TensorSpec("float32", ("N", 512)), ["n", 512])
    assert not open_where_fixed(TensorSpec("float32", ("...", 4)), [1, "anchors", 4])
    assert open_where_fixed(TensorSpec("float32", ("...", 4)), ["anchors", "k"])


def test_result_mismatch_checks_what_the_file_left_open() -> None:
    spec = TensorSpec("float32", (1, 3, 128, 128))
    assert result_mismatch(spec, "output", "float32", (1, 3, 128, 128)) is None
    assert result_mismatch(spec, "output", "float32", (1, 3, 64, 64)) == (
        "output 'output' came back as float32 [1,3,64,64], expected float32 [1,3,128,128]"
    )
    assert result_mismatch(spec, "output", "float64", (1, 3, 128, 128)) is not None
