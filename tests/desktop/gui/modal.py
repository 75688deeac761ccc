"""Answering the real modal boxes: ``exec()`` blocks the test, so a timer answers from inside
its event loop."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

POLL_MS = 10
MAX_POLLS = 300  # never outlive the test by more than ~3 s (never answer a later test's box)


def when_shown(kind: type[QMessageBox], answer: Callable[[QMessageBox], None]) -> list[tuple[str, str]]:
    """Call ``answer`` on the next modal box of ``kind``; the list gets its (title, text)."""
    seen: list[tuple[str, str]] = []
    polls: list[int] = []

    def press() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, kind):
            polls.append(1)
            if len(polls) < MAX_POLLS:
                QTimer.singleShot(POLL_MS, press)
            return
        seen.append((box.windowTitle(), box.text()))
        answer(box)

    QTimer.singleShot(0, press)
    return seen
