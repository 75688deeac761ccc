"""Where the window's jobs run: the "Run on" combo, its settings dialog, the status bar's label.

The JobController holds the RemoteChoice that Start uses; this controller keeps the combo,
the label and that choice in step. Picking RunPod or a FaceDeck server that has no endpoint
yet opens the settings dialog; cancelling it goes back to where jobs ran before. The dialog
is opened window-modal with ``open()`` (not ``exec()``), so the window keeps painting and
the window's shutdown can stop a connection test still running in it.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QDialog, QLabel, QWidget

from ..remote_choice import LOCAL, RUNPOD, RemoteChoice
from .controllers import JobController
from .remote_dialog import RemoteDialog
from .target_panel import TargetPanel


class RunOnController(QObject):
    def __init__(
        self,
        panel: TargetPanel,
        jobs: JobController,
        label: QLabel,
        provider: str,
        window: QWidget,
    ) -> None:
        super().__init__(window)
        self.panel = panel
        self.jobs = jobs
        self.label = label
        self.provider = provider  # the local provider, what previews (and local jobs) use
        self.window = window
        self.dialog: RemoteDialog | None = None
        panel.runOnChosen.connect(self._chosen)
        panel.remoteSettingsRequested.connect(self.open_settings)
        self.set_choice(jobs.choice)

    @property
    def choice(self) -> RemoteChoice:
        return self.jobs.choice

    def set_choice(self, choice: RemoteChoice) -> None:
        self.jobs.choice = choice  # the next Start runs there; a running job keeps its place
        self.panel.set_run_on(choice.where)
        self.label.setText(self.describe(choice))

    def describe(self, choice: RemoteChoice) -> str:
        """The status bar's words for where jobs run."""
        if choice.where == LOCAL:
            return self.tr("Provider: {0}").format(self.provider)
        if choice.where == RUNPOD:
            return self.tr("Jobs run on RunPod endpoint {0}").format(choice.runpod_endpoint or "?")
        return self.tr("Jobs run on the FaceDeck server at {0}").format(choice.server_url or "?")

    @Slot(str)
    def _chosen(self, where: str) -> None:
        choice = dataclasses.replace(self.choice, where=where)
        if choice.remote and choice.problem():
            self.open_settings(where)  # not set up yet: the dialog first
        else:
            self.set_choice(choice)

    @Slot()
    def open_settings(self, where: str | None = None) -> None:
        """The settings dialog for ``where`` (default: where jobs run now, RunPod if here)."""
        if self.dialog is not None:
            self.dialog.raise_()
            return
        where = where or (self.choice.where if self.choice.remote else RUNPOD)
        shown = dataclasses.replace(self.choice, where=where)
        self.dialog = RemoteDialog(shown, self.jobs.secrets, self.window)
        self.dialog.finished.connect(self._closed)
        self.dialog.open()

    @Slot(int)
    def _closed(self, result: int) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is None:
            return
        if result == QDialog.DialogCode.Accepted:
            self.set_choice(dialog.choice())
        else:
            self.panel.set_run_on(self.choice.where)  # a pick the dialog did not confirm is undone
        dialog.deleteLater()

    def shutdown(self) -> None:
        """Stop a connection test still running in an open dialog and close it."""
        if self.dialog is not None:
            self.dialog.stop_test()
            self.dialog.reject()
