"""The target: an image or a video by dialog, drop or the recent list; a "Camera" kind
and a "Run on" choice are shown disabled, the places live mode and remote runs plug in."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
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


class TargetPanel(QWidget):
    def __init__(self, document: JobDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.last_folder = ""
        self.setAcceptDrops(True)
        self.kind = QComboBox()
        self.kind.addItem(self.tr("Image or video file"), "file")
        # live camera mode has its own issue; it plugs in here
        self.kind.addItem(self.tr("Camera (coming)"), "camera")
        _disable_item(self.kind, 1)
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
        form = QFormLayout(self)
        form.addRow(self.tr("Target"), self.kind)
        form.addRow(self.tr("File"), chooser)
        form.addRow(self.tr("Run on"), self.run_on)
        self.open_button.clicked.connect(self.choose_file)
        self.recent.activated.connect(self._recent_chosen)
        document.subscribe(self._document_changed)

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
