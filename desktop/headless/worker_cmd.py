"""``facedeck --headless worker``: run as a RunPod serverless worker (the worker image's CMD).

RunPod's own flags (``--test_input JSON``, ``--rp_serve_api``, ``--rp_log_level LEVEL``, ...)
are not parsed here: ``desktop/cli.py`` leaves the words this parser does not know in
``args.sdk_args`` and the SDK parses them. This module imports neither the SDK nor the
engine at the top, so ``--help`` stays light; :func:`run` imports ``facedeck.remote.worker``.
"""

from __future__ import annotations

import argparse
import logging

from .catalog import COMMANDS

SDK_FLAGS = """RunPod's flags, passed on to the SDK:
  --test_input JSON     run this one job and exit: 0 when it succeeds, 1 when it fails
                        (e.g. '{"input": {"health": true}}'); without it, off RunPod, the SDK
                        runs ./test_input.json
  --rp_serve_api        the SDK's local test API (--rp_api_host, --rp_api_port,
                        --rp_api_concurrency)
  --rp_log_level LEVEL  the SDK's log level: ERROR, WARN, INFO (the default here) or DEBUG
                        (DEBUG prints every job's input and output, presigned URLs included)

On RunPod the worker takes jobs until it is stopped. Models are read from
/runpod-volume/facedeck/models when that folder exists, else from $FACEDECK_MODELS_DIR or
the usual models folder; a missing model does not stop the worker, each job names it.
"""


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "worker",
        help=COMMANDS["worker"].help,
        description="Load the models once, then answer RunPod serverless jobs with the same engine\n"
        "as 'swap'. Needs the worker extra: pip install \"facedeck[worker]\".",
        epilog=SDK_FLAGS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--provider",
        default="auto",
        help="onnxruntime execution provider (default: auto, the best one available here)",
    )
    parser.set_defaults(handler=run, sdk_args=[])


def run(args: argparse.Namespace) -> int:
    from ...remote.worker import run_worker

    # a worker's log is all anyone sees of it: FaceDeck's start-up and per-job lines at INFO
    if not args.debug:
        logging.getLogger("facedeck").setLevel(logging.INFO)
    provider = None if args.provider == "auto" else args.provider
    return run_worker(args.sdk_args, provider=provider)
