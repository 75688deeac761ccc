"""What a remote job answers: JSON-safe dicts only (RunPod silently drops bytes and numpy values).

- success: kind, faces, the output (inline base64 or an uploaded object), provider,
  timings, warnings and the FaceDeck version;
- failure: ``{"error": "<one sentence>", "code": "<FaceDeckError code>"}`` and, for a bad
  job, ``"fields"``: every bad field with what is wrong with it. Never a traceback, never
  a URL's query string (messages name inputs by their file names).
"""

from __future__ import annotations

import base64
from typing import Any

from ..core.errors import FaceDeckError, InvalidJobError
from ..core.jobs.result import JobResult
from ..core.version import software_version

INTERNAL_CODE = "internal"
INTERNAL_MESSAGE = "the job failed unexpectedly inside the worker; its log has the details"
TIMING_KEYS = ("fetch", "engine", "upload", "total")


def inline_output(fmt: str, data: bytes) -> dict[str, Any]:
    """An output small enough to answer: its bytes as base64."""
    return {"format": fmt, "data": base64.b64encode(data).decode("ascii"), "bytes": len(data)}


def success(result: JobResult, output: dict[str, Any], timings: dict[str, float]) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "kind": result.kind,
        "faces_found": result.faces_found,
        "faces_swapped": result.faces_swapped,
    }
    # videos: frames written, how many had a face swapped, and the encoder that wrote them
    for name in ("frames", "frames_with_swaps", "encoder"):
        value = getattr(result, name)
        if value is not None:
            answer[name] = value
    answer.update(
        {
            "output": output,
            "provider": result.provider,
            "timings": rounded(timings),
            "warnings": list(result.warnings),
            "version": software_version(),
        }
    )
    return answer


def failure(error: FaceDeckError) -> dict[str, Any]:
    """A FaceDeckError as an answer: its one-line message, its code, the bad fields of a bad job."""
    answer: dict[str, Any] = {"error": error.message, "code": error.code}
    if isinstance(error, InvalidJobError):
        answer["fields"] = [{"field": p.field, "problem": p.problem} for p in error.problems]
    return answer


def internal_failure() -> dict[str, Any]:
    """What an unexpected exception answers: a generic sentence (the traceback goes to the log)."""
    return {"error": INTERNAL_MESSAGE, "code": INTERNAL_CODE}


def size_text(size: int) -> str:
    """A byte count as people read it: MB, KB or bytes."""
    if size >= 2**20:
        return f"{size / 2**20:.1f} MB"
    return f"{size / 2**10:.0f} KB" if size >= 2**10 else f"{size} bytes"


def rounded(timings: dict[str, float]) -> dict[str, float]:
    """Seconds, to the millisecond; every key of TIMING_KEYS present (0 for a step not taken)."""
    return {key: round(timings.get(key, 0.0), 3) for key in TIMING_KEYS}
