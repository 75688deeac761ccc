"""The ``facedeck`` entry point.

``facedeck`` opens the desktop window; ``facedeck --headless COMMAND`` runs the same core
engine with no GUI. Nothing on the headless path imports Qt: the GUI modules are imported
only after the ``--headless`` check.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import sys
from collections.abc import Sequence

from ..core.errors import FaceDeckError
from ..core.version import software_label
from .errors import EXIT_INTERNAL, EXIT_SIGNAL_BASE, cli_message, exit_code
from .headless.catalog import COMMANDS, command_in
from .headless.signals import StopSignal, signal_number, stopping_on_signals

log = logging.getLogger("facedeck")

EXIT_GUI_UNAVAILABLE = 2  # the status the unbuilt-window message has always exited with
QT_PACKAGES = ("PySide6", "shiboken6")


class VersionAction(argparse.Action):
    """``--version``: the version is looked up only when asked for (see core.version)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(software_label(), flush=True)
        parser.exit()


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The ``--headless`` parser; only the command ``argv`` runs gets its full parser.

    The other commands are listed with their one-line help (enough for ``--help``), so a
    command's module, and what it imports, loads only when that command runs.
    """
    parser = argparse.ArgumentParser(
        prog="facedeck --headless",
        description="FaceDeck without a GUI: swap faces in images, manage models, check the environment.",
    )
    parser.add_argument("--version", action=VersionAction)
    parser.add_argument("--debug", action="store_true", help="show debug logs and tracebacks")
    parser.add_argument("-v", "--verbose", action="store_true", help="show progress logs")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = command_in(list(argv))
    for name, command in COMMANDS.items():
        if name == wanted:
            add_full_parser(name, commands)
        else:
            commands.add_parser(name, help=command.help)
    return parser


def add_full_parser(name: str, commands: argparse._SubParsersAction) -> None:
    # written out, not importlib with a module name, so PyInstaller's analysis finds them
    if name == "swap":
        from .headless import swap as module
    elif name == "doctor":
        from .headless import doctor as module  # type: ignore[no-redef]
    elif name == "live":
        from .headless import live_cmd as module  # type: ignore[no-redef]
    elif name == "worker":
        from .headless import worker_cmd as module  # type: ignore[no-redef]
    elif name == "serve":
        from .headless import serve_cmd as module  # type: ignore[no-redef]
    elif name == "remote":
        from .headless import remote_cmd as module  # type: ignore[no-redef]
    else:
        from .headless import models_cmd as module  # type: ignore[no-redef]
    module.add_parser(commands)


def configure_logging(debug: bool, verbose: bool) -> None:
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def report_error(message: str, code: int, as_json: bool) -> None:
    # one line whatever the message holds (an OpenCV or onnxruntime reason can span several)
    message = " ".join(message.split())
    if as_json:
        print(json.dumps({"event": "error", "message": message, "exit_code": code}), flush=True)
    print(f"facedeck: error: {message}", file=sys.stderr, flush=True)


def run_headless(argv: Sequence[str]) -> int:
    parser = build_parser(argv)
    if command_in(list(argv)) == "worker":
        # RunPod's own flags (--test_input, --rp_serve_api, ...) are the SDK's to parse
        args, sdk_args = parser.parse_known_args(list(argv))
        args.sdk_args = sdk_args
    else:
        args = parser.parse_args(list(argv))
    configure_logging(args.debug, args.verbose)
    as_json = bool(getattr(args, "json", False))
    try:
        with stopping_on_signals():  # SIGTERM and SIGHUP end up below, as Ctrl-C does
            return int(args.handler(args) or 0)
    except FaceDeckError as error:
        if args.debug:
            log.exception("failed")
        status = exit_code(error)
        report_error(cli_message(error), status, as_json)
        return status
    except KeyboardInterrupt as interrupt:
        # Ctrl-C keeps its word; SIGTERM and SIGHUP name themselves. 128 + N, as shells report.
        message = str(interrupt) if isinstance(interrupt, StopSignal) else "interrupted"
        status = EXIT_SIGNAL_BASE + signal_number(interrupt)
        report_error(message, status, as_json)
        return status
    except Exception as error:  # noqa: BLE001 - the one boundary where any failure becomes a one-line message
        if args.debug:
            raise
        report_error(
            f"internal error: {type(error).__name__}: {error} (run with --debug for details)",
            EXIT_INTERNAL,
            as_json,
        )
        return EXIT_INTERNAL


def build_gui_parser() -> argparse.ArgumentParser:
    """``facedeck --help`` and ``--version``: answered before anything imports Qt."""
    parser = argparse.ArgumentParser(
        prog="facedeck",
        description="FaceDeck: swap faces in photos and videos. Without options it opens the desktop window.",
        epilog="Without a window: 'facedeck --headless --help'.",
    )
    parser.add_argument("--version", action=VersionAction)
    parser.add_argument(
        "--headless", action="store_true", help="run a command without the window (scripts, servers)"
    )
    return parser


def gui_install_command() -> str:
    """The pip line that adds the window to this install.

    It repeats the onnxruntime extra already installed: naming the other one would pull in
    a second onnxruntime distribution, which breaks both (DESIGN.md section 3).
    """
    from importlib import metadata

    for extra, distribution in (("gpu", "onnxruntime-gpu"), ("cpu", "onnxruntime")):
        try:
            metadata.distribution(distribution)
        except metadata.PackageNotFoundError:
            continue
        return f'pip install "facedeck[gui,{extra}]"'
    return 'pip install "facedeck[gui,gpu]" (NVIDIA GPU) or pip install "facedeck[gui,cpu]"'


def gui_unavailable_reason() -> str | None:
    """Why the window cannot open in this install, in one line for users; None if it can.

    Says what to install or run, never which module failed to import: users act on
    extras and commands, not on FaceDeck's package layout.
    """
    headless = "'facedeck --headless --help'"
    window_built = importlib.util.find_spec(f"{__package__}.gui") is not None
    try:
        import PySide6  # noqa: F401 - only whether Qt's Python binding is installed and loads
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] in QT_PACKAGES:
            fix = f"the desktop window needs the gui extra (Qt), not installed here: {gui_install_command()}"
            if window_built:
                return f"{fix}; or use {headless}"
            # say both, so installing the extra does not end in the next surprise
            return f"{fix}; the window itself is not built yet in {software_label()}, use {headless}"
        return _qt_does_not_load(error, headless)
    except ImportError as error:
        return _qt_does_not_load(error, headless)
    if not window_built:
        return f"the desktop window is not built yet in {software_label()}; use {headless} for what works now"
    return None


def _qt_does_not_load(error: ImportError, headless: str) -> str:
    # installed but unusable, e.g. a system library Qt needs is missing: the first line of
    # the loader's message is what a user can search for
    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return f"Qt is installed but does not load here ({first_line}); use {headless} meanwhile"


def run_gui(argv: Sequence[str]) -> int:
    # --help and --version need no Qt; every other argument is the window's to read
    _, window_arguments = build_gui_parser().parse_known_args(list(argv))
    reason = gui_unavailable_reason()
    if reason is not None:
        print(f"facedeck: error: {reason}", file=sys.stderr, flush=True)
        return EXIT_GUI_UNAVAILABLE
    from .gui import app  # type: ignore[import-not-found]  # the window package is not built yet

    return int(app.run(window_arguments))


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if "--headless" in arguments:
        arguments.remove("--headless")
        return run_headless(arguments)
    return run_gui(arguments)


if __name__ == "__main__":
    sys.exit(main())
