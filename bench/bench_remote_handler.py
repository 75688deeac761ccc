"""What the remote handler adds to a job: parsing, fetching, base64 and uploading, in-process.

Runs image jobs through ``RemoteHandler.handle`` (a real event loop, the stand-in models)
with the media inline as base64 and by URL from a loopback HTTP server, and a short video
job whose result is PUT to a presigned URL of moto's S3 server. For each it prints the
median end-to-end time, the engine's own time in the same run, and the difference: the
handler's overhead (parse + base64 + fetch + upload + thread hand-off). The stand-in
models are tiny, so the engine time is not a real GPU's; the overhead is what matters here.

    python bench/bench_remote_handler.py [--repeats 20] [--size 1280x720]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the stand-in models and test servers live in tests.support

from facedeck.core.models.library import ModelLibrary  # noqa: E402
from facedeck.core.runtime.providers import select_provider  # noqa: E402
from facedeck.remote.handler import RemoteHandler  # noqa: E402
from tests.support.http_fixtures import MisbehavingServer  # noqa: E402
from tests.support.media_fixtures import make_clip  # noqa: E402
from tests.support.models.drawing import KEY_COLORS, draw_square_face  # noqa: E402
from tests.support.models.model_set import build_model_set  # noqa: E402
from tests.support.remote_jobs import image_input, media, video_input  # noqa: E402
from tests.support.s3_server import S3Server  # noqa: E402

BLUE, GREEN, RED, YELLOW, MAGENTA, CYAN = KEY_COLORS


def photo(width: int, height: int, faces: list[tuple]) -> bytes:
    rng = np.random.default_rng(0)
    image = rng.integers(90, 170, (height, width, 3), dtype=np.uint8)  # noise: a realistic PNG size
    for color, x0, y0, side in faces:
        draw_square_face(image, color, x0, y0, side)
    ok, data = cv2.imencode(".png", image)
    assert ok
    return data.tobytes()


def timed(handler: RemoteHandler, payload: dict, repeats: int) -> tuple[float, float, dict]:
    totals, engines = [], []
    answer: dict = {}
    for index in range(repeats):
        started = time.perf_counter()
        answer = asyncio.run(handler.handle({"id": f"bench-{index}", "input": payload}))
        totals.append(time.perf_counter() - started)
        if "error" in answer:
            raise SystemExit(f"job failed: {answer}")
        engines.append(answer["timings"]["engine"])
    return statistics.median(totals), statistics.median(engines), answer


def report(name: str, total: float, engine: float) -> None:
    print(
        f"{name:<34} end-to-end {total * 1000:8.1f} ms   engine {engine * 1000:8.1f} ms   "
        f"overhead {(total - engine) * 1000:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--size", default="1280x720", help="the target photo's size, WxH")
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.split("x"))
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        models = build_model_set(root / "models", swapper_mode="latent_color", with_restorer=False)
        handler = RemoteHandler(ModelLibrary(models.directory, select_provider("cpu")))
        handler.warm()
        source = photo(300, 300, [(YELLOW, 60, 60, 180)])
        side = min(width, height) // 3
        target = photo(width, height, [(RED, width // 4, height // 4, side)])

        def draw(index: int, image: np.ndarray) -> None:
            image[...] = 128
            draw_square_face(image, RED, 20 + index % 60 * 3, 40, 60)

        clip = make_clip(root / "clip.mp4", frames=48, size=(320, 240), fps=24, draw=draw)
        print(
            f"target {width}x{height} PNG {len(target) / 1024:.0f} KB, source {len(source) / 1024:.0f} KB, "
            f"{args.repeats} runs each, medians"
        )
        inline = image_input(media(data=source), media(data=target))
        asyncio.run(handler.handle({"id": "warm-up", "input": inline}))
        report("image, base64 inputs", *timed(handler, inline, args.repeats)[:2])
        with MisbehavingServer() as server, S3Server() as s3:
            by_url = image_input(
                media(url=server.add("/source.png", source)), media(url=server.add("/target.png", target))
            )
            report("image, URL inputs (loopback)", *timed(handler, by_url, args.repeats)[:2])
            repeats = max(3, args.repeats // 4)
            totals, engines, uploads = [], [], []
            for index in range(repeats):
                put = s3.presigned_put(f"bench/{index}.mp4")
                payload = video_input(
                    media(data=source),
                    media(url=server.add("/clip.mp4", clip.read_bytes())),
                    result={"upload_url": put},
                )
                total, engine, answer = timed(handler, payload, 1)
                totals.append(total)
                engines.append(engine)
                uploads.append(answer["timings"]["upload"])
            report("video 48 frames, URL in, PUT out", statistics.median(totals), statistics.median(engines))
            print(f"{'':<34} (upload to moto {statistics.median(uploads) * 1000:.1f} ms of it)")


if __name__ == "__main__":
    main()
