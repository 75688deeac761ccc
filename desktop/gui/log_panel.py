"""The log panel (a dock at the bottom, hidden until asked for) and the status bar's error line.

Records come from any thread: the engine, the preview and the job log from their workers.
The handler only formats the record and emits a signal of a QObject that lives on the GUI
thread; Qt queues the call to the panel's slot, so the widget is touched on the GUI thread
alone (a bare lambda would run in the worker's thread, DESIGN.md section 10).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

LOGGER = "facedeck"
MAX_LINES = 2000  # older lines scroll away: the file keeps them
DEFAULT_LEVEL = logging.WARNING
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
TIME_FORMAT = "%H:%M:%S"


class _Relay(QObject):
    """Carries formatted records to the GUI thread (created there, so it lives there)."""

    line = Signal(str)


class PanelHandler(logging.Handler):
    """A logging handler that hands each formatted record to the GUI thread by a signal."""

    def __init__(self, level: int = DEFAULT_LEVEL) -> None:
        super().__init__(level)
        self.setFormatter(logging.Formatter(FORMAT, TIME_FORMAT))
        self.relay: _Relay | None = _Relay()

    def emit(self, record: logging.LogRecord) -> None:
        # runs in the logging thread, under the handler's lock (see close)
        if self.relay is None:
            return
        try:
            text = self.format(record)
        except (TypeError, ValueError):  # a bad format string in a log call: logging's own report
            self.handleError(record)
            return
        self.relay.line.emit(text)

    def close(self) -> None:
        # under the lock, so no worker is half-way through emit when the relay goes
        with self.lock:
            self.relay = None
        super().close()


class LogPanel(QDockWidget):
    """The ``facedeck`` logger's records, WARNING and up unless details are asked for."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Log"), parent)
        self.setObjectName("log")  # QMainWindow.saveState() names docks by it
        self.log_file: Path | None = None
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_LINES)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlaceholderText(self.tr("Warnings and errors appear here."))
        self.debug = QCheckBox(self.tr("Show details (debug)"))
        self.clear_button = QPushButton(self.tr("Clear"))
        self.open_file_button = QPushButton(self.tr("Open log file"))
        self.set_log_file(None)
        bar = QHBoxLayout()
        bar.addWidget(self.debug)
        bar.addStretch()
        bar.addWidget(self.clear_button)
        bar.addWidget(self.open_file_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 2, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.text, 1)
        self.setWidget(body)
        self.debug.toggled.connect(self._debug_toggled)
        self.clear_button.clicked.connect(self.text.clear)
        self.open_file_button.clicked.connect(self._open_file)
        handler = PanelHandler()
        assert handler.relay is not None  # a new handler has its relay
        handler.relay.line.connect(self._append)
        self.handler: PanelHandler | None = handler
        self._level_before: int | None = None  # the logger's level before details were shown
        logging.getLogger(LOGGER).addHandler(handler)

    def set_log_file(self, path: Path | None) -> None:
        self.log_file = path
        self.open_file_button.setEnabled(path is not None)
        self.open_file_button.setToolTip(str(path) if path else self.tr("No log file in this session"))

    def lines(self) -> list[str]:
        return self.text.toPlainText().splitlines()

    @Slot()
    def show_panel(self) -> None:
        self.show()
        self.raise_()

    @Slot(str)
    def _append(self, line: str) -> None:
        self.text.appendPlainText(line)

    @Slot(bool)
    def _debug_toggled(self, on: bool) -> None:
        if self.handler is None:
            return
        logger = logging.getLogger(LOGGER)
        if on:
            self._level_before = logger.level
            # the logger itself must let debug records through for the handler to see them
            logger.setLevel(logging.DEBUG)
            self.handler.setLevel(logging.DEBUG)
        else:
            self._restore_level()
            self.handler.setLevel(DEFAULT_LEVEL)

    def _restore_level(self) -> None:
        if self._level_before is not None:
            logging.getLogger(LOGGER).setLevel(self._level_before)
            self._level_before = None

    @Slot()
    def _open_file(self) -> None:
        if self.log_file is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.log_file)))

    def detach(self) -> None:
        """Stop listening to the logger (the window's shutdown); safe to call twice."""
        if self.handler is None:
            return
        logging.getLogger(LOGGER).removeHandler(self.handler)
        self.handler.close()
        self.handler = None
        self._restore_level()


class ErrorLine(QWidget):
    """The status bar's last error in one line, and a "Details" button that opens the log."""

    detailsRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QToolButton()
        self.details.setText(self.tr("Details"))
        self.details.setToolTip(self.tr("Show the log"))
        self.details.setAutoRaise(True)
        # flat in the status bar, it reads as text: the hand says it can be clicked
        self.details.setCursor(Qt.CursorShape.PointingHandCursor)
        self.details.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.details)
        layout.addStretch()
        self.details.clicked.connect(self.detailsRequested)

    def show_message(self, line: str, limit: int = 160) -> None:
        self.label.setText(line if len(line) <= limit else line[: limit - 3] + "\u2026")
        self.label.setToolTip(line)
        self.details.show()

    @Slot()
    def clear(self) -> None:
        self.label.clear()
        self.label.setToolTip("")
        self.details.hide()
