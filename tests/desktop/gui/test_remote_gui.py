"""The window's remote runs: "Run on", the settings dialog, Test connection and Start, against
a real ``facedeck --headless serve`` process on 127.0.0.1 (started once for this module, on the
window tests' stand-in models) and moto's S3 server for videos.

Keys go to an in-memory keyring backend (tests/support/keyrings.py), never the developer's;
every test checks in its own way that a key reaches no settings file, log line or message.
"""

from __future__ import annotations

import logging
import re

import cv2
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from facedeck.core.media.metadata import DIGITAL_SOURCE_TYPE
from facedeck.desktop.gui import window_settings
from facedeck.desktop.gui.remote_dialog import RemoteDialog
from facedeck.desktop.gui.settings import AppSettings
from facedeck.desktop.remote_choice import LOCAL, RUNPOD, SERVER, RemoteChoice
from facedeck.desktop.secret_store import (
    RUNPOD_API_KEY,
    SERVER_TOKEN,
    SERVICE,
    STORAGE_SECRET_KEY,
    SecretStore,
)
from tests.desktop.gui.test_main_window import WAIT_MS, load
from tests.desktop.gui.test_window_jobs import start
from tests.remote.server_support import standin_server
from tests.support.keyrings import MemoryKeyring, installed
from tests.support.s3_server import ACCESS_KEY, REGION, SECRET_KEY, S3Server

TOKEN = "tok-gui-7d1e4b9a0c3f5e62"  # long enough that finding it in a log is no accident
RUNPOD_KEY = "rpa_gui_0f3c9e1a7b5d2468"


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    """An in-memory system keyring, and no keys from the developer's environment."""
    monkeypatch.delenv("RUNPOD_API_KEY", raising=False)
    monkeypatch.delenv("FACEDECK_SERVER_TOKEN", raising=False)
    with installed(MemoryKeyring()) as backend:
        yield backend


@pytest.fixture(scope="module")
def server(gui_workspace, tmp_path_factory):
    root = tmp_path_factory.mktemp("gui-server")
    # endpoint: the id the window's client uses for a server
    process = standin_server(gui_workspace["models"], root / "server.log", TOKEN, endpoint="facedeck")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def s3():
    with S3Server() as s3_server:
        yield s3_server


def server_choice(server, **fields) -> RemoteChoice:
    return RemoteChoice(where=SERVER, server_url=server.url, **fields)


def open_dialog(qtbot, choice: RemoteChoice, secrets: SecretStore) -> RemoteDialog:
    dialog = RemoteDialog(choice, secrets)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def run_test(dialog: RemoteDialog, qtbot) -> str:
    """Press Test connection; the outcome line once the test's thread has ended."""
    dialog.test_button.click()
    # the click returned at once: the test runs on its thread, the GUI thread is free
    assert dialog.testing() and dialog.test.isRunning()
    assert dialog.outcome.text() == "Testing the connection\u2026"
    assert not dialog.test_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.testing(), timeout=WAIT_MS)
    assert dialog.test_button.isEnabled()
    return dialog.outcome.text()


# ----- settings and keys -------------------------------------------------------------------------
def test_the_choice_round_trips_through_settings_and_no_key_is_written(make_window, tmp_path, keys):
    window = make_window(None)
    window.secrets.set(RUNPOD_API_KEY, RUNPOD_KEY)
    window.secrets.set(STORAGE_SECRET_KEY, SECRET_KEY)
    choice = RemoteChoice(
        where=RUNPOD,
        runpod_endpoint="abc123",
        segments=4,
        queue_timeout=120.0,
        bucket="clips",
        storage_endpoint="https://acct.r2.cloudflarestorage.com",
        region="auto",
        prefix="swaps/",
        keep_uploads=True,
        access_key_id=ACCESS_KEY,
    )
    window.run_on.set_choice(choice)
    assert window.target_panel.run_on.currentText() == "RunPod"
    assert window.provider_label.text() == "Jobs run on RunPod endpoint abc123"
    path = tmp_path / "window.ini"
    window_settings.save(window, AppSettings(path))
    text = path.read_text(encoding="utf-8")
    assert "abc123" in text and "acct.r2.cloudflarestorage.com" in text
    assert RUNPOD_KEY not in text and SECRET_KEY not in text  # the keys are in the keyring
    assert keys.passwords[(SERVICE, RUNPOD_API_KEY)] == RUNPOD_KEY

    again = make_window(None)
    window_settings.restore(again, AppSettings(path))
    assert again.run_on.choice == choice and again.jobs.choice == choice
    assert again.target_panel.run_on.currentText() == "RunPod"


def test_a_damaged_remote_setting_falls_back_to_its_default(qapp, tmp_path, caplog):
    path = tmp_path / "window.ini"
    settings = AppSettings(path)
    settings.set_remote_choice(RemoteChoice(where=SERVER, server_url="http://10.0.0.2:8000", segments=2))
    settings.save()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('\\"segments\\": 2', '\\"segments\\": 99'), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        fields = AppSettings(path).remote_choice()
    assert RemoteChoice.from_fields(fields) == RemoteChoice(where=SERVER, server_url="http://10.0.0.2:8000")
    assert "ignoring remote setting segments=99" in caplog.text

    AppSettings(path).qsettings.setValue("remote/choice", "{not json")
    assert RemoteChoice.from_fields(AppSettings(path).remote_choice()) == RemoteChoice()


def test_ok_stores_the_keys_in_the_keyring_and_enter_is_ok(qtbot, keys):
    secrets = SecretStore(environ={})
    dialog = open_dialog(qtbot, RemoteChoice(), secrets)
    assert dialog.kind.currentData() == RUNPOD  # "This computer" opens on RunPod
    assert not dialog.keyring_note.isVisibleTo(dialog)
    assert dialog.api_key.edit.echoMode() == dialog.api_key.edit.EchoMode.Password
    dialog.api_key.show_button.click()
    assert dialog.api_key.edit.echoMode() == dialog.api_key.edit.EchoMode.Normal
    qtbot.keyClicks(dialog.endpoint_id, "abc123")
    qtbot.keyClicks(dialog.api_key.edit, RUNPOD_KEY)
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(dialog.api_key.edit, Qt.Key.Key_Return)
    assert dialog.choice() == RemoteChoice(where=RUNPOD, runpod_endpoint="abc123")
    assert keys.passwords == {(SERVICE, RUNPOD_API_KEY): RUNPOD_KEY}
    assert SecretStore(environ={}).get(RUNPOD_API_KEY) == RUNPOD_KEY  # the next session has it


def test_esc_closes_without_storing_and_a_bad_url_keeps_the_dialog_open(qtbot, keys):
    secrets = SecretStore(environ={})
    dialog = open_dialog(qtbot, RemoteChoice(where=SERVER), secrets)
    qtbot.keyClicks(dialog.server_url, "http://user:pw@10.0.0.2:8000")
    qtbot.keyClicks(dialog.token.edit, TOKEN)
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert dialog.isVisible() and dialog.outcome.text() == (
        "the server URL must not hold a user name or password"
    )
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert keys.passwords == {}


def test_without_a_keyring_the_dialog_says_the_key_lasts_for_the_session(qtbot):
    with installed(fail.Keyring()):
        secrets = SecretStore(environ={"FACEDECK_SERVER_TOKEN": TOKEN})
        dialog = open_dialog(qtbot, RemoteChoice(where=SERVER, server_url="http://127.0.0.1:9"), secrets)
        assert dialog.keyring_note.isVisibleTo(dialog)
        assert dialog.keyring_note.text() == "No system keyring found: the key is kept until FaceDeck closes"
        # the environment's token is used, not shown
        assert dialog.token.edit.text() == ""
        assert dialog.token.edit.placeholderText() == "blank: FACEDECK_SERVER_TOKEN from the environment"
        qtbot.keyClicks(dialog.api_key.edit, RUNPOD_KEY)
        dialog.kind.setCurrentIndex(dialog.kind.findData(RUNPOD))
        qtbot.keyClicks(dialog.endpoint_id, "abc")
        dialog.accept()
        assert secrets.get(RUNPOD_API_KEY) == RUNPOD_KEY and not secrets.persistent
        assert SecretStore(environ={}).get(RUNPOD_API_KEY) is None  # nothing outlives the session


# ----- Test connection ----------------------------------------------------------------------------
def test_test_connection_shows_the_workers_ok_status(qtbot, server, caplog):
    secrets = SecretStore(environ={})
    dialog = open_dialog(qtbot, server_choice(server), secrets)
    qtbot.keyClicks(dialog.token.edit, TOKEN)
    with caplog.at_level(logging.DEBUG, logger="facedeck"):
        outcome = run_test(dialog, qtbot)
    assert re.fullmatch(
        r"Connected · workers: 1 idle, 0 running · worker ready on cpu, FaceDeck \S+", outcome
    ), outcome
    assert dialog.report is not None and dialog.report.ok
    assert dialog.report.worker["models"]["det_10g"] in ("verified", "trusted")
    assert TOKEN not in caplog.text and TOKEN not in outcome
    assert secrets.get(SERVER_TOKEN) is None  # a test stores nothing: OK does


def test_a_wrong_token_shows_the_refusal(qtbot, server):
    dialog = open_dialog(qtbot, server_choice(server), SecretStore(environ={}))
    qtbot.keyClicks(dialog.token.edit, "not-the-token")
    outcome = run_test(dialog, qtbot)
    assert outcome == (
        f"the FaceDeck server at {server.url} refused the token (HTTP 401): "
        "check the token in Run on > Settings"
    )
    assert "not-the-token" not in outcome and dialog.report is None


def test_test_connection_checks_the_bucket_too(qtbot, server, s3):
    secrets = SecretStore(environ={})
    choice = server_choice(
        server, bucket=s3.bucket, storage_endpoint=s3.endpoint_url, region=REGION, access_key_id=ACCESS_KEY
    )
    dialog = open_dialog(qtbot, choice, secrets)
    qtbot.keyClicks(dialog.token.edit, TOKEN)
    qtbot.keyClicks(dialog.secret_key.edit, SECRET_KEY)
    bucket = f"s3://{s3.bucket}/facedeck/jobs/ at {s3.endpoint_url}"
    assert run_test(dialog, qtbot).endswith(f" · bucket {bucket} answers")
    dialog.bucket.setText("no-such-bucket")
    assert run_test(dialog, qtbot).startswith("bucket no-such-bucket does not exist at http://127.0.0.1:")


def test_closing_the_dialog_during_a_test_stops_it_first(qtbot, server):
    dialog = open_dialog(qtbot, server_choice(server), SecretStore(environ={}))
    qtbot.keyClicks(dialog.token.edit, TOKEN)
    dialog.test_button.click()
    test = dialog.test
    with qtbot.waitSignal(dialog.finished, timeout=WAIT_MS):
        dialog.reject()
    assert not dialog.testing() and not test.isRunning()


# ----- Run on and Start -----------------------------------------------------------------------------
def test_run_on_opens_the_settings_first_and_cancel_goes_back(make_window, qtbot):
    window = make_window(None)
    panel = window.target_panel
    panel.run_on.setCurrentIndex(panel.run_on.findData(SERVER))
    panel.run_on.activated.emit(panel.run_on.currentIndex())  # what a user's pick emits
    dialog = window.run_on.dialog
    assert dialog is not None and dialog.isVisible() and dialog.kind.currentData() == SERVER
    dialog.reject()
    assert window.run_on.dialog is None and panel.run_on_choice() == LOCAL
    assert window.jobs.choice.where == LOCAL and window.provider_label.text() == "Provider: cpu"

    panel.remote_settings.click()
    dialog = window.run_on.dialog
    dialog.kind.setCurrentIndex(dialog.kind.findData(SERVER))
    qtbot.keyClicks(dialog.server_url, "http://10.0.0.2:8000")
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert window.jobs.choice == RemoteChoice(where=SERVER, server_url="http://10.0.0.2:8000")
    assert panel.run_on_choice() == SERVER
    assert window.provider_label.text() == "Jobs run on the FaceDeck server at http://10.0.0.2:8000"


def test_live_mode_runs_here_so_run_on_is_off(make_window):
    window = make_window(None)
    panel = window.target_panel
    panel.set_kind("camera")
    assert not panel.run_on.isEnabled() and not panel.remote_settings.isEnabled()
    assert panel.run_on.toolTip() == "Live mode runs on this computer"
    panel.set_kind("file")
    assert panel.run_on.isEnabled() and panel.remote_settings.isEnabled() and not panel.run_on.toolTip()


def test_start_without_a_key_says_so_and_runs_nothing(make_window, qtbot, gui_workspace):
    window = make_window(gui_workspace["models"])
    load(window, qtbot, [gui_workspace["source"]], gui_workspace["target"])
    window.run_on.set_choice(RemoteChoice(where=RUNPOD, runpod_endpoint="abc"))
    with qtbot.waitSignal(window.jobs.error) as error:
        window.run_panel.start.click()
    assert error.args[0].startswith("no RunPod API key: enter it in Run on > Settings")
    assert window.jobs.worker is None and window.run_panel.start.isEnabled()


def test_start_runs_the_image_job_on_the_server(make_window, qtbot, gui_workspace, server, tmp_path, caplog):
    window = make_window(gui_workspace["models"])
    window.log_panel.debug.setChecked(True)  # every record in the panel: none may hold the token
    load(window, qtbot, [gui_workspace["source"]], gui_workspace["target"])
    window.secrets.set(SERVER_TOKEN, TOKEN)
    window.run_on.set_choice(server_choice(server))
    output = tmp_path / "remote.png"
    window.document.set_output_path(str(output))
    progress = []
    window.jobs.progress.connect(progress.append)
    with caplog.at_level(logging.DEBUG, logger="facedeck"):
        with qtbot.waitSignal(window.jobs.finished, timeout=60_000) as finished:
            start(window, qtbot)
        result, message = finished.args
        assert result is not None, message
    assert result.provider == "cpu (remote)" and result.output_path == str(output)
    image = cv2.imread(str(output))
    assert image is not None and image.shape == (360, 480, 3)
    assert DIGITAL_SOURCE_TYPE.encode() in output.read_bytes()  # marked as synthetic
    assert [event.stage for event in progress] == ["queue", "download"]
    assert window.run_panel.state.text().startswith("Done") and window.run_panel.progress.value() == 100
    assert "POST /v2/facedeck/run" in server.log()  # it ran there, not here
    assert TOKEN not in caplog.text and not any(TOKEN in line for line in window.log_panel.lines())
    window.log_panel.debug.setChecked(False)


def test_cancel_cancels_the_remote_video_job(make_window, qtbot, gui_workspace, server, s3, tmp_path):
    window = make_window(gui_workspace["models"])
    load(window, qtbot, [gui_workspace["source"]], gui_workspace["long_clip"])
    window.secrets.set(SERVER_TOKEN, TOKEN)
    window.secrets.set(STORAGE_SECRET_KEY, SECRET_KEY)
    prefix = s3.unique_key("gui")
    window.run_on.set_choice(
        server_choice(
            server,
            bucket=s3.bucket,
            storage_endpoint=s3.endpoint_url,
            region=REGION,
            access_key_id=ACCESS_KEY,
            prefix=prefix,
        )
    )
    output = tmp_path / "cancelled.mp4"
    window.document.set_output_path(str(output))
    stages = []
    window.jobs.progress.connect(stages.append)
    with qtbot.waitSignal(
        window.jobs.progress, timeout=60_000, check_params_cb=lambda event: event.stage == "frames"
    ):
        start(window, qtbot)
    assert [event.stage for event in stages][:2] == ["upload", "queue"]
    assert "frames" in window.run_panel.state.text()  # the worker's own progress
    with qtbot.waitSignal(window.jobs.finished, timeout=60_000) as finished:
        window.run_panel.cancel.click()
    result, message = finished.args
    assert result is None and message.startswith("Cancelled")
    assert not output.exists() and list(tmp_path.iterdir()) == []
    (job_id,) = re.findall(r"POST /v2/facedeck/cancel/([\w-]+)", server.log())
    assert server.finished(job_id)["status"] == "CANCELLED"
    qtbot.waitUntil(lambda: s3.keys(prefix) == [], timeout=WAIT_MS)  # the uploads are deleted


def test_the_remote_strings_speak_chinese(qapp, qtbot):
    from facedeck.core.jobs.events import Progress
    from facedeck.desktop.gui import i18n
    from facedeck.desktop.gui.run_panel import describe_progress

    assert describe_progress(Progress("queue", 0, None)) == (0, "waiting for a worker")
    try:
        assert i18n.install_translator(qapp, "zh_CN") == "zh_CN"
        with installed(fail.Keyring()):
            dialog = open_dialog(qtbot, RemoteChoice(), SecretStore(environ={}))
        assert dialog.windowTitle() == "远程运行" and dialog.test_button.text() == "测试连接"
        assert dialog.keyring_note.text() == "未找到系统密钥环：密钥仅保留到 FaceDeck 关闭"
        assert describe_progress(Progress("upload", 0, 1)) == (0, "上传中")
    finally:
        i18n.install_translator(qapp, "en")
