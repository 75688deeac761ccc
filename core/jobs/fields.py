"""Dataclasses to and from JSON-safe dicts, with every bad field reported by its dotted path.

The job description is plain dataclasses; this module is the one place that knows how
they look on the wire: enums as their values, bytes as base64, nested dataclasses as
objects. Decoding never stops at the first problem: a caller (a remote client, a
hand-written JSON file) learns about every bad field at once.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import enum
import types
import typing
from typing import Any, TypeVar, Union

from ..errors import FieldProblem
from ..limits import limit_problem

T = TypeVar("T")


def to_plain(value: Any) -> Any:
    """A dataclass tree as JSON-safe values (None fields of media references are left out)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        skip_none = getattr(value, "_omit_none", False)
        plain = {}
        for item in dataclasses.fields(value):
            field_value = getattr(value, item.name)
            if skip_none and field_value is None:
                continue
            plain[item.name] = to_plain(field_value)
        return plain
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (list, tuple)):
        return [to_plain(item) for item in value]
    return value


def from_plain(cls: type[T], data: Any, path: str, problems: list[FieldProblem]) -> T | None:
    """Build ``cls`` from ``data``; append a problem per bad field and return None if any."""
    before = len(problems)
    value = _decode(cls, data, path, problems)
    return value if len(problems) == before else None


def check_ranges(value: Any, path: str, problems: list[FieldProblem]) -> None:
    """Check every field that declares limits (``core.limits``: a range, a step), recursively."""
    if not (dataclasses.is_dataclass(value) and not isinstance(value, type)):
        if isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                check_ranges(item, f"{path}[{index}]", problems)
        return
    for item in dataclasses.fields(value):
        field_value = getattr(value, item.name)
        where = _join(path, item.name)
        problem = limit_problem(item.metadata, field_value)
        if problem is not None:
            problems.append(FieldProblem(where, problem))
        check_ranges(field_value, where, problems)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _type_name(kind: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    if kind in names:
        return names[kind]
    if kind is bytes:
        return "base64 text"
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return "one of " + ", ".join(repr(member.value) for member in kind)
    if dataclasses.is_dataclass(kind):
        return "an object"
    return "a list" if typing.get_origin(kind) is list else str(kind)


def _decode(kind: Any, data: Any, path: str, problems: list[FieldProblem]) -> Any:
    origin = typing.get_origin(kind)
    if origin in (Union, types.UnionType):
        options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        if data is None:
            return None
        return _decode(options[0], data, path, problems)
    if origin is list:
        (item_kind,) = typing.get_args(kind)
        if not isinstance(data, list):
            problems.append(FieldProblem(path, f"expected a list, got {_json_type(data)}"))
            return None
        return [_decode(item_kind, item, f"{path}[{index}]", problems) for index, item in enumerate(data)]
    if dataclasses.is_dataclass(kind):
        return _decode_dataclass(kind, data, path, problems)  # type: ignore[arg-type]
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(data)
        except ValueError:
            problems.append(FieldProblem(path, f"{data!r} is not {_type_name(kind)}"))
            return None
    if kind is bytes:
        if isinstance(data, str):
            try:
                return base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                pass
        problems.append(FieldProblem(path, "expected base64 text"))
        return None
    if _is_instance(data, kind):
        return float(data) if kind is float else data
    problems.append(FieldProblem(path, f"expected {_type_name(kind)}, got {_json_type(data)}"))
    return None


def _is_instance(data: Any, kind: Any) -> bool:
    if kind is float:
        return isinstance(data, (int, float)) and not isinstance(data, bool)
    if kind is int:
        return isinstance(data, int) and not isinstance(data, bool)
    return isinstance(data, kind)


def _json_type(data: Any) -> str:
    if data is None:
        return "null"
    if isinstance(data, bool):
        return "a boolean"
    if isinstance(data, (int, float)):
        return f"the number {data}"
    if isinstance(data, str):
        return "a string"
    if isinstance(data, list):
        return "a list"
    if isinstance(data, dict):
        return "an object"
    return type(data).__name__


def _decode_dataclass(cls: type, data: Any, path: str, problems: list[FieldProblem]) -> Any:
    if not isinstance(data, dict):
        problems.append(FieldProblem(path or "job", f"expected an object, got {_json_type(data)}"))
        return None
    hints = typing.get_type_hints(cls)
    known = {item.name: item for item in dataclasses.fields(cls)}
    for key in data:
        if key not in known:
            problems.append(FieldProblem(_join(path, str(key)), "unknown key"))
    values: dict[str, Any] = {}
    for name, item in known.items():
        where = _join(path, name)
        if name in data:
            values[name] = _decode(hints[name], data[name], where, problems)
        elif item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING:
            problems.append(FieldProblem(where, "missing"))
    try:
        return cls(**values)
    except TypeError:  # a required field is missing: already reported above
        return None
