"""One request to a remote endpoint, retried the way RunPod's API wants, failures as one sentence.

429, 5xx, refused or dropped connections and timeouts are tried again after
``ClientSettings.retry_delays`` (a ``Retry-After`` in seconds wins, up to a minute); anything
else that is not a success becomes a :class:`RemoteError` naming the endpoint. The key goes
into the one request header that needs it and nowhere else: not the session (a result's
download shares it), not a log record, not a message.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

from .client_errors import RemoteError
from .endpoint import RUNPOD, Endpoint
from .redact import redact_queries

log = logging.getLogger(__name__)

RETRY_AFTER_CAP = 60.0  # seconds: a longer Retry-After is waited this long, then tried again
ERROR_TEXT_CAP = 300  # characters of an endpoint's own error text that reach a message
_NUMBERS = ("once", "twice", "three times", "four times", "five times", "six times")


@dataclass(frozen=True)
class ClientSettings:
    """Retries, polling and timeouts of a RemoteClient (seconds)."""

    # 429, 5xx, connection errors and timeouts: the waits before each new try
    retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)
    # status polling: the first wait, times poll_factor after each poll, up to poll_max
    poll_first: float = 0.25
    poll_max: float = 3.0
    poll_factor: float = 1.5
    queue_timeout: float = 600.0  # seconds IN_QUEUE before giving up (cancel the job, then RemoteError)
    connect_timeout: float = 10.0
    read_timeout: float = 60.0


class Interrupted(Exception):
    """The caller's cancel event was set while a request waited to be tried again."""


def times(count: int) -> str:
    return _NUMBERS[count - 1] if 0 < count <= len(_NUMBERS) else f"{count} times"


def seconds_text(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"


def retry_after(response: requests.Response) -> float | None:
    """The wait a ``Retry-After: <seconds>`` header asks for, capped; None without one (or a date)."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP) if seconds == seconds else None  # NaN is no number


def connection_problem(error: requests.RequestException, read_timeout: float) -> str:
    """What went wrong with a request that got no answer, as the end of 'X ...'."""
    if isinstance(error, requests.ConnectTimeout):
        return "did not accept a connection in time"
    if isinstance(error, requests.ReadTimeout):
        return f"did not answer within {seconds_text(read_timeout)}"
    if isinstance(error, requests.exceptions.SSLError):
        return "failed the TLS handshake"
    reason = error.args[0] if error.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    if isinstance(reason, NameResolutionError):
        return "could not be found (its host name does not resolve)"
    if isinstance(reason, NewConnectionError):
        return "refused the connection"
    return "dropped the connection"


def retryable(status: int) -> bool:
    return status == 429 or status >= 500


def pause(seconds: float, cancel: threading.Event | None) -> None:
    """Wait ``seconds``, or raise Interrupted as soon as ``cancel`` is set."""
    if (cancel or threading.Event()).wait(seconds):
        raise Interrupted


class Transport:
    """Requests to one endpoint over one shared ``requests.Session``; safe to use from several threads
    (every call keeps its state in locals)."""

    def __init__(self, endpoint: Endpoint, settings: ClientSettings, session: requests.Session) -> None:
        self.endpoint = endpoint
        self.settings = settings
        self.session = session

    def call(
        self,
        method: str,
        parts: Sequence[str],
        *,
        not_found: str,
        body: bytes | None = None,
        resend_after_timeout: bool = True,
        read_timeout: float | None = None,
        delays: Sequence[float] | None = None,
        cancel: threading.Event | None = None,
    ) -> Any:
        """The JSON answer of ``method {endpoint}/{parts}``; RemoteError (or Interrupted) otherwise.

        ``resend_after_timeout=False`` for submissions: an endpoint that got the job but answered
        too slowly may run it already, and sending it again would run it twice.
        """
        label = self.endpoint.label
        waits = self.settings.retry_delays if delays is None else tuple(delays)
        read = self.settings.read_timeout if read_timeout is None else read_timeout
        problems: list[str] = []
        said = ""  # the endpoint's own words with its last retryable answer
        delay = 0.0
        for attempt in range(len(waits) + 1):
            if attempt:
                log.info("%s %s; trying again in %.1f s", label, problems[-1], delay)
                pause(delay, cancel)
            delay = waits[attempt] if attempt < len(waits) else 0.0
            try:
                response = self.session.request(
                    method,
                    self.endpoint.route(*parts),
                    data=body,
                    headers=self._headers(body is not None),
                    timeout=(self.settings.connect_timeout, read),
                )
            except requests.RequestException as error:
                problem = connection_problem(error, read)
                if isinstance(error, requests.ReadTimeout) and not resend_after_timeout:
                    raise RemoteError(
                        f"{label} {problem} to the job's submission; it was not sent again, "
                        "since it may run there already"
                    ) from None
                problems.append(problem)
                said = ""
                continue
            if retryable(response.status_code):
                problems.append(f"answered HTTP {response.status_code}")
                said = self._error_text(response)
                asked = retry_after(response)
                delay = delay if asked is None else asked
                continue
            if 200 <= response.status_code < 300:
                return self._json(response)
            raise RemoteError(self._refusal(response, not_found))
        raise RemoteError(_gave_up(label, problems, said))

    def _headers(self, has_body: bool) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if has_body:
            headers["Content-Type"] = "application/json"
        if self.endpoint.key is not None:
            headers["Authorization"] = f"Bearer {self.endpoint.key.reveal()}"
        return headers

    def _json(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise RemoteError(
                f"{self.endpoint.label} answered HTTP {response.status_code} with something that is not JSON"
            ) from None

    def _refusal(self, response: requests.Response, not_found: str) -> str:
        label, status = self.endpoint.label, response.status_code
        if status in (401, 403):
            if self.endpoint.kind == RUNPOD:
                return f"{label} refused the API key (HTTP {status}): check {self.endpoint.key_hint}"
            if self.endpoint.key is None:
                return f"{label} needs a token (HTTP {status}): set {self.endpoint.key_hint}"
            return f"{label} refused the token (HTTP {status}): check {self.endpoint.key_hint}"
        if status == 404:
            return not_found
        text = self._error_text(response)
        if text:
            return f"{label} refused the request (HTTP {status}): {text}"
        return f"{label} answered HTTP {status} {response.reason or ''}".rstrip()

    def _error_text(self, response: requests.Response) -> str:
        """The endpoint's ``{"error": "..."}`` text, cut short, with no key or signed query in it."""
        try:
            answer = response.json()
        except ValueError:
            return ""
        error = answer.get("error") if isinstance(answer, Mapping) else None
        if not isinstance(error, str):
            return ""
        return self.scrub(" ".join(error.split())[:ERROR_TEXT_CAP])

    def scrub(self, text: str) -> str:
        """``text`` (an endpoint's or a worker's words) without the key or a signed URL's query."""
        if self.endpoint.key is not None:
            text = text.replace(self.endpoint.key.reveal(), "<redacted>")
        return redact_queries(text)


def how_often(problems: Sequence[str]) -> str:
    """'three times' when every try failed alike, else 'on the last of 3 tries' (the last problem)."""
    if all(problem == problems[-1] for problem in problems):
        return times(len(problems))
    return f"on the last of {len(problems)} tries"


def _gave_up(label: str, problems: list[str], said: str) -> str:
    said = f" ({said})" if said else ""
    return f"{label} {problems[-1]} {how_often(problems)}{said}; try again later"

