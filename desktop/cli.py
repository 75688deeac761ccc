"""The ``facedeck`` entry point.

``facedeck`` opens the desktop window; ``facedeck --headless COMMAND`` runs the same core
engine with no GUI. Nothing on the headless path imports Qt: the GUI modules are imported
only after the ``--headless`` check.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from ..core.errors import FaceDeckError
from ..core.version import software_label

log = logging.getLogger("facedeck")

EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    from .headless import doctor, models_cmd, swap

    parser = argparse.ArgumentParser(
        prog="facedeck --headless",
        description="FaceDeck without a GUI: swap faces in images, manage models, check the environment.",
    )
    parser.add_argument("--version", action="version", version=software_label())
    parser.add_argument("--debug", action="store_true", help="show debug logs and tracebacks")
    parser.add_argument("-v", "--verbose", action="store_true", help="show progress logs")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    swap.add_parser(commands)
    doctor.add_parser(commands)
    models_cmd.add_parser(commands)
    return parser


def configure_logging(debug: bool, verbose: bool) -> None:
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def report_error(message: str, code: int, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"event": "error", "message": message, "exit_code": code}), flush=True)
    print(f"facedeck: error: {message}", file=sys.stderr, flush=True)


def run_headless(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv))
    configure_logging(args.debug, args.verbose)
    as_json = bool(getattr(args, "json", False))
    try:
        return int(args.handler(args) or 0)
    except FaceDeckError as error:
        if args.debug:
            log.exception("failed")
        report_error(str(error), error.exit_code, as_json)
        return error.exit_code
    except KeyboardInterrupt:
        report_error("interrupted", EXIT_INTERRUPTED, as_json)
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the one boundary where any failure becomes a one-line message
        if args.debug:
            raise
        report_error(
            f"internal error: {type(error).__name__}: {error} (run with --debug for details)",
            EXIT_INTERNAL,
            as_json,
        )
        return EXIT_INTERNAL


def run_gui(argv: Sequence[str]) -> int:
    try:
        from .gui import app
    except ImportError as error:
        print(
            f"facedeck: error: the desktop GUI is not available in this build ({error}); "
            "use 'facedeck --headless --help'",
            file=sys.stderr,
        )
        return 2
    return app.run(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if "--headless" in arguments:
        arguments.remove("--headless")
        return run_headless(arguments)
    return run_gui(arguments)


if __name__ == "__main__":
    sys.exit(main())
