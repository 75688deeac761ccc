"""``facedeck --headless remote health``: is this endpoint (or server) ready to take jobs?

For scripts and for a first set-up: the endpoint's queue and workers (``/health``), then
one health job that a worker answers with its FaceDeck version, provider and models. Exit
0 when a worker answered ``ok``, 1 when it answered ``degraded``, 7 when the endpoint could
not be reached or refused the key (the same status as a remote swap that fails).
"""

from __future__ import annotations

import argparse
from typing import Any

from .catalog import COMMANDS
from .common import emit_json, say
from .remote_args import REMOTE_EPILOG, add_remote_options


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "remote",
        help=COMMANDS["remote"].help,
        description="Check a RunPod endpoint or a FaceDeck server before sending it work.",
        epilog=REMOTE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    health = actions.add_parser(
        "health",
        help="the endpoint's workers and queue, then a health job a worker answers",
        epilog=REMOTE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_remote_options(health, segments=False)
    health.add_argument("--json", action="store_true", help="print one machine-readable line")
    health.add_argument(
        "--no-job", action="store_true", help="only ask /health; send no job (no worker needs to start)"
    )
    health.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ...core.errors import UsageError
    from .remote_args import client_from_args

    if args.remote is None:
        raise UsageError("say which endpoint: --remote runpod --endpoint ID, or --remote URL")
    client = client_from_args(args)
    queue = client.health()
    worker: dict[str, Any] | None = None
    if not args.no_job:
        answer = client.run({"health": True}, sync=True)
        worker = answer if isinstance(answer, dict) else {"status": "degraded", "message": str(answer)}
    status = 0 if worker is None or worker.get("status") == "ok" else 1
    if args.json:
        emit_json("health", endpoint=client.endpoint.label, queue=queue, worker=worker, ok=status == 0)
        return status
    say(f"{client.endpoint.label}: reachable")
    jobs, workers = queue.get("jobs"), queue.get("workers")
    if isinstance(jobs, dict):
        say("  jobs:    " + ", ".join(f"{name} {count}" for name, count in jobs.items()))
    if isinstance(workers, dict):
        say("  workers: " + ", ".join(f"{name} {count}" for name, count in workers.items()))
    if worker is not None:
        say(
            f"  worker:  {worker.get('status', '?')} ({worker.get('message', '')}); FaceDeck "
            f"{worker.get('version', '?')}, provider {worker.get('provider', '?')}"
        )
        models = worker.get("models")
        if isinstance(models, dict):
            say("  models:  " + ", ".join(f"{name} {state}" for name, state in models.items()))
    return status
