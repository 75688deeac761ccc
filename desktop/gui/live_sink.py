"""The window's frame sink: processed frames cross to the GUI thread, newest only.

The loop's processing thread calls ``write``; the GUI thread takes the frame in a slot.
Between them is one slot and one signal, never a queue in the event loop: a frame that
arrives while the previous one still waits for the GUI replaces it (counted in
``not_shown``) and no second signal is sent, so a busy GUI sees fewer frames, not older
ones, and its event queue cannot grow with the camera's rate.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from ...core.live.types import LiveFrame, SourceInfo


class WindowSink(QObject):
    """A FrameSink whose frames are taken on the GUI thread after ``frameWaiting``."""

    frameWaiting = Signal()  # emitted from the loop's thread; connect a slot of a GUI-thread QObject

    name = "window"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._frame: LiveFrame | None = None
        self.received = 0  # frames the loop delivered
        self.not_shown = 0  # frames replaced before the GUI took them

    # ----- FrameSink (the loop's processing thread) ---------------------------------------
    def start(self, info: SourceInfo) -> None:
        with self._lock:
            self._frame = None

    def write(self, frame: LiveFrame) -> None:
        with self._lock:
            waiting = self._frame is not None
            self._frame = frame
            self.received += 1
            if waiting:
                self.not_shown += 1
        if not waiting:  # the signal already sent will pick this newer frame up
            self.frameWaiting.emit()

    def stop(self) -> None:
        """Nothing to finish: the last frame stays for the GUI to show."""

    def abort(self) -> None:
        with self._lock:
            self._frame = None

    # ----- the GUI thread ---------------------------------------------------------------------
    def take(self) -> LiveFrame | None:
        """The newest frame, if one waits; the slot is empty afterwards."""
        with self._lock:
            frame, self._frame = self._frame, None
        return frame
