"""Swap faces in a whole video: decode, detect/track and swap, encode, as overlapping stages.

Three threads joined by bounded queues: the decoder reads ahead while the engine works and
the encoder writes behind it, so decoding and encoding overlap with inference and memory
stays flat whatever the video's length. Audio packets travel through the same queues in
demux order, which keeps the output interleaved. The output is written to a temporary
file next to it and renamed only on success; a cancel or a failure removes it.
"""

from __future__ import annotations

import logging
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CancelledError, NoFaceError, OutputError
from ..faces.engine import FaceSwapEngine
from ..faces.face import Face
from ..faces.selection import SelectionMode
from ..media.image_io import check_output_location
from ..media.video_io import (
    AudioChunk,
    EncoderSettings,
    SourceFrame,
    VideoReader,
    VideoWriter,
    container_format_for,
    is_video_output,
)
from ..tracking.tracker import FaceTracker, TrackerSettings
from .image import FaceAssignment

log = logging.getLogger(__name__)

_END = object()  # end of stream marker between stages
QUEUE_POLL_SECONDS = 0.1


@dataclass
class VideoJob:
    target: Path
    output: Path
    faces: FaceAssignment
    encoder: EncoderSettings = field(default_factory=EncoderSettings)
    tracker: TrackerSettings = field(default_factory=TrackerSettings)
    queue_size: int = 8

    def input_paths(self) -> list[Path]:
        return [self.target, *self.faces.input_paths()]


@dataclass(frozen=True)
class VideoProgress:
    frames_done: int
    frames_total: int | None
    frames_per_second: float
    eta_seconds: float | None
    faces_swapped: int


@dataclass
class VideoJobResult:
    output: Path
    frames: int
    frames_with_swaps: int
    skipped_frames: int
    seconds: float
    encoder: str


class _Stage(threading.Thread):
    """A pipeline thread that records its failure instead of dying silently."""

    def __init__(self, name: str, work: Callable[[], None], stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self._work = work
        self._stop_event = stop
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._work()
        except BaseException as error:  # noqa: BLE001 - handed to the main thread, which re-raises it
            self.error = error
            self._stop_event.set()


def _put(channel: queue.Queue, item: object, stop: threading.Event) -> bool:
    """Blocking put that gives up when the job is stopping."""
    while not stop.is_set():
        try:
            channel.put(item, timeout=QUEUE_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


def _get(channel: queue.Queue, stop: threading.Event) -> object:
    while True:
        try:
            return channel.get(timeout=QUEUE_POLL_SECONDS)
        except queue.Empty:
            if stop.is_set():
                return _END


def check_video_output(output: Path, inputs: list[Path]) -> None:
    if not is_video_output(output):
        raise OutputError(
            f"{output.name}: a video needs a video output (.mp4 .mov .mkv .avi .webm .gif .webp)"
        )
    check_output_location(output, inputs)


class _OneFaceChoice:
    """``one`` mode over time: stay with the chosen person instead of flickering between faces."""

    def __init__(self) -> None:
        self.identity: int | None = None

    def pick(self, faces: list[Face]) -> list[Face]:
        if not faces:
            return []
        for face in faces:
            if face.extra.get("identity") == self.identity:
                return [face]
        largest = max(faces, key=lambda face: face.area)
        self.identity = largest.extra.get("identity")
        return [largest]


def run_video_job(
    engine: FaceSwapEngine,
    job: VideoJob,
    *,
    progress: Callable[[VideoProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> VideoJobResult:
    """Run ``job``; raises FaceDeckError subclasses (CancelledError when ``cancel`` is set)."""
    started = time.perf_counter()
    check_video_output(job.output, job.input_paths())
    engine.models.require(engine.settings.required_roles())
    reader = VideoReader(job.target)
    try:
        job.faces.apply(engine)
        return _run(engine, job, reader, progress, cancel or threading.Event(), started)
    finally:
        reader.close()


def _run(
    engine: FaceSwapEngine,
    job: VideoJob,
    reader: VideoReader,
    progress: Callable[[VideoProgress], None] | None,
    cancel: threading.Event,
    started: float,
) -> VideoJobResult:
    info = reader.info
    stop = threading.Event()
    decoded: queue.Queue = queue.Queue(maxsize=job.queue_size)
    processed: queue.Queue = queue.Queue(maxsize=job.queue_size)
    handle, temp_name = tempfile.mkstemp(
        dir=job.output.parent, prefix=f".{job.output.stem}.", suffix=job.output.suffix + ".part"
    )
    os.close(handle)
    temp_path = Path(temp_name)
    container_format = container_format_for(job.output)
    writer: VideoWriter | None = None
    stages: list[_Stage] = []
    try:
        writer = VideoWriter(temp_path, reader, job.encoder, container_format=container_format)
        encoder_name = writer.encoder_name

        def decode() -> None:
            for item in reader.items(with_audio=job.encoder.audio):
                if not _put(decoded, item, stop):
                    return
            _put(decoded, _END, stop)

        def encode() -> None:
            while True:
                item = _get(processed, stop)
                if item is _END:
                    return
                if isinstance(item, AudioChunk):
                    writer.write_audio(item)
                else:
                    frame, image, regions = item
                    writer.write_frame(frame, image, regions)

        stages = [_Stage("facedeck-decode", decode, stop), _Stage("facedeck-encode", encode, stop)]
        for stage in stages:
            stage.start()

        tracker = FaceTracker(engine.detect, engine.models.recognizer.embed, job.tracker)
        one_face = _OneFaceChoice() if _sticky_one(engine) else None
        frames = frames_with_swaps = 0
        faces_seen = 0
        last_report = 0.0
        loop_started = time.perf_counter()
        while True:
            if cancel.is_set():
                raise CancelledError(f"cancelled after {frames} frame(s); no output was written")
            item = _get(decoded, stop)
            if item is _END:
                break
            if isinstance(item, AudioChunk):
                _put(processed, item, stop)
                continue
            frame: SourceFrame = item
            faces = tracker.update(frame.image, frame.time)
            faces_seen += bool(faces)
            image = regions = None
            if faces:
                chosen = one_face.pick(faces) if one_face else faces
                work = np.array(frame.image, copy=True)
                result = engine.process(work, faces=chosen)
                if result.faces_swapped:
                    image, regions = result.frame, result.regions
                    frames_with_swaps += 1
            _put(processed, (frame, image, regions), stop)
            frames += 1
            now = time.perf_counter()
            if progress and (now - last_report >= 0.25):
                last_report = now
                progress(_progress(frames, info.frame_count, now - loop_started, frames_with_swaps))
        _put(processed, _END, stop)
        for stage in stages:
            stage.join()
        _raise_stage_errors(stages)
        writer.close()
        writer = None
        if frames == 0:
            raise NoFaceError(f"{job.target.name} has no frames to process")
        if faces_seen == 0:
            raise NoFaceError(f"no face found in any frame of {job.target.name}")
        os.replace(temp_path, job.output)
        if progress:
            progress(_progress(frames, frames, time.perf_counter() - loop_started, frames_with_swaps))
        seconds = time.perf_counter() - started
        log.info("wrote %s: %d frames, %d with swaps, %.1f s", job.output, frames, frames_with_swaps, seconds)
        return VideoJobResult(
            job.output, frames, frames_with_swaps, reader.skipped_frames, seconds, encoder_name
        )
    except BaseException:
        stop.set()
        for stage in stages:
            stage.join(timeout=10)
        if writer is not None:
            writer.abort()
        temp_path.unlink(missing_ok=True)
        _raise_stage_errors(stages)
        raise
    finally:
        stop.set()


def _raise_stage_errors(stages: list[_Stage]) -> None:
    for stage in stages:
        if stage.error is not None:
            raise stage.error


def _sticky_one(engine: FaceSwapEngine) -> bool:
    return engine.settings.selection is SelectionMode.ONE and not engine.mappings


def _progress(done: int, total: int | None, elapsed: float, swapped: int) -> VideoProgress:
    fps = done / elapsed if elapsed > 0 else 0.0
    eta = (total - done) / fps if (total and fps > 0) else None
    return VideoProgress(done, total, fps, eta, swapped)
