"""Swap faces in a whole video: decode, track and swap, encode, as overlapping stages.

Three threads joined by bounded queues: the decoder reads ahead while the frame stream
works and the encoder writes behind it, so decoding and encoding overlap with inference
and memory stays flat whatever the video's length. Audio packets travel through the same
queues in demux order, which keeps the output interleaved. The output is written to a
temporary file next to it and renamed only on success; a cancel or a failure removes it.
"""

from __future__ import annotations

import enum
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final, TypeVar

import numpy as np

from ..errors import FieldProblem, InvalidJobError, JobCancelled, NoFaceError
from ..faces.session import Region
from ..media.encoding import EncoderSettings
from ..media.formats import container_format_for
from ..media.output import AtomicOutput, check_output_location
from ..media.trim import items_between
from ..media.video_reader import VideoReader
from ..media.video_types import AudioChunk, SourceFrame, VideoInfo
from ..media.video_writer import VideoWriter
from ..models.library import ModelLibrary
from ..tracking.tracker import TrackerSettings
from .assignment import build_session
from .events import EventSink, JobWarning, Preview, progress_of
from .inputs import JobInputs
from .result import JobResult
from .spec import JobKind, SwapJob, Trim
from .stream import FrameStream
from .timecode import format_time

log = logging.getLogger(__name__)


class _End(enum.Enum):
    """The type of the end of stream marker between stages."""

    END = "end"


_END: Final = _End.END  # end of stream marker between stages
# what the encoder gets per frame: the decoded frame, the swapped image (None: unchanged), the regions
_Processed = tuple[SourceFrame, np.ndarray | None, list[Region] | None]
_Item = TypeVar("_Item")

QUEUE_POLL_SECONDS = 0.1
QUEUE_SIZE = 8  # frames per queue: bounds memory (8 decoded + 8 processed 4K frames ~ 400 MB)
PROGRESS_INTERVAL = 0.25  # seconds between progress events


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


def _put(channel: queue.Queue[_Item], item: _Item, stop: threading.Event) -> bool:
    """Blocking put that gives up when the job is stopping."""
    while not stop.is_set():
        try:
            channel.put(item, timeout=QUEUE_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


def _get(channel: queue.Queue[_Item], stop: threading.Event) -> _Item | _End:
    while True:
        try:
            return channel.get(timeout=QUEUE_POLL_SECONDS)
        except queue.Empty:
            if stop.is_set():
                return _END


def encoder_settings(job: SwapJob) -> EncoderSettings:
    output = job.output
    settings = EncoderSettings(
        codec=output.codec,
        preset=output.preset,
        hardware=output.hardware,
        audio=output.audio,
        threads=output.encoder_threads,
    )
    if output.quality is not None:
        settings.quality = output.quality
    return settings


def check_trim(trim: Trim, info: VideoInfo, label: str) -> None:
    """InvalidJobError when the span does not lie within the video (when its length is known)."""
    duration = info.duration
    if duration is None:
        return  # a span past the end then finds no frames, which is reported as such
    # a time a player rounds the length to (12.5 for 12.48 s) still counts as the end
    slack = float(1 / info.average_rate) if info.average_rate else 0.05
    length = f"{label} is {format_time(duration)} long"
    problems = []
    if trim.start >= duration:
        problems.append(FieldProblem("trim.start", f"{format_time(trim.start)} is past the end ({length})"))
    if trim.end is not None and trim.end > duration + slack:
        problems.append(FieldProblem("trim.end", f"{format_time(trim.end)} is past the end ({length})"))
    if problems:
        raise InvalidJobError(problems)


def _expected_frames(job: SwapJob, info: VideoInfo) -> int | None:
    """Frames the job will write, for progress: all of them, or about the trimmed span's share."""
    if job.trim is None:
        return info.frame_count
    end = job.trim.end if job.trim.end is not None else info.duration
    if end is None or not info.average_rate:
        return None
    if info.duration is not None:
        end = min(end, info.duration)
    return max(1, round((end - job.trim.start) * float(info.average_rate)))


def run_video(
    library: ModelLibrary, job: SwapJob, inputs: JobInputs, emit: EventSink, cancel: threading.Event
) -> JobResult:
    """Run a video job; cancel stops it within a frame and leaves no output behind."""
    started = time.perf_counter()
    fmt = job.output.resolved_format(JobKind.VIDEO)
    local_inputs = job.local_paths()
    if job.output.path is not None:
        output = Path(job.output.path)
        check_output_location(output, local_inputs)
    else:
        # "return the bytes": encode into a temporary file of the job's own, then read it
        output = inputs.scratch_path("." + fmt)
    reader = VideoReader(inputs.local_path(job.target))
    try:
        if job.trim is not None:
            check_trim(job.trim, reader.info, job.target.label)
        session = build_session(library, job.faces, job.options, inputs)
        tracker = TrackerSettings(detect_every=job.tracker.detect_every, smoothing=job.tracker.smoothing)
        stream = FrameStream(session, tracker)
        pipeline = _Pipeline(job, reader, stream, emit, cancel)
        counts, encoder_name = pipeline.run(output, container_format_for(output))
    finally:
        reader.close()
    data = output.read_bytes() if job.output.path is None else None
    seconds = time.perf_counter() - started
    log.info(
        "wrote %s: %d frames, %d with swaps, %.1f s", output, counts["frames"], counts["swapped"], seconds
    )
    warnings = []
    if reader.skipped_frames:
        warnings.append(f"{reader.skipped_frames} corrupt frame(s) skipped")
    return JobResult(
        kind=JobKind.VIDEO.value,
        output_format=fmt,
        faces_found=counts["faces"],
        faces_swapped=counts["faces_swapped"],
        seconds=seconds,
        provider=library.provider.name,
        output_path=str(output) if job.output.path is not None else None,
        output_data=data,
        frames=counts["frames"],
        frames_with_swaps=counts["swapped"],
        skipped_frames=reader.skipped_frames,
        encoder=encoder_name,
        timings={"total": seconds},
        warnings=warnings,
    )


class _Pipeline:
    """decode -> stream -> encode for one job; the calling thread runs the middle stage."""

    def __init__(
        self,
        job: SwapJob,
        reader: VideoReader,
        stream: FrameStream,
        emit: EventSink,
        cancel: threading.Event,
    ) -> None:
        self.job = job
        self.reader = reader
        self.stream = stream
        self.emit = emit
        self.cancel = cancel
        self.stop = threading.Event()
        self.decoded: queue.Queue[SourceFrame | AudioChunk | _End] = queue.Queue(maxsize=QUEUE_SIZE)
        self.processed: queue.Queue[_Processed | AudioChunk | _End] = queue.Queue(maxsize=QUEUE_SIZE)
        self.counts = {"frames": 0, "swapped": 0, "faces": 0, "faces_swapped": 0, "with_faces": 0}

    def run(self, output: Path, container_format: str) -> tuple[dict[str, int], str]:
        encoder = encoder_settings(self.job)
        stages: list[_Stage] = []
        writer: VideoWriter | None = None
        target = AtomicOutput(output)
        try:
            writer = VideoWriter(
                target.temp, self.reader.description, encoder, container_format=container_format, name=output
            )
            encoder_name = writer.encoder_name
            active_writer = writer

            def decode() -> None:
                for item in self._source(with_audio=encoder.audio):
                    if not _put(self.decoded, item, self.stop):
                        return
                _put(self.decoded, _END, self.stop)

            def encode() -> None:
                while True:
                    item = _get(self.processed, self.stop)
                    if item is _END:
                        return
                    if isinstance(item, AudioChunk):
                        active_writer.write_audio(item)
                    else:
                        frame, image, regions = item
                        active_writer.write_frame(frame, image, regions)

            stages = [
                _Stage("facedeck-decode", decode, self.stop),
                _Stage("facedeck-encode", encode, self.stop),
            ]
            for stage in stages:
                stage.start()
            self._process()
            _put(self.processed, _END, self.stop)
            for stage in stages:
                stage.join()
            _raise_stage_errors(stages)
            self._check_counts()  # before closing: a writer with no frames has its own, vaguer complaint
            writer.close()
            writer = None
            target.commit()
            return self.counts, encoder_name
        except BaseException:
            self.stop.set()
            for stage in stages:
                stage.join(timeout=10)
            if writer is not None:
                writer.abort()
            target.discard()
            _raise_stage_errors(stages)
            raise
        finally:
            self.stop.set()

    def _check_counts(self) -> None:
        """A finished run that wrote no frame, or found no face anywhere, is a failure."""
        label = self.job.target.label
        if self.counts["frames"] == 0 and self.job.trim is not None:
            trim = self.job.trim
            span = f"from {format_time(trim.start)}" + (f" to {format_time(trim.end)}" if trim.end else "")
            raise InvalidJobError([FieldProblem("trim", f"{label} has no frames {span}")])
        if self.counts["frames"] == 0:
            raise NoFaceError(f"{label} has no frames to process", path=label)
        # one part of a fanned-out video may well have no face: its frames go back unchanged
        if self.counts["with_faces"] == 0 and self.job.part is None:
            raise NoFaceError(f"no face found in any frame of {label}", path=label)

    def _source(self, *, with_audio: bool) -> Iterator[SourceFrame | AudioChunk]:
        trim = self.job.trim
        if trim is None:
            return self.reader.items(with_audio=with_audio)
        return items_between(self.reader, trim.start, trim.end, with_audio=with_audio)

    def _process(self) -> None:
        counts = self.counts
        total = _expected_frames(self.job, self.reader.info)
        preview_every = self.job.preview_every
        last_report = last_preview = 0.0
        skipped = 0
        loop_started = time.perf_counter()
        while True:
            if self.cancel.is_set():
                raise JobCancelled(f"cancelled after {counts['frames']} frame(s); no output was written")
            item = _get(self.decoded, self.stop)
            if item is _END:
                break
            if isinstance(item, AudioChunk):
                _put(self.processed, item, self.stop)
                continue
            frame: SourceFrame = item
            result = self.stream.push(frame.image, frame.time)
            if result.error is not None:
                raise result.error  # a video keeps its CLI behaviour: a failing frame fails the job
            image: np.ndarray | None = None
            regions: list[Region] | None = None
            counts["with_faces"] += bool(result.faces_found)
            counts["faces"] = max(counts["faces"], result.faces_found)
            if result.faces_swapped:
                image, regions = result.frame, result.regions
                counts["swapped"] += 1
                counts["faces_swapped"] = max(counts["faces_swapped"], result.faces_swapped)
            _put(self.processed, (frame, image, regions), self.stop)
            counts["frames"] += 1
            now = time.perf_counter()
            if preview_every is not None and now - last_preview >= preview_every:
                last_preview = now
                self.emit(Preview(frame.index, frame.time, result.frame))
            if self.reader.skipped_frames > skipped:
                skipped = self.reader.skipped_frames
                self.emit(JobWarning("corrupt_frame", f"{skipped} corrupt frame(s) skipped so far"))
            if now - last_report >= PROGRESS_INTERVAL:
                last_report = now
                self.emit(progress_of(counts["frames"], total, now - loop_started, counts["swapped"]))
        if self.stop.is_set():
            return  # a stage failed: run() raises its error, so never report the job as finished
        done = counts["frames"]
        self.emit(progress_of(done, done, time.perf_counter() - loop_started, counts["swapped"]))


def _raise_stage_errors(stages: list[_Stage]) -> None:
    for stage in stages:
        if stage.error is not None:
            raise stage.error
