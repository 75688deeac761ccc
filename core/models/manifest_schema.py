"""Reading the manifest's TOML tables strictly: every fault is one sentence naming the entry.

:class:`Table` wraps one table (a licence, a pack, a model, a contract tensor) with typed
getters; unknown keys are faults too, so a misspelt ``defualt = true`` is caught rather than
ignored. :func:`parse_contract` reads a model's ``[models.contract]``. Faults are
:class:`ManifestFault`; ``load_manifest_file`` puts the manifest's path in front.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .contract import ANY_LEADING, DTYPES, Contract, Dim, TensorSpec

_SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ManifestFault(ValueError):
    """One structural fault in the manifest; the message starts with the entry it is about."""


def kind_of(value: object) -> str:
    """A TOML value's kind in the manifest's own terms, for 'must be X, not Y' messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string '{value}'" if len(value) <= 40 else "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


class Table:
    """One TOML table of the manifest, read with getters that name it (``where``) in their faults."""

    def __init__(self, value: object, where: str, keys: Sequence[str]) -> None:
        if not isinstance(value, dict):
            raise ManifestFault(f"{where} must be a table, not {kind_of(value)}")
        self.data = value
        self.where = where
        unknown = sorted(set(value) - set(keys))
        if unknown:
            raise ManifestFault(f"{where}: unknown key '{unknown[0]}' (known: {', '.join(keys)})")

    def fault(self, problem: str) -> ManifestFault:
        return ManifestFault(f"{self.where}: {problem}")

    def _get(self, key: str) -> object:
        if key not in self.data:
            raise self.fault(f"no '{key}'")
        return self.data[key]

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fault(f"'{key}' must be a non-empty string, not {kind_of(value)}")
        return value

    def optional_text(self, key: str) -> str | None:
        return self.text(key) if key in self.data else None

    def positive(self, key: str) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fault(f"'{key}' must be a positive integer, not {kind_of(value)}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fault(f"'{key}' must be true or false, not {kind_of(value)}")
        return value

    def texts(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        if key not in self.data and not required:
            return ()
        value = self._get(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise self.fault(f"'{key}' must be a non-empty list of strings, not {kind_of(value)}")
        return tuple(value)

    def tables(self, key: str, *, required: bool = True) -> list[object]:
        if key not in self.data and not required:
            return []
        value = self._get(key)
        if not isinstance(value, list) or not value:
            raise self.fault(f"'{key}' must be a non-empty list of tables, not {kind_of(value)}")
        return value


def _dim(value: object, index: int, table: Table) -> Dim:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if value == ANY_LEADING and index == 0:
        return ANY_LEADING
    if isinstance(value, str) and _SYMBOL.match(value):
        return value
    raise table.fault(
        f"shape dim {index + 1} is {kind_of(value)}; a dim is a positive integer, a name such as "
        f'"N" or, first only, "{ANY_LEADING}"'
    )


def _tensor(value: object, where: str, *, is_input: bool) -> TensorSpec:
    keys = ("name", "dtype", "shape") if is_input else ("name", "dtype", "shape", "optional")
    table = Table(value, where, keys)
    name = table.text("name") if is_input else table.optional_text("name")
    if name is not None:
        table.where = f"{where.rsplit(' ', 1)[0]} '{name}'"
    dtype = table.text("dtype")
    if dtype not in DTYPES:
        raise table.fault(f"dtype '{dtype}' is not one of {', '.join(DTYPES)}")
    shape = table.data.get("shape")
    if not isinstance(shape, list):
        raise table.fault("no 'shape'" if shape is None else f"'shape' must be a list, not {kind_of(shape)}")
    dims = tuple(_dim(dim, index, table) for index, dim in enumerate(shape))
    return TensorSpec(dtype=dtype, shape=dims, name=name, optional=table.flag("optional", False))


def parse_contract(value: object, where: str) -> Contract:
    """``[models.contract]``: description, inputs, outputs and (SCRFD) ``output_repeat``."""
    if isinstance(value, str):
        raise ManifestFault(f"{where} must be a table with description, inputs and outputs, not a string")
    table = Table(value, where, ("description", "inputs", "outputs", "output_repeat"))
    description = table.text("description")
    inputs = tuple(
        _tensor(entry, f"{where} input {index}", is_input=True)
        for index, entry in enumerate(table.tables("inputs"), start=1)
    )
    outputs = tuple(
        _tensor(entry, f"{where} output {index}", is_input=False)
        for index, entry in enumerate(table.tables("outputs"), start=1)
    )
    names = [spec.name for spec in inputs]
    for name in names:
        if names.count(name) > 1:
            raise table.fault(f"input '{name}' is listed twice")
    optional = [spec.optional for spec in outputs]
    if all(optional) or optional != sorted(optional):
        raise table.fault("only trailing outputs may be optional, and not all of them")
    repeat = table.data.get("output_repeat", [1])
    if (
        not isinstance(repeat, list)
        or not repeat
        or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in repeat)
    ):
        raise table.fault(f"'output_repeat' must be a list of positive integers, not {kind_of(repeat)}")
    if repeat != [1] and any(spec.name for spec in outputs):
        raise table.fault("repeated outputs cannot be named (their names differ between exports)")
    return Contract(description, inputs, outputs, tuple(repeat))
