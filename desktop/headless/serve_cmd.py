"""``facedeck --headless serve``: the self-hosted server with RunPod's v2 queue API.

This module is imported to build ``--help``: FastAPI, uvicorn and the engine are imported
in :func:`run`, when the server really starts, so the help stays quick and an install
without the ``server`` extra can still show it.
"""

from __future__ import annotations

import argparse
import os
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...core.errors import RuntimeInstallError, UsageError
from .catalog import COMMANDS
from .common import add_model_options, checked_number, emit_json, say
from .signals import StopSignal

if TYPE_CHECKING:
    from ...remote.handler import RemoteHandler

SERVER_EXTRA = 'pip install "facedeck[server]"'


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "serve",
        help=COMMANDS["serve"].help,
        description="Serve swap jobs over HTTP with RunPod's v2 queue API (/v2/{endpoint}/run, runsync, "
        "status, stream, cancel, purge-queue, health), one job at a time per engine. A token, when set, is "
        "read from FACEDECK_SERVER_TOKEN or --token-file, never from the command line, and is required "
        "to listen beyond 127.0.0.1. Several GPUs: --gpus 0,1 runs one engine on each, and jobs go to "
        "whichever engine is free.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    parser.add_argument(
        "--token-file", metavar="PATH", help="file holding the bearer token (else $FACEDECK_SERVER_TOKEN)"
    )
    parser.add_argument(
        "--endpoint-id", metavar="ID", help="accept only this endpoint id in /v2/ID/... (default: any)"
    )
    parser.add_argument(
        "--keep-results",
        type=_positive(float),
        default=1800.0,
        metavar="SECONDS",
        help="how long a finished job's answer stays readable (default: 1800, as RunPod's /run)",
    )
    parser.add_argument(
        "--max-body-mb",
        type=_positive(float),
        default=20.0,
        metavar="N",
        help="largest request body in MB; larger ones get 413 (default: 20, as RunPod's /runsync)",
    )
    parser.add_argument(
        "--execution-timeout",
        type=_positive(float),
        default=600.0,
        metavar="SECONDS",
        help="a job running longer is stopped unless its policy.executionTimeout says otherwise "
        "(default: 600, as RunPod)",
    )
    parser.add_argument(
        "--max-queue",
        type=_positive(int),
        default=100,
        metavar="N",
        help="most jobs waiting at once; more get 429 (default: 100)",
    )
    engines = parser.add_mutually_exclusive_group()
    engines.add_argument(
        "--gpus",
        type=_gpu_list,
        metavar="LIST",
        help="run one engine on each of these GPUs (0,1,3), each running one job at a time "
        "(default: one engine on the provider's default GPU)",
    )
    engines.add_argument(
        "--engines",
        type=_positive(int),
        default=1,
        metavar="N",
        help="run N engines on one device, each with its own copy of the models (default: 1)",
    )
    add_model_options(parser)
    parser.add_argument("--json", action="store_true", help="print the listening address as one JSON line")
    parser.set_defaults(handler=run)


def _gpu_list(text: str) -> list[int]:
    """``--gpus 0,1``: distinct GPU indices."""
    try:
        gpus = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of GPU numbers like 0,1") from None
    if any(gpu < 0 for gpu in gpus) or len(set(gpus)) != len(gpus):
        raise argparse.ArgumentTypeError(f"{text!r}: GPU numbers are 0 or more, each named once")
    return gpus


def _engines(args: argparse.Namespace) -> list[RemoteHandler]:
    """One handler per GPU of --gpus, or --engines handlers on the default device."""
    from ...core.runtime.providers import DEVICE_PROVIDERS, PROVIDER_NAMES, select_provider
    from ...remote.handler import RemoteHandler

    if args.gpus is None:
        return [
            RemoteHandler.from_environment(os.environ, provider=args.provider, models_dir=args.models_dir)
            for _ in range(args.engines)
        ]
    provider = select_provider(args.provider)
    if PROVIDER_NAMES[provider.name] not in DEVICE_PROVIDERS:  # no device to pin
        raise UsageError(
            f"--gpus needs a GPU execution provider (cuda, tensorrt, rocm, directml), not {provider.name}"
        )
    return [
        RemoteHandler.from_environment(
            os.environ, provider=provider.name, models_dir=args.models_dir, device=gpu
        )
        for gpu in args.gpus
    ]


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def problem_of(value: float) -> str | None:
        return None if value > 0 else f"must be more than 0: {value!r}"

    return checked_number(kind, problem_of)


def _require_server_extra() -> None:
    try:
        import fastapi  # noqa: F401 - only whether the extra is there
        import uvicorn  # noqa: F401
    except ModuleNotFoundError as error:
        raise RuntimeInstallError(
            f"the server needs the server extra ({error.name} is not installed here): {SERVER_EXTRA}"
        ) from None


def run(args: argparse.Namespace) -> int:
    _require_server_extra()
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a port number (0 to 65535)")
    from ...remote.server.app import ServerSettings, create_app
    from ...remote.server.auth import TokenCheck, load_token, require_token_beyond_loopback
    from ...remote.server.jobs import JobQueue, QueueSettings
    from ...remote.server.serving import bind, serve, url_of
    from ...remote.server.webhook import WebhookSender

    token = load_token(args.token_file, os.environ)
    require_token_beyond_loopback(args.host, token)
    sock = bind(args.host, args.port)  # first: a port in use fails before the models load
    engines = _engines(args)
    health = engines[0].health()  # the handlers have already warned about missing models
    queue = JobQueue(
        engines,
        QueueSettings(
            keep_results=args.keep_results,
            execution_timeout=args.execution_timeout,
            max_queued=args.max_queue,
        ),
        on_finished=WebhookSender(),
    )
    settings = ServerSettings(
        endpoint_id=args.endpoint_id, max_body_bytes=int(args.max_body_mb * 1024 * 1024)
    )
    app = create_app(queue, TokenCheck(token), settings)
    url = url_of(sock)
    endpoint = args.endpoint_id or "ENDPOINT"

    def listening() -> None:
        if args.json:
            emit_json(
                "listening",
                url=url,
                endpoint_id=args.endpoint_id,
                token_required=token is not None,
                provider=health.get("provider"),
            )
            return
        auth = "with a bearer token" if token is not None else "without a token (this machine only)"
        say(f"FaceDeck server on {url}, {auth}: POST {url}/v2/{endpoint}/run (Ctrl-C stops it)")

    stopped_by = serve(app, queue, sock, access_log=args.verbose or args.debug, on_listening=listening)
    if stopped_by is None:
        return 0
    if stopped_by == signal.SIGINT:
        raise KeyboardInterrupt
    raise StopSignal(stopped_by)
