"""Engine work off the GUI thread: the preview and face-scan workers and the job worker.

The job worker runs whatever runner it is given, local (``run_job`` on the window's
ModelLibrary) or remote (a RemoteRunner's ``run``): both take the same job, events and
cancel event and give the same JobResult.

Each worker is a QThread whose ``run`` does the engine work and emits typed signals; the
receivers are slots of QObjects living on the GUI thread, so Qt queues the calls there
(DESIGN.md section 10: never a bare lambda). Arrays cross the thread boundary as they
are; QImage is made on the GUI thread. Every thread is stopped with a threading.Event
and joined with ``wait()`` before its owner goes (no "Destroyed while thread is still
running").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QThread, Signal

from ...core.errors import FaceDeckError, JobCancelled
from ...core.jobs.events import EventSink, JobEvent, Progress
from ...core.jobs.result import JobResult
from ...core.jobs.runner import run_job
from ...core.jobs.spec import SwapJob
from ...core.models.library import ModelLibrary
from ..errors import cli_message
from ..preview import (
    OutputFrameRequest,
    PreviewRequest,
    SourceFacesRequest,
    TargetFrames,
    compute_output_frame,
    compute_preview,
    compute_source_faces,
)

if TYPE_CHECKING:
    from ...remote.remote_run import RemoteRunner

log = logging.getLogger(__name__)

# runs one job: (job, events, cancel) -> result, the same for a local and a remote run
JobRunner = Callable[[SwapJob, EventSink, threading.Event], JobResult]

PROGRESS_INTERVAL = 0.1  # seconds between progress signals of a job


class MailboxThread(QThread):
    """A thread that serves only the newest request: a one-slot mailbox, never a queue.

    A request posted while another is being computed replaces any request still waiting;
    a result whose request was overtaken is dropped instead of emitted.
    """

    failed = Signal(int, str)  # serial, one-line message

    def __init__(self, library: ModelLibrary, parent: Any = None) -> None:
        super().__init__(parent)
        self.library = library
        self._wake = threading.Condition()
        self._waiting: Any = None
        self._latest = 0
        self._stop = False
        self.computed = 0  # requests computed (stale ones skipped never count): for tests
        self.dropped = 0  # results dropped because a newer request came in

    def submit(self, request: Any) -> None:
        with self._wake:
            self._waiting = request
            self._latest = request.serial
            self._wake.notify()

    def stop(self) -> None:
        """Ask the loop to end (after the request in progress) and wait for it."""
        with self._wake:
            self._stop = True
            self._wake.notify()
        self.quit()
        self.wait()

    def run(self) -> None:
        while True:
            with self._wake:
                while self._waiting is None and not self._stop:
                    self._wake.wait()
                if self._stop:
                    return
                request, self._waiting = self._waiting, None
            result = self._compute_safely(request)
            self.computed += 1
            with self._wake:
                stale = request.serial != self._latest
            if stale:
                self.dropped += 1
                continue
            if result is not None:
                self.deliver(result)

    def _compute_safely(self, request: Any) -> Any:
        try:
            return self.compute(request)
        except Exception as error:  # noqa: BLE001 - the worker's boundary: logged and shown, never a dead thread
            log.exception("%s failed", type(self).__name__)
            self.failed.emit(request.serial, f"internal error: {type(error).__name__}: {error}")
            return None

    def compute(self, request: Any) -> Any:  # pragma: no cover - subclasses
        raise NotImplementedError

    def deliver(self, result: Any) -> None:  # pragma: no cover - subclasses
        raise NotImplementedError


class PreviewWorker(MailboxThread):
    """Swapped previews of the image target or of the video frame shown."""

    ready = Signal(object)  # PreviewResult

    def __init__(self, library: ModelLibrary, parent: Any = None) -> None:
        super().__init__(library, parent)
        self._frames = TargetFrames()

    def compute(self, request: PreviewRequest) -> Any:
        return compute_preview(self.library, request, self._frames)

    def deliver(self, result: Any) -> None:
        self.ready.emit(result)


class SourceFacesWorker(MailboxThread):
    """The faces of a source photo as crops, for the face picker."""

    ready = Signal(object)  # SourceFacesResult

    def compute(self, request: SourceFacesRequest) -> Any:
        return compute_source_faces(self.library, request)

    def deliver(self, result: Any) -> None:
        self.ready.emit(result)


class OutputFrameWorker(MailboxThread):
    """A finished result decoded for the preview: a long video's seek stays off the GUI thread."""

    ready = Signal(object)  # OutputFrame

    def compute(self, request: OutputFrameRequest) -> Any:
        return compute_output_frame(request)

    def deliver(self, result: Any) -> None:
        self.ready.emit(result)


def local_runner(library: ModelLibrary) -> JobRunner:
    """``run_job`` on this computer, with the window's models."""

    def run(job: SwapJob, events: EventSink, cancel: threading.Event) -> JobResult:
        return run_job(library, job, events=events, cancel=cancel)

    return run


def remote_runner(runner: RemoteRunner) -> JobRunner:
    """The job on the runner's endpoint; its client's connections are closed when it ends
    (one runner per job)."""

    def run(job: SwapJob, events: EventSink, cancel: threading.Event) -> JobResult:
        try:
            return runner.run(job, events=events, cancel=cancel)
        finally:
            runner.client.close()

    return run


class JobWorker(QThread):
    """Runs one job with its runner; Progress events out, a threading.Event to cancel."""

    progress = Signal(object)  # core.jobs.events.Progress
    succeeded = Signal(object)  # core.jobs.result.JobResult
    failed = Signal(str)  # the CLI's one-line message
    cancelled = Signal()

    def __init__(self, runner: JobRunner, job: SwapJob, parent: Any = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.job = job
        self.cancel_event = threading.Event()
        self._last_progress = 0.0
        self._last_stage = ""

    def cancel(self) -> None:
        self.cancel_event.set()

    def stop(self) -> None:
        """Cancel and join: run_job stops a video within a frame and leaves no output; a remote
        run cancels the remote job within a poll."""
        self.cancel_event.set()
        self.quit()
        self.wait()

    def _event(self, event: JobEvent) -> None:
        if not isinstance(event, Progress):
            return
        # a fast video reports every frame: a few updates a second keep the GUI queue short
        # (a new stage always shows: a remote run's upload and queue come a moment apart)
        now = time.monotonic()
        last = event.total is not None and event.done >= event.total
        if last or event.stage != self._last_stage or now - self._last_progress >= PROGRESS_INTERVAL:
            self._last_progress = now
            self._last_stage = event.stage
            self.progress.emit(event)

    def run(self) -> None:
        try:
            result = self.runner(self.job, self._event, self.cancel_event)
        except JobCancelled:
            self.cancelled.emit()
        except FaceDeckError as error:
            self.failed.emit(cli_message(error))
        except Exception as error:  # noqa: BLE001 - the job thread's boundary: logged and shown
            log.exception("job failed")
            self.failed.emit(f"internal error: {type(error).__name__}: {error}")
        else:
            self.succeeded.emit(result)
