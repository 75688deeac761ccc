"""The errors of downloading and extracting model files."""

from __future__ import annotations

from ..errors import CancelledError, FaceDeckError


class DownloadError(FaceDeckError):
    """A file could not be downloaded, verified or extracted."""

    exit_code = 6


class DownloadCancelled(CancelledError):
    """The user cancelled a download; the ``.part`` file is kept so a later run resumes it."""
