"""The questions the models dialog asks: files to import, which model a file is, trust, licences.

Kept behind one small class so the dialog never blocks a test: tests hand the dialog an
object with the same methods that answers at once; the application uses ``DialogPrompts``,
whose modal dialogs run their own event loop as usual.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from ...core.models.importer import ImportOutcome
from ...core.models.manifest import License, ModelSpec
from .consent import ask_terms


class ModelPrompts(Protocol):
    def import_file(self, parent: QWidget, start: Path | None) -> Path | None: ...

    def import_folder(self, parent: QWidget, start: Path | None) -> Path | None: ...

    def choose_model(self, parent: QWidget, path: Path, models: Sequence[ModelSpec]) -> str | None: ...

    def trust(self, parent: QWidget, mismatches: Sequence[ImportOutcome]) -> bool: ...

    def accept_terms(self, parent: QWidget, licences: Sequence[License]) -> bool: ...


class TrustBox(QMessageBox):
    """Files that differ from the published models: import them anyway, trusted on this machine?"""

    def __init__(self, parent: QWidget | None, mismatches: Sequence[ImportOutcome]) -> None:
        super().__init__(parent)
        self.setIcon(QMessageBox.Icon.Warning)
        self.setWindowTitle(self.tr("Not the published model"))
        self.setTextFormat(Qt.TextFormat.RichText)
        items = "".join(
            f"<li>{html.escape(outcome.source)}<br><small>{html.escape(outcome.detail)}</small></li>"
            for outcome in mismatches
        )
        intro = self.tr(
            "These files differ from the models FaceDeck publishes (a conversion, another "
            "version, or a damaged or altered file):"
        )
        question = self.tr(
            "Import them anyway and trust exactly these files on this computer? Only do this for "
            "files from a source you trust: a model file can be crafted to misbehave."
        )
        self.setText(f"<p>{html.escape(intro)}</p><ul>{items}</ul><p>{html.escape(question)}</p>")
        self.trust_button = self.addButton(self.tr("Trust and import"), QMessageBox.ButtonRole.AcceptRole)
        self.setDefaultButton(self.addButton(self.tr("Do not import"), QMessageBox.ButtonRole.RejectRole))

    def trusted(self) -> bool:
        return self.clickedButton() is self.trust_button


class DialogPrompts:
    """The application's answers: Qt's file dialogs and message boxes."""

    def import_file(self, parent: QWidget, start: Path | None) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(
            parent,
            QCoreApplication.translate("ModelPrompts", "Import a model file"),
            str(start or ""),
            QCoreApplication.translate("ModelPrompts", "Model files (*.onnx *.zip);;All files (*)"),
        )
        return Path(name) if name else None

    def import_folder(self, parent: QWidget, start: Path | None) -> Path | None:
        title = QCoreApplication.translate("ModelPrompts", "Import the models in a folder")
        name = QFileDialog.getExistingDirectory(parent, title, str(start or ""))
        return Path(name) if name else None

    def choose_model(self, parent: QWidget, path: Path, models: Sequence[ModelSpec]) -> str | None:
        labels = [f"{spec.id} ({spec.file})" for spec in models]
        label, accepted = QInputDialog.getItem(
            parent,
            QCoreApplication.translate("ModelPrompts", "Which model is this?"),
            QCoreApplication.translate(
                "ModelPrompts", "FaceDeck cannot tell from its name which model {name} is:"
            ).format(name=path.name),
            labels,
            0,
            False,
        )
        return models[labels.index(label)].id if accepted and label in labels else None

    def trust(self, parent: QWidget, mismatches: Sequence[ImportOutcome]) -> bool:
        box = TrustBox(parent, mismatches)
        box.exec()
        return box.trusted()

    def accept_terms(self, parent: QWidget, licences: Sequence[License]) -> bool:
        return ask_terms(parent, licences)
