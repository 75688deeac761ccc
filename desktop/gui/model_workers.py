"""The models dialog's work off the GUI thread: downloads, imports and re-hashing.

Each task is a QThread whose ``run`` calls the core (``ModelStore.download``,
``importer.import_path``, ``ModelStore.state``) and emits typed signals; the dialog's slots
receive them on the GUI thread. Sizes travel inside the core's dataclasses, never as a
Qt ``int`` (32 bits: a 3 GB file would overflow it).

A task that is still running when its dialog goes away stays referenced in ``_running`` until
its thread ends, so Python never collects a running QThread (which aborts the process).
``stop_all`` cancels and joins them when the application quits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QThread, Signal, Slot

from ...core.errors import FaceDeckError, JobCancelled
from ...core.models.download import DownloadProgress
from ...core.models.fetch import DownloadOutcome
from ...core.models.import_copy import mismatch_detail
from ...core.models.importer import ImportOutcome, ImportReport, ImportStatus, import_path
from ...core.models.manifest import ModelSpec
from ...core.models.store import ImportMismatchError, ModelState, ModelStatus, ModelStore
from ..errors import cli_message

log = logging.getLogger(__name__)

_running: set[ModelTask] = set()


@dataclass(frozen=True)
class ImportRequest:
    """What to import: a file, folder or pack zip; ``model`` names the model a file is."""

    path: Path
    model: str | None = None
    trust: bool = False


class ModelTask(QThread):
    """One piece of model work. Ends with ``ended(cancelled)``, after ``failed(line)`` on an error."""

    failed = Signal(str)  # the one-line message the CLI would print
    ended = Signal(bool)  # True when cancelled

    def __init__(self, store: ModelStore) -> None:
        super().__init__()
        self.store = store
        self.cancel_event = threading.Event()

    def start(self) -> None:  # type: ignore[override]  # always the default priority
        _running.add(self)
        self.finished.connect(self._forget)
        super().start()

    def cancel(self) -> None:
        self.cancel_event.set()

    def stop(self, timeout_ms: int = 60_000) -> bool:
        """Cancel and join; False when the thread is still running after ``timeout_ms``."""
        self.cancel_event.set()
        stopped = self.wait(timeout_ms)
        if stopped:
            _running.discard(self)
        return stopped

    @Slot()
    def _forget(self) -> None:
        # finished is delivered to the GUI thread (this object lives there) once run returned
        self.wait()
        _running.discard(self)

    def run(self) -> None:
        cancelled = False
        try:
            self.work()
        except JobCancelled:
            cancelled = True
        except FaceDeckError as error:
            self.failed.emit(cli_message(error))
        except Exception as error:  # noqa: BLE001 - the task thread's boundary: logged and shown, never a silent dead worker
            log.exception("%s failed", type(self).__name__)
            self.failed.emit(f"internal error: {type(error).__name__}: {error}")
        self.ended.emit(cancelled or self.cancel_event.is_set())

    def work(self) -> None:  # pragma: no cover - subclasses
        raise NotImplementedError


class DownloadTask(ModelTask):
    """Downloads ``specs`` through the core's resumable, verified download."""

    progress = Signal(DownloadProgress)
    outcome = Signal(DownloadOutcome)

    def __init__(self, store: ModelStore, specs: Sequence[ModelSpec], mirror: str | None = None) -> None:
        super().__init__(store)
        self.specs = list(specs)
        self.mirror = mirror

    def work(self) -> None:
        self.store.download(
            self.specs,
            progress=self.progress.emit,
            mirror=self.mirror,
            cancel=self.cancel_event,
            on_outcome=self.outcome.emit,
        )


class ImportTask(ModelTask):
    """Copies a file, a folder's model files or a pack zip into the store, checking each pin."""

    imported = Signal(ImportReport)

    def __init__(self, store: ModelStore, request: ImportRequest) -> None:
        super().__init__(store)
        self.request = request

    def work(self) -> None:
        request = self.request
        if request.model is None:
            self.imported.emit(import_path(self.store, request.path, trust=request.trust))
            return
        source = str(request.path)
        (spec,) = self.store.manifest.resolve([request.model])
        try:
            state = self.store.import_file(spec.id, request.path, trust=request.trust)
        except ImportMismatchError as error:
            outcome = ImportOutcome(source, ImportStatus.MISMATCH, spec.id, mismatch_detail(spec, error))
        else:
            status = ImportStatus.VERIFIED if state.status is ModelStatus.VERIFIED else ImportStatus.TRUSTED
            outcome = ImportOutcome(source, status, spec.id, str(state.path))
        self.imported.emit(ImportReport([outcome]))


class VerifyTask(ModelTask):
    """Re-hashes every model file present (cancel is seen between files)."""

    state = Signal(ModelState)

    def work(self) -> None:
        for spec in self.store.manifest.models.values():
            if self.cancel_event.is_set():
                raise JobCancelled("verification cancelled")
            self.state.emit(self.store.state(spec, rehash=True))


def running_tasks() -> list[ModelTask]:
    return list(_running)


def stop_all(timeout_ms: int = 60_000) -> bool:
    """Cancel and join every model task still running (at application exit); False if one would not end."""
    return all(task.stop(timeout_ms) for task in list(_running))
