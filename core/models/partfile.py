"""The resumable ``.part`` file of a download, hashed on a helper thread as it grows, and disk checks."""

from __future__ import annotations

import hashlib
import logging
import math
import queue
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from .download_errors import DownloadError

log = logging.getLogger(__name__)

FILE_BLOCK = 1 << 20  # reading and extracting local files
_FREE_SPACE_MARGIN = 16 * 1024 * 1024  # room for the filesystem's own bookkeeping and other writers
_HASH_QUEUE_CHUNKS = 8  # chunks queued for the hashing thread: bounds the memory to 8 chunks


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


class PartFile:
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
            raise DownloadError(f"cannot read {self.path}: {os_reason(error)}") from error
        if expected_size is not None and size > expected_size:
            log.info("%s is larger than the expected %d bytes; starting over", self.path, expected_size)
            self.discard()
            return
        try:
            with open(self.path, "rb") as existing:
                while block := existing.read(FILE_BLOCK):
                    self.hash.update(block)
                    self.size += len(block)
        except OSError as error:
            raise DownloadError(f"cannot read {self.path}: {os_reason(error)}") from error
        log.info("resuming %s from byte %d", self.path.name, self.size)

    def discard(self) -> None:
        self.hash.reset()
        self.size = 0
        self.origin = None
        try:
            self.path.unlink(missing_ok=True)
        except OSError as error:
            raise DownloadError(f"cannot delete {self.path}: {os_reason(error)}") from error

    @contextmanager
    def appending(self, url: str) -> Iterator[Callable[[bytes], None]]:
        """Yield ``write(chunk)``: appends to the file, feeds the hash and advances ``size``."""
        if self.size == 0:
            self.origin = url
        try:
            out: BinaryIO = open(self.path, "ab")
        except OSError as error:
            raise DownloadError(f"cannot write {self.path}: {os_reason(error)}") from error

        def write(chunk: bytes) -> None:
            try:
                out.write(chunk)
            except OSError as error:
                raise DownloadError(f"cannot write {self.path}: {os_reason(error)}") from error
            self.hash.update(chunk)
            self.size += len(chunk)

        try:
            yield write
        finally:
            try:
                out.close()
            except OSError as error:  # a failed flush: the disk filled up or went away
                raise DownloadError(f"cannot write {self.path}: {os_reason(error)}") from error

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


def check_free_space(directory: Path, needed: int, file_name: str) -> None:
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


def os_reason(error: OSError) -> str:
    return error.strerror or str(error)
