"""The remote path's own cost: jobs sent to ``facedeck --headless serve`` on loopback.

Starts the server as users do (a real process, stand-in models, CPU), then sends image
jobs by base64 and by URL, a short video job (by URL, the result PUT to a presigned URL of
moto's S3 server), and 20 image jobs queued at once. Overhead = the client's end-to-end
time minus the engine's own time reported in the same answer (``output.timings.engine``):
HTTP, JSON and base64, fetching inputs, encoding and uploading the result, queueing. The
stand-in models make the engine time small, so the overhead is what shows.

    python bench/bench_remote.py [--runs 20] [--frames 48]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the stand-in models and fixtures live in tests.support

from tests.support.media_fixtures import make_clip  # noqa: E402
from tests.support.models.drawing import KEY_COLORS, draw_square_face  # noqa: E402
from tests.support.models.model_set import build_model_set  # noqa: E402
from tests.support.remote_jobs import image_input, media, video_input  # noqa: E402
from tests.support.s3_server import S3Server  # noqa: E402

BLUE, GREEN, RED, YELLOW, MAGENTA, CYAN = KEY_COLORS
TARGETS = {"320x240": (320, 240), "1280x720": (1280, 720)}
QUEUED_JOBS = 20


def photo(path: Path, size: tuple[int, int], faces: list[tuple[Any, int, int, int]]) -> Path:
    """A photo-like picture (smooth texture, so it compresses as photos do) with faces drawn."""
    width, height = size
    rng = np.random.default_rng(0)
    small = rng.uniform(0, 255, (max(2, height // 8), max(2, width // 8), 3)).astype(np.float32)
    image = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC).clip(0, 255).astype(np.uint8)
    for color, x0, y0, side in faces:
        draw_square_face(image, color, x0, y0, side)
    assert cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return path


def start_server(models: Path, log: Path) -> tuple[subprocess.Popen, str]:
    env = {key: value for key, value in os.environ.items() if key != "FACEDECK_SERVER_TOKEN"}
    command = [sys.executable, "-m", "facedeck.desktop", "--headless", "serve", "--port", "0", "--json"]
    command += ["--models-dir", str(models), "--provider", "cpu", "--max-body-mb", "64"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log.open("wb"), env=env, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise SystemExit(f"the server did not start: {log.read_text()}")
    return process, json.loads(line)["url"]


def runsync(url: str, job_input: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """(end-to-end seconds as the client sees them, the answer)."""
    started = time.perf_counter()
    response = requests.post(f"{url}/v2/bench/runsync", json={"input": job_input}, timeout=300)
    answer = response.json()
    elapsed = time.perf_counter() - started
    if answer.get("status") != "COMPLETED":
        raise SystemExit(f"a job did not complete: {json.dumps(answer)[:500]}")
    return elapsed, answer


def measure(url: str, job_input: dict[str, Any], runs: int) -> dict[str, float]:
    runsync(url, job_input)  # warm-up: first-call costs are not the steady state
    rows = []
    for _ in range(runs):
        elapsed, answer = runsync(url, job_input)
        timings = answer["output"]["timings"]
        rows.append((elapsed, timings["engine"], timings["total"], timings["fetch"], timings["upload"]))
    e2e, engine, total, fetch, upload = (statistics.median(column) for column in zip(*rows, strict=True))
    overheads = sorted(row[0] - row[1] for row in rows)
    return {
        "e2e": e2e,
        "engine": engine,
        "overhead": statistics.median(overheads),
        "overhead_p90": overheads[int(0.9 * (len(overheads) - 1))],
        "handler": total - engine,  # inside the handler: decode, fetch, encode, upload
        "server": e2e - total,  # outside it: HTTP, JSON, the queue
        "fetch": fetch,
        "upload": upload,
    }


def throughput(url: str, job_input: dict[str, Any]) -> tuple[float, float]:
    """(jobs per second through /run and /status, jobs per second of engine time alone)."""
    started = time.perf_counter()
    ids = [
        requests.post(f"{url}/v2/bench/run", json={"input": job_input}, timeout=60).json()["id"]
        for _ in range(QUEUED_JOBS)
    ]
    engine = 0.0
    for job_id in ids:  # they end in order: one engine, one job at a time
        while True:
            answer = requests.get(f"{url}/v2/bench/status/{job_id}", timeout=60).json()
            if answer["status"] not in ("IN_QUEUE", "IN_PROGRESS"):
                break
            time.sleep(0.005)
        if answer["status"] != "COMPLETED":
            raise SystemExit(f"a queued job did not complete: {json.dumps(answer)[:500]}")
        engine += answer["output"]["timings"]["engine"]
    elapsed = time.perf_counter() - started
    return QUEUED_JOBS / elapsed, QUEUED_JOBS / engine


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f}ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed jobs per image case")
    parser.add_argument("--frames", type=int, default=48, help="frames of the video job (320x240)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["FACEDECK_CONFIG_DIR"] = str(root / "settings")  # the stand-ins' trust goes here
        models = build_model_set(root / "models", swapper_mode="latent_color", with_restorer=False)
        source = photo(root / "source.jpg", (200, 200), [(YELLOW, 40, 40, 120)])
        targets = {
            label: photo(
                root / f"target-{label}.jpg", size, [(RED, size[0] // 10, size[1] // 6, size[1] // 2)]
            )
            for label, size in TARGETS.items()
        }

        def moving_face(index: int, image: np.ndarray) -> None:
            image[...] = 128
            draw_square_face(image, RED, 20 + (index % 60) * 3, 40, 60)

        clip = make_clip(
            root / "clip.mp4", frames=args.frames, size=(320, 240), draw=moving_face, audio=False
        )
        process, url = start_server(models.directory, root / "server.log")
        try:
            with S3Server() as s3:
                run_all(args, url, s3, source, targets, clip)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return 0


def presigned_get(s3: S3Server, name: str, data: bytes) -> str:
    """A URL to ``data`` in the bucket, as a client hands one to a server (presigned GET)."""
    key = s3.unique_key(name)
    client = s3.client()
    client.put_object(Bucket=s3.bucket, Key=key, Body=data)
    return client.generate_presigned_url(
        "get_object", Params={"Bucket": s3.bucket, "Key": key}, ExpiresIn=3600
    )


def row_text(name: str, body: str, row: dict[str, float]) -> str:
    columns = [
        row[key] for key in ("e2e", "engine", "overhead", "overhead_p90", "fetch", "handler", "server")
    ]
    return f"{name:<25} {body:>7} " + " ".join(ms(value) for value in columns)


def run_all(
    args: argparse.Namespace, url: str, s3: S3Server, source: Path, targets: dict[str, Path], clip: Path
) -> None:
    print(
        f"remote path on loopback: facedeck --headless serve, stand-in models, CPU ({os.cpu_count()} cores)"
    )
    print(
        f"overhead = end-to-end (client) - engine (the answer's timings); medians of {args.runs} runsync jobs"
    )
    titles = ("e2e", "engine", "overhead", "p90", "fetch", "handler", "server")
    print(f"{'job':<25} {'body':>7} " + " ".join(f"{title:>9}" for title in titles))
    source_data = source.read_bytes()
    health = []
    for _ in range(args.runs + 1):
        started = time.perf_counter()
        requests.post(f"{url}/v2/bench/runsync", json={"input": {"health": True}}, timeout=60).json()
        health.append(time.perf_counter() - started)
    floor = statistics.median(health[1:])
    print(f"{'health job (no engine)':<25} {'-':>7} {ms(floor)}   (the HTTP + queue round trip alone)")
    queued_case = None
    for label, target in targets.items():
        for how in ("base64", "url"):
            if how == "base64":
                job = image_input(
                    media(data=source_data, name=source.name),
                    media(data=target.read_bytes(), name=target.name),
                    output={"format": "jpg"},
                )
                queued_case = queued_case or job
            else:
                job = image_input(
                    media(url=presigned_get(s3, source.name, source_data)),
                    media(url=presigned_get(s3, target.name, target.read_bytes())),
                    output={"format": "jpg"},
                )
            body = f"{len(json.dumps({'input': job})) / 1024:.0f}KB"
            print(row_text(f"image {label} {how}", body, measure(url, job, args.runs)))
    key = s3.unique_key("bench.mp4")
    video = video_input(
        media(url=presigned_get(s3, source.name, source_data)),
        media(url=presigned_get(s3, "clip.mp4", clip.read_bytes())),
        result={"upload_url": s3.presigned_put(key)},
    )
    row = measure(url, video, max(3, args.runs // 5))
    print(row_text(f"video {args.frames} frames url", "-", row) + f"  (upload {ms(row['upload']).strip()})")
    assert queued_case is not None
    rate, engine_rate = throughput(url, queued_case)
    print(
        f"throughput, {QUEUED_JOBS} image jobs (320x240, base64) queued at once through /run: "
        f"{rate:.1f} jobs/s (the engine alone: {engine_rate:.1f} jobs/s)"
    )
    print(
        "fetch = downloading URL inputs; handler = in the handler but not the engine (decode inputs, fetch,"
    )
    print("encode the result, upload); server = outside the handler (HTTP, JSON, queue). URLs are presigned")
    print("GET URLs of moto's S3 server on loopback, as a client of a real object store sends them.")


if __name__ == "__main__":
    sys.exit(main())
