"""The settings of remote runs: the endpoint, its key, the bucket for large files, a test.

It edits a copy of the window's RemoteChoice and, on OK, stores the keys in the SecretStore
(the system keyring, or this session's memory where there is none, which the dialog says);
the choice itself goes back to the window, which keeps it with its other settings. A key
field left blank means the environment's variable, when one is set (its placeholder says so).

"Test connection" runs on a ConnectionTest thread (remote_workers.py): the dialog stays
responsive, and closing it during a test stops the test and closes once its thread has
ended, so nothing of the dialog runs after it is gone.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..remote_check import ConnectionReport
from ..remote_choice import MAX_SEGMENTS, QUEUE_TIMEOUT_RANGE, RUNPOD, SERVER, RemoteChoice
from ..secret_store import ENVIRONMENT, RUNPOD_API_KEY, SERVER_TOKEN, STORAGE_SECRET_KEY, SecretStore
from .remote_parts import SecretField, describe_report
from .remote_workers import ConnectionTest

ERROR_STYLE = "color: #b00020;"  # the models dialog's error colour
WARNING_STYLE = "color: #9a5b00;"
GOOD_STYLE = "color: #1b6e20;"


class _Keys:
    """The keys a test uses: what the fields hold, else the environment's (as after OK)."""

    def __init__(self, values: dict[str, str | None]) -> None:
        self._values = values

    def get(self, name: str) -> str | None:
        return self._values.get(name)

    def __repr__(self) -> str:
        return "_Keys(<redacted>)"


class RemoteDialog(QDialog):
    """Edits a RemoteChoice and the keys; ``choice()`` is the result after OK."""

    def __init__(self, choice: RemoteChoice, secrets: SecretStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.secrets = secrets
        self.base = choice
        self.test: ConnectionTest | None = None
        self.report: ConnectionReport | None = None  # the last test's, for tests and the log
        self._closing: int | None = None  # the result to close with once the test has ended
        self.setWindowTitle(self.tr("Remote runs"))
        self._build()
        self._load(choice)

    # ----- view -------------------------------------------------------------------------------
    def _build(self) -> None:
        self.kind = QComboBox()
        self.kind.addItem(self.tr("RunPod"), RUNPOD)
        self.kind.addItem(self.tr("FaceDeck server"), SERVER)
        self.endpoint_id = QLineEdit()
        self.endpoint_id.setPlaceholderText(self.tr("the endpoint's id in RunPod's console"))
        self.api_key = SecretField()
        self.server_url = QLineEdit()
        self.server_url.setPlaceholderText("http://192.168.1.20:8000")
        self.token = SecretField()
        self.segments = QSpinBox()
        self.segments.setRange(1, MAX_SEGMENTS)
        self.segments.setToolTip(self.tr("A video is split into this many parts, each run on its own worker"))
        self.queue_timeout = QSpinBox()
        self.queue_timeout.setRange(int(QUEUE_TIMEOUT_RANGE[0]), int(QUEUE_TIMEOUT_RANGE[1]))
        self.queue_timeout.setSuffix(self.tr(" s"))
        self.queue_timeout.setToolTip(self.tr("Give up when no worker has taken the job after this long"))
        endpoint = QGroupBox(self.tr("Endpoint"))
        self.endpoint_form = form = QFormLayout(endpoint)
        form.addRow(self.tr("Run on"), self.kind)
        form.addRow(self.tr("Endpoint id"), self.endpoint_id)
        form.addRow(self.tr("API key"), self.api_key)
        form.addRow(self.tr("Server URL"), self.server_url)
        form.addRow(self.tr("Token"), self.token)
        form.addRow(self.tr("Video segments"), self.segments)
        form.addRow(self.tr("Wait for a worker"), self.queue_timeout)
        storage = QGroupBox(self.tr("Storage for videos and large photos (S3-compatible)"))
        self.bucket = QLineEdit()
        self.bucket.setPlaceholderText(self.tr("blank: photos only, sent in the request"))
        self.storage_endpoint = QLineEdit()
        self.storage_endpoint.setPlaceholderText(self.tr("blank: AWS S3"))
        self.region = QLineEdit()
        self.region.setPlaceholderText(self.tr("auto for Cloudflare R2"))
        self.prefix = QLineEdit()
        self.access_key_id = QLineEdit()
        self.access_key_id.setPlaceholderText(self.tr("blank: the AWS credentials of this computer"))
        self.secret_key = SecretField()
        self.keep = QCheckBox(self.tr("Keep uploaded files"))
        self.keep.setToolTip(self.tr("Leave the uploads and results in the bucket after each job"))
        files = QFormLayout(storage)
        files.addRow(self.tr("Bucket"), self.bucket)
        files.addRow(self.tr("Endpoint URL"), self.storage_endpoint)
        files.addRow(self.tr("Region"), self.region)
        files.addRow(self.tr("Prefix"), self.prefix)
        files.addRow(self.tr("Access key id"), self.access_key_id)
        files.addRow(self.tr("Secret key"), self.secret_key)
        files.addRow("", self.keep)
        self.keyring_note = QLabel()
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setStyleSheet(WARNING_STYLE)
        self.test_button = QPushButton(self.tr("Test connection"))
        self.test_button.setAutoDefault(False)
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addStretch()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setDefault(True)  # Enter, from any field
        layout = QVBoxLayout(self)
        layout.addWidget(endpoint)
        layout.addWidget(storage)
        layout.addWidget(self.keyring_note)
        layout.addLayout(test_row)
        layout.addWidget(self.outcome)  # the full width: a refusal names the endpoint and the key's variable
        layout.addWidget(self.buttons)
        self.kind.currentIndexChanged.connect(self._kind_chosen)
        self.test_button.clicked.connect(self.start_test)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)  # Esc too (QDialog's own)
        self.setMinimumWidth(600)

    def _load(self, choice: RemoteChoice) -> None:
        row = self.kind.findData(choice.where)
        self.kind.setCurrentIndex(row if row >= 0 else 0)
        self.endpoint_id.setText(choice.runpod_endpoint)
        self.server_url.setText(choice.server_url)
        self.segments.setValue(choice.segments)
        self.queue_timeout.setValue(int(round(choice.queue_timeout)))
        self.bucket.setText(choice.bucket)
        self.storage_endpoint.setText(choice.storage_endpoint)
        self.region.setText(choice.region)
        self.prefix.setText(choice.prefix)
        self.access_key_id.setText(choice.access_key_id)
        self.keep.setChecked(choice.keep_uploads)
        for name, field in self._secret_fields().items():
            field.edit.setText(self.secrets.stored(name) or "")
            variable = ENVIRONMENT.get(name)
            if variable and self.secrets.environment(name):
                field.edit.setPlaceholderText(self.tr("blank: {0} from the environment").format(variable))
        if not self.secrets.persistent:
            note = self.tr("No system keyring found: the key is kept until FaceDeck closes")
            self.keyring_note.setText(note)
        self.keyring_note.setVisible(not self.secrets.persistent)
        self._kind_chosen()

    def _secret_fields(self) -> dict[str, SecretField]:
        return {RUNPOD_API_KEY: self.api_key, SERVER_TOKEN: self.token, STORAGE_SECRET_KEY: self.secret_key}

    @Slot()
    def _kind_chosen(self) -> None:
        runpod = self.kind.currentData() == RUNPOD
        for row in (1, 2):  # endpoint id, API key
            self.endpoint_form.setRowVisible(row, runpod)
        for row in (3, 4):  # server URL, token
            self.endpoint_form.setRowVisible(row, not runpod)

    def say(self, text: str, style: str = "") -> None:
        self.outcome.setText(text)
        self.outcome.setToolTip(text)
        self.outcome.setStyleSheet(style)

    # ----- the result ---------------------------------------------------------------------------
    def choice(self) -> RemoteChoice:
        """The choice as the fields say (what Start uses after OK)."""
        return dataclasses.replace(
            self.base,
            where=str(self.kind.currentData()),
            runpod_endpoint=self.endpoint_id.text().strip(),
            server_url=self.server_url.text().strip(),
            segments=self.segments.value(),
            queue_timeout=float(self.queue_timeout.value()),
            bucket=self.bucket.text().strip(),
            storage_endpoint=self.storage_endpoint.text().strip(),
            region=self.region.text().strip(),
            prefix=self.prefix.text().strip(),
            keep_uploads=self.keep.isChecked(),
            access_key_id=self.access_key_id.text().strip(),
        )

    def keys(self) -> _Keys:
        fields = self._secret_fields().items()
        return _Keys({name: field.text() or self.secrets.environment(name) for name, field in fields})

    def accept(self) -> None:
        problem = self.choice().problem()
        if problem:
            self.say(problem, ERROR_STYLE)
            return
        for name, field in self._secret_fields().items():
            self.secrets.set(name, field.text() or None)
        super().accept()

    def done(self, result: int) -> None:
        if self.test is None:
            super().done(result)
            return
        self._closing = result  # closed once the test's thread has ended
        self.test.cancel()
        self.buttons.setEnabled(False)
        self.say(self.tr("Stopping the test\u2026"))

    # ----- the test -----------------------------------------------------------------------------
    @Slot()
    def start_test(self) -> None:
        if self.test is not None:
            return
        choice = self.choice()
        problem = choice.problem()
        if problem:
            self.say(problem, ERROR_STYLE)
            return
        self.report = None
        test = ConnectionTest(choice, self.keys())
        test.succeeded.connect(self._test_succeeded)
        test.failed.connect(self._test_failed)
        test.stopped.connect(self._test_stopped)
        self.test = test
        self.test_button.setEnabled(False)
        self.say(self.tr("Testing the connection\u2026"))
        test.start()

    def stop_test(self) -> None:
        """Stop a running test and join its thread (the window's shutdown)."""
        if self.test is not None:
            self.test.cancel()
            self.test.wait()
            self._test_ended()

    def testing(self) -> bool:
        return self.test is not None

    @Slot(object)
    def _test_succeeded(self, report: ConnectionReport) -> None:
        self.report = report
        if not self._test_ended():
            self.say(self.describe(report), GOOD_STYLE if report.ok else WARNING_STYLE)

    @Slot(str)
    def _test_failed(self, message: str) -> None:
        if not self._test_ended():
            self.say(message, ERROR_STYLE)

    @Slot()
    def _test_stopped(self) -> None:
        if not self._test_ended():
            self.say(self.tr("The test was stopped."))

    def _test_ended(self) -> bool:
        """Join the finished thread; True when the dialog is closing now."""
        test, self.test = self.test, None
        if test is not None:
            test.wait()  # run() has returned: this only joins the thread
            test.deleteLater()
        self.test_button.setEnabled(True)
        if self._closing is None:
            return False
        result, self._closing = self._closing, None
        self.buttons.setEnabled(True)
        super().done(result)
        return True

    def describe(self, report: ConnectionReport) -> str:
        """The test's outcome in one line (remote_parts.describe_report)."""
        return describe_report(report)
