"""Live mode's threads besides the loop's own: starting and watching it, rebuilding the
session after an edit, and finding the cameras.

Each is a QThread whose signals reach slots of the GUI-thread LiveController, so Qt
queues them there (DESIGN.md section 10). Building a session (reading photos, embedding
faces), opening a camera (seconds on some platforms) and probing camera indices with
OpenCV all take long enough to freeze the window, so none of them runs on the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QThread, Signal

from ...core.errors import FaceDeckError
from ...core.faces.options import SwapOptions
from ...core.faces.session import SwapSession
from ...core.jobs.assignment import build_session
from ...core.jobs.inputs import JobInputs
from ...core.jobs.spec import FaceAssignment, TrackerOptions
from ...core.jobs.stream import FrameStream
from ...core.live.loop import LiveLoop
from ...core.live.sources import list_cameras, open_source
from ...core.live.types import FrameSink, LiveStats
from ...core.models.library import ModelLibrary
from ...core.tracking.tracker import TrackerSettings
from ..errors import cli_message
from ..job_document import LiveSetup
from .workers import MailboxThread

log = logging.getLogger(__name__)


def make_session(library: ModelLibrary, faces: FaceAssignment, options: SwapOptions) -> SwapSession:
    """The session a job with these faces and options would swap with (as the preview builds it)."""
    library.require(options.required_roles())
    with JobInputs() as inputs:
        return build_session(library, faces, options, inputs)


@dataclass(frozen=True)
class LiveRequest:
    """Everything a start needs, taken from the document on the GUI thread."""

    faces: FaceAssignment
    options: SwapOptions
    tracker: TrackerOptions
    setup: LiveSetup


class LiveWorker(QThread):
    """Builds the session, opens the source, starts the loop, then waits for it to end.

    ``live`` comes once the loop runs; ``ended`` when it ends, by itself (its reason) or by
    ``stop`` (empty); ``failed`` instead of both when it could not start. ``stop`` may be
    called at any moment from the GUI thread: during the start it waits for the source to
    open, then stops the loop, so nothing is left open.
    """

    # each carries the worker's ``generation``: a signal still queued from the previous
    # start must not be taken for the current one's
    live = Signal(int, object)  # SourceInfo
    ended = Signal(int, str)  # why the loop ended by itself; empty when stopped
    failed = Signal(int, str)  # one line: why it could not start

    def __init__(
        self,
        library: ModelLibrary,
        request: LiveRequest,
        sink: FrameSink,
        on_stats: Callable[[LiveStats], None],
        generation: int = 0,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.generation = generation
        self.library = library
        self.request = request
        self.sink = sink
        self.on_stats = on_stats
        self.loop: LiveLoop | None = None
        self._lock = threading.Lock()  # held while the loop starts: stop() waits for it
        self._stopped = False

    def stop(self) -> None:
        """Stop the loop (joining its threads and sinks), then this thread."""
        with self._lock:
            self._stopped = True
            loop = self.loop
        if loop is not None:
            loop.stop()
        self.wait()

    def run(self) -> None:
        try:
            loop = self._start()
        except FaceDeckError as error:
            self.failed.emit(self.generation, cli_message(error))
            return
        except Exception as error:  # noqa: BLE001 - the thread's boundary: logged and shown
            log.exception("live mode failed to start")
            self.failed.emit(self.generation, f"internal error: {type(error).__name__}: {error}")
            return
        if loop is None:
            return  # stopped before it started: nothing was opened
        loop.wait()
        self.ended.emit(self.generation, loop.ended_reason or "")

    def _start(self) -> LiveLoop | None:
        request, setup = self.request, self.request.setup
        session = make_session(self.library, request.faces, request.options)
        tracker = TrackerSettings(
            detect_every=request.tracker.detect_every, smoothing=request.tracker.smoothing
        )
        with self._lock:
            if self._stopped:
                return None
            source = open_source(
                setup.source,
                width=setup.width,
                height=setup.height,
                fps=setup.fps,
                mirror=setup.mirror,
                loop=setup.repeat,
            )
            loop = LiveLoop(source, FrameStream(session, tracker), [self.sink], on_stats=self.on_stats)
            info = loop.start()  # opens the source; on a LiveError nothing is left open
            self.loop = loop
        self.live.emit(self.generation, info)
        return loop


@dataclass(frozen=True)
class SessionRequest:
    serial: int
    faces: FaceAssignment
    options: SwapOptions


@dataclass(frozen=True)
class SessionResult:
    serial: int
    session: SwapSession | None
    error: str | None = None


class SessionWorker(MailboxThread):
    """Sessions for edits made while live; only the newest edit's session is delivered."""

    ready = Signal(object)  # SessionResult

    def compute(self, request: SessionRequest) -> SessionResult:
        try:
            return SessionResult(request.serial, make_session(self.library, request.faces, request.options))
        except FaceDeckError as error:
            return SessionResult(request.serial, None, cli_message(error))

    def deliver(self, result: Any) -> None:
        self.ready.emit(result)


class CameraListWorker(QThread):
    """``list_cameras()`` off the GUI thread: probing indices with OpenCV can take seconds."""

    found = Signal(object)  # list[CameraInfo]
    failed = Signal(str)

    def run(self) -> None:
        try:
            cameras = list_cameras()
        except FaceDeckError as error:
            self.failed.emit(cli_message(error))
        except Exception as error:  # noqa: BLE001 - the thread's boundary: logged and shown
            log.exception("listing the cameras failed")
            self.failed.emit(f"internal error: {type(error).__name__}: {error}")
        else:
            self.found.emit(cameras)
