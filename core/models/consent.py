"""Responsible use: the rule every user confirms, and the record of what they accepted.

Before the first download a user accepts the licences of the models they fetch and
confirms the responsible-use rule. Any front end (the CLI, the window, the worker) asks
in its own way; this module holds the text they show and the record they keep, so all
of them read and write the same answer. Nothing here talks to the user.

The record lives in the per-user config folder (``store.config_dir()``) as
``consent.json``: the licence ids accepted, the rule text confirmed, when, and with
which FaceDeck version.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..version import software_version
from .manifest import ModelSpec

log = logging.getLogger(__name__)

CONSENT_FILE = "consent.json"

RESPONSIBLE_USE_TEXT = (
    "I will only swap faces of people who have given their consent, and I will not use the "
    "results to deceive, harass or defame anyone."
)


@dataclass(frozen=True)
class ConsentRecord:
    """What this user accepted; an empty record when they never did."""

    licenses: frozenset[str] = frozenset()
    # the rule text as the user saw it, so a reworded rule is asked again
    responsible_use: str | None = None
    accepted_at: str | None = None  # ISO 8601, UTC
    facedeck_version: str | None = None

    @property
    def responsible_use_confirmed(self) -> bool:
        return self.responsible_use == RESPONSIBLE_USE_TEXT

    def accepted_licenses(self) -> frozenset[str]:
        """Licences that count: none unless the current responsible-use rule was confirmed too."""
        return self.licenses if self.responsible_use_confirmed else frozenset()

    def to_dict(self) -> dict[str, Any]:
        return {
            "licenses": sorted(self.licenses),
            # read by FaceDeck versions that stored only this flag
            "consent_confirmed": self.responsible_use is not None,
            "responsible_use": self.responsible_use,
            "accepted_at": self.accepted_at,
            "facedeck_version": self.facedeck_version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConsentRecord:
        licenses = data.get("licenses")
        rule = data.get("responsible_use")
        if not isinstance(rule, str):
            # records written before the text was stored hold only a flag; the rule has
            # not been reworded since, so the flag means the current text
            rule = RESPONSIBLE_USE_TEXT if data.get("consent_confirmed") is True else None
        accepted_at = data.get("accepted_at")
        version = data.get("facedeck_version")
        return cls(
            licenses=frozenset(str(item) for item in licenses) if isinstance(licenses, list) else frozenset(),
            responsible_use=rule,
            accepted_at=accepted_at if isinstance(accepted_at, str) else None,
            facedeck_version=version if isinstance(version, str) else None,
        )


def consent_path(config_dir: Path) -> Path:
    return Path(config_dir) / CONSENT_FILE


def load_consent(config_dir: Path) -> ConsentRecord:
    """The stored record; an empty one when there is none or it cannot be read."""
    path = consent_path(config_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ConsentRecord()
    except (OSError, ValueError) as error:
        # asking again is the safe answer to a damaged record
        log.warning("ignoring unreadable %s: %s", path, error)
        return ConsentRecord()
    return ConsentRecord.from_dict(data) if isinstance(data, dict) else ConsentRecord()


def terms_needed(specs: Iterable[ModelSpec], record: ConsentRecord) -> list[str]:
    """Licence ids of ``specs`` the user still has to accept (sorted; empty: nothing to ask)."""
    accepted = record.accepted_licenses()
    return sorted({spec.license for spec in specs} - accepted)


def record_consent(
    config_dir: Path, license_ids: Iterable[str], *, now: dt.datetime | None = None
) -> ConsentRecord:
    """Remember that the user accepted ``license_ids`` and the responsible-use rule.

    Licences accepted earlier stay accepted. A record that cannot be written is logged,
    not raised: the user did accept, and the worst outcome is being asked again.
    """
    previous = load_consent(config_dir)
    moment = now or dt.datetime.now(dt.timezone.utc)
    record = ConsentRecord(
        licenses=previous.licenses | frozenset(license_ids),
        responsible_use=RESPONSIBLE_USE_TEXT,
        accepted_at=moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds"),
        facedeck_version=software_version(),
    )
    path = consent_path(config_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # atomic: a crash mid-write leaves the old record, never half a file
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(record.to_dict(), stream, indent=2, sort_keys=True)
            os.replace(temporary, path)
        except OSError:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        log.warning("could not write %s: %s", path, error)
    return record
