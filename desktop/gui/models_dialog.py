"""The models dialog: what the manifest lists and its state here; download, import, verify.

The store (core) is the model: the table shows ``ModelStore.states()`` and is rebuilt from it
after every change, never edited by hand. Downloads, imports and re-hashing run in
``model_workers`` tasks; this dialog starts them, shows their progress, and asks the
questions (licences before the first download, trust for a file that differs from its pin)
through a ``ModelPrompts`` object that tests replace. ``models_changed`` tells the window to
look at the store again.

Closing the dialog while a task runs cancels it (a download keeps its ``.part``, so the next
one resumes) and closes the dialog once the task's thread has ended: when ``exec()`` returns,
nothing of the dialog is still running, and the GUI never blocks waiting for it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core.models.download import DownloadProgress
from ...core.models.download_errors import HostUnreachableError
from ...core.models.fetch import DownloadOutcome, DownloadStatus
from ...core.models.importer import ImportReport, ImportStatus, identify
from ...core.models.manifest import ModelSpec
from ...core.models.store import ModelState, ModelStatus, ModelStore
from ..errors import cli_message
from ..headless.models_cmd import MIRROR_ENV
from ..headless.progress import human_bytes, human_duration
from .consent import ensure_terms
from .model_prompts import DialogPrompts, ModelPrompts
from .model_workers import DownloadTask, ImportRequest, ImportTask, ModelTask, VerifyTask
from .models_table import ModelsTable

log = logging.getLogger(__name__)

_READY = (ModelStatus.VERIFIED, ModelStatus.TRUSTED)
_PERMILLE = 1000  # the progress bar counts thousandths: byte counts overflow Qt's int


class ModelsDialog(QDialog):
    models_changed = Signal()

    def __init__(
        self,
        store: ModelStore,
        parent: QWidget | None = None,
        *,
        prompts: ModelPrompts | None = None,
        start_folder: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.prompts: ModelPrompts = prompts or DialogPrompts()
        self.start_folder = start_folder  # where the import dialogs open
        self.task: ModelTask | None = None
        self.states: dict[str, ModelState] = {}
        self._import: ImportRequest | None = None
        self._mismatches: list = []
        self._failures: list[str] = []
        self._fetched = 0
        self._statuses: dict[str, ModelStatus] = {}  # before a verification
        self.last_progress: DownloadProgress | None = None  # the newest report shown
        self._closing: int | None = None  # the result to close with once the task has ended
        self.setWindowTitle(self.tr("Models"))
        self.resize(820, 420)
        self._build()
        self.refresh()

    # ----- view -----------------------------------------------------------------------------
    def _build(self) -> None:
        folder = QLabel(self.tr("Models folder: {folder}").format(folder=self.store.directory))
        folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = ModelsTable()
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.download_selected_button = QPushButton(self.tr("Download selected"))
        self.download_missing_button = QPushButton(self.tr("Download missing"))
        self.import_file_button = QPushButton(self.tr("Import file…"))
        self.import_folder_button = QPushButton(self.tr("Import folder…"))
        self.verify_button = QPushButton(self.tr("Verify"))
        self.verify_button.setToolTip(self.tr("Check every model file against its published SHA-256"))
        self.download_selected_button.clicked.connect(self.download_selected)
        self.download_missing_button.clicked.connect(self.download_missing)
        self.import_file_button.clicked.connect(self.import_file)
        self.import_folder_button.clicked.connect(self.import_folder)
        self.verify_button.clicked.connect(self.verify)
        actions = QHBoxLayout()
        self.action_buttons = [
            self.download_selected_button,
            self.download_missing_button,
            self.import_file_button,
            self.import_folder_button,
            self.verify_button,
        ]
        for button in self.action_buttons:
            actions.addWidget(button)
        actions.addStretch(1)

        self.progress_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, _PERMILLE)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress_bar, 1)
        progress_row.addWidget(self.cancel_button)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        for widget in (folder, self.table):
            layout.addWidget(widget)
        layout.addLayout(actions)
        layout.addWidget(self.progress_label)
        layout.addLayout(progress_row)
        layout.addWidget(self.message)
        layout.addWidget(close)
        self._set_busy(False)

    @Slot()
    def refresh(self) -> None:
        """Rebuild the table from the store (remembered hashes only: nothing is read here)."""
        states = self.store.states()
        self.states = {state.spec.id: state for state in states}
        self.table.show_states(states, self.store.manifest)
        self._update_buttons()

    def selected_specs(self) -> list[ModelSpec]:
        return [self.store.manifest.models[name] for name in self.table.selected_ids()]

    def missing_defaults(self) -> list[ModelSpec]:
        return [
            spec
            for spec in self.store.manifest.defaults()
            if spec.id not in self.states or self.states[spec.id].status not in _READY
        ]

    def _update_buttons(self) -> None:
        busy = self.task is not None
        for button in self.action_buttons:
            button.setEnabled(not busy)
        self.download_selected_button.setEnabled(not busy and bool(self.selected_specs()))
        self.download_missing_button.setEnabled(not busy and bool(self.missing_defaults()))

    def _set_busy(self, busy: bool, what: str = "") -> None:
        self.progress_label.setText(what)
        self.progress_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        self._update_buttons()

    def say(self, text: str, *, error: bool = False) -> None:
        """The dialog's one line of news (errors as the CLI words them)."""
        self.message.setText(text)
        self.message.setStyleSheet("color: #b00020;" if error else "")
        if error:
            log.warning("%s", text)

    # ----- tasks ----------------------------------------------------------------------------
    def _start(self, task: ModelTask, what: str) -> None:
        self.task = task
        self.say("")
        task.failed.connect(self._on_failed)
        task.ended.connect(self._on_ended)
        self.progress_bar.setRange(0, 0)  # busy until the first progress report
        self._set_busy(True, what)
        task.start()

    @Slot()
    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText(self.tr("Cancelling…"))

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Cancel the running task and wait for its thread (the window calls this on exit)."""
        return self.task is None or self.task.stop(timeout_ms)

    def done(self, result: int) -> None:
        if self.task is None:
            super().done(result)
            return
        # a download or verification stops at its next chunk or file, an import once copied
        self._closing = result
        self.cancel()

    @Slot(str)
    def _on_failed(self, line: str) -> None:
        self.say(line, error=True)

    @Slot(bool)
    def _on_ended(self, cancelled: bool) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.wait()  # run() has returned: this only joins the thread
        self._set_busy(False)
        self.refresh()
        if self._closing is not None:
            result, self._closing = self._closing, None
            if isinstance(task, DownloadTask) and self._fetched:
                self.models_changed.emit()  # models that arrived before the close count
            super().done(result)
            return
        if isinstance(task, DownloadTask):
            self._download_ended(task, cancelled)
        elif isinstance(task, ImportTask):
            self._import_ended(task)
        elif isinstance(task, VerifyTask):
            self._verify_ended(cancelled)
        if cancelled and not isinstance(task, DownloadTask):
            self.say(self.tr("Stopped."))

    # ----- downloads ------------------------------------------------------------------------
    @Slot()
    def download_selected(self) -> None:
        self.download(self.selected_specs())

    @Slot()
    def download_missing(self) -> None:
        self.download(self.missing_defaults())

    def download(self, specs: Sequence[ModelSpec]) -> None:
        """Download ``specs`` after the licence and consent confirmation (asked once per licence)."""
        if self.task is not None or not specs:
            return
        if not ensure_terms(self, self.store, specs, ask=self.prompts.accept_terms):
            self.say(self.tr("Licence terms not accepted; nothing was downloaded."))
            return
        task = DownloadTask(self.store, specs, mirror=os.environ.get(MIRROR_ENV) or None)
        task.progress.connect(self._on_progress)
        task.outcome.connect(self._on_outcome)
        self._failures, self._fetched = [], 0
        self._start(task, self.tr("Downloading…"))

    @Slot(DownloadProgress)
    def _on_progress(self, update: DownloadProgress) -> None:
        if self.task is None or self.task.cancel_event.is_set():
            return
        self.last_progress = update
        if update.total:
            self.progress_bar.setRange(0, _PERMILLE)
            self.progress_bar.setValue(min(_PERMILLE, update.received * _PERMILLE // update.total))
            amount = self.tr("{received} of {total}").format(
                received=human_bytes(update.received), total=human_bytes(update.total)
            )
        else:
            amount = human_bytes(update.received)
        self.progress_label.setText(
            self.tr("{file}: {amount}, {rate}/s, {eta} left").format(
                file=update.file_name,
                amount=amount,
                rate=human_bytes(update.bytes_per_second),
                eta=human_duration(update.eta_seconds),
            )
        )

    @Slot(DownloadOutcome)
    def _on_outcome(self, outcome: DownloadOutcome) -> None:
        if outcome.status is DownloadStatus.DOWNLOADED:
            self._fetched += 1
        elif outcome.status is DownloadStatus.FAILED and outcome.error is not None:
            error = outcome.error
            why = "; ".join(error.reasons) if isinstance(error, HostUnreachableError) else cli_message(error)
            self._failures.append(f"{outcome.spec.id}: {why}")
        self.refresh()

    def _download_ended(self, task: DownloadTask, cancelled: bool) -> None:
        if self._fetched:
            self.models_changed.emit()
        if cancelled:
            self.say(self.tr("Download cancelled. What has arrived is kept; the next download resumes it."))
        elif self._failures:
            self.say(
                self.tr("{failed} of {total} model(s) not downloaded: {reasons}").format(
                    failed=len(self._failures), total=len(task.specs), reasons="; ".join(self._failures)
                ),
                error=True,
            )
        elif not self.message.text():
            self.say(self.tr("All requested models are downloaded and verified."))

    # ----- imports --------------------------------------------------------------------------
    @Slot()
    def import_file(self) -> None:
        path = self.prompts.import_file(self, self.start_folder)
        if path is None:
            return
        model = None
        if path.suffix.lower() != ".zip" and identify(self.store.manifest, path.name) is None:
            specs = list(self.store.manifest.models.values())
            model = self.prompts.choose_model(self, path, specs)
            if model is None:
                return
        self.start_import(ImportRequest(path, model))

    @Slot()
    def import_folder(self) -> None:
        path = self.prompts.import_folder(self, self.start_folder)
        if path is not None:
            self.start_import(ImportRequest(path))

    def start_import(self, request: ImportRequest) -> None:
        if self.task is not None:
            return
        self.start_folder = request.path if request.path.is_dir() else request.path.parent
        self._import, self._mismatches = request, []
        task = ImportTask(self.store, request)
        task.imported.connect(self._on_imported)
        self._start(task, self.tr("Importing {path}…").format(path=request.path))

    @Slot(ImportReport)
    def _on_imported(self, report: ImportReport) -> None:
        self._mismatches = [outcome for outcome in report.outcomes if outcome.status is ImportStatus.MISMATCH]
        imported = (ImportStatus.VERIFIED, ImportStatus.TRUSTED)
        if any(outcome.status in imported for outcome in report.outcomes):
            self.models_changed.emit()
        self.say(self._import_summary(report), error=_has_problem(report))

    def _import_ended(self, task: ImportTask) -> None:
        request = task.request
        mismatches, self._mismatches = self._mismatches, []
        # the trust question only while the user is looking: a closed dialog just reports
        if mismatches and not request.trust and self.isVisible():
            if self.prompts.trust(self, mismatches):
                self.start_import(dataclasses.replace(request, trust=True))

    def _import_summary(self, report: ImportReport) -> str:
        counts = {status: 0 for status in ImportStatus}
        for outcome in report.outcomes:
            counts[outcome.status] += 1
        if not any(outcome.model for outcome in report.outcomes) and not counts[ImportStatus.FAILED]:
            path = self._import.path if self._import else ""
            return self.tr("Found no model file FaceDeck knows in {path}.").format(path=path)
        parts = [
            (ImportStatus.VERIFIED, self.tr("{n} imported and verified")),
            (ImportStatus.TRUSTED, self.tr("{n} imported as trusted")),
            (ImportStatus.PRESENT, self.tr("{n} already present")),
            (ImportStatus.MISMATCH, self.tr("{n} not imported (not the published file)")),
            (ImportStatus.FAILED, self.tr("{n} failed")),
        ]
        shown = [text.format(n=counts[status]) for status, text in parts if counts[status]]
        failed = [o for o in report.outcomes if o.status is ImportStatus.FAILED]
        if failed:
            shown.append(f"{failed[0].source}: {failed[0].detail}")
        return "; ".join(shown) if shown else self.tr("Nothing to import.")

    # ----- verification ---------------------------------------------------------------------
    @Slot()
    def verify(self) -> None:
        if self.task is None:
            self._statuses = {name: state.status for name, state in self.states.items()}
            task = VerifyTask(self.store)
            task.state.connect(self.refresh)
            self._start(task, self.tr("Checking the model files…"))

    def _verify_ended(self, cancelled: bool) -> None:
        if {name: state.status for name, state in self.states.items()} != self._statuses:
            self.models_changed.emit()  # a file found corrupt, or checked at last
        if not cancelled and not self.message.text():
            self.say(self.tr("Every model file present was checked against its published SHA-256."))


def _has_problem(report: ImportReport) -> bool:
    return any(outcome.status in (ImportStatus.MISMATCH, ImportStatus.FAILED) for outcome in report.outcomes)
