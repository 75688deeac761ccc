"""The language override: a menu of the shipped languages plus "follow the system".

The choice is stored in the settings at once and applies at the next start (app.py installs
the translator before any widget exists); the menu says so, so nobody waits for the window
to change.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from .i18n import LANGUAGES
from .settings import AppSettings


class LanguageMenu(QMenu):
    # the code chosen, or "" for the system's language
    language_chosen = Signal(str)

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Language"), parent)
        self.settings = settings
        group = QActionGroup(self)
        group.setExclusive(True)
        current = settings.language() or ""
        self.choices: dict[str, QAction] = {}
        for code, name in [("", self.tr("Follow the system")), *LANGUAGES.items()]:
            action = QAction(name, self, checkable=True)
            action.setData(code)
            action.setChecked(code == current)
            group.addAction(action)
            self.addAction(action)
            self.choices[code] = action
        group.triggered.connect(self._chosen)
        self.addSeparator()
        note = self.addAction(self.tr("Applies the next time FaceDeck starts"))
        note.setEnabled(False)

    @Slot(QAction)
    def _chosen(self, action: QAction) -> None:
        code = str(action.data() or "")
        self.settings.set_language(code or None)
        self.settings.save()
        self.language_chosen.emit(code)
