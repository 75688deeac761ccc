"""``RemoteHandler``: one engine answering RunPod-shaped jobs; the worker and the server share it.

A job is ``{"id": str, "input": ...}`` (docs/wire-format.md says what ``input`` holds). The
answer is always JSON-safe data: a result, a health report, or ``{"error": ..., "code":
...}``. A bad or failing job never raises and never harms the next one. The engine runs in
a thread (``asyncio.to_thread``) with a cancel event it checks every frame, so a cancelled
task stops the video within a frame, leaves nothing behind, and re-raises CancelledError.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.errors import FaceDeckError, InvalidJobError, JobCancelled, ModelMissingError
from ..core.faces.options import SwapOptions
from ..core.jobs.inputs import JobInputs
from ..core.jobs.result import JobResult
from ..core.jobs.runner import run_job
from ..core.jobs.spec import JobKind
from ..core.models.files import MODELS_DIR_ENV, RUNPOD_VOLUME_MODELS, resolve_models_dir
from ..core.models.library import ModelLibrary
from ..core.runtime.providers import select_provider
from ..core.runtime.report import describe_runtime
from . import answers
from .fetching import Fetcher, FetchSettings
from .health import health_answer
from .progress import DEFAULT_INTERVAL, ProgressRelay, ProgressSink
from .redact import protect_request_logs
from .storage import (
    UPLOAD_RETRY_DELAYS,
    BucketStorage,
    ResultStorage,
    StoredObject,
    UploadError,
    put_presigned,
)
from .wire import HealthRequest, WireJob, parse_request, prefixed

__all__ = ["DEFAULT_INLINE_MAX_BYTES", "ProgressSink", "RemoteHandler"]

log = logging.getLogger(__name__)

# RunPod keeps answers up to ~20 MB (larger ones vanish); base64 adds a third.
DEFAULT_INLINE_MAX_BYTES = 15 * 2**20
PROVIDER_ENV = "FACEDECK_PROVIDER"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class RemoteHandler:
    """One engine (one ModelLibrary) answering RunPod-shaped jobs; shared by the worker and the server."""

    def __init__(
        self,
        library: ModelLibrary,
        *,
        storage: ResultStorage | None = None,
        inline_max_bytes: int = DEFAULT_INLINE_MAX_BYTES,
        fetch: FetchSettings | None = None,
        upload_retry_delays: tuple[float, ...] = UPLOAD_RETRY_DELAYS,
        progress_interval: float = DEFAULT_INTERVAL,
    ) -> None:
        """``storage``: the worker's own bucket for large results (None: only a job's presigned
        URL); ``inline_max_bytes``: results up to this size are answered as base64;
        ``fetch``: retries and caps for inputs; the delays are short in tests."""
        self.library = library
        self.storage = storage
        self.inline_max_bytes = inline_max_bytes
        self.fetch = fetch or FetchSettings()
        self.upload_retry_delays = upload_retry_delays
        self.progress_interval = progress_interval
        self._runtime = describe_runtime()  # versions and providers do not change while running
        protect_request_logs()  # input and upload URLs may be presigned: their queries stay out of logs

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        provider: str | None = None,
        models_dir: str | os.PathLike[str] | None = None,
        device: int | None = None,
    ) -> RemoteHandler:
        """Models dir: ``models_dir``, else /runpod-volume/facedeck/models when it exists, else the
        model manager's usual resolution (FACEDECK_MODELS_DIR, the per-user folder); the result
        bucket from FACEDECK_S3_* and AWS_* (storage.py). Loads the models now when they are
        there; never raises for missing ones (each job then names them)."""
        env = os.environ if environ is None else environ
        if models_dir is not None:
            directory = resolve_models_dir(models_dir)
        elif RUNPOD_VOLUME_MODELS.is_dir():
            directory = RUNPOD_VOLUME_MODELS
        else:
            directory = resolve_models_dir(env.get(MODELS_DIR_ENV) or None)
        # ``device``: the GPU this engine runs on (a server gives each engine its own)
        selection = select_provider(provider or env.get(PROVIDER_ENV) or "auto").on_device(device)
        library = ModelLibrary(directory, selection)
        handler = cls(library, storage=BucketStorage.from_environment(env))
        handler.warm()
        return handler

    def warm(self) -> bool:
        """Load the models a plain swap needs, so the first job does not wait; False if any is missing."""
        roles = SwapOptions().required_roles()
        try:
            self.library.preload(roles)
        except ModelMissingError as error:
            log.warning("%s; jobs answer with this error until the files are there", error.message)
            return False
        except FaceDeckError as error:
            log.warning("models not loaded: %s", error.message)
            return False
        log.info("models loaded from %s on %s", self.library.directory, self.library.provider.name)
        return True

    def health(self) -> dict[str, Any]:
        return health_answer(self.library, self._runtime)

    async def handle(self, job: Mapping[str, Any], progress: ProgressSink | None = None) -> dict[str, Any]:
        """job = {"id": str, "input": Any} (RunPod's shape). Returns JSON-safe output: a result, a
        health answer, or {"error": "<one sentence>", ...}. Never raises for a bad or failing job.

        Cancelling the awaiting task sets the engine's cancel event, waits for the engine
        thread to stop (within a frame), removes partial outputs, then re-raises
        CancelledError. ``progress`` is called on the event loop's thread.
        """
        started = time.perf_counter()
        cancel = threading.Event()
        relay = None
        if progress is not None:
            relay = ProgressRelay(progress, asyncio.get_running_loop(), self.progress_interval)
        # parsing too runs off the event loop: decoding a large base64 medium takes a while
        work = asyncio.ensure_future(asyncio.to_thread(self._answer, job, cancel, relay, started))
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            cancel.set()
            log.info("job %s cancelled; waiting for the engine to stop", _job_id(job))
            await _finish(work)
            raise

    # ----- the job's thread -------------------------------------------------------------
    def _answer(
        self, job: Mapping[str, Any], cancel: threading.Event, relay: ProgressRelay | None, started: float
    ) -> dict[str, Any]:
        job_id = _job_id(job)
        try:
            request = parse_request(
                job.get("input") if isinstance(job, Mapping) else None,
                inline_cap=self.fetch.inline_bytes,
                inline_ceiling=self.inline_max_bytes,
            )
        except InvalidJobError as error:
            log.info("job %s refused: %s", job_id, error.message)
            return answers.failure(error)
        if isinstance(request, HealthRequest):
            return self.health()
        return self._run(request, job_id, cancel, relay, started)

    def _run(
        self,
        request: WireJob,
        job_id: str,
        cancel: threading.Event,
        relay: ProgressRelay | None,
        started: float,
    ) -> dict[str, Any]:
        """Run one job to its answer; everything it wrote goes with its folder."""
        try:
            with tempfile.TemporaryDirectory(prefix="facedeck-remote-") as folder:
                return self._run_in(Path(folder), request, job_id, cancel, relay, started)
        except JobCancelled:
            if cancel.is_set():
                raise  # the awaiting task was cancelled: handle() re-raises CancelledError
            return answers.failure(JobCancelled("the job was cancelled"))
        except InvalidJobError as error:
            return answers.failure(prefixed(error, "job."))
        except FaceDeckError as error:
            log.info("job %s failed: %s", job_id, error.message)
            return answers.failure(error)
        except Exception:  # noqa: BLE001 - the job boundary: one bad job must not take the worker down
            log.exception("job %s failed unexpectedly", job_id)
            return answers.internal_failure()

    def _run_in(
        self,
        folder: Path,
        request: WireJob,
        job_id: str,
        cancel: threading.Event,
        relay: ProgressRelay | None,
        started: float,
    ) -> dict[str, Any]:
        job = request.job
        # cheap file checks on every job: models that appeared since start-up are used now
        self.library.require(job.options.required_roles())
        if job.options.swapper_file is not None:
            self.library.require_swapper(job.options.swapper_file)
        video = job.kind is JobKind.VIDEO
        if video and request.result.upload_url is None and self.storage is None:
            raise UploadError(
                "a video result is too large to answer inline: give result.upload_url "
                "(a presigned PUT URL) or set up the worker's bucket (FACEDECK_S3_BUCKET)"
            )
        timings: dict[str, float] = {}
        mark = time.perf_counter()
        settings = self.fetch
        with JobInputs(
            retry_delays=settings.retry_delays,
            image_cap=settings.image_bytes,
            video_cap=settings.video_bytes,
            cancel=cancel,
        ) as inputs:
            job = Fetcher(inputs, folder).localise(job)
        timings["fetch"] = time.perf_counter() - mark
        fmt = job.output.resolved_format(job.kind)
        result_path = folder / f"result.{fmt}"
        if video:  # written to a file of ours, then uploaded from it
            job = dataclasses.replace(job, output=dataclasses.replace(job.output, path=str(result_path)))
        mark = time.perf_counter()
        result = run_job(self.library, job, events=relay, cancel=cancel)
        timings["engine"] = time.perf_counter() - mark
        mark = time.perf_counter()
        output = self._deliver(result, result_path, request, job_id, cancel)
        timings["upload"] = time.perf_counter() - mark
        timings["total"] = time.perf_counter() - started
        return answers.success(result, output, timings)

    def _deliver(
        self, result: JobResult, path: Path, request: WireJob, job_id: str, cancel: threading.Event
    ) -> dict[str, Any]:
        """The answer's ``output``: inline when small enough, else uploaded."""
        fmt = result.output_format
        limit = request.result.inline_max_bytes
        limit = self.inline_max_bytes if limit is None else limit
        if result.output_data is not None:
            if len(result.output_data) <= limit:
                return answers.inline_output(fmt, result.output_data)
            path.write_bytes(result.output_data)
        size = path.stat().st_size
        options = request.result
        if options.upload_url is None and self.storage is None:
            raise UploadError(
                f"the result ({answers.size_text(size)}) is over the inline limit of "
                f"{answers.size_text(limit)}: give result.upload_url or set up the worker's bucket "
                "(FACEDECK_S3_BUCKET)"
            )
        if cancel.is_set():
            raise JobCancelled("cancelled before the result was uploaded; nothing was stored")
        stored: StoredObject
        if options.upload_url is not None:
            stored = put_presigned(
                options.upload_url,
                path,
                headers=options.upload_headers,
                retry_delays=self.upload_retry_delays,
                cancel=cancel,
            )
        else:
            assert self.storage is not None
            stored = self.storage.store(path, name=_object_name(job_id, fmt))
            if cancel.is_set() and stored.key is not None:
                self.storage.remove(stored.key)  # cancelled meanwhile: leave nothing behind
                raise JobCancelled("cancelled while the result was uploaded; it was removed")
        return stored.describe(fmt)


def _job_id(job: Any) -> str:
    return str(job.get("id", "")) if isinstance(job, Mapping) else ""


def _object_name(job_id: str, fmt: str) -> str:
    """A bucket key's last part: the job's id (made safe) and the time, so reruns never collide."""
    safe = _UNSAFE.sub("_", job_id)[:80] or "job"
    return f"{safe}-{time.strftime('%Y%m%dT%H%M%S')}.{fmt}"


async def _finish(work: asyncio.Future[Any]) -> None:
    """Wait for the engine thread to end, however often the waiting task is cancelled meanwhile."""
    while not work.done():
        try:
            await asyncio.shield(work)
        except asyncio.CancelledError:
            continue
        except BaseException:  # noqa: BLE001 - its outcome no longer matters: the job was cancelled
            return
    if not work.cancelled():
        work.exception()  # retrieved, so asyncio never warns it went unread
