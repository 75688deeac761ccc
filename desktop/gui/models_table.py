"""The models dialog's table: one row per manifest model with its status, size and licence.

A view only: ``show_states`` draws what ``ModelStore.states()`` returned, keeping the
selection; the dialog reads the selection back as model ids.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from ...core.models.manifest import Manifest
from ...core.models.store import ModelState, ModelStatus
from ..headless.progress import human_bytes

ID_ROLE = Qt.ItemDataRole.UserRole


class ModelsTable(QTableWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 5, parent)
        self.setHorizontalHeaderLabels(
            [self.tr("Model"), self.tr("Status"), self.tr("Size"), self.tr("Licence"), self.tr("Purpose")]
        )
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

    def status_text(self, status: ModelStatus) -> str:
        return {
            ModelStatus.VERIFIED: self.tr("verified"),
            ModelStatus.TRUSTED: self.tr("trusted"),
            ModelStatus.PRESENT: self.tr("present (not checked yet)"),
            ModelStatus.MISSING: self.tr("missing"),
            ModelStatus.CORRUPT: self.tr("corrupt"),
        }[status]

    def show_states(self, states: Sequence[ModelState], manifest: Manifest) -> None:
        selected = set(self.selected_ids())
        self.setRowCount(len(states))
        for row, state in enumerate(states):
            self._fill_row(row, state, manifest)
            if state.spec.id in selected:
                self.selectRow(row)

    def selected_ids(self) -> list[str]:
        rows = sorted({index.row() for index in self.selectionModel().selectedRows()})
        items = [self.item(row, 0) for row in rows]
        return [str(item.data(ID_ROLE)) for item in items if item is not None]

    def _fill_row(self, row: int, state: ModelState, manifest: Manifest) -> None:
        spec = state.spec
        licence = manifest.licenses[spec.license]
        size = state.size if state.size is not None else spec.size
        cells = [spec.id, self.status_text(state.status), human_bytes(size), licence.short, spec.purpose]
        tips = [
            spec.file,
            f"{state.path}\nSHA-256 {state.sha256 or spec.sha256}",
            f"{size} B",
            f"{licence.name}\n{licence.url}",
            spec.purpose,
        ]
        for column, (text, tip) in enumerate(zip(cells, tips, strict=True)):
            item = QTableWidgetItem(text)
            item.setToolTip(tip)
            item.setData(ID_ROLE, spec.id)
            self.setItem(row, column, item)
