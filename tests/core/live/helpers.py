"""Stand-ins for the live tests: sessions over the stand-in models, clips with a key-colour
face, a collecting sink and source wrappers (lockstep, dying, blocking)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from facedeck.core.faces.identities import Photo, identity_from_photos
from facedeck.core.faces.recognizer import l2_normalize
from facedeck.core.faces.session import SwapOptions, SwapSession
from facedeck.core.live.types import CapturedFrame, FrameSource, LiveError, LiveFrame, SourceInfo
from tests.support.media_fixtures import make_clip
from tests.support.models.drawing import KEY_COLORS, draw_square_face

BLUE, GREEN, RED, YELLOW, MAGENTA, CYAN = KEY_COLORS
SIZE = (320, 240)
FACE_X, FACE_Y, SIDE = 100, 60, 80
WAIT = 20.0  # seconds a test waits for something that takes milliseconds: only a hang reaches it


def session_of(library, color) -> SwapSession:
    photo = np.full((200, 200, 3), 128, np.uint8)
    draw_square_face(photo, color, 40, 40, 120)
    options = SwapOptions()
    return SwapSession(
        library, options, [identity_from_photos(library, [(Photo(f"{color}.png", photo), 0)], options)]
    )


def painted(models, color) -> np.ndarray:
    """The BGR colour the latent_color swapper paints for a source face of ``color``."""
    identity = l2_normalize(models.recognizer.embedding_for_color(color))
    rgb = models.swapper.latent_color(models.swapper.latent_for_embedding(identity))
    return np.round(rgb[::-1] * 255.0)


def face_centre(image: np.ndarray) -> np.ndarray:
    return image[FACE_Y + SIDE // 2, FACE_X + SIDE // 2].astype(float)


def draw_red_face(index: int, image: np.ndarray) -> None:
    """A grey, slightly noisy picture with one still red face (key colours only in the face)."""
    rng = np.random.default_rng(index)
    image[...] = rng.integers(100, 157, image.shape, dtype=np.uint8)
    draw_square_face(image, RED, FACE_X, FACE_Y, SIDE)


def face_clip(path: Path, *, frames: int, fps: int) -> Path:
    return make_clip(path, frames=frames, size=SIZE, fps=fps, draw=draw_red_face, audio=False)


class CollectingSink:
    """Keeps every frame; ``fail_at`` makes the n-th write (from 1) raise ``fail_with``."""

    def __init__(self, name: str = "collect", fail_at: int | None = None, fail_with: Exception | None = None):
        self.name = name
        self.frames: list[LiveFrame] = []
        self.info: SourceInfo | None = None
        self.calls: list[str] = []
        self._fail_at = fail_at
        self._fail_with = fail_with or LiveError(f"{name} broke")
        self._changed = threading.Condition()
        self.writer_threads: set[str] = set()

    def start(self, info: SourceInfo) -> None:
        self.info = info
        self.calls.append("start")

    def write(self, frame: LiveFrame) -> None:
        self.writer_threads.add(threading.current_thread().name)
        if self._fail_at is not None and len(self.frames) + 1 == self._fail_at:
            raise self._fail_with
        with self._changed:
            self.frames.append(frame)
            self._changed.notify_all()

    def stop(self) -> None:
        self.calls.append("stop")

    def abort(self) -> None:
        self.calls.append("abort")

    def wait_for(self, count: int, timeout: float = WAIT) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self.frames) >= count, timeout)


class Wrapped:
    """Passes a source through, counting closes; subclasses change what read() does."""

    def __init__(self, inner: FrameSource):
        self.inner = inner
        self.closes = 0

    def open(self) -> SourceInfo:
        return self.inner.open()

    def read(self) -> CapturedFrame | None:
        return self.inner.read()

    def close(self) -> None:
        self.closes += 1
        self.inner.close()


class Lockstep(Wrapped):
    """Hands over the next frame only once ``sink`` has the previous one: nothing is dropped,
    so a test can say exactly which frames reach the sinks."""

    def __init__(self, inner: FrameSource, sink: CollectingSink):
        super().__init__(inner)
        self.sink = sink
        self.handed = 0

    def read(self) -> CapturedFrame | None:
        if self.handed and not self.sink.wait_for(self.handed):
            raise LiveError("lockstep: the sink never got the previous frame")
        frame = self.inner.read()
        if frame is not None:
            self.handed += 1
        return frame


class DiesAfter(Wrapped):
    """Delivers ``frames`` frames, then fails the way an unplugged camera does."""

    def __init__(self, inner: FrameSource, frames: int, reason: str):
        super().__init__(inner)
        self.left, self.reason = frames, reason

    def read(self) -> CapturedFrame | None:
        if self.left == 0:
            raise LiveError(self.reason)
        self.left -= 1
        return self.inner.read()


class Synthetic:
    """Frames made on demand, as fast as asked, forever; ``block_after`` makes read() block
    (like a stalled camera) until close() is called."""

    def __init__(self, block_after: int | None = None):
        self.block_after = block_after
        self.index = 0
        self.closes = 0
        self.closed = threading.Event()
        self.reading = threading.Event()  # set once read() blocks

    def open(self) -> SourceInfo:
        return SourceInfo(name="synthetic", width=SIZE[0], height=SIZE[1], fps=None)

    def read(self) -> CapturedFrame | None:
        if self.block_after is not None and self.index >= self.block_after:
            self.reading.set()
            self.closed.wait()
            raise LiveError("synthetic source closed")
        image = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
        draw_red_face(self.index, image)
        now = time.monotonic()
        frame = CapturedFrame(image=image, index=self.index, captured_at=now, time=self.index / 30)
        self.index += 1
        return frame

    def close(self) -> None:
        self.closes += 1
        self.closed.set()
