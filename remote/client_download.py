"""Fetch a result from its presigned GET URL (storage, not the endpoint) to a file.

The request carries no Authorization header whatever the session holds: the URL's own
signature is the credential, and the endpoint's key must never travel to a storage host.
An object written a moment ago can answer 404 for a while, so 404 is tried again along
with 408, 429, 5xx and broken connections. The URL's query (its signature) never reaches
a log or a message: both name the object by :func:`~.storage.location_of`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import requests

from ..core.errors import JobCancelled
from .client_errors import RemoteError
from .client_http import Interrupted, connection_problem, how_often, pause, retry_after
from .storage import location_of

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
_RETRY_STATUS = frozenset({404, 408, 429})


class _Broken(Exception):
    """The body ended before its Content-Length."""


def download(
    session: requests.Session,
    url: str,
    dest: Path,
    *,
    delays: Sequence[float],
    timeout: tuple[float, float],
    cancel: threading.Event | None = None,
) -> int:
    """Stream ``url`` to ``dest`` (overwritten on each try); the bytes written."""
    place = location_of(url)
    problems: list[str] = []
    delay = 0.0
    for attempt in range(len(delays) + 1):
        try:
            if attempt:
                log.info("the storage at %s %s; trying again in %.1f s", place, problems[-1], delay)
                pause(delay, cancel)
            delay = delays[attempt] if attempt < len(delays) else 0.0
            with _get(session, url, timeout) as response:
                status = response.status_code
                if status in _RETRY_STATUS or status >= 500:
                    problems.append(f"answered HTTP {status}")
                    asked = retry_after(response)
                    delay = delay if asked is None else asked
                    continue
                if not 200 <= status < 300:
                    hint = ": its link may have expired" if status == 403 else ""
                    raise RemoteError(f"the result at {place} could not be downloaded (HTTP {status}){hint}")
                written = _save(response, dest, cancel)
        except requests.RequestException as error:
            problems.append(connection_problem(error, timeout[1]))
            continue
        except _Broken:
            problems.append("sent a body cut short")
            continue
        except Interrupted:
            raise JobCancelled("cancelled; the result's download stopped") from None
        log.info("downloaded %d bytes from %s", written, place)
        return written
    raise RemoteError(
        f"the result at {place} could not be downloaded: the storage {problems[-1]} {how_often(problems)}; "
        "try again later"
    )


def _get(session: requests.Session, url: str, timeout: tuple[float, float]) -> requests.Response:
    # prepared by hand so that nothing the session adds (its headers, its auth) names a key
    prepared = session.prepare_request(requests.Request("GET", url))
    prepared.headers.pop("Authorization", None)
    settings = session.merge_environment_settings(url, {}, True, None, None)
    return session.send(prepared, timeout=timeout, allow_redirects=True, **settings)


def _save(response: requests.Response, dest: Path, cancel: threading.Event | None) -> int:
    written = 0
    with dest.open("wb") as file:
        for chunk in response.iter_content(CHUNK):
            if cancel is not None and cancel.is_set():
                raise Interrupted
            file.write(chunk)
            written += len(chunk)
    expected = response.headers.get("Content-Length")
    plain = "Content-Encoding" not in response.headers  # a compressed body's length is not the file's
    if plain and expected is not None and expected.isdigit() and int(expected) != written:
        raise _Broken
    return written
