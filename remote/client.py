"""The desktop's client for remote jobs: RunPod serverless endpoints and self-hosted FaceDeck servers.

Both speak RunPod's v2 queue API (DESIGN.md section 6): submit with ``/run`` (or ``/runsync``),
poll ``/status/{id}`` until the job is final, ``/cancel/{id}`` when the user stops. Plain
``requests``, never the runpod SDK: its client loses a FAILED job's error and does not retry
on https. Every failure is one sentence naming the endpoint (never its key); a job the
worker refused keeps the worker's error code, so the CLI exits as a local run would.

One client may serve several threads at once (the video fan-out runs jobs in parallel): it
holds no state between calls besides its ``requests.Session``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

import requests
from requests.adapters import HTTPAdapter

from ..core.errors import JobCancelled
from .client_download import download
from .client_errors import FINAL_STATES, RemoteError, RemoteJobFailed, RequestTooLarge, settle
from .client_http import ClientSettings, Interrupted, Transport, seconds_text
from .endpoint import RUN_BODY_LIMIT, RUNPOD, RUNSYNC_BODY_LIMIT, Endpoint
from .redact import protect_request_logs

__all__ = ["ClientSettings", "RemoteClient", "RemoteError", "RemoteJobFailed", "RequestTooLarge"]

log = logging.getLogger(__name__)

IN_QUEUE = "IN_QUEUE"
IN_PROGRESS = "IN_PROGRESS"
RUNSYNC_WAIT = 90.0  # seconds RunPod's /runsync holds a request open before answering the status so far
POOL_SIZE = 32  # connections kept per host: the fan-out polls many jobs at once

ProgressCallback = Callable[[Mapping[str, Any]], None]


class RemoteClient:
    """Runs jobs on one :class:`Endpoint`."""

    def __init__(
        self,
        endpoint: Endpoint,
        settings: ClientSettings = ClientSettings(),  # noqa: B008 - frozen, so one shared default is safe
        session: requests.Session | None = None,
    ) -> None:
        protect_request_logs()
        self.endpoint = endpoint
        self.settings = settings
        self._own_session = session is None
        self._session = session if session is not None else _new_session()
        self._http = Transport(endpoint, settings, self._session)

    def __repr__(self) -> str:
        return f"RemoteClient({self.endpoint.label})"

    def close(self) -> None:
        """Close the session if this client made it."""
        if self._own_session:
            self._session.close()

    def __enter__(self) -> RemoteClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- requests ----------------------------------------------------------------------

    def body_limit(self, *, sync: bool) -> int | None:
        """The most bytes a /run (or /runsync) body may hold; None where the client cannot know
        (a self-hosted server has its own --max-body-mb and says 413 itself)."""
        if self.endpoint.kind != RUNPOD:
            return None
        return RUNSYNC_BODY_LIMIT if sync else RUN_BODY_LIMIT

    def check_body(self, size: int, *, sync: bool) -> None:
        """RequestTooLarge when a JSON body of ``size`` bytes is over the endpoint's limit."""
        limit = self.body_limit(sync=sync)
        if limit is not None and size > limit:
            route = "/runsync" if sync else "/run"
            shown, most = _megabytes(size), _megabytes(limit)
            if shown == most:  # just over: the bytes tell them apart
                shown, most = f"{shown} ({size:,} bytes)", f"{most} ({limit:,} bytes)"
            raise RequestTooLarge(
                f"the request is {shown}, over the {most} {self.endpoint.label} accepts on {route}; "
                "send large media by URL (configure storage)"
            )

    def submit(self, job_input: Mapping[str, Any], *, policy: Mapping[str, Any] | None = None) -> str:
        """POST /run; the job's id."""
        return self._submit_body(self._body(job_input, policy, sync=False))

    def status(self, job_id: str) -> dict[str, Any]:
        """GET /status/{id}: the job's status answer."""
        return self._status(job_id, None)

    def health(self) -> dict[str, Any]:
        """GET /health (RunPod: ``{"jobs": {...}, "workers": {...}}``; the server adds "facedeck")."""
        answer = self._http.call("GET", ("health",), not_found=self._no_endpoint())
        return _object(answer, self.endpoint.label)

    def cancel(self, job_id: str) -> bool:
        """POST /cancel/{id}; whether the endpoint took it. Never raises for HTTP trouble: it warns."""
        try:
            # one retry at most: a user who pressed stop is waiting for this
            self._http.call(
                "POST",
                ("cancel", job_id),
                not_found=f"job {job_id} is no longer known to {self.endpoint.label}",
                delays=self.settings.retry_delays[:1],
            )
        except RemoteError as error:
            log.warning("could not cancel job %s: %s", job_id, error)
            return False
        log.info("cancelled job %s on %s", job_id, self.endpoint.label)
        return True

    def download(self, url: str, dest: Path, *, cancel: threading.Event | None = None) -> int:
        """Stream a result's presigned GET URL to ``dest`` (a temp path the caller gives); bytes written.

        Never sends the endpoint's key: the URL points at storage, not at the endpoint.
        """
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        return download(
            self._session, url, dest, delays=self.settings.retry_delays, timeout=timeout, cancel=cancel
        )

    # ---- jobs --------------------------------------------------------------------------

    def wait(
        self,
        job_id: str,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Any:
        """Poll until the job is final; its output when COMPLETED, a RemoteError otherwise.

        ``progress`` gets each new progress update (IN_PROGRESS with output); setting
        ``cancel`` cancels the remote job and raises JobCancelled within a poll interval.
        """
        return self._follow(job_id, None, progress, cancel or threading.Event())

    def run(
        self,
        job_input: Mapping[str, Any],
        *,
        policy: Mapping[str, Any] | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        sync: bool = False,
    ) -> Any:
        """Submit (``/run``, or ``/runsync`` with ``sync``) and wait; the job's output.

        A /runsync request itself cannot be interrupted: ``cancel`` acts once it has answered
        (RunPod answers within 90 s, with the status so far when the job is still running).
        """
        stop = cancel or threading.Event()
        body = self._body(job_input, policy, sync=sync)  # checked against the limit before anything is sent
        if not sync:
            return self._follow(self._submit_body(body), None, progress, stop)
        # /runsync holds the request open while the job runs: the read timeout must outlast it
        answer = _object(
            self._post_job("runsync", body, read_timeout=self.settings.read_timeout + RUNSYNC_WAIT),
            self.endpoint.label,
        )
        job_id = _job_id(answer, self.endpoint.label)
        log.info("submitted job %s to %s (runsync): %s", job_id, self.endpoint.label, answer.get("status"))
        return self._follow(job_id, answer, progress, stop)

    # ---- inside ------------------------------------------------------------------------

    def _body(self, job_input: Mapping[str, Any], policy: Mapping[str, Any] | None, *, sync: bool) -> bytes:
        """The request body, encoded once so that its size is known before it is sent."""
        payload: dict[str, Any] = {"input": job_input}
        if policy is not None:
            payload["policy"] = policy
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        self.check_body(len(body), sync=sync)
        return body

    def _submit_body(self, body: bytes) -> str:
        job_id = _job_id(self._post_job("run", body), self.endpoint.label)
        log.info("submitted job %s to %s", job_id, self.endpoint.label)
        return job_id

    def _post_job(self, route: str, body: bytes, *, read_timeout: float | None = None) -> Any:
        return self._http.call(
            "POST",
            (route,),
            body=body,
            not_found=self._no_endpoint(),
            resend_after_timeout=False,
            read_timeout=read_timeout,
        )

    def _no_endpoint(self) -> str:
        return (
            f"no endpoint {self.endpoint.endpoint_id} at {self.endpoint.base_url}: check the endpoint id"
        )

    def _status(self, job_id: str, cancel: threading.Event | None) -> dict[str, Any]:
        label = self.endpoint.label
        expired = f"job {job_id} is no longer known to {label} (results are kept 30 minutes)"
        return _object(self._http.call("GET", ("status", job_id), not_found=expired, cancel=cancel), label)

    def _follow(
        self,
        job_id: str,
        answer: dict[str, Any] | None,
        progress: ProgressCallback | None,
        stop: threading.Event,
    ) -> Any:
        """Poll from ``answer`` (None: ask first) until the job is final.

        Ctrl-C (or SIGTERM, which the CLI raises as a KeyboardInterrupt) cancels the remote
        job before it propagates: a job nobody waits for would still run, and be billed.
        """
        try:
            return self._poll(job_id, answer, progress, stop)
        except KeyboardInterrupt:
            self.cancel(job_id)
            raise

    def _poll(
        self,
        job_id: str,
        answer: dict[str, Any] | None,
        progress: ProgressCallback | None,
        stop: threading.Event,
    ) -> Any:
        settings, label = self.settings, self.endpoint.label
        delay = settings.poll_first
        queued_since: float | None = None
        last_update: Any = None
        while True:
            if stop.is_set():
                self._stop(job_id)
            if answer is None:
                try:
                    answer = self._status(job_id, stop)
                except Interrupted:
                    self._stop(job_id)
            state = answer.get("status")
            if state in FINAL_STATES:
                return settle(job_id, answer, label, self._http.scrub)
            if state == IN_QUEUE:
                now = time.monotonic()
                queued_since = now if queued_since is None else queued_since
                if now - queued_since >= settings.queue_timeout:
                    self._give_up_queue(job_id, now - queued_since)
            elif state == IN_PROGRESS:
                queued_since = None  # RunPod may queue a job again after its worker died: a new wait
                update = answer.get("output")
                if update is not None and update != last_update:
                    last_update = update
                    delay = settings.poll_first
                    if progress is not None:
                        progress(update)
            else:
                raise RemoteError(f"{label} answered an unknown status {str(state)[:40]!r} for job {job_id}")
            answer = None
            if stop.wait(delay):
                self._stop(job_id)
            delay = min(delay * settings.poll_factor, settings.poll_max)

    def _give_up_queue(self, job_id: str, waited: float) -> NoReturn:
        cancelled = self.cancel(job_id)
        label = self.endpoint.label
        if self.endpoint.kind == RUNPOD:
            why = "the endpoint may have no workers (check its max workers and GPU availability)"
        else:
            why = "the server's engines may be busy with other jobs"
        raise RemoteError(
            f"no worker of {label} picked job {job_id} up in {seconds_text(waited)}: {why}; "
            + ("the job was cancelled" if cancelled else "it could not be cancelled and may still run")
        )

    def _stop(self, job_id: str) -> NoReturn:
        if self.cancel(job_id):
            raise JobCancelled("cancelled; the remote job was cancelled too")
        raise JobCancelled(
            f"cancelled; the remote job could not be cancelled and may still run on {self.endpoint.label}"
        )


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


def _new_session() -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _object(answer: Any, label: str) -> dict[str, Any]:
    if not isinstance(answer, dict):
        raise RemoteError(f"{label} answered {type(answer).__name__} where a JSON object belongs")
    return answer


def _job_id(answer: Any, label: str) -> str:
    job_id = _object(answer, label).get("id")
    if not isinstance(job_id, str) or not job_id:
        raise RemoteError(f"{label} took the job but answered no job id")
    return job_id
