"""The target: an image or a video by dialog, drop or the recent list, or a camera (live
mode: its controls are the CameraPanel, shown here in place of the file row). A "Run on"
choice is shown disabled, the place remote runs plug in."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QPushButton, QWidget

from ..job_document import TARGET, JobDocument
from .drops import local_paths

MEDIA_FILTER = "*.jpg *.jpeg *.png *.webp *.bmp *.tif *.tiff *.mp4 *.mov *.mkv *.avi *.webm *.gif"
RECENT_LIMIT = 10


def _disable_item(combo: QComboBox, row: int) -> None:
    model = combo.model()
    assert isinstance(model, QStandardItemModel)  # a plain QComboBox's model
    item = model.item(row)
    if item is not None:
        item.setEnabled(False)


FILE, CAMERA = "file", "camera"


class TargetPanel(QWidget):
    kindChanged = Signal(str)  # FILE or CAMERA

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
        self.run_on.addItem(self.tr("This computer"), "local")
        # remote execution has its own issue; the same SwapJob goes there unchanged
        self.run_on.addItem(self.tr("Cloud worker (coming)"), "remote")
        _disable_item(self.run_on, 1)
        chooser = QHBoxLayout()
        chooser.addWidget(self.recent, 1)
        chooser.addWidget(self.open_button)
        self.form = form = QFormLayout(self)
        form.addRow(self.tr("Target"), self.kind)
        form.addRow(self.tr("File"), chooser)
        form.addRow(self.tr("Run on"), self.run_on)
        self.open_button.clicked.connect(self.choose_file)
        self.kind.currentIndexChanged.connect(self._kind_chosen)
        self.recent.activated.connect(self._recent_chosen)
        document.subscribe(self._document_changed)

    def add_camera_panel(self, panel: QWidget) -> None:
        """The camera's controls, shown in place of the file row while the kind is Camera."""
        self.form.insertRow(2, panel)
        self._show_kind(self.current_kind())

    def current_kind(self) -> str:
        return str(self.kind.currentData())

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
