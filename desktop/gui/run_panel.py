"""Output path, Start and Cancel, progress with fps and ETA, and "Show in folder"."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core.jobs.events import Progress
from ..job_document import OUTPUT, TARGET, JobDocument

# the core's stage names, listed so that lupdate offers them for translation
STAGES = {
    "frames": QT_TRANSLATE_NOOP("RunPanel", "frames"),
    "read": QT_TRANSLATE_NOOP("RunPanel", "read"),
    "identify": QT_TRANSLATE_NOOP("RunPanel", "identify"),
    "swap": QT_TRANSLATE_NOOP("RunPanel", "swap"),
    "write": QT_TRANSLATE_NOOP("RunPanel", "write"),
    # a remote run's steps around the worker's frames
    "upload": QT_TRANSLATE_NOOP("RunPanel", "uploading"),
    "queue": QT_TRANSLATE_NOOP("RunPanel", "waiting for a worker"),
    "download": QT_TRANSLATE_NOOP("RunPanel", "downloading the result"),
    "split": QT_TRANSLATE_NOOP("RunPanel", "splitting"),
    "join": QT_TRANSLATE_NOOP("RunPanel", "joining"),
}
# stages with no count worth showing: their name alone, and a busy bar
BUSY_STAGES = frozenset({"upload", "queue", "download", "split", "join"})


def describe_progress(progress: Progress) -> tuple[int, str]:
    """(percent, text): "120 / 300 frames · 24.5 fps · 7 s left"; a remote run's upload, queue,
    download, split and join say only what they do ("waiting for a worker")."""

    # QCoreApplication.translate spelled out at each string: lupdate files strings under the
    # context it sees in the call, and a wrapper's would land in a context no lookup uses
    translate = QCoreApplication.translate
    percent = int(round(100 * (progress.fraction or 0.0)))
    done = f"{progress.done} / {progress.total}" if progress.total else str(progress.done)
    stage = translate("RunPanel", STAGES.get(progress.stage, progress.stage))
    if progress.stage in BUSY_STAGES:
        return 0, stage
    text = QCoreApplication.translate("RunPanel", "{0} {1}").format(done, stage)
    if progress.frames_per_second:
        fps = QCoreApplication.translate("RunPanel", " \u00b7 {0:.1f} fps")
        text += fps.format(progress.frames_per_second)
    if progress.eta_seconds is not None:
        left = QCoreApplication.translate("RunPanel", " \u00b7 {0:.0f} s left")
        text += left.format(progress.eta_seconds)
    return percent, text


class RunPanel(QWidget):
    startRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, document: JobDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.result_path: str | None = None
        self.output = QLineEdit()
        self.browse = QPushButton(self.tr("Save as\u2026"))
        self.start = QPushButton(self.tr("Start"))
        self.cancel = QPushButton(self.tr("Cancel"))
        self.show_folder = QPushButton(self.tr("Show in folder"))
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.state = QLabel()
        self.cancel.setEnabled(False)
        self.show_folder.setEnabled(False)
        path_row = QHBoxLayout()
        path_row.addWidget(QLabel(self.tr("Output")))
        path_row.addWidget(self.output, 1)
        path_row.addWidget(self.browse)
        buttons = QHBoxLayout()
        for button in (self.start, self.cancel, self.show_folder):
            buttons.addWidget(button)
        buttons.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(path_row)
        layout.addLayout(buttons)
        layout.addWidget(self.state)
        self.browse.clicked.connect(self._choose_output)
        self.output.editingFinished.connect(self._output_typed)
        self.start.clicked.connect(self.startRequested)
        self.cancel.clicked.connect(self.cancelRequested)
        self.show_folder.clicked.connect(self._show_in_folder)
        document.subscribe(self._document_changed)
        self.refresh()

    def refresh(self) -> None:
        document = self.document
        self.output.setPlaceholderText(document.default_output() or self.tr("next to the target"))
        self.output.setText(document.output_path or "")
        self.start.setEnabled(document.ready() and not self.cancel.isEnabled())

    def _document_changed(self, what: str) -> None:
        if what in (OUTPUT, TARGET) or not self.cancel.isEnabled():
            self.refresh()

    @Slot()
    def _choose_output(self) -> None:
        start = self.document.effective_output() or ""
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Save the result as"), start)
        if path:
            self.document.set_output_path(path)

    @Slot()
    def _output_typed(self) -> None:
        self.document.set_output_path(self.output.text().strip() or None)

    # ----- job states -------------------------------------------------------------------------
    def running(self, running: bool) -> None:
        self.start.setEnabled(not running and self.document.ready())
        self.cancel.setEnabled(running)
        self.progress.setRange(0, 100)  # a remote stage may have left it busy
        if running:
            self.progress.setValue(0)
            self.state.setText(self.tr("Starting\u2026"))
            self.show_folder.setEnabled(False)

    @Slot(object)
    def show_progress(self, progress: Progress) -> None:
        percent, text = describe_progress(progress)
        busy = progress.stage in BUSY_STAGES
        self.progress.setRange(0, 0 if busy else 100)
        self.progress.setValue(percent)
        self.state.setText(text)

    def finished(self, path: str | None, message: str) -> None:
        self.running(False)
        self.result_path = path
        self.show_folder.setEnabled(path is not None)
        if path is not None:
            self.progress.setValue(100)
        self.state.setText(message)
        self.refresh()

    @Slot()
    def _show_in_folder(self) -> None:
        if self.result_path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(self.result_path).parent)))
