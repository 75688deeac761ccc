"""Small pieces every source shares: the frame hand-over, URL redaction, a quiet OpenCV."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

from .types import CapturedFrame


def captured(
    image: np.ndarray, index: int, started: float, *, mirror: bool, media_time: float | None = None
) -> CapturedFrame:
    """A CapturedFrame handed over now: BGR uint8, C-contiguous, flipped left-right if ``mirror``.

    ``media_time`` is the frame's time for files; cameras and streams pass None and get the
    time since ``started`` (a time.monotonic() value)."""
    if mirror:
        image = cv2.flip(image, 1)  # a new, contiguous array
    image = np.ascontiguousarray(image, dtype=np.uint8)
    now = time.monotonic()
    return CapturedFrame(
        image=image,
        index=index,
        captured_at=now,
        time=now - started if media_time is None else media_time,
    )


def redact_url(url: str) -> str:
    """``url`` for messages and logs: no ``user:password@``, no query or fragment (tokens live there)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # an unparsable port or netloc: show only the scheme
        return url.split(":", 1)[0] + "://…" if "://" in url else "…"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def scrub(text: str, url: str) -> str:
    """``text`` (an FFmpeg or OpenCV message) with ``url`` and its credentials replaced."""
    safe = redact_url(url)
    text = text.replace(url, safe)
    try:
        parts = urlsplit(url)
        secrets = [parts.password, parts.username, parts.query]
    except ValueError:
        secrets = []
    for secret in secrets:
        if secret:
            text = text.replace(secret, "…")
    return text


@contextlib.contextmanager
def quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own log while probing cameras (it warns on stderr for every missing index)."""
    logging_module = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging_module is None:
        yield
        return
    previous = logging_module.getLogLevel()
    logging_module.setLogLevel(logging_module.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        logging_module.setLogLevel(previous)
