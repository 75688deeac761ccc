"""Who goes where: selection mode one / many / reference, and the mapping editor.

Click a face in the preview, then pick the source photo that goes on it: the document
turns each pick into a ``FaceMapping`` whose reference is that face of the target,
exactly what the CLI's ``--map SRC REFERENCE`` builds. Mappings, when there are any,
decide alone (as ``--map`` does); without them the selection mode applies, and in
reference mode the face clicked is the person to replace.
"""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core.faces.options import SelectionMode, SwapOptions
from ...core.limits import field_limits
from ..job_document import SELECTION, SOURCES, TARGET, JobDocument

LEAVE_ALONE = -1


class MappingPanel(QWidget):
    def __init__(self, document: JobDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.face: int | None = None  # the target face picked in the preview
        self.mode = QComboBox()
        self.mode.addItem(self.tr("The largest face"), SelectionMode.ONE)
        self.mode.addItem(self.tr("Every face"), SelectionMode.MANY)
        self.mode.addItem(self.tr("Faces like the face clicked"), SelectionMode.REFERENCE)
        low, high = field_limits(SwapOptions, "distance_threshold")["range"]
        self.distance = QDoubleSpinBox()
        self.distance.setRange(float(low), float(high))
        self.distance.setSingleStep(0.05)
        self.distance.setValue(document.options.distance_threshold)
        self.distance.setToolTip(self.tr("Largest identity distance that counts as the same person"))
        self.face_label = QLabel(self.tr("Click a face in the preview"))
        self.source = QComboBox()
        self.source.setEnabled(False)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.clear_button = QPushButton(self.tr("Clear mappings"))
        group = QGroupBox(self.tr("Faces to swap"))
        form = QFormLayout(group)
        form.addRow(self.tr("Swap"), self.mode)
        form.addRow(self.tr("Likeness distance"), self.distance)
        form.addRow(self.tr("Face"), self.face_label)
        form.addRow(self.tr("Put on it"), self.source)
        form.addRow(self.summary)
        form.addRow(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(group)
        self.mode.currentIndexChanged.connect(self._mode_chosen)
        self.source.activated.connect(self._source_chosen)
        self.distance.valueChanged.connect(self._distance_changed)
        self.clear_button.clicked.connect(self._clear)
        document.subscribe(self._document_changed)
        self.refresh()

    @Slot(int)
    def select_face(self, face: int) -> None:
        self.face = face
        if not self.document.mappings:
            self.document.set_reference_face(face)
        self.refresh()

    def labels(self) -> dict[int, str]:
        """Target face -> the source photo mapped onto it, for the preview's outlines."""
        document = self.document
        return {
            face: document.source_label(source)
            for face, source in document.mappings.items()
            if source < len(document.sources)
        }

    def refresh(self) -> None:
        document = self.document
        self.mode.blockSignals(True)
        self.mode.setCurrentIndex(self.mode.findData(document.options.selection))
        self.mode.blockSignals(False)
        self.source.clear()
        self.source.addItem(self.tr("(leave this face alone)"), LEAVE_ALONE)
        for index in range(len(document.sources)):
            self.source.addItem(document.source_label(index), index)
        if self.face is None:
            self.face_label.setText(self.tr("Click a face in the preview"))
            self.source.setEnabled(False)
        else:
            self.face_label.setText(self.tr("Face {0}").format(self.face + 1))
            self.source.setEnabled(bool(document.sources))
            chosen = document.mappings.get(self.face, LEAVE_ALONE)
            self.source.setCurrentIndex(max(0, self.source.findData(chosen)))
        if document.mappings:
            pairs = ", ".join(f"{face + 1} \u2190 {name}" for face, name in sorted(self.labels().items()))
            self.summary.setText(self.tr("Mappings decide: {0}").format(pairs))
        else:
            self.summary.setText(self.tr("No mappings: the mode above decides."))
        self.clear_button.setEnabled(bool(document.mappings))
        self.mode.setEnabled(not document.mappings)  # mappings decide alone, as --map does

    def _document_changed(self, what: str) -> None:
        if what == TARGET:
            self.face = None
        if what in (SELECTION, SOURCES, TARGET):
            self.refresh()

    @Slot(int)
    def _mode_chosen(self, _row: int) -> None:
        self.document.set_options(selection=self.mode.currentData())

    @Slot(float)
    def _distance_changed(self, value: float) -> None:
        self.document.set_options(distance_threshold=round(value, 2))

    @Slot(int)
    def _source_chosen(self, _row: int) -> None:
        if self.face is None:
            return
        source = self.source.currentData()
        self.document.map_face(self.face, None if source == LEAVE_ALONE else int(source))

    @Slot()
    def _clear(self) -> None:
        for face in list(self.document.mappings):
            self.document.map_face(face, None)
