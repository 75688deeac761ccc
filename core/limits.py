"""Allowed values of option fields: declared once as dataclass field metadata, checked everywhere.

A job field says what it accepts with ``field(metadata=limits(...))``. A job read from
JSON is checked against it (``jobs.fields.check_ranges``), and the command line builds
its option parsers from the same metadata, so ``--detector-size 500`` and a job with
``"detector_size": 500`` are refused with the same words.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any


def limits(low: float, high: float, *, multiple_of: int | None = None) -> dict[str, Any]:
    """Field metadata: the allowed closed range and, for sizes, the step values must keep."""
    rules: dict[str, Any] = {"range": (low, high)}
    if multiple_of is not None:
        rules["multiple_of"] = multiple_of
    return rules


def limit_problem(rules: Mapping[str, Any], value: Any) -> str | None:
    """What is wrong with ``value`` under ``rules`` (a field's metadata), or None if nothing is.

    Only numbers are checked (booleans are not numbers here); a value of the wrong type
    is the decoder's to report.
    """
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    bounds = rules.get("range")
    if bounds is not None:
        low, high = bounds
        if not low <= value <= high:
            return f"{value} is out of range ({low} to {high})"
    step = rules.get("multiple_of")
    if step and value % step:
        return f"{value} is not a multiple of {step}"
    return None


def field_limits(cls: type, name: str) -> Mapping[str, Any]:
    """The metadata of field ``name`` of dataclass ``cls`` (KeyError for a field it lacks)."""
    for item in dataclasses.fields(cls):
        if item.name == name:
            return item.metadata
    raise KeyError(f"{cls.__name__} has no field {name}")
