"""Parts of the remote settings dialog: the key field with its "Show" toggle, and a
connection test's outcome in words (remote_dialog.py puts them together).

The outcome's strings are translated in the dialog's context ("RemoteDialog"), spelled out
at each call so that lupdate files them there.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Slot
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QWidget

from ..remote_check import ConnectionReport

# /health's worker counts (RunPod names them so; the server has idle and running)
WORKER_COUNTS = {
    "ready": QT_TRANSLATE_NOOP("RemoteDialog", "{0} ready"),
    "idle": QT_TRANSLATE_NOOP("RemoteDialog", "{0} idle"),
    "running": QT_TRANSLATE_NOOP("RemoteDialog", "{0} running"),
    "initializing": QT_TRANSLATE_NOOP("RemoteDialog", "{0} starting"),
    "throttled": QT_TRANSLATE_NOOP("RemoteDialog", "{0} throttled"),
    "unhealthy": QT_TRANSLATE_NOOP("RemoteDialog", "{0} unhealthy"),
}


class SecretField(QWidget):
    """A key's line edit, shown as dots until "Show" is pressed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.show_button = QPushButton(self.tr("Show"))
        self.show_button.setCheckable(True)
        self.show_button.setAutoDefault(False)  # Enter is OK, never this
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.show_button)
        self.show_button.toggled.connect(self._shown)

    @Slot(bool)
    def _shown(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.edit.setEchoMode(mode)
        self.show_button.setText(self.tr("Hide") if shown else self.tr("Show"))

    def text(self) -> str:
        return self.edit.text().strip()


def describe_report(report: ConnectionReport) -> str:
    """The test's outcome in one line: workers, the worker's status, provider, version."""
    translate = QCoreApplication.translate
    counts = [
        translate("RemoteDialog", WORKER_COUNTS[name]).format(count)
        if name in WORKER_COUNTS
        else f"{count} {name}"
        for name, count in report.workers.items()
    ]
    workers = ", ".join(counts) if counts else QCoreApplication.translate("RemoteDialog", "no worker counts")
    worker = report.worker
    provider, version = str(worker.get("provider", "?")), str(worker.get("version", "?"))
    if report.ok:
        text = QCoreApplication.translate(
            "RemoteDialog", "Connected \u00b7 workers: {0} \u00b7 worker ready on {1}, FaceDeck {2}"
        ).format(workers, provider, version)
    else:
        status, message = str(worker.get("status", "?")), str(worker.get("message", ""))
        text = QCoreApplication.translate(
            "RemoteDialog",
            "Connected \u00b7 workers: {0} \u00b7 the worker is {1}: {2} ({3}, FaceDeck {4})",
        ).format(workers, status, message, provider, version)
    if report.storage:
        bucket = QCoreApplication.translate("RemoteDialog", " \u00b7 bucket {0} answers")
        text += bucket.format(report.storage)
    return text
