"""Resumable, verified downloads of model files, and safe extraction of zipped model packs.

A download streams into ``<destination>.part`` next to the destination and hashes the bytes as
they arrive; the destination itself only ever appears through the final ``os.replace``, after
the size and SHA-256 matched. A dropped connection, a stall, a 5xx/429/404 or a short body is
retried with exponential backoff, resuming from the bytes already on disk with an HTTP Range
request; after ``attempts_per_url`` failures the next URL is tried with the same ``.part``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import queue
import re
import shutil
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import urlsplit, urlunsplit

import requests

from ..errors import CancelledError, FaceDeckError, UsageError
from ..version import SOFTWARE_NAME, software_version

log = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 256 * 1024
"""Network chunk. bench/bench_download.py: download_file runs as fast with 256 KiB as with 1 or
4 MiB (it is bound by SHA-256 at ~1.2 GB/s on loopback) and 64 KiB costs ~15%. Smaller is
better otherwise: requests yields whole chunks only, so progress and cancel are seen once a
chunk (every 2.5 s at 100 KB/s) and the partial chunk in flight when a connection drops is
fetched again."""
_FILE_BLOCK = 1 << 20  # reading and extracting local files
_ALREADY_COMPLETE = -1  # "total" for a 416 answering a Range that starts at the end of the file

_PROGRESS_INTERVAL = 0.1  # seconds: at most ~10 progress callbacks a second
_FREE_SPACE_MARGIN = 16 * 1024 * 1024  # room for the filesystem's own bookkeeping and other writers
_MAX_RETRY_AFTER = 60.0  # a server's Retry-After is honoured up to this many seconds
_HASH_QUEUE_CHUNKS = 8  # chunks queued for the hashing thread: bounds the memory to 8 chunks
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_ERRNO_TEXT = re.compile(r"\[Errno -?\d+\] [^'\")]+")
_DRIVE = re.compile(r"^[A-Za-z]:")


class DownloadError(FaceDeckError):
    """A file could not be downloaded, verified or extracted."""

    exit_code = 6


class DownloadCancelled(CancelledError):
    """The user cancelled a download; the ``.part`` file is kept so a later run resumes it."""


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


def apply_mirror(url: str, mirror: str | None) -> str:
    """``url`` with its scheme and host replaced by the mirror's; a mirror path is a prefix.

    ``apply_mirror("https://github.com/a/b.zip", "http://127.0.0.1:8000/cache")`` is
    ``"http://127.0.0.1:8000/cache/a/b.zip"``; a ``None`` or empty mirror returns ``url``.
    """
    if not mirror:
        return url
    base = urlsplit(mirror)
    if not base.scheme or not base.netloc:
        raise UsageError(f"mirror {mirror!r} is not a URL like https://host or https://host/prefix")
    original = urlsplit(url)
    path = original.path if original.path.startswith("/") else "/" + original.path
    return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + path, original.query, ""))


def download_file(
    urls: Sequence[str],
    destination: Path,
    *,
    expected_size: int | None,
    expected_sha256: str,
    progress: Callable[[DownloadProgress], None] | None = None,
    mirror: str | None = None,
    session: requests.Session | None = None,
    connect_timeout: float = 10.0,
    read_timeout: float = 30.0,
    attempts_per_url: int = 5,
    backoff_seconds: float = 2.0,
    cancel: threading.Event | None = None,
    sleep: Callable[[float], None] = time.sleep,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Path:
    """Download one file from the first of ``urls`` that delivers it intact; return ``destination``.

    ``urls`` are mirrors of the same file, tried in order (each rewritten by ``mirror``).
    ``read_timeout`` also bounds a stall mid-body. A caller-supplied ``session`` is used as is
    (its headers, its User-Agent) and not closed. Raises DownloadError when every URL failed,
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
        raise DownloadError(f"cannot create {destination.parent}: {_os_reason(error)}") from error

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


def extract_zip_members(
    archive: Path, members: Mapping[str, tuple[int, str]], destination_dir: Path
) -> list[Path]:
    """Extract the listed members of ``archive`` (name inside the zip -> (size, sha256)) by basename
    into ``destination_dir``, verifying each; return the paths written, in ``members`` order.

    An archive with any member named outside its root (absolute, drive, UNC or ``..``) is refused
    before anything is written. A missing, oversized, corrupt or wrongly hashed member raises
    DownloadError and leaves nothing of that member behind.
    """
    archive = Path(archive)
    destination_dir = Path(destination_dir)
    try:
        zip_file = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise DownloadError(f"{archive.name} is not a readable zip archive: {error}") from error
    with zip_file:
        infos = zip_file.infolist()
        # A hostile pack is refused as a whole, even if the bad member isn't one we asked for.
        for info in infos:
            if _unsafe_member_name(info.filename):
                raise DownloadError(
                    f"refusing {archive.name}: member {info.filename!r} points outside the archive folder"
                )
        by_name = {info.filename: info for info in infos}
        missing = [name for name in members if name not in by_name]
        if missing:
            raise DownloadError(f"{archive.name} does not contain {', '.join(missing)}")
        targets: dict[str, Path] = {}
        for name in members:
            base = PurePosixPath(name.replace("\\", "/")).name
            info = by_name[name]
            if not base or info.is_dir():
                raise DownloadError(f"{archive.name}: {name!r} is a folder, not a file")
            if by_name[name].flag_bits & 0x1:
                raise DownloadError(f"{archive.name}: {name} is encrypted")
            if base in {path.name for path in targets.values()}:
                raise DownloadError(f"{archive.name}: two listed members are both named {base}")
            targets[name] = destination_dir / base
        try:
            destination_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DownloadError(f"cannot create {destination_dir}: {_os_reason(error)}") from error
        _check_free_space(destination_dir, sum(size for size, _ in members.values()), archive.name)
        return [
            _extract_member(
                zip_file, by_name[name], size, sha256.strip().lower(), targets[name], archive.name
            )
            for name, (size, sha256) in members.items()
        ]


# --- internals ----------------------------------------------------------------------------------


class _Retry(Exception):
    """A failure worth another attempt at the same URL (after a backoff)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _NextUrl(Exception):
    """This URL will not deliver the file; move on to the next one."""


class _BadBytes(Exception):
    """The bytes in the .part are not the file; they must be thrown away."""


class _HashPipe:
    """SHA-256 fed on a helper thread, so hashing a chunk overlaps reading the next one.

    hashlib releases the GIL for large updates; chunks are hashed in the order given. Callers
    only read the digest or reset after ``_drain`` (every queued chunk hashed).
    """

    def __init__(self) -> None:
        self._hasher = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_HASH_QUEUE_CHUNKS)
        self._thread: threading.Thread | None = None

    def update(self, data: bytes) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="facedeck-sha256", daemon=True)
            self._thread.start()
        self._queue.put(data)

    def hexdigest(self) -> str:
        self._drain()
        return self._hasher.hexdigest()

    def reset(self) -> None:
        self._drain()
        self._hasher = hashlib.sha256()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _drain(self) -> None:
        if self._thread is not None:
            self._queue.join()

    def _run(self) -> None:
        while True:
            data = self._queue.get()
            try:
                if data is None:
                    return
                self._hasher.update(data)
            finally:
                self._queue.task_done()


class _PartFile:
    """The ``.part`` file, its size and the running hash of exactly the bytes it holds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = 0
        self.hash = _HashPipe()
        # The URL that wrote this .part from byte 0 during this call; None for a .part
        # inherited from an earlier run or begun by another URL.
        self.origin: str | None = None

    def load(self, expected_size: int | None) -> None:
        """Adopt an existing .part: hash its bytes once so the download can resume after them."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        except OSError as error:
            raise DownloadError(f"cannot read {self.path}: {_os_reason(error)}") from error
        if expected_size is not None and size > expected_size:
            log.info("%s is larger than the expected %d bytes; starting over", self.path, expected_size)
            self.discard()
            return
        try:
            with open(self.path, "rb") as existing:
                while block := existing.read(_FILE_BLOCK):
                    self.hash.update(block)
                    self.size += len(block)
        except OSError as error:
            raise DownloadError(f"cannot read {self.path}: {_os_reason(error)}") from error
        log.info("resuming %s from byte %d", self.path.name, self.size)

    def discard(self) -> None:
        self.hash.reset()
        self.size = 0
        self.origin = None
        try:
            self.path.unlink(missing_ok=True)
        except OSError as error:
            raise DownloadError(f"cannot delete {self.path}: {_os_reason(error)}") from error

    @contextmanager
    def appending(self, url: str) -> Iterator[Callable[[bytes], None]]:
        """Yield ``write(chunk)``: appends to the file, feeds the hash and advances ``size``."""
        if self.size == 0:
            self.origin = url
        try:
            out: BinaryIO = open(self.path, "ab")
        except OSError as error:
            raise DownloadError(f"cannot write {self.path}: {_os_reason(error)}") from error

        def write(chunk: bytes) -> None:
            try:
                out.write(chunk)
            except OSError as error:
                raise DownloadError(f"cannot write {self.path}: {_os_reason(error)}") from error
            self.hash.update(chunk)
            self.size += len(chunk)

        try:
            yield write
        finally:
            try:
                out.close()
            except OSError as error:  # a failed flush: the disk filled up or went away
                raise DownloadError(f"cannot write {self.path}: {_os_reason(error)}") from error

    def problem(self, expected_size: int | None, expected_sha256: str) -> str | None:
        """Why the .part is not the expected file, or None when it is."""
        if expected_size is not None and self.size != expected_size:
            return f"got {self.size} bytes, expected {expected_size}"
        digest = self.hash.hexdigest()
        if digest != expected_sha256:
            return f"SHA-256 mismatch (got {digest[:16]}..., expected {expected_sha256[:16]}...)"
        return None

    def close(self) -> None:
        self.hash.close()


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
    cancel: threading.Event | None
    sleep: Callable[[float], None]
    chunk_size: int

    def __post_init__(self) -> None:
        self.name = self.destination.name
        self.part = _PartFile(self.destination.with_name(self.destination.name + ".part"))

    def run(self) -> Path:
        self.part.load(self.expected_size)
        if self.expected_size is not None:
            _check_free_space(self.destination.parent, self.expected_size - self.part.size, self.name)
        failures: list[str] = []
        for url in self.urls:
            try:
                self._from_url(url)
            except _NextUrl as failure:
                log.warning("%s: giving up on %s: %s", self.name, url, failure)
                failures.append(f"{url}: {failure}")
                continue
            try:
                os.replace(self.part.path, self.destination)
            except OSError as error:
                raise DownloadError(f"cannot move {self.part.path} to {self.destination}: {error}") from error
            log.info("downloaded %s from %s", self.name, url)
            return self.destination
        raise DownloadError(f"could not download {self.name}: {'; '.join(failures)}")

    def _from_url(self, url: str) -> None:
        """Return once the .part holds the verified file; raise _NextUrl when this URL can't."""
        failed = 0
        attempt = 0
        restarted_clean = False
        while True:
            attempt += 1
            self._check_cancel()
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
            raise _NextUrl(_describe(error)) from None
        except (
            requests.ConnectionError,  # refused, reset, DNS, a stall mid-body (wraps ReadTimeoutError)
            requests.Timeout,  # connect timeout, or no response headers within read_timeout
            requests.exceptions.ChunkedEncodingError,  # short body: IncompleteRead in a ProtocolError
        ) as error:
            raise _Retry(_describe(error)) from None
        except requests.RequestException as error:  # invalid URL, redirect loop, undecodable body
            raise _NextUrl(_describe(error)) from None

    def _accept(self, response: requests.Response, offset: int) -> int | None:
        """Check the status and headers; return the file's total size (None if unknown,
        _ALREADY_COMPLETE on a 416 for a whole .part), discarding the .part when the reply starts over."""
        status = response.status_code
        if status == 416 and offset:
            remote_total = _content_range(response.headers.get("Content-Range"))[1]
            whole = self.expected_size if self.expected_size is not None else remote_total
            if offset == whole:
                return _ALREADY_COMPLETE
            self.part.discard()  # longer than the remote file: it can't be a prefix of it
            raise _Retry(f"HTTP 416 for a {offset}-byte partial file, starting over")
        if status in (404, 408, 429) or status >= 500:
            # 404 included: a freshly published release asset can 404 for a moment
            raise _Retry(f"HTTP {status}", _retry_after(response.headers.get("Retry-After")))
        if status >= 400:
            raise _NextUrl(f"HTTP {status}")
        length = _int_header(response.headers.get("Content-Length"))
        if status == 206:
            start, total = _content_range(response.headers.get("Content-Range"))
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
            _check_free_space(self.destination.parent, total - self.part.size, self.name)
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


def _check_free_space(directory: Path, needed: int, file_name: str) -> None:
    try:
        free = shutil.disk_usage(directory).free
    except OSError as error:  # can't tell (odd filesystem): let a real shortage show up as a write error
        log.debug("cannot read free space of %s: %s", directory, error)
        return
    required = max(needed, 0) + _FREE_SPACE_MARGIN
    if free < required:
        raise DownloadError(
            f"{file_name} needs {math.ceil(required / 1e6)} MB free in {directory}, "
            f"only {int(free / 1e6)} MB available"
        )


def _extract_member(
    zip_file: zipfile.ZipFile, info: zipfile.ZipInfo, size: int, sha256: str, target: Path, archive_name: str
) -> Path:
    """Stream one member into ``target``.part, hashing while writing; rename it once verified."""
    part = target.with_name(target.name + ".part")
    hasher = hashlib.sha256()
    count = 0
    try:
        with zip_file.open(info) as source, open(part, "wb") as out:
            # Never read more than size + 1 bytes: enough to tell "too big" without
            # inflating a zip bomb.
            while count <= size and (block := source.read(min(_FILE_BLOCK, size + 1 - count))):
                count += len(block)
                out.write(block)
                hasher.update(block)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        _remove_quietly(part)
        raise DownloadError(f"{archive_name}: member {info.filename} is corrupt: {error}") from error
    except OSError as error:
        _remove_quietly(part)
        raise DownloadError(f"cannot write {part}: {_os_reason(error)}") from error
    problem = None
    if count != size:
        problem = f"{'more than ' if count > size else ''}{count} bytes, expected {size}"
    elif hasher.hexdigest() != sha256:
        problem = f"SHA-256 mismatch (got {hasher.hexdigest()[:16]}..., expected {sha256[:16]}...)"
    if problem is not None:
        _remove_quietly(part)
        raise DownloadError(f"{archive_name}: member {info.filename} is not the expected file: {problem}")
    try:
        os.replace(part, target)
    except OSError as error:
        _remove_quietly(part)
        raise DownloadError(f"cannot move {part} to {target}: {_os_reason(error)}") from error
    return target


def _unsafe_member_name(name: str) -> bool:
    """Absolute (``/x``, ``\\x``, ``\\\\server\\x``), drive-qualified (``C:x``) or with a ``..`` part."""
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return True
    return ".." in re.split(r"[\\/]", name)


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as error:
        log.warning("cannot delete %s: %s", path, error)


def _content_range(header: str | None) -> tuple[int | None, int | None]:
    """(first byte, total size) from ``bytes A-B/T`` or ``bytes */T``; None where absent."""
    match = re.fullmatch(r"\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)\s*", header or "")
    if match is None:
        return None, None
    start, total = match.groups()
    return (int(start) if start else None), (int(total) if total != "*" else None)


def _int_header(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds; the HTTP-date form is ignored (the backoff applies)."""
    seconds = _int_header(value)
    return float(seconds) if seconds is not None and seconds >= 0 else None


def _describe(error: requests.RequestException) -> str:
    """A short reason for a network failure, without urllib3's pool and object reprs."""
    text = str(error)
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return "connection dropped before the end of the file"
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return "timed out connecting"
    if isinstance(error, requests.exceptions.ReadTimeout) or "Read timed out" in text:
        return "no data received within the read timeout"
    if isinstance(error, requests.exceptions.SSLError):
        return "TLS/certificate error"
    found = _ERRNO_TEXT.search(text)
    if found:
        return f"connection failed: {found.group(0).strip()}"
    return f"{type(error).__name__}: {text[:200]}"


def _os_reason(error: OSError) -> str:
    return error.strerror or str(error)


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f}"
