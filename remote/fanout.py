"""A long video on several workers at once: split at keyframes, one job per part, join.

The video is cut at keyframes by stream copy (core/media/segments.py), every part is sent
as its own job at the same time (the endpoint scales out to as many workers), and the
swapped parts are joined by stream copy with the source's own audio, so neither the cuts
nor the joins re-encode anything the workers did not. Who goes where is fixed by the job,
never rediscovered per part: a reference face picked in a frame of the target becomes a
still photo every part receives. A failed part is tried once more, then the whole job
fails; a cancel (the user's, or a part's failure) cancels every part still running.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2

from ..core.errors import FaceDeckError, JobCancelled, NoFaceError, UsageError
from ..core.jobs.events import EventSink, JobEvent, JobWarning, Progress, progress_of
from ..core.jobs.result import JobResult
from ..core.jobs.spec import FaceRef, MediaRef, PartOf, SwapJob
from ..core.media.marking import is_marked_synthetic
from ..core.media.seek import read_frame_at
from ..core.media.segments import Segment, join_segments, plan_segments, split_video
from .client import RemoteError
from .outgoing import STORAGE_HINT, NeedsStorageError
from .staging import JobStaging, check_storage

if TYPE_CHECKING:  # remote_run imports this module when a job fans out
    from .remote_run import RemoteRunner

log = logging.getLogger(__name__)

JOINABLE_FORMATS = ("mp4", "mov", "mkv", "webm")
# Failures a second try cannot fix: the job itself, the models, the user.
# Storage too: boto3 has retried a flaky network already, and a missing bucket or refused
# credentials fail every part alike.
NOT_RETRIED = frozenset(
    {"invalid_job", "usage", "model_missing", "model_load", "cancelled", "output", "upload"}
)


class SegmentFailed(RemoteError):
    """A part failed twice; the message names the part and the worker's reason."""


def run_segments(runner: RemoteRunner, job: SwapJob, emit: EventSink, stop: threading.Event) -> JobResult:
    """Run a video job as ``runner.segments`` parts; the output is written at ``job.output.path``."""
    assert job.output.path is not None and job.target.path is not None
    fmt = job.output.resolved_format(job.kind)
    if fmt not in JOINABLE_FORMATS:
        raise UsageError(
            f"a video split into segments is joined as {', '.join(JOINABLE_FORMATS)}, not .{fmt}"
        )
    if runner.storage is None:
        raise NeedsStorageError(
            f"a video runs remotely through object storage, and none is configured: {STORAGE_HINT}"
        )
    started = time.perf_counter()
    check_storage(runner.storage)  # one request now, before splitting and N uploads find out
    source = Path(job.target.path)
    trim_start = job.trim.start if job.trim is not None else 0.0
    trim_end = job.trim.end if job.trim is not None else None
    with tempfile.TemporaryDirectory(prefix="facedeck-segments-") as scratch:
        folder = Path(scratch)
        emit(Progress("split", 0, 1))
        segments = plan_segments(source, runner.segments, start=trim_start, end=trim_end)
        if len(segments) < runner.segments:
            emit(JobWarning("segments", _fewer_parts(source, len(segments), runner.segments)))
        fixed = fixed_faces(job, folder)
        inputs = split_video(source, segments, folder / "in")
        outputs_folder = folder / "out"
        outputs_folder.mkdir()
        fan = _FanOut(runner, fixed, segments, emit, stop)
        answers = fan.run(inputs, outputs_folder, fmt)
        if all(int(answer.get("faces_found", 0)) == 0 for answer in answers):
            raise NoFaceError(f"no face found in any frame of {source.name}", path=source.name)
        emit(Progress("join", 0, 1))
        outputs = [outputs_folder / f"part-{segment.index:03d}.{fmt}" for segment in segments]
        report = join_segments(outputs, segments, source, Path(job.output.path), audio=job.output.audio)
    if not is_marked_synthetic(Path(job.output.path)):  # the join marks it; a last check before we say done
        raise RemoteError(f"the joined video {job.output.path} lacks the synthetic-media marking")
    return _result(job, answers, report.frames, report.seconds, time.perf_counter() - started, fan.retried)


def fixed_faces(job: SwapJob, folder: Path) -> SwapJob:
    """``job`` with every face taken from a frame of the target turned into a still photo.

    A part's timeline starts at its own first frame, so a time in the whole video would
    name the wrong frame (or none) in a part: the face is fixed once, here.
    """
    stills: dict[tuple[str, float], MediaRef] = {}

    def face(ref: FaceRef) -> FaceRef:
        if ref.time is None or ref.media.path is None:
            return ref
        key = (ref.media.path, ref.time)
        if key not in stills:
            path = folder / f"frame-{len(stills)}.png"
            if not cv2.imwrite(str(path), read_frame_at(ref.media.path, ref.time).image):
                raise RemoteError(f"could not keep the frame at {ref.time:g} s of {ref.media.label}")
            stills[key] = MediaRef(path=str(path))
        return dataclasses.replace(ref, media=stills[key], time=None)

    return dataclasses.replace(job, faces=job.faces.with_refs(face))


def _fewer_parts(source: Path, got: int, asked: int) -> str:
    return (
        f"{source.name} was split into {got} part(s), not {asked}: it has too few keyframes "
        "(or is too short) for more"
    )


class _FanOut:
    """The parts' jobs on a thread each, their progress summed into one bar."""

    def __init__(
        self,
        runner: RemoteRunner,
        job: SwapJob,
        segments: list[Segment],
        emit: EventSink,
        stop: threading.Event,
    ) -> None:
        self.runner = runner
        self.job = job
        self.segments = segments
        self.emit = emit
        self.stop = stop
        self.abort = threading.Event()  # the user's cancel, or a part that failed for good
        self.tag = uuid.uuid4().hex[:12]
        self.total = sum(segment.frames for segment in segments)
        self.done = [0] * len(segments)
        self.lock = threading.Lock()
        self.first_progress: float | None = None
        self.retried = 0
        from .remote_run import video_seconds

        self.seconds = video_seconds(job)

    def run(self, inputs: list[Path], outputs: Path, fmt: str) -> list[dict[str, Any]]:
        self.emit(Progress("queue", 0, None))
        with ThreadPoolExecutor(max_workers=len(self.segments), thread_name_prefix="facedeck-part") as pool:
            futures = {
                pool.submit(
                    self._part, segment, part, outputs / f"part-{segment.index:03d}.{fmt}"
                ): segment.index
                for segment, part in zip(self.segments, inputs, strict=True)
            }
            try:
                failure = self._watch(set(futures))
            except KeyboardInterrupt:
                # Ctrl-C: each part cancels its remote job, and the pool waits for that here
                self.abort.set()
                raise
        if failure is not None:
            raise failure
        if self.stop.is_set():
            raise JobCancelled("cancelled; every part's remote job was cancelled too")
        return [future.result() for future in sorted(futures, key=futures.__getitem__)]

    def _watch(self, pending: set[Future[dict[str, Any]]]) -> FaceDeckError | None:
        """Wait for every part, cancelling the rest on the user's cancel or a part's failure."""
        failure: FaceDeckError | None = None
        while pending:
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            if self.stop.is_set():
                self.abort.set()
            for future in finished:
                error = future.exception()
                if isinstance(error, JobCancelled):
                    continue
                if isinstance(error, FaceDeckError):
                    failure = failure or error
                    self.abort.set()
                elif error is not None:
                    self.abort.set()
                    raise error
        return failure

    def _part(self, segment: Segment, part: Path, output: Path) -> dict[str, Any]:
        job = dataclasses.replace(
            self.job,
            target=MediaRef(path=str(part)),
            trim=None,
            part=PartOf(index=segment.index, count=len(self.segments)),
            output=dataclasses.replace(self.job.output, path=str(output), audio=False),
        )
        seconds = self.seconds  # the whole video's length: a generous timeout for every part
        name = f"result{output.suffix}"
        for attempt in (1, 2):
            assert self.runner.storage is not None  # run_segments refused the job without storage
            with JobStaging(self.runner.storage, f"{self.tag}-part{segment.index:03d}-{attempt}") as staging:
                try:
                    answer = self.runner.submit_and_wait(
                        job,
                        staging,
                        name,
                        seconds,
                        _ignore,
                        self.abort,
                        on_progress=lambda update: self._progress(segment.index, update),
                    )
                    self.runner.fetch_output(answer["output"], output, staging, name, self.abort)
                    self._progress(segment.index, {"done": segment.frames})  # its last update may go unseen
                    return answer
                except JobCancelled:
                    raise
                except FaceDeckError as error:
                    if attempt == 2 or error.code in NOT_RETRIED or self.abort.is_set():
                        raise SegmentFailed(
                            f"part {segment.index + 1} of {len(self.segments)} failed: {error}"
                        ) from None
                    self.retried += 1
                    log.warning("part %d failed (%s); trying it once more", segment.index + 1, error)
                    with self.lock:
                        self.done[segment.index] = 0
        raise AssertionError("unreachable")

    def _progress(self, index: int, update: Mapping[str, Any]) -> None:
        done = update.get("done")
        if not isinstance(done, int):
            return
        with self.lock:
            self.done[index] = min(done, self.segments[index].frames)
            total_done = sum(self.done)
            now = time.perf_counter()
            if self.first_progress is None:
                self.first_progress = now
            elapsed = now - self.first_progress
        progress = progress_of(total_done, self.total, elapsed, 0)
        if elapsed < 1.0:  # a rate over a moment's frames means nothing yet
            progress = dataclasses.replace(progress, frames_per_second=0.0, eta_seconds=None)
        self.emit(progress)


def _ignore(_event: JobEvent) -> None:
    return None


def _result(
    job: SwapJob,
    answers: list[dict[str, Any]],
    frames: int,
    join_seconds: float,
    seconds: float,
    retried: int,
) -> JobResult:
    providers = sorted({str(answer.get("provider", "?")) for answer in answers})
    warnings = [str(item) for answer in answers for item in answer.get("warnings") or []]
    if retried:
        warnings.append(f"{retried} part(s) failed once and were run again")
    engines = [float((answer.get("timings") or {}).get("engine", 0.0)) for answer in answers]
    return JobResult(
        kind=job.kind.value,
        output_format=job.output.resolved_format(job.kind),
        faces_found=max(int(answer.get("faces_found", 0)) for answer in answers),
        faces_swapped=max(int(answer.get("faces_swapped", 0)) for answer in answers),
        seconds=seconds,
        provider=f"{'/'.join(providers)} (remote, {len(answers)} parts)",
        output_path=job.output.path,
        frames=frames,
        frames_with_swaps=sum(int(answer.get("frames_with_swaps", 0)) for answer in answers),
        encoder=next((str(answer["encoder"]) for answer in answers if answer.get("encoder")), None),
        timings={
            "join": join_seconds,
            "remote_engine_total": sum(engines),
            "remote_engine_slowest": max(engines),
        },
        warnings=warnings,
    )
