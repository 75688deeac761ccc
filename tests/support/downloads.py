"""Shared data and helpers for the download tests: one random file, a recording sleep, shortcuts."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
from collections.abc import Iterator

from facedeck.core.models.download import download_file

SIZE = 3 * 1024 * 1024 + 12345  # a few MB, not a multiple of any chunk size
HALF = SIZE // 2 + 7
BODY = os.urandom(SIZE)
SHA = hashlib.sha256(BODY).hexdigest()
CHUNK = 64 * 1024


class SleepRecorder:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def fetch(urls, destination, sleeps, **options):
    options.setdefault("expected_size", SIZE)
    options.setdefault("expected_sha256", SHA)
    return download_file(urls if isinstance(urls, list) else [urls], destination, sleep=sleeps, **options)


def part_of(path):
    return path.with_name(path.name + ".part")


def resumed_at(record) -> int:
    """N from the request's ``Range: bytes=N-`` header."""
    assert record.range is not None and record.range.startswith("bytes=") and record.range.endswith("-")
    return int(record.range[len("bytes=") : -1])


def sent(records) -> int:
    return sum(record.bytes_sent for record in records)


@contextlib.contextmanager
def unanswered_port_url(path: str = "/") -> Iterator[str]:
    """A loopback URL whose listener never accepts and whose queue is full: connecting times out
    (the SYN is dropped), as behind a firewall that drops packets."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(4):  # more than the kernel queues for a backlog of 0
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
                fillers.append(filler)
            yield f"http://127.0.0.1:{port}{path}"
        finally:
            for filler in fillers:
                filler.close()
