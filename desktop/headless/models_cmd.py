"""``facedeck --headless models ...``: list, download, verify, import, remove the models.

This module only builds the argument parser, which every ``--headless`` start does, so it
imports nothing but the standard library; each action's module (``models_run``,
``models_import``) is imported when that action runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .catalog import COMMANDS

MIRROR_ENV = "FACEDECK_MODEL_MIRROR"


def _action(function: str) -> Callable[[argparse.Namespace], int]:
    """A handler that imports the action modules only when an action runs. The imports are
    written out (not importlib with a name) so PyInstaller's analysis finds them."""

    def handler(args: argparse.Namespace) -> int:
        if function == "run_import":
            from . import models_import

            return models_import.run_import(args)
        from . import models_run

        run: Callable[[argparse.Namespace], int] = getattr(models_run, function)
        return run(args)

    return handler


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("models", help=COMMANDS["models"].help)
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
    listing.set_defaults(handler=_action("run_list"))

    download = with_dir(
        actions.add_parser(
            "download",
            help="download and verify models",
            description="Download and verify models. Each model's outcome is reported; the command "
            "fails if any model could not be fetched. Offline? Use --mirror, or 'models import' "
            "the files you already have.",
        )
    )
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
    download.set_defaults(handler=_action("run_download"))

    verify = with_dir(actions.add_parser("verify", help="re-hash every model file and report"))
    verify.set_defaults(handler=_action("run_verify"))

    path = with_dir(actions.add_parser("path", help="print the models folder"))
    path.set_defaults(handler=_action("run_path"))

    remove = with_dir(actions.add_parser("remove", help="delete model files"))
    remove.add_argument("names", nargs="+", metavar="NAME")
    remove.set_defaults(handler=_action("run_remove"))

    importing = with_dir(
        actions.add_parser(
            "import",
            help="copy model files you already have into the store",
            usage="%(prog)s [-h] [--trust] [--models-dir DIR] [--json] {PATH | NAME FILE}",
            description="Copy model files you already have into the store (never moving them). "
            "PATH may be a folder, searched a few levels deep for the files FaceDeck knows "
            "(Deep-Live-Cam's models/, ~/.insightface/models/buffalo_l, FaceFusion's "
            ".assets/models), a pack such as buffalo_l.zip (read member by member) or one file "
            "named as FaceDeck, Deep-Live-Cam or FaceFusion name it. NAME FILE imports FILE as "
            "model NAME whatever its name. Every file is checked against its published SHA-256.",
        )
    )
    importing.add_argument(
        "target", metavar="PATH | NAME", help="a folder, a zip, a model file; or a model id"
    )
    importing.add_argument("file", metavar="FILE", nargs="?", help="with NAME: the file to import as NAME")
    importing.add_argument(
        "--trust",
        action="store_true",
        help="accept files whose SHA-256 differs from the published one (remembered on this machine)",
    )
    importing.set_defaults(handler=_action("run_import"))
