"""First-run responsible-use confirmation and the licence question, shared with the CLI's record."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from facedeck.core.models.consent import (
    RESPONSIBLE_USE_TEXT,
    consent_path,
    load_consent,
    record_consent,
)
from facedeck.core.models.manifest import load_manifest_file
from facedeck.core.models.store import ModelStore
from facedeck.desktop.gui.consent import (
    RULE,
    ConsentBox,
    ask_responsible_use,
    ask_terms,
    ensure_consent,
    ensure_terms,
)
from tests.desktop.gui.modal import when_shown
from tests.support.manifest_fixtures import payload, write_manifest


@pytest.fixture
def store(tmp_path):
    files = [payload("inswapper_128.onnx", 4000, 1)]
    manifest = write_manifest(tmp_path / "manifest.toml", "http://127.0.0.1:9", files, None, [])
    return ModelStore(
        tmp_path / "models", manifest=load_manifest_file(manifest), settings_dir=tmp_path / "cfg"
    )


class Asker:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.calls = 0

    def __call__(self, parent, *licences) -> bool:
        self.calls += 1
        return self.answer


def test_the_rule_marked_for_translation_is_cores():
    assert RULE == RESPONSIBLE_USE_TEXT


def test_consent_is_asked_once_and_remembered_in_the_models_record(store, qapp):
    ask = Asker(True)
    assert ensure_consent(None, store, ask=ask) is True
    assert ensure_consent(None, store, ask=ask) is True
    assert ask.calls == 1
    record = load_consent(store.settings_dir)
    assert record.responsible_use_confirmed and consent_path(store.settings_dir).is_file()
    assert record.accepted_licenses() == frozenset()  # licences are asked at the first download


def test_a_decline_is_not_remembered(store, qapp):
    ask = Asker(False)
    assert ensure_consent(None, store, ask=ask) is False
    assert ensure_consent(None, store, ask=ask) is False
    assert ask.calls == 2 and not consent_path(store.settings_dir).exists()


def test_consent_given_on_the_command_line_counts(store, qapp):
    record_consent(store.settings_dir, ["test-nc"])  # what `models download --accept-terms` writes
    ask = Asker(False)
    assert ensure_consent(None, store, ask=ask) is True and ask.calls == 0
    assert ensure_terms(None, store, list(store.manifest.models.values()), ask=ask) is True
    assert ask.calls == 0


def test_terms_are_asked_per_licence_and_remembered(store, qapp):
    specs = list(store.manifest.models.values())
    ensure_consent(None, store, ask=Asker(True))
    declined = Asker(False)
    assert ensure_terms(None, store, specs, ask=declined) is False
    accepted = Asker(True)
    assert ensure_terms(None, store, specs, ask=accepted) is True
    assert ensure_terms(None, store, specs, ask=accepted) is True
    assert (declined.calls, accepted.calls) == (1, 1)
    assert load_consent(store.settings_dir).accepted_licenses() == {"test-nc"}


def answer_next_box(agree: bool):
    """Click a button of the next ConsentBox once its exec() loop runs; return its text."""
    return when_shown(ConsentBox, lambda box: box.agree_button.click() if agree else box.reject())


def test_the_real_first_run_box(qapp):
    seen = answer_next_box(agree=True)
    assert ask_responsible_use(None) is True
    title, text = seen[0]
    assert title == "Responsible use"
    assert "given their consent" in text and "synthetic" in text
    answer_next_box(agree=False)
    assert ask_responsible_use(None) is False


def test_the_real_licence_box_names_each_licence(store, qapp):
    seen = answer_next_box(agree=True)
    assert ask_terms(None, list(store.manifest.licenses.values())) is True
    title, text = seen[0]
    assert title == "Licence terms"
    assert "Test licence, non-commercial" in text and "http://127.0.0.1/licence" in text
    assert "given their consent" in text
