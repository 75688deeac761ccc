"""Errors the core raises on purpose.

Each carries a one-line message meant for the user, a stable ``code`` string that front
ends and remote callers can branch on, and the structured fields it is about (the file,
the model, the job field). Exit statuses and command-line hints belong to the front end
(``desktop/``), not here: the same error reaches the CLI, the window and a remote caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class FaceDeckError(Exception):
    """Base class: an expected failure with a message a user can act on."""

    code = "error"

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        model: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.model = model
        self.field = field

    def to_dict(self) -> dict[str, str]:
        """JSON-safe description for machine-readable output and remote answers."""
        data = {"code": self.code, "message": self.message}
        for key in ("path", "model", "field"):
            value = getattr(self, key)
            if value is not None:
                data[key] = str(value)
        return data


class InputError(FaceDeckError):
    """An input file is unreadable, unsupported, corrupt or too large."""

    code = "input"


class UsageError(FaceDeckError):
    """The options given do not make a valid request."""

    code = "usage"


@dataclass(frozen=True)
class FieldProblem:
    """One bad field of a job description: its dotted path and what is wrong with it."""

    field: str
    problem: str

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}"


class InvalidJobError(UsageError):
    """A job description has bad fields; every one of them is listed, not just the first."""

    code = "invalid_job"

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = list(problems)
        text = "; ".join(str(problem) for problem in self.problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        field = self.problems[0].field if len(self.problems) == 1 else None
        super().__init__(f"invalid job ({len(self.problems)} {noun}): {text}", field=field)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(super().to_dict())
        data["problems"] = [{"field": p.field, "problem": p.problem} for p in self.problems]
        return data


class OutputError(FaceDeckError):
    """The output path cannot be written (bad extension, would overwrite an input, ...)."""

    code = "output"


class NoFaceError(FaceDeckError):
    """No usable face was found where one is required."""

    code = "no_face"


class ModelMissingError(FaceDeckError):
    """One or more model files are not in the models directory."""

    code = "model_missing"

    def __init__(self, missing: list[str], directory: str, *, ids: list[str] | None = None) -> None:
        self.missing = list(missing)
        self.directory = directory
        # manifest ids of the preferred file for each missing role: what a front end fetches
        self.ids = list(ids or [])
        super().__init__(
            f"missing model file(s) {', '.join(self.missing)} in {directory}",
            path=directory,
            model=", ".join(self.missing),
        )


class ModelLoadError(FaceDeckError):
    """A model file exists but cannot be used: not ONNX, off its contract, or failing when run."""

    code = "model_load"


class ManifestError(FaceDeckError):
    """The model manifest is malformed (wrong structure, unknown references, bad pins)."""

    code = "manifest"


class ProviderError(FaceDeckError):
    """The requested onnxruntime execution provider is not available."""

    code = "provider"


class RuntimeInstallError(FaceDeckError):
    """onnxruntime is missing, or more than one onnxruntime distribution is installed."""

    code = "runtime_install"


class JobCancelled(FaceDeckError):
    """The user (or a remote caller) cancelled a running job.

    Not named ``CancelledError``: that would shadow ``asyncio.CancelledError`` in the
    worker, where both meet.
    """

    code = "cancelled"
