"""What verification costs a download: download_file against a plain requests loop, over loopback.

Serves a generated ~256 MB file (in a temp dir, deleted afterwards) from an HTTP server in a
separate process that answers with sendfile(), so the server is not the bottleneck, and times
for each chunk size:

    (a) a plain requests streaming loop writing to a file, no hashing
    (b) the same loop plus hashlib.sha256 updated per chunk (in line, one thread)
    (c) facedeck.core.models.download.download_file, which verifies size and SHA-256

download_file hashes the bytes as they arrive (on a helper thread, overlapping the next
read); it never reads the finished file back. Loopback is far faster than any real link, so
this is the worst case for the cost of hashing.

    python bench/bench_download.py [--size-mb 256] [--repeats 3]
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

from facedeck.core.models.download import download_file

CHUNK_SIZES = [64 << 10, 256 << 10, 1 << 20, 4 << 20]


class _SendfileHandler(http.server.BaseHTTPRequestHandler):
    """GET /<name> from the served folder with sendfile(): the kernel copies, Python doesn't.
    With a pace (bytes/s), sends 1 MiB slices on schedule, like a link of that speed."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base class signature
        pass

    def do_GET(self) -> None:
        path = Path(self.server.root) / Path(self.path).name  # type: ignore[attr-defined]
        size = path.stat().st_size
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        pace = self.server.pace  # type: ignore[attr-defined]
        with open(path, "rb") as source:
            if not pace:
                self.connection.sendfile(source, 0, size)
                return
            started = time.perf_counter()
            for offset in range(0, size, 1 << 20):
                delay = started + offset / pace - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                self.connection.sendfile(source, offset, min(1 << 20, size - offset))


def _serve(root: str, pace: float, port_queue: multiprocessing.Queue) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SendfileHandler)
    server.root = root  # type: ignore[attr-defined]
    server.pace = pace  # type: ignore[attr-defined]
    port_queue.put(server.server_address[1])
    server.serve_forever()


def _generate(path: Path, size: int) -> str:
    hasher = hashlib.sha256()
    with open(path, "wb") as out:
        for _ in range(size >> 20):
            block = os.urandom(1 << 20)
            out.write(block)
            hasher.update(block)
    return hasher.hexdigest()


def _time_second_pass(path: Path) -> float:
    """Seconds to hash the finished file once more (from the page cache): what in-stream saves."""
    started = time.perf_counter()
    hasher = hashlib.sha256()
    with open(path, "rb") as source:
        while block := source.read(1 << 20):
            hasher.update(block)
    return time.perf_counter() - started


def _plain(url: str, out_path: Path, chunk_size: int, hashing: bool) -> None:
    hasher = hashlib.sha256()
    with requests.get(url, stream=True, timeout=(10, 30)) as response, open(out_path, "wb") as out:
        response.raise_for_status()
        for chunk in response.iter_content(chunk_size):
            out.write(chunk)
            if hashing:
                hasher.update(chunk)
    if hashing:
        hasher.hexdigest()


def _table(title: str, served: Path, pace: float, size: int, expected_sha256: str, repeats: int) -> None:
    port_queue: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(str(served), pace, port_queue), daemon=True)
    server.start()
    try:
        url = f"http://127.0.0.1:{port_queue.get(timeout=30)}/model.bin"
        out_path = served.parent / "out.bin"
        modes = {
            "a": lambda chunk: _plain(url, out_path, chunk, hashing=False),
            "b": lambda chunk: _plain(url, out_path, chunk, hashing=True),
            "c": lambda chunk: download_file(
                [url], out_path, expected_size=size, expected_sha256=expected_sha256, chunk_size=chunk
            ),
        }
        modes["a"](1 << 20)  # warm-up: page cache, connection setup, imports
        out_path.unlink()

        print(f"\n{title}: {size / 1e6:.0f} MB file, MB/s, best (median) of {repeats}")
        print(f"{'chunk':>8} {'(a) plain':>16} {'(b) +sha256':>16} {'(c) download_file':>18} {'c/a':>6}")
        for chunk in CHUNK_SIZES:
            rates: dict[str, list[float]] = {mode: [] for mode in modes}
            for _ in range(repeats):
                for mode, run in modes.items():  # interleaved, so drift hits every mode alike
                    started = time.perf_counter()
                    run(chunk)
                    rates[mode].append(size / 1e6 / (time.perf_counter() - started))
                    out_path.unlink()  # before writeback starts to cost
            cells = [f"{max(rates[m]):7.0f} ({statistics.median(rates[m]):5.0f})" for m in modes]
            ratio = max(rates["c"]) / max(rates["a"])
            print(f"{chunk >> 10:>5} KiB {cells[0]:>16} {cells[1]:>16} {cells[2]:>18} {ratio:6.2f}")
    finally:
        server.terminate()
        server.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--paced-mbs",
        type=float,
        default=1000.0,
        help="second table: server paced to this many MB/s (0: skip)",
    )
    args = parser.parse_args()
    size = args.size_mb << 20

    with tempfile.TemporaryDirectory(prefix="facedeck-bench-") as temp:
        served = Path(temp) / "served"
        served.mkdir()
        expected_sha256 = _generate(served / "model.bin", size)
        second_pass = _time_second_pass(served / "model.bin")
        print(f"SHA-256 of the file from the page cache, one thread: {size / 1e6 / second_pass:.0f} MB/s")
        _table("unpaced loopback", served, 0.0, size, expected_sha256, args.repeats)
        if args.paced_mbs:
            pace = args.paced_mbs * 1e6
            _table(
                f"server paced to {args.paced_mbs:.0f} MB/s",
                served,
                pace,
                size,
                expected_sha256,
                args.repeats,
            )
    print(
        f"\ndownload_file computes SHA-256 in-stream, while the bytes arrive: no second pass over the file "
        f"(one would add {second_pass:.2f} s for this file)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
