"""The responsible-use record: what was accepted, when, by which version; what is still needed."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest

from facedeck.core.models import consent
from facedeck.core.models.consent import (
    RESPONSIBLE_USE_TEXT,
    ConsentRecord,
    load_consent,
    record_consent,
    terms_needed,
)
from facedeck.core.models.manifest import ModelSpec
from facedeck.core.version import software_version


def spec(model_id: str, license_id: str) -> ModelSpec:
    return ModelSpec(
        id=model_id,
        file=f"{model_id}.onnx",
        role="swapper",
        size=1,
        sha256="0" * 64,
        license=license_id,
        purpose="test",
        contract="test",
    )


SPECS = [spec("a", "nc"), spec("b", "nc"), spec("c", "apache")]


def test_nothing_accepted_means_every_licence_is_needed(tmp_path):
    record = load_consent(tmp_path)
    assert record == ConsentRecord()
    assert not record.responsible_use_confirmed
    assert terms_needed(SPECS, record) == ["apache", "nc"]  # each licence once, sorted
    assert terms_needed([], record) == []


def test_record_says_what_when_and_which_version(tmp_path):
    moment = dt.datetime(2026, 12, 1, 12, 30, tzinfo=dt.timezone.utc)
    written = record_consent(tmp_path / "settings", ["nc"], now=moment)
    assert written.licenses == frozenset({"nc"})
    assert written.responsible_use == RESPONSIBLE_USE_TEXT and written.responsible_use_confirmed
    assert written.accepted_at == "2026-12-01T12:30:00+00:00"
    assert written.facedeck_version == software_version()

    again = load_consent(tmp_path / "settings")
    assert again == written
    assert terms_needed(SPECS, again) == ["apache"]
    assert terms_needed(SPECS[:2], again) == []

    on_disk = json.loads((tmp_path / "settings" / consent.CONSENT_FILE).read_text())
    assert on_disk["licenses"] == ["nc"] and on_disk["consent_confirmed"] is True
    assert on_disk["responsible_use"] == RESPONSIBLE_USE_TEXT
    assert not list((tmp_path / "settings").glob("*.part"))


def test_later_acceptance_adds_to_earlier_licences(tmp_path):
    record_consent(tmp_path, ["nc"])
    record = record_consent(tmp_path, ["apache"])
    assert record.licenses == frozenset({"nc", "apache"})
    assert terms_needed(SPECS, load_consent(tmp_path)) == []


def test_record_from_before_the_rule_text_was_stored_still_counts(tmp_path):
    (tmp_path / consent.CONSENT_FILE).write_text(
        json.dumps({"licenses": ["nc"], "consent_confirmed": True, "accepted_at": "2026-01-01T00:00:00Z"})
    )
    record = load_consent(tmp_path)
    assert record.responsible_use_confirmed and record.facedeck_version is None
    assert terms_needed(SPECS, record) == ["apache"]


def test_licences_without_the_rule_or_with_a_reworded_rule_are_asked_again(tmp_path):
    (tmp_path / consent.CONSENT_FILE).write_text(json.dumps({"licenses": ["nc"], "consent_confirmed": False}))
    assert terms_needed(SPECS, load_consent(tmp_path)) == ["apache", "nc"]
    (tmp_path / consent.CONSENT_FILE).write_text(
        json.dumps({"licenses": ["nc", "apache"], "responsible_use": "an older wording"})
    )
    assert terms_needed(SPECS, load_consent(tmp_path)) == ["apache", "nc"]


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"licenses": "nc", "consent_confirmed": "yes"}'])
def test_damaged_record_means_asking_again(tmp_path, caplog, content):
    (tmp_path / consent.CONSENT_FILE).write_text(content)
    with caplog.at_level(logging.WARNING):
        record = load_consent(tmp_path)
    assert terms_needed(SPECS, record) == ["apache", "nc"]


def test_unwritable_folder_is_logged_not_raised(tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.WARNING):
        record = record_consent(blocker / "settings", ["nc"])
    assert record.responsible_use_confirmed  # the user did accept, for this run
    assert "could not write" in caplog.text
    assert load_consent(blocker / "settings") == ConsentRecord()


def test_record_round_trips_through_a_dict():
    record = ConsentRecord(frozenset({"nc"}), RESPONSIBLE_USE_TEXT, "2026-12-01T00:00:00+00:00", "1.2.3")
    data = record.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert ConsentRecord.from_dict(data) == record
