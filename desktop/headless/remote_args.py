"""Where a headless job runs: ``--remote runpod --endpoint ID`` or ``--remote URL``.

Keys never travel on the command line (the process list shows it to every user of the
machine): RunPod's key comes from ``RUNPOD_API_KEY`` (and the API's address from
``RUNPOD_ENDPOINT_BASE_URL``) exactly as RunPod's own SDK reads them; a FaceDeck
server's token from ``FACEDECK_SERVER_TOKEN`` or ``--token-file``. The bucket for large
files comes from ``FACEDECK_S3_*`` and the standard AWS credential sources.
This module is imported to build ``--help``: the client (requests) loads in
:func:`runner_from_args`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ...core.errors import UsageError
from .common import checked_number

if TYPE_CHECKING:
    from ...remote.client import RemoteClient
    from ...remote.remote_run import RemoteRunner

SERVER_TOKEN_ENV = "FACEDECK_SERVER_TOKEN"
MAX_SEGMENTS = 64

REMOTE_EPILOG = """\
remote runs (--remote):
  runpod      a RunPod serverless endpoint: --endpoint ID, the key in RUNPOD_API_KEY
              (RUNPOD_ENDPOINT_BASE_URL changes the API's address, as in RunPod's SDK)
  URL         your own FaceDeck server (facedeck --headless serve): its token in
              FACEDECK_SERVER_TOKEN or a --token-file
  Videos, and photos too big for one request, go through an S3-compatible bucket:
  FACEDECK_S3_BUCKET, FACEDECK_S3_ENDPOINT_URL (R2, MinIO), FACEDECK_S3_PREFIX, AWS_REGION
  and the usual AWS credentials; what FaceDeck uploads is deleted when the job ends
  (FACEDECK_S3_KEEP=1 keeps it). A remote failure exits 7."""


_segments = checked_number(
    int,
    lambda value: None if 1 <= value <= MAX_SEGMENTS else f"{value} is out of range (1 to {MAX_SEGMENTS})",
    "segments",
)


def add_remote_options(parser: argparse.ArgumentParser, *, segments: bool) -> None:
    group = parser.add_argument_group("remote runs")
    group.add_argument(
        "--remote",
        metavar="WHERE",
        help="run on 'runpod' (with --endpoint) or on a FaceDeck server at this http(s) URL",
    )
    group.add_argument(
        "--endpoint", metavar="ID", help="the RunPod endpoint's id (or a server's endpoint name)"
    )
    group.add_argument(
        "--token-file",
        metavar="FILE",
        help=f"a file holding the FaceDeck server's token (default: ${SERVER_TOKEN_ENV})",
    )
    group.add_argument(
        "--queue-timeout",
        type=checked_number(float, lambda value: None if value > 0 else "must be above 0"),
        default=600.0,
        metavar="S",
        help="give up when no worker has taken the job after S seconds (default: 600)",
    )
    if segments:
        group.add_argument(
            "--segments",
            type=_segments,
            default=1,
            metavar="N",
            help="split a video at keyframes into N parts run on N workers at once, then join "
            f"them without re-encoding (1 to {MAX_SEGMENTS}; default: 1)",
        )


def check_remote_options(args: argparse.Namespace) -> None:
    """Usage errors about the remote options, before anything is read or sent."""
    remote = args.remote
    if remote is None:
        for flag, value in (("--endpoint", args.endpoint), ("--token-file", args.token_file)):
            if value is not None:
                raise UsageError(f"{flag} is for remote runs; add --remote runpod or --remote URL")
        if getattr(args, "segments", 1) != 1:
            raise UsageError("--segments splits a video across remote workers; add --remote")
        return
    if remote == "runpod":
        if not args.endpoint:
            raise UsageError("--remote runpod needs --endpoint ID (the endpoint's id in RunPod's console)")
        if args.token_file is not None:
            raise UsageError("--token-file is for a FaceDeck server; RunPod's key comes from RUNPOD_API_KEY")
    elif not remote.startswith(("http://", "https://")):
        raise UsageError(f"--remote takes 'runpod' or a server's http(s) URL, not {remote!r}")


def _server_token(args: argparse.Namespace) -> str | None:
    if args.token_file is not None:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise UsageError(f"--token-file {args.token_file}: {error.strerror or error}") from None
        if not token:
            raise UsageError(f"--token-file {args.token_file} is empty")
        return token
    return os.environ.get(SERVER_TOKEN_ENV, "").strip() or None


def client_from_args(args: argparse.Namespace) -> RemoteClient:
    from ...remote.client import ClientSettings, RemoteClient
    from ...remote.endpoint import Endpoint

    check_remote_options(args)
    if args.remote == "runpod":
        endpoint = Endpoint.runpod(args.endpoint, os.environ)
    else:
        endpoint = Endpoint.server(args.remote, _server_token(args), args.endpoint or "facedeck")
    return RemoteClient(endpoint, ClientSettings(queue_timeout=args.queue_timeout))


def runner_from_args(args: argparse.Namespace) -> RemoteRunner:
    from ...remote.remote_run import RemoteRunner
    from ...remote.staging import StorageSettings

    return RemoteRunner(
        client_from_args(args), StorageSettings.from_environment(os.environ), segments=args.segments
    )
