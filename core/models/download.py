"""Resumable, verified downloads of model files, retried with backoff and across mirrors."""

# A download streams into ``<destination>.part`` next to the destination and hashes the bytes as
# they arrive; the destination itself only ever appears through the final ``os.replace``, after
# the size and SHA-256 matched. A dropped connection, a stall, a 5xx/429/404 or a short body is
# retried with exponential backoff, resuming from the bytes already on disk with an HTTP Range
# request; after ``attempts_per_url`` failures the next URL is tried with the same ``.part``.
# A host that cannot be reached at all (no name resolution, refused, connect timeout) is no transient
# fault: at most one quick retry, then the next URL; later URLs on that host are skipped.

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests

from ..version import SOFTWARE_NAME, software_version
from .download_errors import DownloadCancelled, DownloadError, HostUnreachableError
from .download_http import apply_mirror as apply_mirror  # re-exported: part of this module's API
from .download_http import content_range, describe, host_of, int_header, retry_after, unreachable_reason
from .partfile import PartFile, check_free_space, os_reason

log = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 256 * 1024
"""Network chunk. bench/bench_download.py: download_file runs as fast with 256 KiB as with 1 or
4 MiB (it is bound by SHA-256 at ~1.2 GB/s on loopback) and 64 KiB costs ~15%. Smaller is
better otherwise: requests yields whole chunks only, so progress and cancel are seen once a
chunk (every 2.5 s at 100 KB/s) and the partial chunk in flight when a connection drops is
fetched again."""
_ALREADY_COMPLETE = -1  # "total" for a 416 answering a Range that starts at the end of the file

_PROGRESS_INTERVAL = 0.1  # seconds: at most ~10 progress callbacks a second
_MAX_RETRY_AFTER = 60.0  # a server's Retry-After is honoured up to this many seconds
_SLOW_FAILURE = 2.0  # seconds: an unreachable host that took this long to fail (a DNS timeout) is not retried
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class DownloadProgress:
    """One progress report. ``received`` counts the bytes of the file on disk so far, resumed
    bytes included; ``attempt`` is 1-based and counts attempts on the current ``url``;
    ``resumed_from`` is the byte the current attempt started at."""

    file_name: str
    url: str
    received: int
    total: int | None
    bytes_per_second: float
    eta_seconds: float | None
    attempt: int
    resumed_from: int


def download_file(
    urls: Sequence[str],
    destination: Path,
    *,
    expected_size: int | None,
    expected_sha256: str,
    progress: Callable[[DownloadProgress], None] | None = None,
    mirror: str | None = None,
    session: requests.Session | None = None,
    connect_timeout: float = 5.0,
    read_timeout: float = 30.0,
    attempts_per_url: int = 5,
    backoff_seconds: float = 2.0,
    quick_retry_seconds: float = 0.5,
    unreachable_hosts: dict[str, str] | None = None,
    cancel: threading.Event | None = None,
    sleep: Callable[[float], None] = time.sleep,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Path:
    """Download one file from the first of ``urls`` that delivers it intact; return ``destination``.

    ``urls`` are mirrors of the same file, tried in order (each rewritten by ``mirror``).
    ``read_timeout`` also bounds a stall mid-body. An unreachable host (no name resolution,
    refused: one retry after ``quick_retry_seconds``; ``connect_timeout``: none) is recorded in
    ``unreachable_hosts`` (host -> why) and its URLs skipped: share one dict across a run's calls.
    A caller-supplied ``session`` is used as is (headers, User-Agent) and not closed. Raises
    DownloadError when every URL failed (HostUnreachableError when no host could be reached),
    the disk is too full or the ``.part`` cannot be written; DownloadCancelled when ``cancel``
    is set (checked after every chunk and during backoff waits).
    """
    if not urls:
        raise ValueError("download_file needs at least one URL")
    expected_sha256 = expected_sha256.strip().lower()
    if not _SHA256_HEX.fullmatch(expected_sha256):
        raise ValueError(f"expected_sha256 {expected_sha256!r} is not 64 hex digits")
    if attempts_per_url < 1:
        raise ValueError("attempts_per_url must be at least 1")
    destination = Path(destination)
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(f"cannot create {destination.parent}: {os_reason(error)}") from error

    own_session = session is None
    job = _Download(
        urls=[apply_mirror(url, mirror) for url in urls],
        destination=destination,
        expected_size=expected_size,
        expected_sha256=expected_sha256,
        progress=progress,
        session=session if session is not None else _new_session(),
        timeout=(connect_timeout, read_timeout),
        attempts_per_url=attempts_per_url,
        backoff_seconds=backoff_seconds,
        quick_retry_seconds=quick_retry_seconds,
        unreachable_hosts=unreachable_hosts if unreachable_hosts is not None else {},
        cancel=cancel,
        sleep=sleep,
        chunk_size=chunk_size,
    )
    try:
        return job.run()
    finally:
        job.part.close()
        if own_session:
            job.session.close()


# --- internals ----------------------------------------------------------------------------------


class _Retry(Exception):
    """A failure worth another attempt at the same URL (after a backoff)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _Unreachable(Exception):
    """The host could not be reached: no name resolution, refused, or no connection in time."""

    def __init__(self, reason: str, *, timed_out: bool) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


class _NextUrl(Exception):
    """This URL will not deliver the file; move on to the next one."""

    def __init__(self, reason: str, *, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.unreachable = unreachable


class _BadBytes(Exception):
    """The bytes in the .part are not the file; they must be thrown away."""


@dataclass
class _Download:
    urls: list[str]
    destination: Path
    expected_size: int | None
    expected_sha256: str
    progress: Callable[[DownloadProgress], None] | None
    session: requests.Session
    timeout: tuple[float, float]
    attempts_per_url: int
    backoff_seconds: float
    quick_retry_seconds: float
    unreachable_hosts: dict[str, str]
    cancel: threading.Event | None
    sleep: Callable[[float], None]
    chunk_size: int

    def __post_init__(self) -> None:
        self.name = self.destination.name
        self.part = PartFile(self.destination.with_name(self.destination.name + ".part"))

    def run(self) -> Path:
        self.part.load(self.expected_size)
        if self.expected_size is not None:
            check_free_space(self.destination.parent, self.expected_size - self.part.size, self.name)
        failures: list[str] = []
        unreachable: list[str] = []  # why each URL's host could not be reached
        for url in self.urls:
            host = host_of(url)
            if host in self.unreachable_hosts:
                failures.append(f"{url}: skipped, {host} could not be reached a moment ago")
                unreachable.append(self.unreachable_hosts[host])
                continue
            try:
                self._from_url(url)
            except _NextUrl as failure:
                # an unreachable host is reported once, by the caller; a failing server is news
                log.log(
                    logging.INFO if failure.unreachable else logging.WARNING,
                    "%s: giving up on %s: %s",
                    self.name,
                    url,
                    failure,
                )
                failures.append(f"{url}: {failure}")
                if failure.unreachable:
                    self.unreachable_hosts[host] = str(failure)
                    unreachable.append(str(failure))
                continue
            try:
                os.replace(self.part.path, self.destination)
            except OSError as error:
                raise DownloadError(f"cannot move {self.part.path} to {self.destination}: {error}") from error
            log.info("downloaded %s from %s", self.name, url)
            return self.destination
        message = f"could not download {self.name}: {'; '.join(failures)}"
        if len(unreachable) == len(self.urls):
            raise HostUnreachableError(message, reasons=tuple(dict.fromkeys(unreachable)))
        raise DownloadError(message)

    def _from_url(self, url: str) -> None:
        """Return once the .part holds the verified file; raise _NextUrl when this URL can't."""
        failed = 0
        unreachable = 0
        attempt = 0
        restarted_clean = False
        while True:
            attempt += 1
            self._check_cancel()
            started = time.monotonic()
            try:
                self._fetch(url, attempt)
                problem = self.part.problem(self.expected_size, self.expected_sha256)
                if problem is not None:
                    raise _BadBytes(problem)
                return
            except _Retry as failure:
                failed += 1
                if failed >= self.attempts_per_url:
                    raise _NextUrl(f"{failure} (attempt {failed} of {self.attempts_per_url})") from None
                delay = self.backoff_seconds * 2 ** (failed - 1)
                if failure.retry_after is not None:
                    delay = max(delay, min(failure.retry_after, _MAX_RETRY_AFTER))
                log.warning("%s: %s from %s; retrying in %.1f s", self.name, failure, url, delay)
                self._wait(delay)
            except _Unreachable as failure:
                unreachable += 1
                slow = time.monotonic() - started > _SLOW_FAILURE  # a retry would cost as much again
                if failure.timed_out or slow or unreachable > 1:
                    raise _NextUrl(str(failure), unreachable=True) from None
                log.info("%s: %s; trying once more in %.1f s", self.name, failure, self.quick_retry_seconds)
                self._wait(self.quick_retry_seconds)
            except _BadBytes as failure:
                # A file that fails verification is never kept, under any name.
                inherited = self.part.origin != url
                self.part.discard()
                if inherited and not restarted_clean:
                    # Some bytes came from an earlier run or another URL: that doesn't
                    # condemn this URL, so fetch the whole file from it once more.
                    log.warning(
                        "%s: %s after resuming; downloading it again from %s", self.name, failure, url
                    )
                    restarted_clean = True
                    continue
                raise _NextUrl(str(failure)) from None

    def _fetch(self, url: str, attempt: int) -> None:
        """One request: append the rest of the file to the .part, or raise _Retry/_NextUrl/_BadBytes."""
        offset = self.part.size
        headers = {"Accept-Encoding": "identity"}  # resume offsets count bytes as stored, never gzip'd
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            with self.session.get(url, headers=headers, stream=True, timeout=self.timeout) as response:
                total = self._accept(response, offset)
                if total == _ALREADY_COMPLETE:
                    self._report(url, attempt, offset, time.monotonic(), None)
                    return
                self._stream(response, url, attempt, total)
        except requests.exceptions.SSLError as error:  # certificate problems don't heal by retrying
            raise _NextUrl(describe(error)) from None
        except requests.exceptions.ConnectTimeout:
            raise _Unreachable(f"timed out connecting to {host_of(url)}", timed_out=True) from None
        except requests.ConnectionError as error:
            reason = unreachable_reason(error, host_of(url))
            if reason is None:  # reset, dropped or stalled mid-reply: transient, back off and resume
                raise _Retry(describe(error)) from None
            raise _Unreachable(reason, timed_out=False) from None
        except (
            requests.Timeout,  # no response headers within read_timeout
            requests.exceptions.ChunkedEncodingError,  # short body: IncompleteRead in a ProtocolError
        ) as error:
            raise _Retry(describe(error)) from None
        except requests.RequestException as error:  # invalid URL, redirect loop, undecodable body
            raise _NextUrl(describe(error)) from None

    def _accept(self, response: requests.Response, offset: int) -> int | None:
        """Check the status and headers; return the file's total size (None if unknown,
        _ALREADY_COMPLETE on a 416 for a whole .part), discarding the .part when the reply starts over."""
        status = response.status_code
        if status == 416 and offset:
            remote_total = content_range(response.headers.get("Content-Range"))[1]
            whole = self.expected_size if self.expected_size is not None else remote_total
            if offset == whole:
                return _ALREADY_COMPLETE
            self.part.discard()  # longer than the remote file: it can't be a prefix of it
            raise _Retry(f"HTTP 416 for a {offset}-byte partial file, starting over")
        if status in (404, 408, 429) or status >= 500:
            # 404 included: a freshly published release asset can 404 for a moment
            raise _Retry(f"HTTP {status}", retry_after(response.headers.get("Retry-After")))
        if status >= 400:
            raise _NextUrl(f"HTTP {status}")
        length = int_header(response.headers.get("Content-Length"))
        if status == 206:
            start, total = content_range(response.headers.get("Content-Range"))
            if start != offset:
                self.part.discard()
                raise _Retry(f"server resumed at byte {start} instead of {offset}, starting over")
            if total is None and length is not None:
                total = offset + length
        elif status == 200:
            if offset:
                log.info("%s: server ignored the Range request; starting over", self.name)
                self.part.discard()
            total = length
        else:
            raise _NextUrl(f"unexpected HTTP {status}")
        if self.expected_size is not None and total is not None and total != self.expected_size:
            raise _NextUrl(f"the server's file is {total} bytes, expected {self.expected_size}")
        if self.expected_size is None and total is not None:
            check_free_space(self.destination.parent, total - self.part.size, self.name)
        return total

    def _stream(self, response: requests.Response, url: str, attempt: int, total: int | None) -> None:
        started_at = self.part.size
        started = time.monotonic()
        last_report = -math.inf
        with self.part.appending(url) as write:
            for chunk in response.iter_content(self.chunk_size):
                write(chunk)
                if self.expected_size is not None and self.part.size > self.expected_size:
                    raise _BadBytes(f"got more than the expected {self.expected_size} bytes")
                now = time.monotonic()
                if now - last_report >= _PROGRESS_INTERVAL:
                    last_report = now
                    self._report(url, attempt, started_at, started, total)
                self._check_cancel()
        whole = self.expected_size if self.expected_size is not None else total
        if whole is not None and self.part.size < whole:
            # Only reachable for bodies without Content-Length; urllib3 raises for the others.
            raise _Retry(f"connection closed after {self.part.size} of {whole} bytes")
        self._report(url, attempt, started_at, started, total)

    def _report(self, url: str, attempt: int, started_at: int, started: float, total: int | None) -> None:
        if self.progress is None:
            return
        total = self.expected_size if self.expected_size is not None else total
        elapsed = time.monotonic() - started
        rate = (self.part.size - started_at) / elapsed if elapsed > 0 else 0.0
        eta = (total - self.part.size) / rate if total is not None and rate > 0 else None
        self.progress(
            DownloadProgress(
                file_name=self.name,
                url=url,
                received=self.part.size,
                total=total,
                bytes_per_second=rate,
                eta_seconds=eta,
                attempt=attempt,
                resumed_from=started_at,
            )
        )

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            kept = (
                f"; {_mb(self.part.size)} MB kept in {self.part.path.name} to resume"
                if self.part.size
                else ""
            )
            raise DownloadCancelled(f"download of {self.name} cancelled{kept}")

    def _wait(self, seconds: float) -> None:
        # With the real clock, wait on the cancel event so a cancel doesn't sit out the backoff
        # (the next attempt checks it first thing).
        if self.cancel is not None and self.sleep is time.sleep:
            self.cancel.wait(seconds)
        else:
            self.sleep(seconds)


def _new_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = f"{SOFTWARE_NAME}/{software_version()}"
    return session


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f}"
