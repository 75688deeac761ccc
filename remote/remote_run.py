"""``RemoteRunner.run``: a SwapJob run on an endpoint, answered like ``run_job`` answers.

The front ends call ``run_job(library, job, events=, cancel=)`` for a local run and
``RemoteRunner(...).run(job, events=, cancel=)`` for a remote one: the same job in, the
same typed progress events and the same JobResult out, the output written atomically at
``job.output.path``. A video with ``segments`` above one goes to :mod:`.fanout`.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..core.errors import JobCancelled, UsageError
from ..core.jobs.events import EventSink, JobEvent, JobWarning, Progress
from ..core.jobs.result import JobResult
from ..core.jobs.spec import JobKind, SwapJob
from ..core.media.marking import is_marked_synthetic
from ..core.media.output import AtomicOutput, check_output_location, check_output_path
from .client import RemoteClient, RemoteError
from .outgoing import prepare
from .staging import JobStaging, StorageSettings

log = logging.getLogger(__name__)

# RunPod's default execution timeout; a video gets more, by its length (see execution_timeout).
DEFAULT_EXECUTION_TIMEOUT = 600.0
# Seconds of execution allowed per second of video: a CPU-only server swaps at a few
# frames a second, about 10x slower than real time at 30 fps; 30x leaves room for it.
SECONDS_PER_VIDEO_SECOND = 30.0
MAX_EXECUTION_TIMEOUT = 24 * 3600.0


def execution_timeout(seconds_of_video: float | None) -> float:
    """The ``policy.executionTimeout`` (in seconds) a job of that length is sent with."""
    if not seconds_of_video:
        return DEFAULT_EXECUTION_TIMEOUT
    wanted = 300.0 + SECONDS_PER_VIDEO_SECOND * seconds_of_video
    return min(MAX_EXECUTION_TIMEOUT, max(DEFAULT_EXECUTION_TIMEOUT, wanted))


def video_seconds(job: SwapJob) -> float | None:
    """How long the part of the target video the job swaps is, when the file says."""
    if job.kind is not JobKind.VIDEO or job.target.path is None:
        return None
    from ..core.media.video_reader import VideoReader  # PyAV: only when a video runs

    with VideoReader(job.target.path) as reader:
        duration = reader.description.info.duration
    if duration is None:
        return None
    start = job.trim.start if job.trim is not None else 0.0
    end = job.trim.end if job.trim is not None and job.trim.end is not None else duration
    return max(0.0, min(end, duration) - start)


def _ignore(_event: JobEvent) -> None:
    return None


class RemoteRunner:
    """Runs jobs on one endpoint, with the client's bucket for large files when configured."""

    def __init__(
        self, client: RemoteClient, storage: StorageSettings | None = None, *, segments: int = 1
    ) -> None:
        if segments < 1:
            raise UsageError("segments must be 1 or more")
        self.client = client
        self.storage = storage
        self.segments = segments

    @property
    def label(self) -> str:
        return self.client.endpoint.label

    def run(
        self, job: SwapJob, *, events: EventSink | None = None, cancel: threading.Event | None = None
    ) -> JobResult:
        """Run ``job`` remotely and write its output to ``job.output.path``.

        Everything that can refuse the job (the job's fields, the output path, storage that
        is needed and missing, a body over the limit) does so before anything is sent.
        """
        if job.output.path is None:
            raise UsageError("a remote job needs an output path")
        job.validate()
        output = Path(job.output.path)
        if job.kind is JobKind.IMAGE:
            check_output_path(output, job.local_paths())
        else:  # the format was checked by validate(); where it goes is checked here
            check_output_location(output, job.local_paths())
        emit = events or _ignore
        stop = cancel or threading.Event()
        if job.kind is JobKind.VIDEO and self.segments > 1:
            from .fanout import run_segments  # the split and join: only for fan-out jobs

            return run_segments(self, job, emit, stop)
        started = time.perf_counter()
        seconds = video_seconds(job)
        tag = f"{uuid.uuid4().hex[:12]}-{Path(job.target.path or 'target').stem[:40]}"
        fmt = job.output.resolved_format(job.kind)
        staging = JobStaging(self.storage, tag) if self.storage is not None else None
        try:
            answer = self.submit_and_wait(job, staging, f"result.{fmt}", seconds, emit, stop)
            return self.save(answer, job, staging, f"result.{fmt}", started, emit, stop)
        finally:
            if staging is not None:
                staging.cleanup()

    def submit_and_wait(
        self,
        job: SwapJob,
        staging: JobStaging | None,
        result_name: str,
        seconds: float | None,
        emit: EventSink,
        stop: threading.Event,
        on_progress: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Upload what must be uploaded, send the job, wait for its answer (a dict)."""
        if staging is not None:
            emit(Progress("upload", 0, 1))
        outgoing = prepare(job, staging=staging, result_name=result_name, cancel=stop)
        if stop.is_set():
            raise JobCancelled("cancelled before the job was sent; nothing ran")
        emit(Progress("queue", 0, None))
        policy = {"executionTimeout": int(execution_timeout(seconds) * 1000)}

        def progress(update: Mapping[str, Any]) -> None:
            if on_progress is not None:
                on_progress(update)
            else:
                event = progress_event(update)
                if event is not None:
                    emit(event)

        answer = self.client.run(
            outgoing.input, policy=policy, progress=progress, cancel=stop, sync=outgoing.sync
        )
        if not isinstance(answer, dict) or not isinstance(answer.get("output"), dict):
            raise RemoteError(f"{self.label} answered something that is not a FaceDeck result")
        return answer

    def save(
        self,
        answer: dict[str, Any],
        job: SwapJob,
        staging: JobStaging | None,
        result_name: str,
        started: float,
        emit: EventSink,
        stop: threading.Event,
    ) -> JobResult:
        """Write the answer's result atomically to the job's output path, its marking checked."""
        assert job.output.path is not None
        emit(Progress("download", 0, 1))
        fetched = time.perf_counter()
        with AtomicOutput(job.output.path) as atomic:
            self.fetch_output(answer["output"], atomic.temp, staging, result_name, stop)
            if not is_marked_synthetic(atomic.temp):
                raise RemoteError(
                    f"the result from {self.label} is not marked as synthetic media; it was not saved "
                    "(is the endpoint running FaceDeck?)"
                )
        result = result_of(answer, job, time.perf_counter() - started)
        if result.frames is not None:  # the worker's last update may fall between two polls
            emit(Progress("frames", result.frames, result.frames))
        result.timings["download"] = time.perf_counter() - fetched
        for warning in result.warnings:
            emit(JobWarning("remote", warning))
        return result

    def fetch_output(
        self,
        output: Mapping[str, Any],
        dest: Path,
        staging: JobStaging | None,
        result_name: str,
        stop: threading.Event,
    ) -> None:
        """The result's bytes into ``dest``: inline base64, our own bucket slot, or a GET URL."""
        data = output.get("data")
        if isinstance(data, str):
            try:
                dest.write_bytes(base64.b64decode(data, validate=True))
            except (binascii.Error, ValueError):
                raise RemoteError(f"{self.label} answered a result that is not valid base64") from None
            return
        url = output.get("url")
        if not isinstance(url, str):
            raise RemoteError(f"{self.label} answered a result with neither data nor a URL")
        # our own slot answers as the object's location without the query that signed the PUT;
        # read it with our credentials (the worker's own bucket answers a presigned GET instead)
        if staging is not None and "?" not in url:
            staging.fetch_result(result_name, dest)
        else:
            self.client.download(url, dest, cancel=stop)


def progress_event(update: Mapping[str, Any]) -> Progress | None:
    """A worker's progress update (docs/wire-format.md "Progress") as a core Progress event."""
    done = update.get("done")
    if not isinstance(done, int):
        return None
    total = update.get("total")
    fps = update.get("fps")
    eta = update.get("eta_seconds")
    return Progress(
        str(update.get("stage", "frames")),
        done,
        total if isinstance(total, int) else None,
        float(fps) if isinstance(fps, (int, float)) else 0.0,
        float(eta) if isinstance(eta, (int, float)) else None,
    )


def result_of(answer: Mapping[str, Any], job: SwapJob, seconds: float) -> JobResult:
    """The JobResult a local run would have given, from the worker's answer."""
    output = answer.get("output") or {}
    timings = answer.get("timings")
    warnings = answer.get("warnings")
    return JobResult(
        kind=job.kind.value,
        output_format=str(output.get("format", job.output.resolved_format(job.kind))),
        faces_found=int(answer.get("faces_found", 0)),
        faces_swapped=int(answer.get("faces_swapped", 0)),
        seconds=seconds,
        provider=f"{answer.get('provider', '?')} (remote)",
        output_path=job.output.path,
        frames=answer.get("frames") if isinstance(answer.get("frames"), int) else None,
        frames_with_swaps=(
            answer.get("frames_with_swaps") if isinstance(answer.get("frames_with_swaps"), int) else None
        ),
        encoder=answer.get("encoder") if isinstance(answer.get("encoder"), str) else None,
        timings={f"remote_{key}": float(value) for key, value in timings.items()}
        if isinstance(timings, dict)
        else {},
        warnings=[str(item) for item in warnings] if isinstance(warnings, list) else [],
    )
