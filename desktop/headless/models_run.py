"""The ``models list | verify | path | remove | download`` actions (``models_cmd`` parses them)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence

from ...core.errors import UsageError
from ...core.models import files as model_files
from ...core.models.consent import RESPONSIBLE_USE_TEXT, load_consent, record_consent, terms_needed
from ...core.models.download import DownloadProgress
from ...core.models.download_errors import DownloadError, HostUnreachableError
from ...core.models.fetch import DownloadOutcome, DownloadStatus
from ...core.models.manifest import ModelSpec
from ...core.models.store import ModelState, ModelStatus, ModelStore
from .common import emit_json, say
from .models_cmd import MIRROR_ENV
from .progress import ProgressBar, human_bytes, human_duration

IMPORT_COMMAND = "facedeck --headless models import"


def open_store(args: argparse.Namespace) -> ModelStore:
    return ModelStore(model_files.resolve_models_dir(args.models_dir))


def dir_option(args: argparse.Namespace, store: ModelStore) -> str:
    """`` --models-dir DIR`` (absolute, quoted for the shell) when the command was given one."""
    return f" --models-dir {shlex.quote(str(store.directory))}" if args.models_dir else ""


def state_json(state: ModelState) -> dict:
    return {
        "id": state.spec.id,
        "file": state.spec.file,
        "status": state.status.value,
        "size": state.size,
        "expected_size": state.spec.size,
        "sha256": state.sha256,
        "license": state.spec.license,
        "path": str(state.path),
    }


def print_table(store: ModelStore, states: Sequence[ModelState]) -> None:
    say(f"models in {store.directory}")
    say(f"{'ID':20} {'STATUS':9} {'SIZE':>9}  {'LICENCE':33} PURPOSE")
    for state in states:
        size = human_bytes(state.size if state.size is not None else state.spec.size)
        licence = store.manifest.licenses[state.spec.license].short
        say(f"{state.spec.id:20} {state.status.value:9} {size:>9}  {licence[:33]:33} {state.spec.purpose}")


def run_list(args: argparse.Namespace) -> int:
    store = open_store(args)
    states = store.states(hash_files=args.check)
    if args.json:
        for state in states:
            emit_json("model", **state_json(state))
    else:
        print_table(store, states)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    store = open_store(args)
    states = store.states(rehash=True)
    if args.json:
        for state in states:
            emit_json("model", **state_json(state))
    else:
        print_table(store, states)
    corrupt = [state.spec.id for state in states if state.status is ModelStatus.CORRUPT]
    if corrupt:
        raise UsageError(f"corrupt model file(s): {', '.join(corrupt)}; download them again")
    return 0


def run_path(args: argparse.Namespace) -> int:
    say(str(open_store(args).directory))
    return 0


def run_remove(args: argparse.Namespace) -> int:
    store = open_store(args)
    for name in args.names:
        removed = store.remove(name)
        say(f"{'removed' if removed else 'not present:'} {name}")
    return 0


def confirm_terms(store: ModelStore, specs: Sequence[ModelSpec], accept: bool) -> None:
    """Ask once per licence before the first download; remember the answer.

    The text and the record are core's (``core.models.consent``), shared with the window
    and the worker; only the terminal prompt is the CLI's own.
    """
    needed = terms_needed(specs, load_consent(store.settings_dir))
    if not needed:
        return
    if not accept:
        if not sys.stdin.isatty():
            raise UsageError(
                "downloading models needs you to accept their licence terms and the consent rule; "
                "run 'facedeck --headless models download --accept-terms' once"
            )
        print("Before the first download, please read:", file=sys.stderr)
        for license_id in needed:
            licence = store.manifest.licenses[license_id]
            print(f"  * {licence.name}\n    {licence.summary}\n    {licence.url}", file=sys.stderr)
        print(f"  * {RESPONSIBLE_USE_TEXT}", file=sys.stderr)
        answer = input('Type "yes" to accept these terms: ')
        if answer.strip().lower() != "yes":
            raise UsageError("licence terms not accepted; nothing was downloaded")
    record_consent(store.settings_dir, needed)


class DownloadReport:
    """Progress bars while files arrive, then one line (or JSON event) per model's outcome."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.bars: dict[str, ProgressBar] = {}

    def progress(self, update: DownloadProgress) -> None:
        if self.as_json:
            return
        bar = self.bars.get(update.file_name)
        if bar is None:
            bar = self.bars[update.file_name] = ProgressBar(update.file_name)
        detail = (
            f"{human_bytes(update.received)}/{human_bytes(update.total or 0)} "
            f"{human_bytes(update.bytes_per_second)}/s ETA {human_duration(update.eta_seconds)}"
        )
        bar.update(update.received, update.total, detail)

    def outcome(self, outcome: DownloadOutcome) -> None:
        bar = self.bars.pop(outcome.spec.file, None)
        if bar is not None:
            bar.close()
        if self.as_json:
            emit_json(
                "download",
                id=outcome.spec.id,
                status=outcome.status.value,
                path=str(outcome.path),
                message=str(outcome.error) if outcome.error else None,
            )
        elif outcome.status is DownloadStatus.DOWNLOADED:
            say(f"verified  {outcome.spec.id:20} {outcome.path}")
        elif outcome.status is DownloadStatus.PRESENT:
            say(f"present   {outcome.spec.id:20} already present and verified")
        elif isinstance(outcome.error, HostUnreachableError):  # the URLs add nothing here
            say(f"failed    {outcome.spec.id:20} {'; '.join(outcome.error.reasons)}")
        else:
            say(f"failed    {outcome.spec.id:20} {outcome.error}")

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def run_download(args: argparse.Namespace) -> int:
    store = open_store(args)
    manifest = store.manifest
    if args.all:
        specs = list(manifest.models.values())
    elif args.names:
        specs = manifest.resolve(args.names)
    else:
        specs = manifest.defaults()
    confirm_terms(store, specs, args.accept_terms)
    mirror = args.mirror or os.environ.get(MIRROR_ENV) or None
    report = DownloadReport(args.json)
    try:
        outcomes = store.download(specs, progress=report.progress, mirror=mirror, on_outcome=report.outcome)
    finally:
        report.close()
    failed = [outcome for outcome in outcomes if outcome.status is DownloadStatus.FAILED]
    if failed:
        raise DownloadError(_what_next(failed, len(outcomes), mirror, dir_option(args, store)))
    if not args.json:
        fetched = sum(outcome.status is DownloadStatus.DOWNLOADED for outcome in outcomes)
        if fetched:
            say(f"{fetched} model(s) downloaded and verified; all requested models are ready")
        else:
            say("all requested models are already present and verified")
    return 0


def _what_next(failed: list[DownloadOutcome], total: int, mirror: str | None, models_dir: str) -> str:
    """The closing line when some models failed: which, why in short, and the ways on."""
    ids = ", ".join(outcome.spec.id for outcome in failed)
    offline = all(isinstance(outcome.error, HostUnreachableError) for outcome in failed)
    cause = (
        f"no download host could be reached{' (mirror ' + mirror + ')' if mirror else ''}"
        if offline
        else "see the reasons above"
    )
    check = "check the network connection, " if offline else ""
    return (
        f"{len(failed)} of {total} model(s) not downloaded ({ids}): {cause}; {check}"
        f"retry with --mirror URL, or import files you already have: "
        f"{IMPORT_COMMAND} PATH{models_dir} (a file, a folder or buffalo_l.zip)"
    )
