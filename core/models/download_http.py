"""HTTP details of model downloads: response headers read, and network failures in a few words."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

from ..errors import UsageError

_ERRNO_TEXT = re.compile(r"\[Errno -?\d+\] [^'\")]+")


def apply_mirror(url: str, mirror: str | None) -> str:
    """``url`` with its scheme and host replaced by the mirror's; a mirror path is a prefix.

    ``apply_mirror("https://github.com/a/b.zip", "http://127.0.0.1:8000/cache")`` is
    ``"http://127.0.0.1:8000/cache/a/b.zip"``; a ``None`` or empty mirror returns ``url``.
    """
    if not mirror:
        return url
    base = urlsplit(mirror)
    if not base.scheme or not base.netloc:
        raise UsageError(f"mirror {mirror!r} is not a URL like https://host or https://host/prefix")
    original = urlsplit(url)
    path = original.path if original.path.startswith("/") else "/" + original.path
    return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + path, original.query, ""))


def host_of(url: str) -> str:
    return urlsplit(url).netloc


def unreachable_reason(error: requests.ConnectionError, host: str) -> str | None:
    """Why ``host`` could not be reached at all, or None when the failure came later."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    if isinstance(reason, NameResolutionError):
        return f"cannot resolve the host name {host} (no network or DNS?)"
    if isinstance(reason, NewConnectionError):
        found = _ERRNO_TEXT.search(str(reason))
        return f"cannot connect to {host}: {found.group(0).strip() if found else type(reason).__name__}"
    return None


def content_range(header: str | None) -> tuple[int | None, int | None]:
    """(first byte, total size) from ``bytes A-B/T`` or ``bytes */T``; None where absent."""
    match = re.fullmatch(r"\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)\s*", header or "")
    if match is None:
        return None, None
    start, total = match.groups()
    return (int(start) if start else None), (int(total) if total != "*" else None)


def int_header(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def retry_after(value: str | None) -> float | None:
    """Retry-After in seconds; the HTTP-date form is ignored (the backoff applies)."""
    seconds = int_header(value)
    return float(seconds) if seconds is not None and seconds >= 0 else None


def describe(error: requests.RequestException) -> str:
    """A short reason for a network failure, without urllib3's pool and object reprs."""
    text = str(error)
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return "connection dropped before the end of the file"
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return "timed out connecting"
    if isinstance(error, requests.exceptions.ReadTimeout) or "Read timed out" in text:
        return "no data received within the read timeout"
    if isinstance(error, requests.exceptions.SSLError):
        return "TLS/certificate error"
    found = _ERRNO_TEXT.search(text)
    if found:
        return f"connection failed: {found.group(0).strip()}"
    return f"{type(error).__name__}: {text[:200]}"
