"""Source photos: add by dialog or drop, thumbnails, and the faces of the photo picked as
crops, so the user chooses which face is the source (several photos of one person are
averaged into one identity, as with the CLI's ``-s a.jpg b.jpg``)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QIcon, QImageReader, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..job_document import SOURCES, JobDocument
from ..preview import SourceFacesResult
from .drops import local_paths
from .images import bgr_to_pixmap

THUMB = QSize(96, 96)
FACE_THUMB = QSize(72, 72)
IMAGE_FILTER = "*.jpg *.jpeg *.png *.webp *.bmp *.tif *.tiff"


def thumbnail(path: str) -> QPixmap:
    reader = QImageReader(path)
    reader.setAutoTransform(True)  # EXIF orientation, as the engine reads it
    size = reader.size()
    if size.isValid():
        reader.setScaledSize(size.scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio))
    return QPixmap.fromImage(reader.read())


class SourcesPanel(QWidget):
    """Edits the document's sources; asks for a photo's faces with ``facesWanted``."""

    facesWanted = Signal(str)

    def __init__(self, document: JobDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.last_folder = ""
        self.setAcceptDrops(True)
        self.photos = QListWidget()
        self.photos.setViewMode(QListView.ViewMode.IconMode)
        self.photos.setIconSize(THUMB)
        self.photos.setMovement(QListView.Movement.Static)
        self.photos.setFlow(QListView.Flow.LeftToRight)
        self.photos.setWrapping(False)
        self.photos.setFixedHeight(THUMB.height() + 40)
        self.faces = QListWidget()
        self.faces.setViewMode(QListView.ViewMode.IconMode)
        self.faces.setIconSize(FACE_THUMB)
        self.faces.setMovement(QListView.Movement.Static)
        self.faces.setFlow(QListView.Flow.LeftToRight)
        self.faces.setWrapping(False)
        self.faces.setFixedHeight(FACE_THUMB.height() + 36)
        self.faces_note = QLabel()
        self.faces_note.setWordWrap(True)
        self.add_button = QPushButton(self.tr("Add photos\u2026"))
        self.remove_button = QPushButton(self.tr("Remove"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(self.tr("Source photos (drop files here; photos of one person are averaged)"))
        )
        layout.addWidget(self.photos)
        layout.addLayout(buttons)
        layout.addWidget(QLabel(self.tr("Faces in the selected photo (click the source face):")))
        layout.addWidget(self.faces)
        layout.addWidget(self.faces_note)
        self.add_button.clicked.connect(self.choose_files)
        self.remove_button.clicked.connect(self._remove_selected)
        self.photos.currentRowChanged.connect(self._photo_selected)
        self.faces.itemClicked.connect(self._face_picked)
        document.subscribe(self._document_changed)

    # ----- editing ----------------------------------------------------------------------------
    @Slot()
    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, self.tr("Add source photos"), self.last_folder, self.tr("Images ({0})").format(IMAGE_FILTER)
        )
        self.add(paths)

    def add(self, paths: list[str]) -> None:
        if paths:
            self.last_folder = str(Path(paths[-1]).parent)
            self.document.add_sources(paths)
            self.photos.setCurrentRow(self.photos.count() - 1)

    @Slot()
    def _remove_selected(self) -> None:
        row = self.photos.currentRow()
        if row >= 0:
            self.document.remove_source(row)

    @Slot(int)
    def _photo_selected(self, row: int) -> None:
        self.faces.clear()
        self.faces_note.clear()
        if 0 <= row < len(self.document.sources):
            self.facesWanted.emit(self.document.sources[row].path)

    @Slot(QListWidgetItem)
    def _face_picked(self, item: QListWidgetItem) -> None:
        row = self.photos.currentRow()
        if row >= 0:
            self.document.set_source_face(row, int(item.data(Qt.ItemDataRole.UserRole)))

    # ----- showing ----------------------------------------------------------------------------
    def _document_changed(self, what: str) -> None:
        if what == SOURCES:
            self.refresh()

    def refresh(self) -> None:
        current = self.photos.currentRow()
        self.photos.blockSignals(True)
        self.photos.clear()
        for index, photo in enumerate(self.document.sources):
            item = QListWidgetItem(QIcon(thumbnail(photo.path)), Path(photo.path).name)
            item.setToolTip(self.tr("{0}\nface {1}").format(photo.path, photo.face + 1))
            item.setData(Qt.ItemDataRole.UserRole, index)
            self.photos.addItem(item)
        self.photos.blockSignals(False)
        if self.photos.count():
            row = min(max(current, 0), self.photos.count() - 1)
            self.photos.setCurrentRow(row)
            self._mark_chosen_face()
        else:
            self.faces.clear()

    @Slot(object)
    def show_faces(self, result: SourceFacesResult) -> None:
        row = self.photos.currentRow()
        if not (0 <= row < len(self.document.sources)) or self.document.sources[row].path != result.path:
            return  # the user moved on to another photo meanwhile
        self.faces.clear()
        if result.error:
            self.faces_note.setText(result.error)
            return
        for number, crop in enumerate(result.crops):
            item = QListWidgetItem(QIcon(bgr_to_pixmap(crop)), self.tr("Face {0}").format(number + 1))
            item.setData(Qt.ItemDataRole.UserRole, number)
            self.faces.addItem(item)
        self.faces_note.setText("" if result.crops else self.tr("No face found in this photo"))
        self._mark_chosen_face()

    def _mark_chosen_face(self) -> None:
        row = self.photos.currentRow()
        if 0 <= row < len(self.document.sources) and self.document.sources[row].face < self.faces.count():
            self.faces.setCurrentRow(self.document.sources[row].face)

    # ----- drag and drop ------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        self.add(local_paths(event.mimeData()))
        event.acceptProposedAction()
