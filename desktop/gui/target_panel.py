"""The target: an image or a video by dialog, drop or the recent list, or a camera (live
mode: its controls are the CameraPanel, shown here in place of the file row). "Run on"
says where Start runs the job (this computer, RunPod, a FaceDeck server), with a
"Settings…" button for the endpoint; live mode always runs here, so both are off for it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QPushButton, QWidget

from ..job_document import TARGET, JobDocument
from ..remote_choice import LOCAL, RUNPOD, SERVER
from .drops import local_paths

MEDIA_FILTER = "*.jpg *.jpeg *.png *.webp *.bmp *.tif *.tiff *.mp4 *.mov *.mkv *.avi *.webm *.gif"
RECENT_LIMIT = 10

FILE, CAMERA = "file", "camera"


class TargetPanel(QWidget):
    kindChanged = Signal(str)  # FILE or CAMERA
    runOnChosen = Signal(str)  # LOCAL, RUNPOD or SERVER, picked by the user
    remoteSettingsRequested = Signal()

    def __init__(self, document: JobDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.last_folder = ""
        self.setAcceptDrops(True)
        self.kind = QComboBox()
        self.kind.addItem(self.tr("Image or video file"), FILE)
        self.kind.addItem(self.tr("Camera"), CAMERA)
        self.recent = QComboBox()
        self.recent.setMinimumContentsLength(24)
        self.recent.setPlaceholderText(self.tr("Drop an image or video here"))
        self.open_button = QPushButton(self.tr("Open\u2026"))
        self.run_on = QComboBox()
        self.run_on.addItem(self.tr("This computer"), LOCAL)
        # the same SwapJob goes to either, unchanged
        self.run_on.addItem(self.tr("RunPod"), RUNPOD)
        self.run_on.addItem(self.tr("FaceDeck server"), SERVER)
        self.remote_settings = QPushButton(self.tr("Settings\u2026"))
        self.remote_settings.setToolTip(self.tr("The endpoint, its key and the storage for remote runs"))
        chooser = QHBoxLayout()
        chooser.addWidget(self.recent, 1)
        chooser.addWidget(self.open_button)
        where = QHBoxLayout()
        where.addWidget(self.run_on, 1)
        where.addWidget(self.remote_settings)
        self.form = form = QFormLayout(self)
        form.addRow(self.tr("Target"), self.kind)
        form.addRow(self.tr("File"), chooser)
        form.addRow(self.tr("Run on"), where)
        self.open_button.clicked.connect(self.choose_file)
        self.run_on.activated.connect(self._run_on_chosen)
        self.remote_settings.clicked.connect(self.remoteSettingsRequested)
        self.kind.currentIndexChanged.connect(self._kind_chosen)
        self.recent.activated.connect(self._recent_chosen)
        document.subscribe(self._document_changed)

    def add_camera_panel(self, panel: QWidget) -> None:
        """The camera's controls, shown in place of the file row while the kind is Camera."""
        self.form.insertRow(2, panel)
        self._show_kind(self.current_kind())

    def current_kind(self) -> str:
        return str(self.kind.currentData())

    def run_on_choice(self) -> str:
        return str(self.run_on.currentData())

    def set_run_on(self, where: str) -> None:
        """Show ``where`` (no runOnChosen: that is for the user's picks)."""
        row = self.run_on.findData(where)
        if row >= 0:
            self.run_on.setCurrentIndex(row)

    @Slot(int)
    def _run_on_chosen(self, _row: int) -> None:
        self.runOnChosen.emit(self.run_on_choice())

    def set_kind(self, kind: str) -> None:
        row = self.kind.findData(kind)
        if row >= 0:
            self.kind.setCurrentIndex(row)

    @Slot(int)
    def _kind_chosen(self, _row: int) -> None:
        kind = self.current_kind()
        self._show_kind(kind)
        self.kindChanged.emit(kind)

    def _show_kind(self, kind: str) -> None:
        camera = kind == CAMERA
        self.form.setRowVisible(1, not camera)  # the file row
        if self.form.rowCount() > 3:
            self.form.setRowVisible(2, camera)  # the camera panel
        self.setAcceptDrops(not camera)
        self.run_on.setEnabled(not camera)
        self.remote_settings.setEnabled(not camera)
        live_note = self.tr("Live mode runs on this computer") if camera else ""
        self.run_on.setToolTip(live_note)

    @Slot()
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Choose the target"),
            self.last_folder,
            self.tr("Images and videos ({0})").format(MEDIA_FILTER),
        )
        if path:
            self.open(path)

    def open(self, path: str) -> None:
        self.set_kind(FILE)  # a file opened (menu, recent list) is the target: live mode ends
        self.last_folder = str(Path(path).parent)
        self.document.set_target(path)

    def recent_files(self) -> list[str]:
        return [self.recent.itemData(row) for row in range(self.recent.count())]

    def set_recent_files(self, paths: list[str]) -> None:
        self.recent.blockSignals(True)
        self.recent.clear()
        for path in paths[:RECENT_LIMIT]:
            self.recent.addItem(Path(path).name, path)
            self.recent.setItemData(self.recent.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        self.recent.setCurrentIndex(0 if self.document.target else -1)
        self.recent.blockSignals(False)

    @Slot(int)
    def _recent_chosen(self, row: int) -> None:
        path = self.recent.itemData(row)
        if path:
            self.open(path)

    def _document_changed(self, what: str) -> None:
        if what == TARGET and self.document.target:
            paths = [self.document.target] + [p for p in self.recent_files() if p != self.document.target]
            self.set_recent_files(paths)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        paths = local_paths(event.mimeData())
        if paths:
            self.open(paths[0])
            event.acceptProposedAction()
