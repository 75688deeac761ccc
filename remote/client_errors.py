"""The errors the remote client raises, one sentence each naming the endpoint (never its key),
and what a job's final status means: its output, or the error for FAILED, CANCELLED, TIMED_OUT.

A job the worker refused (FAILED) keeps the worker's own error code when it is one of
FaceDeck's, so a remote run ends with the exit status a local run of the same job would
(no_face -> 3, model_missing -> 4, invalid_job -> 2, ...).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from ..core.errors import FaceDeckError

log = logging.getLogger(__name__)

COMPLETED = "COMPLETED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
TIMED_OUT = "TIMED_OUT"
FINAL_STATES = frozenset({COMPLETED, FAILED, CANCELLED, TIMED_OUT})

# the codes FaceDeck's handler answers with (docs/wire-format.md) and the core's other codes
FACEDECK_CODES = frozenset(
    {
        "invalid_job",
        "input",
        "usage",
        "no_face",
        "model_missing",
        "model_load",
        "model_verification",
        "manifest",
        "provider",
        "runtime_install",
        "upload",
        "download",
        "output",
        "cancelled",
        "internal",
    }
)


class RemoteError(FaceDeckError):
    """A remote endpoint could not be reached, refused a request, or could not finish a job."""

    code = "remote"


class RequestTooLarge(RemoteError):
    """A request body over the endpoint's limit; nothing was sent."""


class RemoteJobFailed(RemoteError):
    """FAILED: the message is the worker's error text; ``worker_code`` its code ('no_face', ...).

    ``code`` is the worker's code when it is one of FaceDeck's, else 'remote'; ``fields`` is
    the worker's list of bad fields (``[{"field": ..., "problem": ...}]``) when it sent one.
    """

    def __init__(
        self, message: str, *, worker_code: str | None = None, fields: list[Any] | None = None
    ) -> None:
        super().__init__(message)
        self.worker_code = worker_code
        self.fields = fields
        self.code = worker_code if worker_code in FACEDECK_CODES else RemoteError.code

    @classmethod
    def from_answer(
        cls, answer: Mapping[str, Any], label: str, scrub: Callable[[str], str] = str
    ) -> RemoteJobFailed:
        """The error for a FAILED status answer (the worker's text, code and fields); ``scrub``
        takes secrets out of the text."""
        output = answer.get("output")
        details: Mapping[str, Any] = output if isinstance(output, Mapping) else {}
        code = details.get("code")
        fields = details.get("fields")
        return cls(
            scrub(_error_text(answer.get("error"))) or f"the job failed on {label} without saying why",
            worker_code=code if isinstance(code, str) else None,
            fields=list(fields) if isinstance(fields, list) else None,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(super().to_dict())
        if self.worker_code is not None:
            data["worker_code"] = self.worker_code
        if self.fields is not None:
            data["fields"] = self.fields
        return data


def _error_text(error: Any) -> str:
    """The worker's error as one line.

    RunPod's SDK turns a handler's raised exception into a JSON string holding the
    message, a traceback and the host; only the message is for the user.
    """
    if isinstance(error, str):
        try:
            parsed = json.loads(error)
        except ValueError:
            return error.strip()
        error = parsed if isinstance(parsed, dict) else error
    if isinstance(error, Mapping):
        message = error.get("error_message") or error.get("message") or error.get("error")
        return str(message).strip() if message else ""
    return "" if error is None else str(error).strip()


def settle(job_id: str, answer: Mapping[str, Any], label: str, scrub: Callable[[str], str] = str) -> Any:
    """The output of a final status answer (COMPLETED), or the RemoteError it stands for."""
    state = answer.get("status")
    log.info("job %s on %s: %s", job_id, label, state)
    if state == COMPLETED:
        output = answer.get("output")
        if output is None:
            raise RemoteError(
                f"job {job_id} completed on {label} without an output: RunPod drops results over "
                "~20 MB, so large results need storage configured (an upload URL or the worker's bucket)"
            )
        return output
    if state == FAILED:
        raise RemoteJobFailed.from_answer(answer, label, scrub)
    if state == CANCELLED:
        raise RemoteError(f"the job was cancelled on the endpoint ({label}), not by this client")
    raise RemoteError(
        f"job {job_id} ran past its execution timeout on {label}; raise it (the client sends "
        "policy.executionTimeout) or use --segments"
    )
