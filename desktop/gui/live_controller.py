"""Live mode on the GUI thread: starts and stops a core LiveLoop and shows what it gives.

The loop's frames come through a one-slot WindowSink (live_sink.py) and its figures
through ``on_stats``; both are called on the loop's threads and reach this object's
slots as queued signals, so every widget is touched on the GUI thread only, and the
arrays become pixmaps there (preview_panel.py). An edit to the document while live (the
source face, the selection, the enhancer, the mouth mask) builds a new session on a
worker and hands it to ``loop.use``: the frames after it use it. Recording and the
virtual camera are sinks added to and removed from the running loop.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QThread, Signal, Slot

from ...core.errors import FaceDeckError, UsageError
from ...core.live.recording import RecordingSink
from ...core.live.sources import CameraInfo
from ...core.live.types import FrameSink, LiveError, LiveStats, SourceInfo
from ...core.live.virtual_camera import VirtualCameraSink
from ...core.models.library import ModelLibrary
from ..errors import cli_message
from ..job_document import OPTIONS, SELECTION, SOURCES, TARGET, JobDocument
from .live_sink import WindowSink
from .live_workers import (
    CameraListWorker,
    LiveRequest,
    LiveWorker,
    SessionRequest,
    SessionResult,
    SessionWorker,
)

log = logging.getLogger(__name__)

STOPPED, STARTING, LIVE = "stopped", "starting", "live"
# edits after which the frames need another session (a new target matters for reference mode)
REBUILD_ON = frozenset({SOURCES, SELECTION, OPTIONS, TARGET})


def recording_name(now: float | None = None) -> str:
    return time.strftime("facedeck-live-%Y%m%d-%H%M%S.mp4", time.localtime(now))


def recording_path(folder: str | None) -> Path:
    """A new recording's path: in ``folder`` (None: the Videos folder, made if missing), a free name."""
    if folder is None:
        where = Path(default_record_folder())
        where.mkdir(parents=True, exist_ok=True)  # a fresh account may have no Videos folder yet
    else:
        where = Path(folder)
    name = recording_name()
    path, number = where / name, 1
    while path.exists():  # two recordings in one second
        number += 1
        path = where / f"{name[: -len('.mp4')]}-{number}.mp4"
    return path


def default_record_folder() -> str:
    """The user's Videos folder (their home where the platform names none)."""
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation)
    return folder or str(Path.home())


def qt_cameras() -> list[CameraInfo] | None:
    """The cameras as QtMultimedia names them, or None where it is not installed.

    PySide6-Essentials has no QtMultimedia (it comes with the much bigger Addons), so this
    is a bonus for those who have it; ``list_cameras`` serves everyone else.
    """
    try:
        from PySide6.QtMultimedia import QMediaDevices  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    cameras = []
    for index, device in enumerate(QMediaDevices.videoInputs()):
        ident = bytes(device.id().data()).decode(errors="replace")
        # on Linux the id is the device node, which open_source takes as it is; elsewhere
        # the backends list cameras in the order OpenCV numbers them
        path = ident if ident.startswith("/dev/") else None
        cameras.append(CameraInfo(index, device.description() or f"Camera {index}", path))
    return cameras


class LiveController(QObject):
    """Owns the live loop, its start/watch worker, the session and camera-list workers."""

    stateChanged = Signal(str)  # STOPPED, STARTING or LIVE
    started = Signal(object)  # SourceInfo
    stopped = Signal(str)  # why, one line; empty when the user stopped it
    frame = Signal(object)  # LiveFrame, on the GUI thread, newest only
    statsChanged = Signal(object)  # LiveStats
    camerasFound = Signal(object)  # list[CameraInfo]
    recordingChanged = Signal(bool, str)  # recording?, a one-line note (the file saved)
    virtualCameraChanged = Signal(bool)
    error = Signal(str)
    _statsArrived = Signal(object)  # from the loop's thread to _stats

    def __init__(self, document: JobDocument, library: ModelLibrary, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.library = library
        self.state = STOPPED
        self.info: SourceInfo | None = None
        self.sink = WindowSink(self)
        self.sink.frameWaiting.connect(self._frame_waiting)
        self._statsArrived.connect(self._stats)
        self.worker: LiveWorker | None = None  # kept: a running QThread must not be collected
        # the threads are the controller's children: destroyed with the window on the GUI
        # thread, never by a garbage collection that happens to run on another thread
        self.session_worker = SessionWorker(library, self)
        self.session_worker.ready.connect(self._session_ready)
        self.session_worker.failed.connect(self._session_failed)
        self.session_worker.start()
        self.camera_worker: CameraListWorker | None = None
        self.recorder: FrameSink | None = None
        self.recording_path: str | None = None
        self.virtual_camera: FrameSink | None = None
        self.want_recording = False  # the toggles' states: applied once the loop runs
        self.want_virtual_camera = False
        self.shown = 0  # frames handed to the view
        self.sessions_used = 0  # sessions switched to while live
        self._serial = 0
        self._generation = 0  # starts so far: tells the current worker's signals from older ones
        self._stale_session = False  # an edit came while starting: rebuild once live
        document.subscribe(self._document_changed)

    def threads(self) -> list[QThread]:
        """Every QThread this controller may have running (for the tests' leak check)."""
        found: list[QThread] = [self.session_worker]
        found += [thread for thread in (self.worker, self.camera_worker) if thread is not None]
        return found

    def _set_state(self, state: str) -> None:
        self.state = state
        self.stateChanged.emit(state)

    # ----- start and stop ---------------------------------------------------------------------
    @Slot()
    def start(self) -> None:
        if self.state != STOPPED:
            return
        document = self.document
        try:
            faces = document.live_faces()
        except UsageError as error:
            self.error.emit(cli_message(error))
            return
        self._forget_worker()
        request = LiveRequest(faces, document.options, document.tracker, document.live)
        self._generation += 1
        worker = LiveWorker(self.library, request, self.sink, self._statsArrived.emit, self._generation, self)
        worker.live.connect(self._live)
        worker.ended.connect(self._ended)
        worker.failed.connect(self._failed)
        self.worker = worker
        self._stale_session = False
        self.sink.take()  # a frame left from the last run is not this one's
        self._set_state(STARTING)
        worker.start()

    @Slot()
    def stop(self) -> None:
        """Stop capture, finish the sinks (a recording is saved) and join every live thread."""
        if self.state == STOPPED:
            return
        saved = self._finish_sinks()
        if self.worker is not None:
            self.worker.stop()
        self._stopped("", saved)

    def _stopped(self, reason: str, saved: str | None) -> None:
        self.info = None
        self.recorder = self.virtual_camera = None
        self._set_state(STOPPED)
        self.stopped.emit(reason)
        if saved:  # after "stopped": the file's name is the news worth showing last
            # the toggle keeps the user's choice: checked, the next start records again
            self.recordingChanged.emit(self.want_recording, self.tr("Recording saved: {0}").format(saved))

    def _finish_sinks(self) -> str | None:
        """Remove the recording and virtual camera from the loop; the file saved, if any."""
        loop = self.worker.loop if self.worker is not None else None
        saved = None
        for sink in (self.recorder, self.virtual_camera):
            if sink is not None and loop is not None:
                try:
                    loop.remove_sink(sink)
                except LiveError as error:
                    self.error.emit(cli_message(error))
                    continue
                if sink is self.recorder:
                    saved = self.recording_path
        self.recorder = self.virtual_camera = None
        return saved

    @Slot(int, object)
    def _live(self, generation: int, info: SourceInfo) -> None:
        if self.state != STARTING or generation != self._generation:
            return
        self.info = info
        self._set_state(LIVE)
        self.started.emit(info)
        if self._stale_session:
            self._rebuild()
        if self.want_recording:
            self.set_recording(True)
        if self.want_virtual_camera:
            self.set_virtual_camera(True)

    @Slot(int, str)
    def _ended(self, generation: int, reason: str) -> None:
        if self.state == STOPPED or generation != self._generation:
            return  # stop() ended it and has said so
        # the loop ended by itself and has stopped its sinks: the recording is in place
        saved = self.recording_path if self.recorder is not None else None
        if self.worker is not None:
            self.worker.stop()
        if reason:
            self.error.emit(reason)
        self._stopped(reason or self.tr("The source ended"), saved)

    @Slot(int, str)
    def _failed(self, generation: int, message: str) -> None:
        if generation != self._generation or self.state == STOPPED:
            return  # an older start's, or stopped by the user while starting: nothing to say
        if self.worker is not None:
            self.worker.wait()
        self.error.emit(message)
        self._stopped(message, None)

    def _forget_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker.deleteLater()
            self.worker = None

    # ----- frames and figures -----------------------------------------------------------------
    @Slot()
    def _frame_waiting(self) -> None:
        frame = self.sink.take()
        # the first frames may come before the worker's "live" signal: they are shown too
        if frame is None or self.state == STOPPED:
            return  # taken already, or a frame left over from a run that was stopped
        self.shown += 1
        self.frame.emit(frame)

    @Slot(object)
    def _stats(self, stats: LiveStats) -> None:
        self.statsChanged.emit(stats)
        for name, why in stats.sink_errors.items():
            # the loop dropped a sink that failed while it ran: its toggle goes off
            if self.recorder is not None and name == _name(self.recorder):
                self.recorder, self.want_recording = None, False
                self.error.emit(why)
                self.recordingChanged.emit(False, why)
            if self.virtual_camera is not None and name == _name(self.virtual_camera):
                self.virtual_camera, self.want_virtual_camera = None, False
                self.error.emit(why)
                self.virtualCameraChanged.emit(False)

    def not_shown(self) -> int:
        """Frames the loop delivered that the window never showed (a newer one replaced them)."""
        return self.sink.not_shown

    # ----- edits while live -------------------------------------------------------------------
    def _document_changed(self, what: str) -> None:
        if what not in REBUILD_ON:
            return
        if self.state == STARTING:
            self._stale_session = True
        elif self.state == LIVE:
            self._rebuild()

    def _rebuild(self) -> None:
        try:
            faces = self.document.live_faces()
        except UsageError as error:
            self.error.emit(cli_message(error))  # the frames go on with the last session
            return
        self._serial += 1
        self.session_worker.submit(SessionRequest(self._serial, faces, self.document.options))

    @Slot(object)
    def _session_ready(self, result: SessionResult) -> None:
        if result.serial != self._serial or self.state != LIVE or self.worker is None:
            return
        if result.error is not None or result.session is None:
            self.error.emit(result.error or "")
            return
        assert self.worker.loop is not None  # LIVE: the loop runs
        self.worker.loop.use(result.session)
        self.sessions_used += 1

    @Slot(int, str)
    def _session_failed(self, _serial: int, message: str) -> None:
        self.error.emit(message)

    # ----- recording and the virtual camera -----------------------------------------------------
    def set_recording(self, on: bool) -> None:
        """Start or stop recording; while stopped, only remembered for the next start."""
        self.want_recording = on
        if self.state != LIVE or self.worker is None or self.worker.loop is None:
            return
        loop = self.worker.loop
        if on and self.recorder is None:
            try:
                path = str(recording_path(self.document.live.record_folder))
                source = self.document.live.source
                # a video played as the camera is never overwritten by its own recording
                sink = RecordingSink(path, inputs=[source] if Path(source).is_file() else [])
                loop.add_sink(sink)
            except FaceDeckError as error:
                self._recording_failed(cli_message(error))
                return
            except OSError as error:  # the Videos folder could not be made
                self._recording_failed(f"cannot record: {error.strerror or error}: {error.filename}")
                return
            self.recorder, self.recording_path = sink, path
            self.recordingChanged.emit(True, self.tr("Recording to {0}").format(path))
        elif not on and self.recorder is not None:
            sink, self.recorder = self.recorder, None
            try:
                loop.remove_sink(sink)  # finishes the file and renames it into place
            except LiveError as error:
                self.error.emit(cli_message(error))
                self.recordingChanged.emit(False, cli_message(error))
                return
            self.recordingChanged.emit(False, self.tr("Recording saved: {0}").format(self.recording_path))

    def _recording_failed(self, message: str) -> None:
        self.want_recording = False
        self.error.emit(message)
        self.recordingChanged.emit(False, message)

    def set_virtual_camera(self, on: bool) -> None:
        self.want_virtual_camera = on
        if self.state != LIVE or self.worker is None or self.worker.loop is None:
            return
        loop = self.worker.loop
        if on and self.virtual_camera is None:
            try:
                sink = VirtualCameraSink()
                loop.add_sink(sink)
            except FaceDeckError as error:
                self.want_virtual_camera = False
                self.error.emit(cli_message(error))
                self.virtualCameraChanged.emit(False)
                return
            self.virtual_camera = sink
            self.virtualCameraChanged.emit(True)
        elif not on and self.virtual_camera is not None:
            sink, self.virtual_camera = self.virtual_camera, None
            try:
                loop.remove_sink(sink)
            except LiveError as error:
                self.error.emit(cli_message(error))
            self.virtualCameraChanged.emit(False)

    # ----- cameras ------------------------------------------------------------------------------
    @Slot()
    def refresh_cameras(self) -> None:
        """Find the cameras: QtMultimedia's names where it is installed, else a worker probes."""
        cameras = qt_cameras()
        if cameras is not None:
            self.camerasFound.emit(cameras)
            return
        if self.camera_worker is not None and self.camera_worker.isRunning():
            return  # the answer is on its way
        if self.camera_worker is not None:
            self.camera_worker.wait()
            self.camera_worker.deleteLater()
        worker = CameraListWorker(self)
        worker.found.connect(self.camerasFound)
        worker.failed.connect(self.error)
        self.camera_worker = worker
        worker.start()

    # ----- the end ------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop live mode and join every thread (the window is closing)."""
        self.document.unsubscribe(self._document_changed)
        self.stop()
        self._forget_worker()
        self.session_worker.stop()
        if self.camera_worker is not None:
            self.camera_worker.wait()


def _name(sink: FrameSink) -> str:
    # as the loop names sinks in its stats: a ``name`` attribute, else the class's name
    name = getattr(sink, "name", None)
    return name if isinstance(name, str) and name else type(sink).__name__
