"""``facedeck --headless models ...``: list, download, verify, import, remove the models."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ...core.errors import UsageError
from ...core.models import files as model_files
from ...core.models.consent import RESPONSIBLE_USE_TEXT, load_consent, record_consent, terms_needed
from ...core.models.manifest import ModelSpec
from ...core.models.store import ModelState, ModelStatus, ModelStore
from .common import emit_json, say
from .progress import ProgressBar, human_bytes, human_duration

MIRROR_ENV = "FACEDECK_MODEL_MIRROR"


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("models", help="list, download, verify, import and remove model files")
    actions = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    def with_dir(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--models-dir", metavar="DIR", help="models folder (default: see 'models path')")
        sub.add_argument(
            "--json", action="store_true", help="machine-readable output, one JSON object per line"
        )
        return sub

    listing = with_dir(actions.add_parser("list", help="a table of the models and their status"))
    listing.add_argument(
        "--check", action="store_true", help="hash files not hashed before (slow the first time)"
    )
    listing.set_defaults(handler=run_list)

    download = with_dir(actions.add_parser("download", help="download and verify models"))
    download.add_argument(
        "names", nargs="*", metavar="NAME", help="model ids or packs (default: the standard set)"
    )
    download.add_argument("--all", action="store_true", help="every model in the manifest")
    download.add_argument(
        "--accept-terms",
        action="store_true",
        help="accept the models' licence terms and the consent rule without asking",
    )
    download.add_argument(
        "--mirror",
        metavar="URL",
        help=f"replace the scheme and host of every download URL (also ${MIRROR_ENV})",
    )
    download.set_defaults(handler=run_download)

    verify = with_dir(actions.add_parser("verify", help="re-hash every model file and report"))
    verify.set_defaults(handler=run_verify)

    path = with_dir(actions.add_parser("path", help="print the models folder"))
    path.set_defaults(handler=run_path)

    remove = with_dir(actions.add_parser("remove", help="delete model files"))
    remove.add_argument("names", nargs="+", metavar="NAME")
    remove.set_defaults(handler=run_remove)

    importing = with_dir(
        actions.add_parser("import", help="copy a model file you already have into the store")
    )
    importing.add_argument("name", metavar="NAME", help="model id, e.g. inswapper_128")
    importing.add_argument("path", metavar="PATH", help="the file to import")
    importing.add_argument(
        "--trust",
        action="store_true",
        help="accept a file whose SHA-256 differs from the published one (remembered on this machine)",
    )
    importing.set_defaults(handler=run_import)


def open_store(args: argparse.Namespace) -> ModelStore:
    return ModelStore(model_files.resolve_models_dir(args.models_dir))


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


def run_import(args: argparse.Namespace) -> int:
    store = open_store(args)
    state = store.import_file(args.name, args.path, trust=args.trust)
    if args.json:
        emit_json("imported", **state_json(state))
    else:
        say(f"imported {state.spec.id} as {state.path} ({state.status.value})")
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
    bars: dict[str, ProgressBar] = {}

    def progress(update) -> None:
        if args.json:
            return
        bar = bars.get(update.file_name)
        if bar is None:
            bar = bars[update.file_name] = ProgressBar(update.file_name)
        detail = (
            f"{human_bytes(update.received)}/{human_bytes(update.total or 0)} "
            f"{human_bytes(update.bytes_per_second)}/s ETA {human_duration(update.eta_seconds)}"
        )
        bar.update(update.received, update.total, detail)

    try:
        written = store.download(specs, progress=progress, mirror=mirror)
    finally:
        for bar in bars.values():
            bar.close()
    for path in written:
        if args.json:
            emit_json("downloaded", path=str(path))
        else:
            say(f"verified {path}")
    if not written and not args.json:
        say("all requested models are already present and verified")
    return 0
