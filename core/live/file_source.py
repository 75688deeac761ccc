"""A video file played in real time: what tests and benchmarks use in place of a camera.

Frames are paced by their media time against time.monotonic(), so the loop sees them
arrive the way a camera would deliver them (a bare decoder would hand over a whole clip
in milliseconds). ``loop`` starts the clip over at its end; ``time`` then carries on from
the clip's length, so it never goes backwards (the tracker relies on that).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Generator
from pathlib import Path

from ..errors import InputError
from ..media.video_reader import VideoReader
from ..media.video_types import SourceFrame
from .capture_util import captured
from .types import CapturedFrame, LiveError, SourceInfo

log = logging.getLogger(__name__)

# A reader that fell this far behind its clock (a paused process, a slow decode) starts
# the clock again from where it is, instead of handing over a burst of late frames.
_RESYNC_AFTER = 0.5


class FileSource:
    """Plays ``path`` at its own frame rate; read() returns None at the end unless ``loop``."""

    def __init__(self, path: str | os.PathLike[str], *, loop: bool = False, mirror: bool = False) -> None:
        self.path = Path(path)
        self.loop = loop
        self.mirror = mirror
        self.name = self.path.name
        self._reader: VideoReader | None = None
        self._frames: Generator[object, None, None] | None = None
        self._lock = threading.Lock()  # held while decoding, so close() never pulls the file from under it
        self._closed = threading.Event()  # set by close(): also cuts a pacing wait short
        self._period = 1.0 / 30.0
        self._offset = 0.0  # media time of this pass's start (the clip's length times the passes before)
        self._pass_end = 0.0  # media time just after the last frame seen in this pass
        self._pass_frames = 0
        self._index = 0
        self._clock = 0.0  # time.monotonic() at which media time 0 is due

    def open(self) -> SourceInfo:
        if self._reader is not None:
            raise LiveError(f"{self.name} is already open")
        try:
            reader = VideoReader(self.path)
        except InputError as error:
            raise LiveError(f"cannot play {error.message}", path=str(self.path)) from None
        info = reader.info
        fps = float(info.average_rate) if info.average_rate else None
        if fps:
            self._period = 1.0 / fps
        self._reader = reader
        self._closed.clear()
        self._start_pass()
        self._clock = time.monotonic()
        return SourceInfo(name=self.name, width=info.width, height=info.height, fps=fps)

    def _start_pass(self) -> None:
        assert self._reader is not None
        self._frames = self._reader.items(with_audio=False)
        self._pass_frames = 0

    def read(self) -> CapturedFrame | None:
        frame = self._next_frame()
        if frame is None:
            return None
        media_time = self._offset + frame.time
        self._pass_end = max(self._pass_end, frame.time + (frame.duration or self._period))
        delay = self._clock + media_time - time.monotonic()
        if delay > 0:
            if self._closed.wait(delay):
                return None
        elif delay < -_RESYNC_AFTER:
            log.debug("%s: %.2f s behind its clock; pacing starts again from here", self.name, -delay)
            self._clock -= delay
        index, self._index = self._index, self._index + 1
        return captured(frame.image, index, self._clock, mirror=self.mirror, media_time=media_time)

    def _next_frame(self) -> SourceFrame | None:
        with self._lock:
            while not self._closed.is_set() and self._frames is not None:
                try:
                    frame = next(self._frames, None)
                except InputError as error:
                    raise LiveError(
                        f"{self.name} stopped playing: {error.message}", path=str(self.path)
                    ) from None
                if isinstance(frame, SourceFrame):
                    self._pass_frames += 1
                    return frame
                if frame is not None:
                    continue  # (no audio is asked for; nothing else comes)
                if not self.loop or self._pass_frames == 0:
                    return None
                self._offset += self._pass_end
                self._pass_end = 0.0
                self._start_pass()
            return None

    def close(self) -> None:
        """Safe from any thread, twice, after a failed open; a read waiting to be due returns None."""
        self._closed.set()
        with self._lock:
            if self._frames is not None:
                self._frames.close()
                self._frames = None
            if self._reader is not None:
                self._reader.close()
                self._reader = None
