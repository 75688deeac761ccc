"""Errors the engine raises on purpose.

Each carries a one-line message meant for the user; front ends print ``str(error)`` and
exit with ``error.exit_code`` instead of showing a traceback.
"""

from __future__ import annotations


class FaceDeckError(Exception):
    """Base class: an expected failure with a message a user can act on."""

    exit_code = 1


class InputError(FaceDeckError):
    """An input file is unreadable, unsupported, corrupt or too large."""

    exit_code = 2


class UsageError(FaceDeckError):
    """The options given do not make a valid request."""

    exit_code = 2


class OutputError(FaceDeckError):
    """The output path cannot be written (bad extension, would overwrite an input, ...)."""

    exit_code = 2


class NoFaceError(FaceDeckError):
    """No usable face was found where one is required."""

    exit_code = 3


class ModelMissingError(FaceDeckError):
    """One or more model files are not in the models directory."""

    exit_code = 4

    def __init__(self, missing: list[str], directory: str, hint: str = "") -> None:
        self.missing = list(missing)
        self.directory = directory
        message = f"missing model file(s) {', '.join(self.missing)} in {directory}"
        if hint:
            message += f"; {hint}"
        super().__init__(message)


class ModelLoadError(FaceDeckError):
    """A model file exists but does not have the expected inputs and outputs."""

    exit_code = 4


class ProviderError(FaceDeckError):
    """The requested onnxruntime execution provider is not available."""

    exit_code = 5


class RuntimeInstallError(FaceDeckError):
    """onnxruntime is missing, or more than one onnxruntime distribution is installed."""

    exit_code = 5


class CancelledError(FaceDeckError):
    """The user cancelled a running job."""

    exit_code = 130
