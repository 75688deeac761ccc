"""The job on the wire: what a RunPod-shaped job's ``input`` may hold, checked field by field.

Three forms (docs/wire-format.md has an example of each):

- ``{"job": <SwapJob as JSON>, "result": {...}}``: a swap; ``result`` (optional) says where a
  large result goes (a presigned PUT URL) and how large an inline answer may be;
- ``{"health": true}``: the worker's state instead of a swap;
- the old worker's payloads (``legacy.py``), translated into the first two.

Every problem is an InvalidJobError naming the field by its path from the input's root
("job.options.enhance_strength", "result.upload_url"). Inline base64 is measured before it
is decoded, and a remote job may name neither local files to read nor a path to write.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlparse

from ..core.errors import FieldProblem, InvalidJobError
from ..core.jobs.spec import FaceRef, MediaRef, SwapJob
from . import legacy
from .answers import size_text

_TOP_KEYS = ("job", "result")
_RESULT_KEYS = ("upload_url", "upload_headers", "inline_max_bytes")


@dataclass(frozen=True)
class HealthRequest:
    """``{"health": true}`` (or the old worker's health request)."""


@dataclass(frozen=True)
class ResultOptions:
    """Where a result goes when it is not answered inline, and the caller's inline limit."""

    upload_url: str | None = None
    upload_headers: Mapping[str, str] = field(default_factory=dict)
    inline_max_bytes: int | None = None  # None: the worker's own limit


@dataclass(frozen=True)
class WireJob:
    """A swap to run: the job, its result options, and how its fields are named on the wire."""

    job: SwapJob
    result: ResultOptions = field(default_factory=ResultOptions)


WireRequest = HealthRequest | WireJob


def parse_request(payload: Any, *, inline_cap: int, inline_ceiling: int) -> WireRequest:
    """Check and parse a job's ``input``.

    ``inline_cap``: the most bytes one inline (base64) medium may decode to; checked on the
    text's length, before decoding. ``inline_ceiling``: the largest ``result.inline_max_bytes``
    a caller may ask for (the worker's own inline limit).
    """
    if not isinstance(payload, dict):
        raise InvalidJobError([FieldProblem("input", f"expected an object, got {_json_type(payload)}")])
    renames: Mapping[str, str] = {}
    if legacy.is_legacy(payload):
        payload = legacy.translate(payload)  # its own problems name the old fields
        renames = legacy.FIELD_NAMES
    try:
        return _parse(payload, inline_cap, inline_ceiling)
    except InvalidJobError as error:
        if not renames:
            raise
        problems = [FieldProblem(renames.get(p.field, p.field), p.problem) for p in error.problems]
        raise InvalidJobError(problems) from None


def _parse(payload: dict[str, Any], inline_cap: int, inline_ceiling: int) -> WireRequest:
    if "health" in payload:
        problems = [FieldProblem(str(key), "unknown key") for key in payload if key != "health"]
        if payload["health"] is not True:
            problems.append(FieldProblem("health", "expected true"))
        if problems:
            raise InvalidJobError(problems)
        return HealthRequest()
    problems = [FieldProblem(str(key), "unknown key") for key in payload if key not in _TOP_KEYS]
    if "job" not in payload:
        problems.append(FieldProblem("job", 'missing: send {"job": {...}} or {"health": true}'))
        raise InvalidJobError(problems)
    result = _result_options(payload.get("result"), inline_ceiling, problems)
    oversize = _inline_problems(payload["job"], "job", inline_cap)
    if oversize:
        raise InvalidJobError(problems + oversize)  # oversize base64 is never decoded
    try:
        job = SwapJob.from_dict(payload["job"])
    except InvalidJobError as error:
        raise InvalidJobError(problems + _under("job.", error.problems)) from None
    job = _named_urls(job)
    problems += prefixed(
        InvalidJobError(_remote_problems(job) + job.problems(check_files=False)), "job."
    ).problems
    if problems or result is None:
        raise InvalidJobError(problems)
    return WireJob(job, result)


def prefixed(error: InvalidJobError, prefix: str) -> InvalidJobError:
    """The same problems with their fields named from the input's root."""
    return InvalidJobError(_under(prefix, error.problems))


def _under(prefix: str, problems: list[FieldProblem]) -> list[FieldProblem]:
    return [FieldProblem(prefix + p.field, p.problem) for p in problems]


def _result_options(value: Any, ceiling: int, problems: list[FieldProblem]) -> ResultOptions | None:
    if value is None:
        return ResultOptions()
    if not isinstance(value, dict):
        problems.append(FieldProblem("result", f"expected an object, got {_json_type(value)}"))
        return None
    problems += [FieldProblem(f"result.{key}", "unknown key") for key in value if key not in _RESULT_KEYS]
    url = value.get("upload_url")
    if url is not None and (not isinstance(url, str) or urlparse(url).scheme not in ("http", "https")):
        problems.append(FieldProblem("result.upload_url", "expected an http or https URL"))
    headers = value.get("upload_headers", {})
    if not isinstance(headers, dict) or not all(
        isinstance(key, str) and isinstance(item, str) for key, item in headers.items()
    ):
        problems.append(FieldProblem("result.upload_headers", "expected an object of text values"))
    limit = value.get("inline_max_bytes")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        problems.append(
            FieldProblem("result.inline_max_bytes", "expected a whole number of bytes, 0 or more")
        )
    elif limit is not None and limit > ceiling:
        problems.append(
            FieldProblem(
                "result.inline_max_bytes", f"{limit} is above this worker's limit of {ceiling} bytes"
            )
        )
    if any(problem.field.startswith("result") for problem in problems):
        return None
    return ResultOptions(upload_url=url, upload_headers=dict(headers), inline_max_bytes=limit)


def _inline_problems(value: Any, where: str, cap: int) -> list[FieldProblem]:
    """Every inline medium whose base64 text would decode to more than ``cap`` bytes."""
    found = []
    for path, text in _data_fields(value, where):
        size = len(text) * 3 // 4  # what the text decodes to, near enough (padding aside)
        if size > cap:
            found.append(
                FieldProblem(
                    path, f"about {size_text(size)} of inline data, over the limit of {size_text(cap)}"
                )
            )
    return found


def _data_fields(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """(path, text) of every ``data`` string in the raw job (only media references have one)."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}"
            if key == "data" and isinstance(item, str):
                yield path, item
            else:
                yield from _data_fields(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _data_fields(item, f"{where}[{index}]")


def _remote_problems(job: SwapJob) -> list[FieldProblem]:
    """A remote caller reads and writes through the wire only, never the worker's own files."""
    found = [
        FieldProblem(f"{where}.path", "a remote job cannot read the worker's files; send url or data")
        for where, ref in job.media()
        if ref.path is not None
    ]
    if job.output.path is not None:
        found.append(FieldProblem("output.path", "the worker chooses where it writes; leave path out"))
    return found


def _named_urls(job: SwapJob) -> SwapJob:
    """Give every nameless URL a name from its path, so no message quotes the URL (and its query)."""

    def name(ref: MediaRef, fallback: str) -> MediaRef:
        if ref.url is None or ref.name:
            return ref
        base = PurePosixPath(urlparse(ref.url).path).name
        return dataclasses.replace(ref, name=base or fallback)

    def face(ref: FaceRef, fallback: str) -> FaceRef:
        return dataclasses.replace(ref, media=name(ref.media, fallback))

    faces = job.faces
    named = dataclasses.replace(
        faces,
        sources=[face(ref, "source") for ref in faces.sources],
        reference=None if faces.reference is None else face(faces.reference, "reference"),
        mappings=[
            dataclasses.replace(
                mapping,
                sources=[face(ref, "source") for ref in mapping.sources],
                reference=face(mapping.reference, "reference"),
            )
            for mapping in faces.mappings
        ],
    )
    return dataclasses.replace(job, target=name(job.target, "target"), faces=named)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else type(value).__name__
