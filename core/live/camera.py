"""A camera through OpenCV's VideoCapture: by index, or by device path on Linux.

Linux prefers the V4L2 backend (OpenCV's default order may try GStreamer first, which is
slower to open and ignores most properties). Size and frame rate are requests: the camera
answers with what it can do, read back after setting them, and the first frame decides
the real size. A blocking ``read()`` can be unblocked by ``close()`` from another thread:
the release then happens on the reading thread once its read returns (OpenCV's capture
object is not safe to release while another thread reads from it).
"""

from __future__ import annotations

import logging
import sys
import threading
import time

import cv2
import numpy as np

from ..media.messages import cv2_message
from .capture_util import captured, quiet_opencv
from .types import CapturedFrame, LiveError, SourceInfo

log = logging.getLogger(__name__)

_OPEN_HINT = "is another application using it, or is access denied (on Linux, the 'video' group)?"
_READ_TIMEOUT_MS = 5000  # a camera that sends nothing for this long is treated as gone (V4L2's own is 10 s)


def _label(device: int | str) -> str:
    return f"camera {device}"


def _describe(width: int | None, height: int | None, fps: float | None) -> str:
    parts = []
    if width or height:
        parts.append(f"{width or '?'}x{height or '?'}")
    if fps:
        parts.append(f"{fps:g} fps")
    return " @ ".join(parts)


class CameraSource:
    """A camera; ``width``/``height``/``fps`` are requests, ``mirror`` flips it like a mirror."""

    def __init__(
        self,
        device: int | str,
        *,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        mirror: bool = False,
        name: str | None = None,
    ) -> None:
        self.device = device
        self.width, self.height, self.fps = width, height, fps
        self.mirror = mirror
        self.name = name or _label(device)
        self._capture: cv2.VideoCapture | None = None
        self._lock = threading.Lock()  # held by read() around the blocking OpenCV call
        self._closing = threading.Event()
        self._first: np.ndarray | None = None  # read in open() to prove the camera delivers
        self._index = 0
        self._started = 0.0

    def open(self) -> SourceInfo:
        if self._capture is not None:
            raise LiveError(f"{self.name} is already open")
        self._closing.clear()
        capture = _open_capture(self.device)
        if capture is None:
            raise LiveError(f"cannot open {self.name}: {_OPEN_HINT}")
        try:
            self._ask(capture)
            ok, image = capture.read()
        except cv2.error as error:
            capture.release()
            raise LiveError(f"{self.name} failed to start: {cv2_message(error)}") from None
        if not ok or image is None:
            capture.release()
            raise LiveError(f"{self.name} opened but sends no picture: {_OPEN_HINT}")
        self._capture, self._first = capture, image
        self._started = time.monotonic()
        height, width = image.shape[:2]
        got_fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0) or None
        asked = _describe(self.width, self.height, self.fps)
        requested = asked if asked and not _same(self, width, height, got_fps) else None
        if requested:
            log.info("%s: asked for %s, got %s", self.name, asked, _describe(width, height, got_fps))
        return SourceInfo(name=self.name, width=width, height=height, fps=got_fps, requested=requested)

    def _ask(self, capture: cv2.VideoCapture) -> None:
        """Pass the requests on; a camera ignores what it cannot do (read back in open())."""
        if capture.getBackendName() == "V4L2":
            # Most USB cameras give high resolutions at full rate only as MJPG, and a
            # one-frame driver buffer keeps the picture fresh instead of seconds behind.
            if self.width or self.height or self.fps:
                capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        if self.width:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        if self.height:
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        if self.fps:
            capture.set(cv2.CAP_PROP_FPS, self.fps)
        capture.set(cv2.CAP_PROP_READ_TIMEOUT_MSEC, _READ_TIMEOUT_MS)

    def read(self) -> CapturedFrame | None:
        with self._lock:
            capture = self._capture
            if capture is None or self._closing.is_set():
                self._release_locked()
                return None
            image = self._first
            self._first = None
            if image is None:
                try:
                    ok, image = capture.read()
                except cv2.error as error:
                    ok, image = False, None
                    log.debug("%s: read failed: %s", self.name, cv2_message(error))
                if self._closing.is_set():  # closed while this read blocked: release here
                    self._release_locked()
                    return None
                if not ok or image is None:
                    raise LiveError(
                        f"{self.name} stopped delivering frames (unplugged, or taken by another app?)"
                    )
            index, self._index = self._index, self._index + 1
            return captured(image, index, self._started, mirror=self.mirror)

    def close(self) -> None:
        """Safe from any thread and twice; a read blocked in OpenCV releases the camera when it returns."""
        self._closing.set()
        if self._lock.acquire(timeout=0.2):
            try:
                self._release_locked()
            finally:
                self._lock.release()

    def _release_locked(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
        self._first = None


def _same(source: CameraSource, width: int, height: int, fps: float | None) -> bool:
    """The camera gives what was asked (a frame rate within half a frame per second)."""
    if source.width and source.width != width or source.height and source.height != height:
        return False
    return not source.fps or (fps is not None and abs(fps - source.fps) < 0.5)


def _open_capture(device: int | str) -> cv2.VideoCapture | None:
    """An opened VideoCapture, or None; V4L2 first on Linux, then whatever OpenCV picks."""
    backends = [cv2.CAP_V4L2, cv2.CAP_ANY] if sys.platform.startswith("linux") else [cv2.CAP_ANY]
    for backend in backends:
        try:
            with quiet_opencv():  # its warnings repeat what the LiveError says, on stderr
                capture = cv2.VideoCapture(device, backend)
        except cv2.error as error:
            log.debug("camera %s with backend %d: %s", device, backend, cv2_message(error))
            continue
        if capture.isOpened():
            return capture
        capture.release()
    return None
