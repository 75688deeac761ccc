"""The old worker's payloads, translated into FaceDeck's wire form (DESIGN.md section 6).

Existing callers send ``{"source_file": url, "target_file": url, "process_type":
"single-image"}`` or ``{"source_image": b64, "target_image": b64, "type": "single_image"}``
and ask for health with ``{"health_check": true}``. Each becomes the ``{"job": ...}`` (or
``{"health": true}``) a new caller would send, so both get the same answers.
"""

from __future__ import annotations

import re
from typing import Any

from ..core.errors import FieldProblem, InvalidJobError

SOURCE_KEYS = ("source_file", "source_image")
TARGET_KEYS = ("target_file", "target_image")
KIND_KEYS = ("process_type", "type")
HEALTH_KEY = "health_check"
_KINDS = {
    "single-image": "image",
    "single_image": "image",
    "image": "image",
    "single-video": "video",
    "single_video": "video",
    "video": "video",
}
# the new form's fields that legacy ones became: problems found there name the legacy field
FIELD_NAMES = {
    "job.target.url": "target_file",
    "job.target.data": "target_image",
    "job.target": "target_file",
    "job.faces.sources[0].media.url": "source_file",
    "job.faces.sources[0].media.data": "source_image",
    "job.faces.sources[0].media": "source_file",
}
_HEALTH_KINDS = ("health", "health_check", "health-check")
_LEGACY_KEYS = frozenset((*SOURCE_KEYS, *TARGET_KEYS, *KIND_KEYS, HEALTH_KEY))
# web front ends often sent a data URL; its "data:image/png;base64," head is not base64
_DATA_URL_HEAD = re.compile(r"^data:[\w.+/-]*(;[\w=.+-]+)*;base64,", re.IGNORECASE)


def is_legacy(payload: dict[str, Any]) -> bool:
    """The payload uses the old worker's keys (and not the new ``job`` or ``health``)."""
    return bool(_LEGACY_KEYS.intersection(payload)) and "job" not in payload and "health" not in payload


def translate(payload: dict[str, Any]) -> dict[str, Any]:
    """The new wire form of a legacy payload; InvalidJobError naming each bad legacy field."""
    problems = [FieldProblem(str(key), "unknown key") for key in payload if key not in _LEGACY_KEYS]
    kind = _kind(payload, problems)
    if HEALTH_KEY in payload and payload[HEALTH_KEY] is not True:
        problems.append(FieldProblem(HEALTH_KEY, "expected true"))
    if kind == "health" or HEALTH_KEY in payload:
        if problems:
            raise InvalidJobError(problems)
        return {"health": True}
    source = _media(payload, SOURCE_KEYS, "source", problems)
    target = _media(payload, TARGET_KEYS, "target", problems)
    if problems or source is None or target is None:
        raise InvalidJobError(problems)
    return {
        "job": {
            "kind": kind or "image",
            "target": target,
            "faces": {"sources": [{"media": source}]},
        }
    }


def _kind(payload: dict[str, Any], problems: list[FieldProblem]) -> str | None:
    found: str | None = None
    for key in KIND_KEYS:
        if key not in payload:
            continue
        value = payload[key]
        if isinstance(value, str) and value.lower() in _HEALTH_KINDS:
            found = "health"
        elif isinstance(value, str) and value.lower() in _KINDS:
            found = _KINDS[value.lower()]
        else:
            accepted = ", ".join(repr(name) for name in ("single-image", "single-video", "health_check"))
            problems.append(FieldProblem(key, f"{value!r} is not a process type (accepted: {accepted})"))
    return found


def _media(
    payload: dict[str, Any], keys: tuple[str, str], role: str, problems: list[FieldProblem]
) -> dict[str, Any] | None:
    url_key, data_key = keys
    given = [key for key in keys if key in payload]
    if len(given) != 1:
        problem = "missing" if not given else f"give either {url_key} or {data_key}, not both"
        problems.append(FieldProblem(url_key if not given else data_key, problem))
        return None
    key = given[0]
    value = payload[key]
    if not isinstance(value, str) or not value:
        problems.append(FieldProblem(key, "expected a non-empty string"))
        return None
    if key == url_key:
        return {"url": value}
    return {"data": _DATA_URL_HEAD.sub("", value, count=1), "name": f"{role} image"}
