"""``models import``: one file as a named model, or whatever a folder or a pack zip holds."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from ...core.errors import FaceDeckError, InputError, UsageError
from ...core.models.importer import MAX_DEPTH, ImportOutcome, ImportReport, ImportStatus, import_path
from ...core.models.store import ModelStore, ModelVerificationError
from .common import emit_json, say
from .models_run import open_store, state_json

LABELS = {
    ImportStatus.VERIFIED: "verified",
    ImportStatus.TRUSTED: "trusted",
    ImportStatus.PRESENT: "present",
    ImportStatus.MISMATCH: "NOT imported",
    ImportStatus.FAILED: "failed",
    ImportStatus.SKIPPED: "skipped",
}


def run_import(args: argparse.Namespace) -> int:
    store = open_store(args)
    if args.file is not None:  # NAME FILE: this file is that model, whatever its name
        state = store.import_file(args.target, Path(args.file), trust=args.trust)
        if args.json:
            emit_json("imported", **state_json(state))
        else:
            say(f"imported {state.spec.id} as {state.path} ({state.status.value})")
        return 0
    report = import_path(store, Path(args.target), trust=args.trust)
    if args.json:
        for outcome in report.outcomes:
            emit_json(
                "import",
                source=outcome.source,
                model=outcome.model,
                status=outcome.status.value,
                detail=outcome.detail,
            )
    else:
        _print_table(report.outcomes)
    counts = Counter(outcome.status for outcome in report.outcomes)
    if args.json:
        emit_json(
            "import_summary",
            ignored=report.ignored,
            **{status.value: counts[status] for status in ImportStatus},
        )
    else:
        say(_summary(counts, report.ignored))
    problem = _problem(store, Path(args.target), report)
    if problem is not None:
        raise problem
    return 0


def _print_table(outcomes: list[ImportOutcome]) -> None:
    say(f"{'RESULT':12} {'MODEL':20} FILE")
    for outcome in outcomes:
        reason = f"  ({outcome.detail})" if outcome.status not in _IMPORTED and outcome.detail else ""
        say(f"{LABELS[outcome.status]:12} {outcome.model or '-':20} {outcome.source}{reason}")


_IMPORTED = (ImportStatus.VERIFIED, ImportStatus.TRUSTED, ImportStatus.PRESENT)


def _summary(counts: Counter[ImportStatus], ignored: int) -> str:
    parts = [
        f"{counts[ImportStatus.VERIFIED]} imported and verified",
        f"{counts[ImportStatus.TRUSTED]} imported as trusted" if counts[ImportStatus.TRUSTED] else "",
        f"{counts[ImportStatus.PRESENT]} already present" if counts[ImportStatus.PRESENT] else "",
        f"{counts[ImportStatus.MISMATCH]} not imported (not the published file)"
        if counts[ImportStatus.MISMATCH]
        else "",
        f"{counts[ImportStatus.FAILED]} failed" if counts[ImportStatus.FAILED] else "",
        f"{counts[ImportStatus.SKIPPED]} skipped (not used by FaceDeck)"
        if counts[ImportStatus.SKIPPED]
        else "",
        f"{ignored} other file(s) ignored" if ignored else "",
    ]
    return "summary: " + ", ".join(part for part in parts if part)


def _problem(store: ModelStore, target: Path, report: ImportReport) -> FaceDeckError | None:
    """The one-line error the command ends with, or None when every known file was taken."""
    mismatched = [outcome for outcome in report.outcomes if outcome.status is ImportStatus.MISMATCH]
    failed = [outcome for outcome in report.outcomes if outcome.status is ImportStatus.FAILED]
    if not any(outcome.model for outcome in report.outcomes) and not failed:
        names = ", ".join(sorted({spec.file for spec in store.manifest.models.values()}))
        return UsageError(
            f"found no model file FaceDeck knows in {target} (looked {MAX_DEPTH} folders deep for {names} "
            f"and the pack zips)",
            path=str(target),
        )
    parts = []
    if mismatched:
        parts.append(
            f"{len(mismatched)} file(s) differ from the published models and were not imported: "
            f"{', '.join(outcome.source for outcome in mismatched)}; "
            "if you trust them, run again with --trust"
        )
    if failed:
        parts.append(
            f"{len(failed)} file(s) could not be imported: "
            + ", ".join(f"{outcome.source} ({outcome.detail})" for outcome in failed)
        )
    if not parts:
        return None
    first = (mismatched or failed)[0].source
    kind = ModelVerificationError if mismatched else InputError
    return kind("; ".join(parts), path=first)
