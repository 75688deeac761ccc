"""Controllers on the GUI thread: the preview follows the document, the job runs it.

They own the workers (and so the threads' lifetimes) and talk to views through signals;
both use the window's one ModelLibrary. The job runs where the window's RemoteChoice says:
here on that library, or on a remote endpoint with the keys from the SecretStore (the
preview always runs here).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from ...core.errors import FaceDeckError, UsageError
from ...core.jobs.result import JobResult
from ...core.jobs.spec import JobKind
from ...core.models.library import ModelLibrary
from ..errors import cli_message
from ..job_document import LIVE, OUTPUT, JobDocument
from ..preview import (
    OutputFrame,
    OutputFrameRequest,
    PreviewRequest,
    PreviewResult,
    SourceFacesRequest,
    SourceFacesResult,
)
from ..remote_choice import RemoteChoice
from ..secret_store import SecretStore
from .workers import (
    JobRunner,
    JobWorker,
    OutputFrameWorker,
    PreviewWorker,
    SourceFacesWorker,
    local_runner,
    remote_runner,
)

log = logging.getLogger(__name__)

DEBOUNCE_MS = 80  # a burst of edits (a spin box held down, typing) makes one preview


class PreviewController(QObject):
    """Asks for a new preview a moment after any change; shows only the newest answer."""

    previewReady = Signal(object)  # PreviewResult, never a stale one
    sourceFacesReady = Signal(object)  # SourceFacesResult
    outputReady = Signal(object)  # OutputFrame of a finished job, unless a preview came since
    error = Signal(str)

    def __init__(self, document: JobDocument, library: ModelLibrary, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.worker = PreviewWorker(library)
        self.faces_worker = SourceFacesWorker(library)
        self.output_worker = OutputFrameWorker(library)
        self.worker.ready.connect(self._ready)
        self.worker.failed.connect(self._failed)
        self.faces_worker.ready.connect(self._faces_ready)
        self.faces_worker.failed.connect(self._failed)
        self.output_worker.ready.connect(self._output_ready)
        self.output_worker.failed.connect(self._failed)
        self.worker.start()
        self.faces_worker.start()
        self.output_worker.start()
        self.serial = 0
        self.shown = 0  # serial of the preview on screen
        self.stale_dropped = 0  # answers that arrived after a newer request: not shown
        self._faces_serial = 0
        self._output_serial = 0
        self.outputs_dropped = 0  # finished results not shown: a newer preview was asked for
        self.paused = False  # live mode: the camera's frames are the preview
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self.request_now)
        document.subscribe(self._document_changed)

    def _document_changed(self, what: str) -> None:
        if what in (OUTPUT, LIVE) or self.paused:
            return  # where the result goes changes nothing on screen; live mode shows its own
        self.timer.start()  # restarts: the preview waits until edits pause

    def set_paused(self, paused: bool) -> None:
        """Paused, no preview is computed (live mode's frames would compete for the CPU);
        resumed, the preview of the current choices is asked for at once."""
        self.paused = paused
        self.timer.stop()
        if not paused:
            self.request_now()

    @Slot()
    def request_now(self) -> None:
        document = self.document
        if document.target is None or self.paused:
            return
        self.serial += 1
        self._output_serial += 1  # a finished result still decoding would cover this preview
        job = None
        if document.sources:
            try:
                job = document.job(output=False)
            except UsageError as error:
                self.error.emit(str(error))
        video = document.kind is JobKind.VIDEO
        self.worker.submit(
            PreviewRequest(self.serial, document.target, video, document.frame_time, document.options, job)
        )

    def scan_source(self, path: str) -> None:
        self._faces_serial += 1
        self.faces_worker.submit(SourceFacesRequest(self._faces_serial, path, self.document.options))

    def show_output(self, path: str, video: bool) -> None:
        """Decode a finished result off the GUI thread; ``outputReady`` brings it back."""
        self._output_serial += 1
        request = OutputFrameRequest(self._output_serial, path, video, self.document.frame_time)
        self.output_worker.submit(request)

    @Slot(object)
    def _output_ready(self, frame: OutputFrame) -> None:
        if frame.serial != self._output_serial:
            self.outputs_dropped += 1
            return  # the user moved on: the preview of the new choices is what counts
        if frame.error:
            self.error.emit(frame.error)
        else:
            self.outputReady.emit(frame)

    @Slot(object)
    def _ready(self, result: PreviewResult) -> None:
        if result.serial != self.serial or self.paused:
            self.stale_dropped += 1  # the worker finished it just before a newer request came
            return
        self.shown = result.serial
        self.previewReady.emit(result)
        if result.error:
            self.error.emit(result.error)

    @Slot(object)
    def _faces_ready(self, result: SourceFacesResult) -> None:
        if result.serial == self._faces_serial:
            self.sourceFacesReady.emit(result)

    @Slot(int, str)
    def _failed(self, _serial: int, message: str) -> None:
        self.error.emit(message)

    def shutdown(self) -> None:
        self.timer.stop()
        self.document.unsubscribe(self._document_changed)
        self.worker.stop()
        self.faces_worker.stop()
        self.output_worker.stop()


class JobController(QObject):
    """Runs the document's job on a JobWorker, where ``choice`` says; one job at a time."""

    started = Signal()
    progress = Signal(object)  # Progress
    finished = Signal(object, str)  # JobResult or None, a one-line outcome
    error = Signal(str)

    def __init__(
        self,
        document: JobDocument,
        library: ModelLibrary,
        secrets: SecretStore,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.library = library
        self.secrets = secrets
        self.choice = RemoteChoice()
        self.worker: JobWorker | None = None  # kept: a running QThread must not be collected

    def running(self) -> bool:
        return self.worker is not None and self.worker.isRunning()

    @Slot()
    def start(self) -> None:
        if self.running():
            return
        try:
            job = self.document.job()
        except UsageError as error:
            self.error.emit(str(error))
            return
        try:
            runner = self.job_runner()
        except FaceDeckError as error:  # no key, no endpoint: said before anything starts
            self.error.emit(cli_message(error))
            return
        self._forget_worker()
        worker = JobWorker(runner, job)
        worker.progress.connect(self.progress)
        worker.succeeded.connect(self._succeeded)
        worker.failed.connect(self._failed)
        worker.cancelled.connect(self._cancelled)
        self.worker = worker
        self.started.emit()
        worker.start()

    def job_runner(self) -> JobRunner:
        """This computer's run_job, or the chosen endpoint's RemoteRunner (built per job, so
        a key changed in the settings applies to the next Start)."""
        remote = self.choice.runner(self.secrets)
        return local_runner(self.library) if remote is None else remote_runner(remote)

    @Slot()
    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    @Slot(object)
    def _succeeded(self, result: JobResult) -> None:
        self._join()
        self.finished.emit(result, self.tr("Done: {0}").format(result.output_path))

    @Slot(str)
    def _failed(self, message: str) -> None:
        self._join()
        self.finished.emit(None, message)
        self.error.emit(message)

    @Slot()
    def _cancelled(self) -> None:
        self._join()
        self.finished.emit(None, self.tr("Cancelled; no output was written"))

    def _join(self) -> None:
        # the signal comes as run() returns: waiting here is short and makes isRunning() false
        if self.worker is not None:
            self.worker.wait()

    def _forget_worker(self) -> None:
        if self.worker is not None:
            self.worker.wait()
            self.worker.deleteLater()
            self.worker = None

    def shutdown(self) -> None:
        """Cancel a running job and join its thread (the job removes its partial output)."""
        if self.worker is not None:
            self.worker.stop()
            self._forget_worker()
