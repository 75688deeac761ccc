"""Live mode's controls: which camera and how (CameraPanel, with the target), and
Start/Stop, Record and Virtual camera (LivePanel, where the run panel is for files).

Both edit the document's ``live`` setup or ask the LiveController by signals; neither
touches the loop. A file or a stream URL can stand in for a camera: type it into the
camera box or pick a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.live.sources import CameraInfo
from ...core.live.types import SourceInfo
from ..job_document import LIVE, JobDocument
from .live_controller import STARTING, STOPPED, default_record_folder
from .target_panel import MEDIA_FILTER

RESOLUTIONS = ((640, 480), (1280, 720), (1920, 1080))
MAX_FPS = 120


class CameraPanel(QWidget):
    """The camera (or a file or URL standing in for one), its resolution, rate and mirroring."""

    refreshRequested = Signal()

    def __init__(self, document: JobDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.last_folder = ""
        self.camera = QComboBox()
        self.camera.setEditable(True)
        self.camera.setMinimumContentsLength(16)
        line = self.camera.lineEdit()
        assert line is not None
        line.setPlaceholderText(self.tr("Camera number, video file or stream URL"))
        self.refresh = QPushButton(self.tr("Refresh"))
        self.refresh.setToolTip(self.tr("Look for cameras again"))
        self.use_file = QPushButton(self.tr("File\u2026"))
        self.use_file.setToolTip(self.tr("Play a video file as the camera"))
        self.resolution = QComboBox()
        self.resolution.addItem(self.tr("Camera default"), None)
        for width, height in RESOLUTIONS:
            self.resolution.addItem(f"{width} \u00d7 {height}", (width, height))
        self.fps = QSpinBox()
        self.fps.setRange(0, MAX_FPS)
        self.fps.setSpecialValueText(self.tr("Camera default"))
        self.fps.setSuffix(self.tr(" fps"))
        self.mirror = QCheckBox(self.tr("Mirror"))
        self.repeat = QCheckBox(self.tr("Repeat a file"))
        self.repeat.setToolTip(self.tr("Play a video file again from the start when it ends"))
        self.note = QLabel()
        self.note.setWordWrap(True)
        chooser = QHBoxLayout()
        chooser.addWidget(self.camera, 1)
        chooser.addWidget(self.refresh)
        chooser.addWidget(self.use_file)
        checks = QHBoxLayout()
        checks.addWidget(self.mirror)
        checks.addWidget(self.repeat)
        checks.addStretch()
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.tr("Camera"), chooser)
        form.addRow(self.tr("Resolution"), self.resolution)
        form.addRow(self.tr("Frame rate"), self.fps)
        form.addRow("", checks)
        form.addRow("", self.note)
        self.show_setup()
        self.refresh.clicked.connect(self.refreshRequested)
        self.use_file.clicked.connect(self.choose_file)
        self.camera.activated.connect(self._camera_chosen)
        line.editingFinished.connect(self._camera_typed)
        self.resolution.currentIndexChanged.connect(self._resolution_chosen)
        self.fps.valueChanged.connect(self._fps_chosen)
        self.mirror.toggled.connect(self._mirror_toggled)
        self.repeat.toggled.connect(self._repeat_toggled)

    def show_setup(self) -> None:
        """Show the document's live setup (at start and after settings were restored)."""
        setup = self.document.live
        self._select_source(setup.source)
        size = (setup.width, setup.height) if setup.width and setup.height else None
        row = self.resolution.findData(size)
        if row < 0 and size is not None:
            self.resolution.addItem(f"{size[0]} \u00d7 {size[1]}", size)
            row = self.resolution.count() - 1
        self.resolution.setCurrentIndex(max(0, row))
        self.fps.setValue(setup.fps or 0)
        self.mirror.setChecked(setup.mirror)
        self.repeat.setChecked(setup.repeat)

    def source(self) -> str:
        """The source as open_source takes it: the chosen camera's spec, or what was typed."""
        text = self.camera.currentText().strip()
        row = self.camera.findText(text)
        data = self.camera.itemData(row) if row >= 0 else None
        return data if isinstance(data, str) else text

    def set_cameras(self, cameras: Sequence[CameraInfo]) -> None:
        """The cameras found; the current choice stays (a file or URL stays typed in)."""
        current = self.document.live.source
        self.camera.blockSignals(True)
        self.camera.clear()
        for camera in cameras:
            spec = camera.path or str(camera.index)
            self.camera.addItem(self.tr("{0} ({1})").format(camera.name, spec), spec)
        self.camera.blockSignals(False)
        self._select_source(current)
        self.note.setText(
            "" if cameras else self.tr("No camera found; a video file or stream URL works too.")
        )

    def _select_source(self, spec: str) -> None:
        row = self.camera.findData(spec)
        if row >= 0:
            self.camera.setCurrentIndex(row)
        else:
            self.camera.setEditText(spec)

    def set_running(self, running: bool) -> None:
        """The camera is opened at the start: its settings are locked while live."""
        for widget in (self.camera, self.refresh, self.use_file, self.resolution, self.fps):
            widget.setEnabled(not running)
        self.mirror.setEnabled(not running)
        self.repeat.setEnabled(not running)

    # ----- edits ----------------------------------------------------------------------------
    @Slot()
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Play a video as the camera"),
            self.last_folder,
            self.tr("Videos ({0})").format(MEDIA_FILTER),
        )
        if path:
            self.use_source(path)

    def use_source(self, spec: str) -> None:
        """A camera spec, file or URL, as if typed (tests and the file dialog)."""
        if Path(spec).is_file():
            self.last_folder = str(Path(spec).parent)
        self._select_source(spec)
        self.document.set_live(source=spec)

    @Slot(int)
    def _camera_chosen(self, _row: int) -> None:
        self.document.set_live(source=self.source())

    @Slot()
    def _camera_typed(self) -> None:
        if self.source():
            self.document.set_live(source=self.source())

    @Slot(int)
    def _resolution_chosen(self, _row: int) -> None:
        size = self.resolution.currentData()
        width, height = size if size else (None, None)
        self.document.set_live(width=width, height=height)

    @Slot(int)
    def _fps_chosen(self, value: int) -> None:
        self.document.set_live(fps=value or None)

    @Slot(bool)
    def _mirror_toggled(self, on: bool) -> None:
        self.document.set_live(mirror=on)

    @Slot(bool)
    def _repeat_toggled(self, on: bool) -> None:
        self.document.set_live(repeat=on)


class LivePanel(QWidget):
    """Start/Stop, Record (with the folder recordings go to) and Virtual camera."""

    startRequested = Signal()
    stopRequested = Signal()
    recordToggled = Signal(bool)
    virtualCameraToggled = Signal(bool)

    def __init__(self, document: JobDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.state = STOPPED
        self.start = QPushButton(self.tr("Start live"))
        self.record = QCheckBox(self.tr("Record"))
        self.folder = QLineEdit()
        self.browse = QPushButton(self.tr("Folder\u2026"))
        self.virtual_camera = QCheckBox(self.tr("Virtual camera"))
        self.virtual_camera.setToolTip(
            self.tr("Send the swapped frames to a virtual camera other programs can use")
        )
        self.status = QLabel(self.tr("Stopped"))
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.start)
        row.addWidget(self.record)
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse)
        row.addWidget(self.virtual_camera)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self.refresh_folder()
        self.start.clicked.connect(self._start_clicked)
        self.record.toggled.connect(self.recordToggled)
        self.virtual_camera.toggled.connect(self.virtualCameraToggled)
        self.browse.clicked.connect(self._choose_folder)
        self.folder.editingFinished.connect(self._folder_typed)
        document.subscribe(self._document_changed)

    def refresh_folder(self) -> None:
        self.folder.setPlaceholderText(default_record_folder())
        self.folder.setText(self.document.live.record_folder or "")
        self.folder.setToolTip(self.tr("Recordings are saved here as facedeck-live-<date>-<time>.mp4"))

    def _document_changed(self, what: str) -> None:
        if what == LIVE:
            self.refresh_folder()

    @Slot()
    def _start_clicked(self) -> None:
        if self.state == STOPPED:
            self.startRequested.emit()
        else:
            self.stopRequested.emit()

    @Slot()
    def _choose_folder(self) -> None:
        start = self.document.live.record_folder or default_record_folder()
        folder = QFileDialog.getExistingDirectory(self, self.tr("Save recordings in"), start)
        if folder:
            self.document.set_live(record_folder=folder)

    @Slot()
    def _folder_typed(self) -> None:
        self.document.set_live(record_folder=self.folder.text().strip() or None)

    # ----- what the controller says ---------------------------------------------------------
    @Slot(str)
    def set_state(self, state: str) -> None:
        self.state = state
        self.start.setText(self.tr("Start live") if state == STOPPED else self.tr("Stop live"))
        self.folder.setEnabled(state == STOPPED)
        self.browse.setEnabled(state == STOPPED)
        if state == STARTING:
            self.status.setText(self.tr("Starting\u2026"))

    @Slot(object)
    def show_started(self, info: SourceInfo) -> None:
        rate = self.tr(" at {0:g} fps").format(info.fps) if info.fps else ""
        text = self.tr("Live: {0}, {1}\u00d7{2}{3}").format(info.name, info.width, info.height, rate)
        if info.requested:
            text += self.tr(" (asked for {0})").format(info.requested)
        self.status.setText(text)

    @Slot(str)
    def show_stopped(self, reason: str) -> None:
        self.status.setText(self.tr("Stopped: {0}").format(reason) if reason else self.tr("Stopped"))

    @Slot(bool, str)
    def show_recording(self, on: bool, note: str) -> None:
        self._set_checked(self.record, on)
        if note:
            self.status.setText(note)

    @Slot(bool)
    def show_virtual_camera(self, on: bool) -> None:
        self._set_checked(self.virtual_camera, on)

    @staticmethod
    def _set_checked(box: QCheckBox, on: bool) -> None:
        # the controller's answer, not a new request: no toggled signal back to it
        box.blockSignals(True)
        box.setChecked(on)
        box.blockSignals(False)

    def detach(self) -> None:
        self.document.unsubscribe(self._document_changed)
