"""RecordingSink: the live loop's processed frames into a video file, at real speed.

Each frame is stamped with its capture time (``captured_at``, relative to the first frame
recorded) on a 1/90000 clock, so the recording has a variable frame rate and plays at
the speed things happened, even where the loop dropped frames. The file is written like
every FaceDeck output: to a temporary file in the output's folder that becomes the output
only on :meth:`RecordingSink.stop` (:class:`AtomicOutput`), through the core's
:class:`VideoWriter`, marked as synthetic media.

Encoding runs on a worker thread behind a bounded queue, because x264 can cost more than a
frame period: measured on 2 cores, encoding in the caller took a median 8 ms per 720p
frame and 16 ms per 1080p frame with ``veryfast`` (peaks of 70-150 ms), 10 ms at 1080p
with ``ultrafast``. ``write`` only checks and queues the frame (a copy: a median 0.3 ms at
720p, 0.7 ms at 1080p); when the encoder falls behind by a full queue, a frame is dropped
(counted, and the recording's timestamps keep the gap honest) rather than holding up the
live loop. The default x264 preset is ``superfast``: the swap shares the CPU, and at
1080p ``veryfast`` already dropped frames on 2 busy cores.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import FaceDeckError
from ..media.encoding import EncoderSettings
from ..media.formats import ANIMATION_FORMATS, VIDEO_EXTENSIONS, container_format_for, listed
from ..media.output import AtomicOutput, check_output_location
from ..media.video_types import SourceDescription, SourceFrame
from ..media.video_writer import VideoWriter
from .types import LiveError, LiveFrame, SourceInfo

log = logging.getLogger(__name__)

QUEUE_SIZE = 8  # frames waiting for the encoder: ~0.25 s at 30 fps, 50 MB at 1080p
_JOIN_SECONDS = 30.0  # the encoder finishing its queue (and x264 its look-ahead) at stop


def live_encoder_settings(container_format: str) -> EncoderSettings:
    """Encoder settings fit for real time: fast presets, no audio (a camera has none here).

    h264 ``superfast`` at the default quality (NVENC when there is one; it ignores x264
    preset names); WebM cannot hold h264, so VP9 at its fastest ``cpu-used``.
    """
    if container_format == "webm":
        return EncoderSettings(codec="vp9", preset="8", audio=False)
    return EncoderSettings(codec="h264", preset="superfast", audio=False)


class RecordingSink:
    """Records the processed frames to ``path`` (.mp4, .mkv, .mov, .webm or .avi).

    ``inputs`` are files the recording must never overwrite (a video played as the source).
    ``settings`` default to :func:`live_encoder_settings`. ``queue_size`` frames may wait
    for the encoder; more are dropped (see :attr:`dropped`). Errors are one-line
    :class:`LiveError` messages: bad output paths at :meth:`start`, before any frame; an
    encoder failure at the next :meth:`write` or at :meth:`stop`. Not thread-safe: the
    loop calls it from one thread at a time.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        settings: EncoderSettings | None = None,
        *,
        inputs: Sequence[str | os.PathLike[str]] = (),
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size}")
        self.path = Path(path)
        self._settings = settings
        self._inputs = tuple(inputs)
        self._queue: queue.Queue[SourceFrame | None] = queue.Queue(maxsize=queue_size)
        self._size: tuple[int, int] | None = None
        self._target: AtomicOutput | None = None
        self._writer: VideoWriter | None = None
        self._worker: threading.Thread | None = None
        self._cancel = threading.Event()  # abort: the worker drops what is queued
        self._failure: str | None = None  # the worker's one-line reason, read by write and stop
        self._first: float | None = None
        self._last_time = 0.0
        self._state = "new"  # "recording", then "stopped" or "aborted"
        self.frames = 0  # frames handed to the encoder
        self.dropped = 0  # frames dropped because the encoder was behind
        self.encoder_name: str | None = None

    @property
    def name(self) -> str:
        """For the loop's reports (stats.sink_errors) and the window."""
        return f"recording {self.path.name}"

    @property
    def duration(self) -> float:
        """Seconds from the first recorded frame's capture to the last one's."""
        return self._last_time

    # -- FrameSink

    def start(self, info: SourceInfo) -> None:
        """Check the output and open the encoder; LiveError (nothing left behind) when it cannot."""
        if self._state != "new":
            raise LiveError(f"{self.path}: this recording was already started; make a new one")
        fmt = self._container_format()
        settings = self._settings or live_encoder_settings(fmt)
        try:
            check_output_location(self.path, self._inputs)
            target = AtomicOutput(self.path)
        except FaceDeckError as error:
            raise _live(error) from None
        description = SourceDescription.for_frames(info.width, info.height, name=info.name, fps=info.fps)
        try:
            writer = VideoWriter(target.temp, description, settings, container_format=fmt, name=self.path)
        except FaceDeckError as error:
            target.discard()
            raise _live(error) from None
        except BaseException:
            target.discard()
            raise
        self._target, self._writer = target, writer
        self._size = (info.width, info.height)
        self.encoder_name = writer.encoder_name
        self._worker = threading.Thread(
            target=self._encode_queued, args=(writer,), name="facedeck-record", daemon=True
        )
        self._worker.start()
        self._state = "recording"
        log.info("recording %s (%dx%d, %s)", self.path, info.width, info.height, writer.encoder_name)

    def write(self, frame: LiveFrame) -> None:
        """Queue ``frame`` for the encoder (a copy); LiveError when the recording has failed."""
        if self._state != "recording":
            raise LiveError(f"{self.path}: the recording is not running")
        if self._failure is not None:
            raise LiveError(self._failure)
        image = frame.image
        assert self._size is not None  # set by start()
        width, height = self._size
        if image.shape != (height, width, 3) or image.dtype != np.uint8:
            got = f"{image.shape[1]}x{image.shape[0]}" if image.ndim >= 2 else str(image.shape)
            raise LiveError(
                f"{self.path}: a {got} frame ({image.dtype}) cannot go into a {width}x{height} recording"
            )
        captured = frame.captured
        if self._first is None:
            self._first = captured.captured_at
        seconds = max(0.0, captured.captured_at - self._first)
        # A copy: the frame may be the capture buffer itself, which a source may reuse.
        item = SourceFrame(captured.index, None, None, seconds, None, np.array(image, copy=True))
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:
                log.warning("%s: the encoder is behind; %d frame(s) dropped so far", self.path, self.dropped)
            return
        self.frames += 1
        self._last_time = seconds

    def stop(self) -> None:
        """Encode what is queued, finish the file and rename it into place; LiveError on failure.

        A recording that got no frame, or whose encoder failed, leaves nothing behind.
        """
        if self._state != "recording":
            return
        self._state = "stopped"
        writer, target = self._writer, self._target
        assert writer is not None and target is not None
        self._end_worker()
        if self._failure is not None:
            if not self._worker_alive():
                writer.abort()  # never under the worker's feet
            target.discard()
            raise LiveError(self._failure)
        if self.frames == 0:
            writer.abort()
            target.discard()
            raise LiveError(f"{self.path}: no frames were recorded; no file was written")
        try:
            writer.close()
            target.commit()
        except FaceDeckError as error:
            target.discard()
            raise _live(error) from None
        log.info(
            "recorded %s: %d frames, %.1f s, %d dropped", self.path, self.frames, self.duration, self.dropped
        )

    def abort(self) -> None:
        """Stop now and remove the temporary file; never raises, safe to call more than once."""
        if self._state != "recording":
            self._state = "aborted" if self._state == "new" else self._state
            return
        self._state = "aborted"
        self._cancel.set()
        self._discard_queued()
        self._end_worker()
        assert self._writer is not None and self._target is not None
        if not self._worker_alive():
            self._writer.abort()  # never under the worker's feet
        self._target.discard()
        log.info("recording %s aborted; nothing was kept", self.path)

    # -- internals

    def _container_format(self) -> str:
        try:
            fmt = container_format_for(self.path)
        except FaceDeckError as error:
            raise _live(error) from None
        if fmt in ANIMATION_FORMATS:
            # GIF and WebP frames are quantised or spooled whole: far too slow for real time.
            raise LiveError(f"{self.path}: recordings are videos; use one of {listed(VIDEO_EXTENSIONS)}")
        return fmt

    def _encode_queued(self, writer: VideoWriter) -> None:
        """The worker: encode queued frames until the end marker, or until abort."""
        while True:
            item = self._queue.get()
            if item is None or self._cancel.is_set():
                return
            try:
                writer.write_frame(item, item.image)
            except FaceDeckError as error:
                self._fail(error.message)
                return
            except Exception as error:  # noqa: BLE001 - thread boundary: reported by write() and stop()
                log.exception("%s: the encoder failed", self.path)
                self._fail(f"{self.path}: the recording failed ({type(error).__name__}: {error})")
                return

    def _fail(self, reason: str) -> None:
        self._failure = " ".join(reason.split())
        # debug: write() and stop() raise this reason, and whoever runs the loop reports it once
        log.debug("recording stopped: %s", self._failure)
        self._discard_queued()  # frees a blocked stop() and the memory

    def _discard_queued(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def _worker_alive(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def _end_worker(self) -> None:
        """Queue the end marker (waiting while the queue is full) and join the worker."""
        worker = self._worker
        if worker is None:
            return
        deadline = time.monotonic() + _JOIN_SECONDS
        # Polled: a worker that failed meanwhile no longer takes anything from the queue.
        while worker.is_alive() and time.monotonic() < deadline:
            try:
                self._queue.put(None, timeout=0.05)
                break
            except queue.Full:
                continue
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            log.warning("%s: the encoder did not finish within %.0f s", self.path, _JOIN_SECONDS)
            self._failure = self._failure or f"{self.path}: the encoder did not finish; nothing was kept"


def _live(error: FaceDeckError) -> LiveError:
    """The same one-line message as a LiveError (the loop drops a sink on LiveError)."""
    return LiveError(error.message, path=error.path)
