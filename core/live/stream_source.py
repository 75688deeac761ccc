"""A network stream (RTSP, RTMP, HTTP/HTTPS) through PyAV.

No pacing: a live stream's frames arrive in real time on their own. RTSP goes over TCP
(UDP loses packets behind NAT and on Wi-Fi, which shows as smeared frames). Every message
and log line names the stream by :func:`redact_url`: an IP camera's URL often carries
``user:password@`` or a token, and neither may reach a log or the screen.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import av
import av.error

from ..media.messages import av_message
from ..media.video_reader import frame_to_bgr, main_video_stream
from .capture_util import captured, redact_url, scrub
from .types import CapturedFrame, LiveError, SourceInfo

log = logging.getLogger(__name__)

STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "http", "https")
_OPEN_TIMEOUT = 10.0  # seconds to connect and read the stream's header
_READ_TIMEOUT = 5.0  # seconds without data after which the stream counts as dropped


class StreamSource:
    """Frames from ``url`` as they arrive; ``time`` is the arrival time since open()."""

    def __init__(self, url: str, *, mirror: bool = False) -> None:
        self.url = url
        self.mirror = mirror
        self.name = redact_url(url)
        self._container: Any = None
        self._frames: Iterator[Any] | None = None
        self._lock = threading.Lock()  # held while demuxing and decoding
        self._closing = threading.Event()
        self._index = 0
        self._started = 0.0

    def _options(self) -> dict[str, str]:
        scheme = self.url.split(":", 1)[0].lower()
        options = {}
        if scheme in ("rtsp", "rtsps"):
            options["rtsp_transport"] = "tcp"
        if scheme in ("rtsp", "rtsps", "rtmp", "rtmps"):
            options["fflags"] = "nobuffer"  # hand frames over as they come, not after a probe buffer
        return options

    def _message(self, what: str, error: BaseException) -> str:
        return scrub(f"{what} {self.name}: {av_message(error)}", self.url)

    def open(self) -> SourceInfo:
        if self._container is not None:
            raise LiveError(f"{self.name} is already open")
        self._closing.clear()
        try:
            container = av.open(self.url, options=self._options(), timeout=(_OPEN_TIMEOUT, _READ_TIMEOUT))
        except av.error.ExitError:  # PyAV's open timeout interrupts FFmpeg
            raise LiveError(
                f"cannot open the stream {self.name}: no answer within {_OPEN_TIMEOUT:g} s"
            ) from None
        except (av.error.FFmpegError, OSError) as error:
            raise LiveError(self._message("cannot open the stream", error)) from None
        stream = main_video_stream(container)
        if stream is None or stream.codec_context is None:
            container.close()
            raise LiveError(f"the stream {self.name} has no video this FFmpeg build can decode")
        stream.thread_type = "AUTO"
        self._container = container
        self._frames = container.decode(stream)
        self._started = time.monotonic()
        rate = stream.average_rate or stream.guessed_rate
        context = stream.codec_context
        return SourceInfo(
            name=self.name, width=context.width, height=context.height, fps=float(rate) if rate else None
        )

    def read(self) -> CapturedFrame | None:
        with self._lock:
            if self._frames is None or self._closing.is_set():
                self._release_locked()
                return None
            try:
                frame = next(self._frames, None)
            except (av.error.FFmpegError, OSError) as error:
                if self._closing.is_set():
                    self._release_locked()
                    return None
                # PyAV's read timeout interrupts FFmpeg (ExitError; some protocols answer EIO instead)
                why = f"nothing for {_READ_TIMEOUT:g} s" if isinstance(error, av.error.ExitError) else None
                why = why or scrub(av_message(error), self.url)
                raise LiveError(f"the stream {self.name} stopped sending frames ({why})") from None
            if self._closing.is_set():  # closed while this read blocked: release here
                self._release_locked()
                return None
            if frame is None:
                return None  # the sender ended the stream
            image = frame_to_bgr(frame)
            index, self._index = self._index, self._index + 1
            return captured(image, index, self._started, mirror=self.mirror)

    def close(self) -> None:
        """Safe from any thread and twice; a read waiting on the network releases the stream
        when it returns (at most the read timeout later)."""
        self._closing.set()
        if self._lock.acquire(timeout=0.2):
            try:
                self._release_locked()
            finally:
                self._lock.release()

    def _release_locked(self) -> None:
        self._frames = None
        if self._container is not None:
            try:
                self._container.close()
            except (av.error.FFmpegError, OSError) as error:
                log.debug("%s: error while closing: %s", self.name, scrub(av_message(error), self.url))
            self._container = None
