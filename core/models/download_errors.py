"""The errors of downloading and extracting model files."""

from __future__ import annotations

from ..errors import FaceDeckError, JobCancelled


class DownloadError(FaceDeckError):
    """A file could not be downloaded, verified or extracted."""

    code = "download"


class HostUnreachableError(DownloadError):
    """No URL's host could be reached (name not resolved, connection refused or timed out):
    most likely no network, a firewall or a proxy; a mirror or a local file is the way on.

    ``reasons`` says why, once per distinct cause ("cannot resolve the host name github.com ...").
    """

    def __init__(self, message: str, *, reasons: tuple[str, ...]) -> None:
        super().__init__(message)
        self.reasons = reasons


class DownloadCancelled(JobCancelled):
    """The user cancelled a download; the ``.part`` file is kept so a later run resumes it."""
