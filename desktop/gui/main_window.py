"""The main window: composes the panels around one JobDocument and one ModelLibrary.

It wires views to controllers and owns nothing else: the document holds the job, the
controllers own the worker threads, the panels show and edit the document. Where jobs run
(this computer or a remote endpoint) is the RunOnController's; the keys are in the
window's SecretStore.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...core.faces.options import SwapOptions
from ...core.jobs.result import JobResult
from ...core.jobs.spec import JobKind
from ...core.live.types import LiveStats
from ...core.models.files import missing_roles
from ...core.models.library import ModelLibrary
from ..job_document import TARGET, JobDocument
from ..preview import OutputFrame, PreviewResult
from ..secret_store import SecretStore
from .controllers import JobController, PreviewController
from .live_controller import STOPPED, LiveController
from .live_panel import CameraPanel, LivePanel
from .log_panel import ErrorLine, LogPanel
from .mapping_panel import MappingPanel
from .menus import MenuTargets, WindowMenus
from .models_dialog import ModelsDialog
from .options_panel import OptionsPanel
from .preview_panel import PreviewPanel
from .pyside_refs import pin_singletons
from .run_on import RunOnController
from .run_panel import RunPanel
from .sources_panel import SourcesPanel
from .target_panel import CAMERA, TargetPanel

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    def __init__(
        self,
        library: ModelLibrary,
        providers: list[str],
        document: JobDocument | None = None,
        parent: QWidget | None = None,
        secrets: SecretStore | None = None,
    ) -> None:
        super().__init__(parent)
        # before any of the window's signals: live mode emits a few per frame (pyside_refs.py)
        pin_singletons()
        self.setWindowTitle(self.tr("FaceDeck"))
        self.library = library
        self.document = document or JobDocument()
        self.preview = PreviewController(self.document, library, self)
        self.secrets = secrets or SecretStore()
        self.jobs = JobController(self.document, library, self.secrets, self)
        self.sources_panel = SourcesPanel(self.document)
        self.target_panel = TargetPanel(self.document)
        self.mapping_panel = MappingPanel(self.document)
        self.preview_panel = PreviewPanel()
        self.options_panel = OptionsPanel(
            self.document, providers, library.provider.name, models_dir=library.directory
        )
        self.run_panel = RunPanel(self.document)
        self.live = LiveController(self.document, library, self)
        self.camera_panel = CameraPanel(self.document)
        self.live_panel = LivePanel(self.document)
        self._cameras_listed = False
        self.models_note = QLabel()
        self.models_note.setWordWrap(True)
        self.models_button = QPushButton(self.tr("Models\u2026"))
        self.provider_label = QLabel(self.tr("Provider: {0}").format(library.provider.name))
        self.models_label = QLabel()
        self.error_line = ErrorLine()
        self.error_label = self.error_line.label
        self.log_panel = LogPanel(self)
        self.run_on = RunOnController(
            self.target_panel, self.jobs, self.provider_label, library.provider.name, self
        )
        self.last_error = ""
        self._build()
        self._connect()
        self.refresh_models()
        self.resize(1280, 800)

    def _build(self) -> None:
        left = QWidget()
        column = QVBoxLayout(left)
        for panel in (self.target_panel, self.sources_panel, self.mapping_panel):
            column.addWidget(panel)
        column.addStretch()
        options = QScrollArea()
        options.setWidget(self.options_panel)
        options.setWidgetResizable(True)
        options.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        options.setMinimumWidth(self.options_panel.sizeHint().width() + 24)
        centre = QWidget()
        middle = QVBoxLayout(centre)
        banner = QHBoxLayout()
        banner.addWidget(self.models_note, 1)
        banner.addWidget(self.models_button)
        self.banner = QWidget()
        self.banner.setLayout(banner)
        middle.addWidget(self.banner)
        middle.addWidget(self.preview_panel, 1)
        middle.addWidget(self.run_panel)
        middle.addWidget(self.live_panel)
        self.live_panel.hide()
        self.target_panel.add_camera_panel(self.camera_panel)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(options)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([330, 700, 250])
        self.setCentralWidget(self.splitter)
        status = self.statusBar()
        status.addWidget(self.provider_label)
        status.addWidget(self.models_label)
        status.addWidget(self.error_line, 1)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_panel)
        self.log_panel.hide()
        targets = MenuTargets(
            self.target_panel,
            self.sources_panel,
            self.run_panel,
            self.preview_panel,
            self.log_panel.toggleViewAction(),
            self.live_panel,
        )
        self.menus = WindowMenus(self.menuBar(), targets, self)

    def _connect(self) -> None:
        self.sources_panel.facesWanted.connect(self.preview.scan_source)
        self.preview.sourceFacesReady.connect(self.sources_panel.show_faces)
        self.preview.previewReady.connect(self._preview_ready)
        self.preview.outputReady.connect(self._output_ready)
        self.preview.error.connect(self.show_error)
        self.preview_panel.faceClicked.connect(self._face_clicked)
        self.preview_panel.timeRequested.connect(self._time_requested)
        self.run_panel.startRequested.connect(self.jobs.start)
        self.run_panel.cancelRequested.connect(self.jobs.cancel)
        self.jobs.started.connect(self._job_started)
        self.jobs.progress.connect(self.run_panel.show_progress)
        self.jobs.finished.connect(self._job_finished)
        self.jobs.error.connect(self.show_error)
        self._connect_live()
        self.models_button.clicked.connect(self.open_models_dialog)
        self.menus.modelsRequested.connect(self.open_models_dialog)
        self.menus.quitRequested.connect(self.close)  # the running-job question still applies
        self.error_line.detailsRequested.connect(self.log_panel.show_panel)
        self.document.subscribe(self._document_changed)

    def _connect_live(self) -> None:
        live = self.live
        self.target_panel.kindChanged.connect(self._kind_changed)
        self.camera_panel.refreshRequested.connect(live.refresh_cameras)
        self.live_panel.startRequested.connect(live.start)
        self.live_panel.stopRequested.connect(live.stop)
        self.live_panel.recordToggled.connect(live.set_recording)
        self.live_panel.virtualCameraToggled.connect(live.set_virtual_camera)
        live.stateChanged.connect(self._live_state)
        live.started.connect(self.live_panel.show_started)
        live.started.connect(self.error_line.clear)  # an earlier failed start is over
        live.stopped.connect(self.live_panel.show_stopped)
        live.frame.connect(self.preview_panel.show_live)
        live.statsChanged.connect(self._live_stats)
        live.camerasFound.connect(self.camera_panel.set_cameras)
        live.recordingChanged.connect(self.live_panel.show_recording)
        live.virtualCameraChanged.connect(self.live_panel.show_virtual_camera)
        live.error.connect(self.show_error)

    # ----- live mode ------------------------------------------------------------------------------
    def camera_mode(self) -> bool:
        return self.target_panel.current_kind() == CAMERA

    @Slot(str)
    def _kind_changed(self, kind: str) -> None:
        camera = kind == CAMERA
        if not camera:
            self.live.stop()  # joins the loop's threads and releases the camera
        self.preview.set_paused(camera)  # the file preview would compete with the camera
        self.preview_panel.set_live(camera)
        if not camera:
            self.preview_panel.set_video(self.document.kind is JobKind.VIDEO)
        self.run_panel.setVisible(not camera)
        self.live_panel.setVisible(camera)
        if camera and not self._cameras_listed:
            self._cameras_listed = True
            self.live.refresh_cameras()

    @Slot(str)
    def _live_state(self, state: str) -> None:
        self.live_panel.set_state(state)
        self.camera_panel.set_running(state != STOPPED)

    @Slot(object)
    def _live_stats(self, stats: LiveStats) -> None:
        self.preview_panel.show_live_stats(stats, self.live.not_shown())

    # ----- models -------------------------------------------------------------------------------
    def missing_models(self) -> list[str]:
        return missing_roles(self.library.directory, SwapOptions().required_roles())

    def refresh_models(self) -> None:
        self.options_panel.refresh_swappers(self.library.directory)
        missing = self.missing_models()
        if missing:
            self.models_note.setText(
                self.tr(
                    "Models missing in {0}: {1}. Swapping needs them; get them in the models dialog."
                ).format(self.library.directory, ", ".join(missing))
            )
            self.models_label.setText(self.tr("Models: {0} missing").format(len(missing)))
        else:
            self.models_label.setText(self.tr("Models: ready"))
        self.banner.setVisible(bool(missing))

    @Slot()
    def open_models_dialog(self) -> None:
        dialog = ModelsDialog(self.library.store, self)
        dialog.exec()
        dialog.deleteLater()  # its task threads are joined when it closes
        self.refresh_models()
        self.preview.request_now()

    # ----- preview --------------------------------------------------------------------------------
    @Slot(object)
    def _preview_ready(self, result: PreviewResult) -> None:
        if self.camera_mode():
            return  # asked for just before the switch to the camera
        self.preview_panel.show_result(result)
        if result.rate:
            self.preview_panel.set_frame_rate(result.rate)
        if result.duration:
            self.options_panel.video.set_duration(result.duration)
        self._update_labels()
        if not result.error and result.swapped is not None:
            self.error_line.clear()

    def _update_labels(self) -> None:
        face = self.mapping_panel.face
        self.preview_panel.set_labels(self.mapping_panel.labels(), face)

    @Slot(int)
    def _face_clicked(self, face: int) -> None:
        self.mapping_panel.select_face(face)
        self._update_labels()

    @Slot(float)
    def _time_requested(self, seconds: float) -> None:
        self.document.set_frame_time(seconds)

    def _document_changed(self, what: str) -> None:
        if what == TARGET and not self.camera_mode():
            self.preview_panel.clear()
            self.preview_panel.set_video(self.document.kind is JobKind.VIDEO)
        self._update_labels()

    # ----- jobs -----------------------------------------------------------------------------------
    @Slot()
    def _job_started(self) -> None:
        self.run_panel.running(True)

    @Slot(object, str)
    def _job_finished(self, result: JobResult | None, message: str) -> None:
        path = result.output_path if result is not None else None
        self.run_panel.finished(path, message)
        if path is not None:
            self._show_output(path, video=result is not None and result.kind == "video")

    def _show_output(self, path: str, *, video: bool) -> None:
        """The finished result in the preview's swapped pane, decoded by a worker."""
        self.preview.show_output(path, video)

    @Slot(object)
    def _output_ready(self, frame: OutputFrame) -> None:
        if frame.image is not None and not self.camera_mode():
            self.preview_panel.show_file(frame.image)

    # ----- errors -------------------------------------------------------------------------------
    @Slot(str)
    def show_error(self, message: str) -> None:
        """The last error in one line; the full text in the tooltip and the log (panel and file)."""
        line = " ".join(message.split())
        self.last_error = line
        log.warning("%s", line)
        self.error_line.show_message(line)

    # ----- closing ------------------------------------------------------------------------------
    def confirm_stop(self) -> bool:
        """Ask whether to stop the running job (tests replace this)."""
        answer = QMessageBox.question(
            self,
            self.tr("A job is running"),
            self.tr("Stop the running job and close? Its unfinished output is removed."),
        )
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self.jobs.running() and not self.confirm_stop():
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Cancel and join every thread this window started; stop listening to the log."""
        self.run_on.shutdown()  # a connection test still running in the settings dialog
        self.live.shutdown()  # stops capture and releases the camera; a recording is saved
        self.live_panel.detach()
        self.jobs.shutdown()
        self.preview.shutdown()
        self.document.unsubscribe(self._document_changed)
        self.log_panel.detach()  # after the joins: the workers may log while they stop
