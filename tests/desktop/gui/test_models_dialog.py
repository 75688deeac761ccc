"""The models dialog on a test manifest, against a real loopback HTTP server."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from facedeck.core.models.consent import load_consent, record_consent
from facedeck.core.models.importer import ImportOutcome, ImportStatus
from facedeck.core.models.manifest import load_manifest_file
from facedeck.core.models.store import ModelStore
from facedeck.desktop.gui import model_workers
from facedeck.desktop.gui.model_prompts import DialogPrompts, TrustBox
from facedeck.desktop.gui.models_dialog import ModelsDialog
from facedeck.desktop.headless.models_cmd import MIRROR_ENV
from tests.desktop.gui.modal import when_shown
from tests.support.http_fixtures import MisbehavingServer, Stall, unused_port_url
from tests.support.manifest_fixtures import payload, write_manifest

BIG = payload("inswapper_128.onnx", 2_000_000, 1)  # several 256 KiB download chunks
SMALL = payload("GFPGANv1.4.onnx", 3000, 2)
DETECTOR = payload("det_10g.onnx", 2500, 3)
LANDMARKS = payload("2d106det.onnx", 2200, 4)
STATUS, SIZE, LICENCE = 1, 2, 3


class FakePrompts:
    """Answers the dialog's questions at once and records them."""

    def __init__(self, *, terms: bool = True, trust: bool = False) -> None:
        self.terms, self.trust_answer = terms, trust
        self.asked_terms: list[list[str]] = []
        self.asked_trust: list[list[ImportOutcome]] = []
        self.file = self.folder = self.model = None

    def import_file(self, parent, start):
        return self.file

    def import_folder(self, parent, start):
        return self.folder

    def choose_model(self, parent, path, models):
        return self.model

    def trust(self, parent, mismatches):
        self.asked_trust.append(list(mismatches))
        return self.trust_answer

    def accept_terms(self, parent, licences):
        self.asked_terms.append([licence.id for licence in licences])
        return self.terms


@pytest.fixture
def server():
    with MisbehavingServer() as running:
        yield running


def make_store(tmp_path, base_url, files=(BIG, SMALL)) -> ModelStore:
    manifest = write_manifest(tmp_path / "manifest.toml", base_url, list(files), None, [])
    return ModelStore(
        tmp_path / "models", manifest=load_manifest_file(manifest), settings_dir=tmp_path / "settings"
    )


@pytest.fixture
def open_dialog(qtbot):
    dialogs = []

    def make(store, prompts=None):
        dialog = ModelsDialog(store, prompts=prompts or FakePrompts())
        qtbot.addWidget(dialog)
        dialog.show()
        dialogs.append(dialog)
        return dialog

    yield make
    for dialog in dialogs:
        assert dialog.shutdown(10_000)
    assert model_workers.stop_all(10_000)
    assert not model_workers.running_tasks()


def row_of(dialog, model_id):
    for row in range(dialog.table.rowCount()):
        if dialog.table.item(row, 0).text() == model_id:
            return row
    raise AssertionError(f"{model_id} not listed")


def cell(dialog, model_id, column):
    return dialog.table.item(row_of(dialog, model_id), column).text()


def wait_idle(qtbot, dialog, timeout=15_000):
    qtbot.waitUntil(lambda: dialog.task is None, timeout=timeout)


def test_lists_every_status_size_and_licence(tmp_path, open_dialog, qtbot):
    files = (BIG, SMALL, DETECTOR, LANDMARKS)
    store = make_store(tmp_path, "http://127.0.0.1:9", files)
    own = tmp_path / "own"
    own.mkdir()
    (own / BIG.name).write_bytes(BIG.data)
    store.import_file("inswapper_128", own / BIG.name)  # verified
    (own / "converted.onnx").write_bytes(b"c" * 10)
    store.import_file("GFPGANv1.4", own / "converted.onnx", trust=True)  # trusted
    store.directory.joinpath(LANDMARKS.name).write_bytes(LANDMARKS.data)  # present, never hashed
    store.directory.joinpath(DETECTOR.name).write_bytes(b"x" * 7)  # corrupt: not the pinned size

    dialog = open_dialog(store)
    assert dialog.table.rowCount() == 4
    assert [
        cell(dialog, name, STATUS) for name in ("inswapper_128", "GFPGANv1.4", "2d106det", "det_10g")
    ] == [
        "verified",
        "trusted",
        "present (not checked yet)",
        "corrupt",
    ]
    assert cell(dialog, "inswapper_128", SIZE) == "2.0 MB"
    assert cell(dialog, "2d106det", LICENCE) == "Test NC"
    assert "Test licence, non-commercial" in dialog.table.item(row_of(dialog, "2d106det"), LICENCE).toolTip()
    assert dialog.grab().save(str(tmp_path / "models_dialog.png"))

    store.directory.joinpath(BIG.name).unlink()
    dialog.refresh()
    assert cell(dialog, "inswapper_128", STATUS) == "missing"

    with qtbot.waitSignal(dialog.models_changed, timeout=10_000):
        dialog.verify_button.click()
    wait_idle(qtbot, dialog)
    assert cell(dialog, "2d106det", STATUS) == "verified"  # hashed now, and it matches its pin
    assert cell(dialog, "det_10g", STATUS) == "corrupt"


def test_download_shows_progress_asks_terms_once_and_reports_changes(tmp_path, server, open_dialog, qtbot):
    for item in (BIG, SMALL):
        server.add(f"/{item.name}", item.data)
    store = make_store(tmp_path, server.base_url)
    prompts = FakePrompts()
    dialog = open_dialog(store, prompts)
    assert dialog.download_missing_button.isEnabled()
    assert not dialog.download_selected_button.isEnabled()  # nothing selected

    with qtbot.waitSignal(dialog.models_changed, timeout=15_000):
        dialog.download_missing_button.click()
        assert dialog.task is not None and not dialog.import_file_button.isEnabled()
    wait_idle(qtbot, dialog)
    assert prompts.asked_terms == [["test-nc"]]
    assert "test-nc" in load_consent(store.settings_dir).accepted_licenses()
    assert dialog.last_progress is not None and dialog.last_progress.total in (len(BIG.data), len(SMALL.data))
    assert dialog.last_progress.received == dialog.last_progress.total
    assert {cell(dialog, name, STATUS) for name in ("inswapper_128", "GFPGANv1.4")} == {"verified"}
    assert "downloaded and verified" in dialog.message.text()
    assert not dialog.download_missing_button.isEnabled()  # nothing missing any more

    store.remove("GFPGANv1.4")
    dialog.refresh()
    dialog.table.selectRow(row_of(dialog, "GFPGANv1.4"))
    with qtbot.waitSignal(dialog.models_changed, timeout=15_000):
        dialog.download_selected_button.click()
    wait_idle(qtbot, dialog)
    assert prompts.asked_terms == [["test-nc"]]  # accepted once, not asked again
    assert cell(dialog, "GFPGANv1.4", STATUS) == "verified"


def test_declined_terms_download_nothing(tmp_path, server, open_dialog):
    server.add(f"/{SMALL.name}", SMALL.data)
    store = make_store(tmp_path, server.base_url, (SMALL,))
    dialog = open_dialog(store, FakePrompts(terms=False))
    dialog.download_missing_button.click()
    assert dialog.task is None and server.records == []
    assert "not accepted" in dialog.message.text()
    assert not load_consent(store.settings_dir).accepted_licenses()


def test_cancel_keeps_only_the_resumable_part(tmp_path, server, open_dialog, qtbot):
    # the server goes silent after 300 kB, so the download is in flight when Cancel is pressed
    server.add(f"/{BIG.name}", BIG.data, [Stall(after=300_000, seconds=1.0)])
    store = make_store(tmp_path, server.base_url, (BIG,))
    record_consent(store.settings_dir, ["test-nc"])
    dialog = open_dialog(store)
    dialog.download_missing_button.click()
    qtbot.waitUntil(lambda: dialog.last_progress is not None, timeout=10_000)
    assert dialog.cancel_button.isVisible()
    dialog.cancel_button.click()
    assert dialog.progress_label.text() == "Cancelling…"
    wait_idle(qtbot, dialog)

    part = store.directory / f"{BIG.name}.part"
    assert sorted(path.name for path in store.directory.iterdir()) == [part.name]
    assert 0 < part.stat().st_size < len(BIG.data)
    assert "cancelled" in dialog.message.text()
    assert cell(dialog, "inswapper_128", STATUS) == "missing"
    assert not dialog.cancel_button.isVisible() and dialog.download_missing_button.isEnabled()

    kept = part.stat().st_size
    with qtbot.waitSignal(dialog.models_changed, timeout=15_000):
        dialog.download_missing_button.click()
    wait_idle(qtbot, dialog)
    assert server.records_for(f"/{BIG.name}")[-1].range == f"bytes={kept}-"  # resumed, not restarted
    assert cell(dialog, "inswapper_128", STATUS) == "verified"


def test_closing_the_dialog_cancels_its_download_and_closes_once_it_ended(
    tmp_path, server, open_dialog, qtbot
):
    server.add(f"/{BIG.name}", BIG.data, [Stall(after=300_000, seconds=1.0)])
    store = make_store(tmp_path, server.base_url, (BIG,))
    record_consent(store.settings_dir, ["test-nc"])
    dialog = open_dialog(store)
    dialog.download_missing_button.click()
    task = dialog.task
    qtbot.waitUntil(lambda: dialog.last_progress is not None, timeout=10_000)
    with qtbot.waitSignal(dialog.finished, timeout=10_000):
        dialog.reject()
        assert task.cancel_event.is_set()
        assert dialog.isVisible()  # until the download has stopped: exec() returns with nothing running
    assert not dialog.isVisible() and dialog.task is None and task.isFinished()
    assert not (store.directory / BIG.name).exists()
    assert (store.directory / f"{BIG.name}.part").exists()


def test_unreachable_server_is_reported_in_one_line(tmp_path, open_dialog, qtbot):
    store = make_store(tmp_path, unused_port_url("").rstrip("/"), (SMALL,))
    record_consent(store.settings_dir, ["test-nc"])
    dialog = open_dialog(store)
    dialog.download_missing_button.click()
    wait_idle(qtbot, dialog)
    text = dialog.message.text()
    assert text.startswith("1 of 1 model(s) not downloaded: GFPGANv1.4: ") and "\n" not in text
    assert "refused" in text


def test_a_run_stopped_by_an_error_shows_the_cli_line(tmp_path, open_dialog, qtbot, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, "not-a-url")
    store = make_store(tmp_path, "http://127.0.0.1:9", (SMALL,))
    record_consent(store.settings_dir, ["test-nc"])
    dialog = open_dialog(store)
    dialog.download_missing_button.click()
    wait_idle(qtbot, dialog)
    assert dialog.message.text() == "mirror 'not-a-url' is not a URL like https://host or https://host/prefix"
    assert dialog.download_missing_button.isEnabled()


def test_import_of_a_different_file_asks_the_trust_question(tmp_path, open_dialog, qtbot):
    store = make_store(tmp_path, "http://127.0.0.1:9", (SMALL,))
    altered = tmp_path / SMALL.name  # the right name and size, other bytes: only the hash tells
    altered.write_bytes(bytes(len(SMALL.data)))
    prompts = FakePrompts(trust=False)
    prompts.file = altered
    dialog = open_dialog(store, prompts)
    changes = []
    dialog.models_changed.connect(lambda: changes.append(1))

    dialog.import_file_button.click()
    qtbot.waitUntil(lambda: dialog.task is None and bool(prompts.asked_trust), timeout=10_000)
    (mismatch,) = prompts.asked_trust[0]
    assert mismatch.status is ImportStatus.MISMATCH and mismatch.model == "GFPGANv1.4"
    assert "SHA-256" in mismatch.detail
    assert cell(dialog, "GFPGANv1.4", STATUS) == "missing" and not changes
    assert "not imported" in dialog.message.text()

    prompts.trust_answer = True
    dialog.import_file_button.click()
    qtbot.waitUntil(lambda: cell(dialog, "GFPGANv1.4", STATUS) == "trusted", timeout=10_000)
    wait_idle(qtbot, dialog)
    assert len(prompts.asked_trust) == 2 and changes
    assert store.trusted_hashes("GFPGANv1.4")
    assert "1 imported as trusted" in dialog.message.text()


def test_import_of_an_unknown_name_asks_which_model(tmp_path, open_dialog, qtbot):
    store = make_store(tmp_path, "http://127.0.0.1:9", (SMALL, DETECTOR))
    mine = tmp_path / "my-download.bin"
    mine.write_bytes(DETECTOR.data)
    prompts = FakePrompts()
    prompts.file, prompts.model = mine, "det_10g"
    dialog = open_dialog(store, prompts)
    with qtbot.waitSignal(dialog.models_changed, timeout=10_000):
        dialog.import_file_button.click()
    wait_idle(qtbot, dialog)
    assert cell(dialog, "det_10g", STATUS) == "verified" and not prompts.asked_trust

    prompts.model = None  # the user closed the question: nothing happens
    dialog.import_file_button.click()
    assert dialog.task is None


def test_import_of_a_folder(tmp_path, open_dialog, qtbot):
    store = make_store(tmp_path, "http://127.0.0.1:9", (SMALL, DETECTOR))
    folder = tmp_path / "FaceFusion" / ".assets" / "models"
    folder.mkdir(parents=True)
    (folder / "gfpgan_1.4.onnx").write_bytes(SMALL.data)  # FaceFusion's name for it
    prompts = FakePrompts()
    prompts.folder = tmp_path / "FaceFusion"
    dialog = open_dialog(store, prompts)
    dialog.import_folder_button.click()
    wait_idle(qtbot, dialog)
    assert cell(dialog, "GFPGANv1.4", STATUS) == "verified"
    assert dialog.message.text() == "1 imported and verified"

    prompts.folder = tmp_path / "empty"
    prompts.folder.mkdir()
    dialog.import_folder_button.click()
    wait_idle(qtbot, dialog)
    assert dialog.message.text() == f"Found no model file FaceDeck knows in {prompts.folder}."


def click_when_shown(kind, button_attribute):
    """Press a button of the next modal box of ``kind`` once its exec() loop runs."""
    return when_shown(kind, lambda box: getattr(box, button_attribute).click())


def test_the_real_trust_question(qtbot, tmp_path):
    outcome = ImportOutcome(str(tmp_path / "x.onnx"), ImportStatus.MISMATCH, "GFPGANv1.4", "SHA-256 abc")
    shown = click_when_shown(TrustBox, "trust_button")
    assert DialogPrompts().trust(None, [outcome]) is True
    _title, text = shown[0]
    assert "x.onnx" in text and "SHA-256 abc" in text
    box = TrustBox(None, [outcome])
    qtbot.addWidget(box)
    assert not box.trusted()  # closed without an answer: not trusted
