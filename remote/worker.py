"""The RunPod serverless worker: the only module that imports the ``runpod`` SDK.

``facedeck --headless worker`` (the image's CMD) calls :func:`run_worker`. The SDK is
imported inside it, never at the top: it is heavy (~680 modules, ~1.7 s to import here) and the ``worker``
extra may be missing, so ``--help`` and every other command stay light.

Facts about runpod 1.12 this module relies on (read in ``runpod/serverless/``):

- ``serverless.start(config)`` parses ``sys.argv`` itself (``parse_known_args``: --test_input,
  --rp_serve_api, --rp_log_level, --rp_debugger, --rp_api_port/host/concurrency) and
  leaves only the flags it does not know in ``sys.argv``; so the caller's SDK flags are put in
  ``sys.argv`` for the call (:func:`sdk_argv`).
- Off RunPod (no ``RUNPOD_WEBHOOK_GET_JOB``) or with --test_input it runs one job, the
  flag's JSON or else ``./test_input.json``, and ends with ``sys.exit``: 1 when the result has
  an error, when the job has no "input" or when neither job source exists; 0 otherwise. The
  result is printed as a Python repr on an INFO line ``Job result: {...}``, cut to 4096
  characters. On RunPod it runs fitness checks (any failure: ``os._exit(1)``), then the job
  loop until SIGTERM.
- ``rp_job.run_job`` awaits the handler's return value when it is awaitable. A returned
  dict's "error" is popped into the job's error (the job is FAILED) and its other keys stay as
  the job's "output" next to it (our "code" and "fields" reach the caller that way; the SDK's
  --rp_serve_api test server drops them and answers the error alone). A "refresh_worker" key
  would be popped too and restart the worker after the job: FaceDeck's answers have none. A
  raised Exception becomes an error string holding the traceback, hostname and worker id,
  so the handler below never lets one out. ``CancelledError`` passes through.
- A cancel or an execution timeout arrives on the stop channel and cancels the job's asyncio
  task (``JobScaler.stop_job``): the awaiting ``RemoteHandler.handle`` then stops the engine
  within a frame and removes partial outputs before re-raising.
- Concurrency: ``JobScaler`` runs one job at a time unless a "concurrency_modifier" raises
  it. One engine per GPU wants exactly that, so none is given.
- "return_aggregate_stream" only concerns generator handlers; this handler returns one
  answer and reports progress with ``progress_update`` instead.
- ``progress_update(job, payload)`` starts a thread with its own event loop and HTTP
  session per call and POSTs to ``RUNPOD_WEBHOOK_POST_OUTPUT``: the handler throttles updates,
  and without that variable (local runs) there is nowhere to post, so progress is logged.
- ``RunPodLogger`` prints to stdout at ``RUNPOD_LOG_LEVEL`` (else ``RUNPOD_DEBUG_LEVEL``,
  else DEBUG), read once at import; at DEBUG it prints every job's input (presigned URLs with
  their signatures) and output, so INFO is the default set here before the import.
- Importing runpod calls ``logging.basicConfig(level=INFO)`` (``serverless/utils/rp_upload``):
  a no-op when the root logger already has a handler, which the CLI installs first; and it
  sets the urllib3 and uvicorn loggers to WARNING.
- Without ``RUNPOD_SKIP_AUTO_SYSTEM_CHECKS=true`` the production start checks memory, disk,
  CUDA and a TCP connection to 8.8.8.8:53, and kills the worker if one fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from types import ModuleType
from typing import Any

from ..core.errors import FaceDeckError, UsageError
from ..core.runtime.frozen import bundle_dir
from . import answers
from .handler import ProgressSink, RemoteHandler
from .redact import redact_queries

log = logging.getLogger(__name__)

SKIP_CHECKS_ENV = "RUNPOD_SKIP_AUTO_SYSTEM_CHECKS"
LOG_LEVEL_ENVS = ("RUNPOD_LOG_LEVEL", "RUNPOD_DEBUG_LEVEL")  # the SDK's order
POST_OUTPUT_ENV = "RUNPOD_WEBHOOK_POST_OUTPUT"  # where progress_update posts
GET_JOB_ENV = "RUNPOD_WEBHOOK_GET_JOB"  # set only on RunPod
REALTIME_PORT_ENV = "RUNPOD_REALTIME_PORT"
INSTALL_HINT = 'pip install "facedeck[worker]"'
VERBOSE_SDK_LEVELS = ("DEBUG", "TRACE")

ProgressSend = Callable[[dict[str, Any], dict[str, Any]], None]  # progress_update(job, payload)


class WorkerUnavailableError(FaceDeckError):
    """The ``worker`` extra (the RunPod SDK) is not installed or does not import."""

    code = "runtime_install"


class Worker:
    """The SDK's handler: one RemoteHandler, one job at a time, progress sent as it comes."""

    def __init__(self, handler: RemoteHandler, send: ProgressSend | None = None) -> None:
        """``send``: ``runpod.serverless.progress_update``, or None to log progress instead
        (off RunPod there is nowhere to post it). The handler throttles updates (a few per
        second at most); each one costs the SDK a thread and an HTTP request."""
        self._handler = handler
        self._send = send

    async def run(self, job: dict[str, Any]) -> dict[str, Any]:
        """Answer one RunPod job; never raises except CancelledError (cancel or timeout)."""
        job_id = str(job.get("id", "?"))
        started = time.perf_counter()
        try:
            answer = await self._handler.handle(job, progress=self._progress_sink(job))
        except asyncio.CancelledError:
            log.info("job %s stopped (cancelled or timed out) after %.1f s", job_id, self._since(started))
            raise
        except Exception as error:  # noqa: BLE001 - the job boundary: the next job must still run
            # the SDK would send the caller a traceback: they get one line, the log the type and reason
            reason = redact_queries(" ".join(str(error).split()))
            log.error("job %s failed unexpectedly: %s: %s", job_id, type(error).__name__, reason)
            return answers.internal_failure()
        if "error" in answer:
            log.warning("job %s failed: %s", job_id, answer["error"])
        else:
            log.info("job %s done in %.2f s", job_id, self._since(started))
        return answer

    def _progress_sink(self, job: dict[str, Any]) -> ProgressSink:
        job_id = str(job.get("id", "?"))
        send = self._send
        if send is None:

            def log_progress(payload: dict[str, Any]) -> None:
                log.info("job %s progress: %s", job_id, json.dumps(payload, sort_keys=True))

            return log_progress

        def post_progress(payload: dict[str, Any]) -> None:
            send(job, payload)

        return post_progress

    @staticmethod
    def _since(started: float) -> float:
        return time.perf_counter() - started


def prepare_environment(environ: MutableMapping[str, str]) -> None:
    """Defaults the SDK reads at import or start; a value the user set is kept."""
    # the system checks dial 8.8.8.8 and kill the worker on a slow disk or network blip
    environ.setdefault(SKIP_CHECKS_ENV, "true")
    if not any(environ.get(name) for name in LOG_LEVEL_ENVS):
        environ[LOG_LEVEL_ENVS[0]] = "INFO"  # DEBUG would print job inputs, signatures included
    level = next(environ[name] for name in LOG_LEVEL_ENVS if environ.get(name)).upper()
    if level in VERBOSE_SDK_LEVELS:
        log.warning(
            "the RunPod SDK logs at %s: it prints every job's input and output, presigned URLs included",
            level,
        )


def import_sdk() -> ModuleType:
    """``runpod.serverless``, or a one-line WorkerUnavailableError saying what to install."""
    try:
        import runpod.serverless
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] == "runpod" and bundle_dir() is not None:
            # nothing can be pip-installed into a bundle: say where the worker does exist
            raise WorkerUnavailableError(
                "the RunPod worker is not part of the FaceDeck bundle: it runs from the Docker image "
                f"(Dockerfile) or a Python install with the worker extra ({INSTALL_HINT})"
            ) from None
        if (error.name or "").split(".")[0] == "runpod":
            raise WorkerUnavailableError(
                f"the worker needs the RunPod SDK (the worker extra), not installed here: {INSTALL_HINT}"
            ) from None
        raise WorkerUnavailableError(
            f"the RunPod SDK is installed but does not import (no module named {error.name!r}): "
            f"{INSTALL_HINT} --force-reinstall"
        ) from None
    return runpod.serverless


def check_sdk_args(serverless: ModuleType, sdk_args: Sequence[str]) -> argparse.Namespace:
    """Parse RunPod's flags with the SDK's own parser; unknown ones and bad JSON are usage errors."""
    known, unknown = serverless.parser.parse_known_args(list(sdk_args))
    if unknown:
        words = " ".join(unknown)
        raise UsageError(f"unrecognized arguments: {words} (see 'facedeck --headless worker --help')")
    if known.test_input is not None:
        try:
            test_job = json.loads(known.test_input)
        except ValueError as error:
            raise UsageError(f"--test_input is not valid JSON: {error}") from None
        if not isinstance(test_job, dict) or test_job.get("input") is None:
            example = json.dumps({"input": {"health": True}})
            raise UsageError(f"--test_input must be a JSON object with an \"input\", e.g. '{example}'")
    return known


def nothing_to_run(known: argparse.Namespace, environ: Mapping[str, str], workdir: str) -> bool:
    """True off RunPod with no job to test and no API to serve: the SDK would exit 1 with a warning."""
    on_runpod = bool(environ.get(GET_JOB_ENV)) or bool(environ.get(REALTIME_PORT_ENV))
    has_test_file = os.path.isfile(os.path.join(workdir, "test_input.json"))
    return not (on_runpod or known.test_input or known.rp_serve_api or has_test_file)


@contextlib.contextmanager
def sdk_argv(sdk_args: Sequence[str]) -> Iterator[None]:
    """``sys.argv`` holds only RunPod's flags while the SDK parses it, then is restored."""
    saved = sys.argv
    sys.argv = [saved[0] if saved else "facedeck", *sdk_args]
    try:
        yield
    finally:
        sys.argv = saved


def exit_status(code: object) -> int:
    """``sys.exit``'s argument as a process status, as the interpreter maps it."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def run_worker(
    sdk_args: Sequence[str],
    *,
    provider: str | None = None,
    environ: MutableMapping[str, str] | None = None,
) -> int:
    """Load the models once, then hand the job loop to the SDK; the process's exit status."""
    env = os.environ if environ is None else environ
    prepare_environment(env)
    serverless = import_sdk()  # before the models: a missing extra fails at once
    known = check_sdk_args(serverless, sdk_args)
    # test_input.json is the SDK's own convention: it reads it from the working folder
    if nothing_to_run(known, env, os.getcwd()):
        raise UsageError(
            f"not on RunPod ({GET_JOB_ENV} is not set) and no job to run: pass --test_input JSON, "
            "put a test_input.json in the working folder, or serve the SDK's test API with --rp_serve_api"
        )
    handler = RemoteHandler.from_environment(env, provider=provider)
    log_health(handler.health())
    send = serverless.progress_update if env.get(POST_OUTPUT_ENV) else None
    worker = Worker(handler, send)
    with sdk_argv(sdk_args):
        try:
            serverless.start({"handler": worker.run})
        except SystemExit as stop:  # local runs end with sys.exit(0 or 1)
            return exit_status(stop.code)
    return 0


def log_health(health: Mapping[str, Any]) -> None:
    """One start-up line: what every job will find (missing models are named, not fatal)."""
    line = (
        f"FaceDeck {health.get('version')} worker: {health.get('status')}; provider "
        f"{health.get('provider')}, onnxruntime {health.get('onnxruntime')}, models in "
        f"{health.get('models_directory')}"
    )
    if health.get("status") == "ok":
        log.info("%s", line)
    else:  # the worker still starts: each job answers with this reason until it is fixed
        log.warning("%s; %s", line, health.get("message"))
