"""The settings dialog's "Test connection", off the GUI thread.

A QThread like the job worker (workers.py): ``run`` calls remote_check.check_connection and
emits a typed signal; the dialog's slots receive it on the GUI thread. A threading.Event
stops the health job's wait within a poll; the dialog closes once the thread has ended.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from PySide6.QtCore import QThread, Signal

from ...core.errors import FaceDeckError, JobCancelled
from ..errors import cli_message
from ..remote_check import check_connection
from ..remote_choice import RemoteChoice, SecretSource

log = logging.getLogger(__name__)


class ConnectionTest(QThread):
    """Tests one choice with the keys given; one of the three signals when it ends."""

    succeeded = Signal(object)  # remote_check.ConnectionReport
    failed = Signal(str)  # one sentence, never a key
    stopped = Signal()

    def __init__(self, choice: RemoteChoice, secrets: SecretSource, parent: Any = None) -> None:
        super().__init__(parent)
        self.choice = choice
        self.secrets = secrets
        self.cancel_event = threading.Event()

    def cancel(self) -> None:
        self.cancel_event.set()

    def run(self) -> None:
        try:
            report = check_connection(self.choice, self.secrets, self.cancel_event)
        except JobCancelled:
            self.stopped.emit()
        except FaceDeckError as error:
            self.failed.emit(cli_message(error))
        except Exception as error:  # noqa: BLE001 - the thread's boundary: logged and shown, never a dead thread
            log.exception("the connection test failed")
            self.failed.emit(f"internal error: {type(error).__name__}")
        else:
            self.succeeded.emit(report)
