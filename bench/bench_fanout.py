"""A 1080p clip swapped here and through a FaceDeck server on loopback in 1, 2 and 4 segments.

The server runs as users start it (its own process, stand-in models, CPU, as many engines
as segments: ``--engines 4``); inputs and results go through moto's S3 server, as they go
through a bucket for a real endpoint. Printed per case: wall time, the join's own cost,
and the remote overhead (wall time minus the slowest part's engine time: splitting,
uploads, queueing, HTTP, downloads and the join). The stand-in models make the engine's
face work small, so decoding and encoding 1080p dominate; with N segments the engines
share this machine's cores, so the speed-up shows the fan-out's plumbing, not a GPU farm.

    python bench/bench_fanout.py [--seconds 10] [--segments 1 2 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the stand-in models and fixtures live in tests.support

from facedeck.core.jobs.runner import run_job  # noqa: E402
from facedeck.core.jobs.spec import FaceAssignment, FaceRef, JobKind, MediaRef, OutputSpec, SwapJob  # noqa: E402
from facedeck.core.models.library import ModelLibrary  # noqa: E402
from facedeck.core.runtime.providers import select_provider  # noqa: E402
from facedeck.remote.client import ClientSettings, RemoteClient  # noqa: E402
from facedeck.remote.endpoint import Endpoint  # noqa: E402
from facedeck.remote.remote_run import RemoteRunner  # noqa: E402
from facedeck.remote.staging import StorageSettings  # noqa: E402
from tests.remote.server_support import ServerProcess  # noqa: E402
from tests.support.media_fixtures import make_clip  # noqa: E402
from tests.support.models.drawing import KEY_COLORS, draw_square_face  # noqa: E402
from tests.support.models.model_set import build_model_set  # noqa: E402
from tests.support.s3_server import ACCESS_KEY, REGION, SECRET_KEY, S3Server  # noqa: E402

BLUE, GREEN, RED, YELLOW, MAGENTA, CYAN = KEY_COLORS
FPS = 30
TOKEN = "bench-token-0123456789"


def moving_face(index: int, image: np.ndarray) -> None:
    image[...] = 110
    image[::8, :, 1] = 140  # some texture, so the encoder has work like a real picture's
    draw_square_face(image, RED, 200 + (index * 7) % 1200, 300, 400)


def job_for(target: Path, source: Path, output: Path) -> SwapJob:
    return SwapJob(
        kind=JobKind.VIDEO,
        target=MediaRef.of(target),
        faces=FaceAssignment(sources=[FaceRef(MediaRef.of(source))]),
        output=OutputSpec(path=str(output), hardware="off"),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of the 1080p clip")
    parser.add_argument("--segments", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["FACEDECK_CONFIG_DIR"] = str(root / "settings")  # the stand-ins' trust goes here
        models = build_model_set(root / "models", swapper_mode="latent_color", with_restorer=False)
        source_image = np.full((200, 200, 3), 128, np.uint8)
        draw_square_face(source_image, YELLOW, 40, 40, 120)
        import cv2

        source = root / "source.png"
        cv2.imwrite(str(source), source_image)
        clip = make_clip(
            root / "clip.mp4", frames=args.seconds * FPS, size=(1920, 1080), fps=FPS, gop=2 * FPS, crf=None,
            draw=moving_face,
        )  # fmt: skip
        print(
            f"clip: 1920x1080, {args.seconds} s at {FPS} fps, {clip.stat().st_size / 1e6:.1f} MB, "
            "a keyframe every 2 s"
        )
        started = time.perf_counter()
        library = ModelLibrary(models.directory, select_provider("cpu"))
        local = run_job(library, job_for(clip, source, root / "local.mp4"))
        local_wall = time.perf_counter() - started
        print(
            f"local run_job:        {local_wall:6.2f} s wall "
            f"({local.frames} frames, {local.frames / local_wall:.1f} fps)"
        )
        with S3Server() as s3:
            storage = StorageSettings(
                bucket=s3.bucket, endpoint_url=s3.endpoint_url, region=REGION, addressing_style="path",
                access_key=ACCESS_KEY, secret_key=SECRET_KEY,
            )  # fmt: skip
            server = ServerProcess(
                [
                    "--models-dir",
                    str(models.directory),
                    "--provider",
                    "cpu",
                    "--engines",
                    str(max(args.segments)),
                ],
                log=root / "server.log",
                env={"FACEDECK_SERVER_TOKEN": TOKEN, "FACEDECK_CONFIG_DIR": str(root / "settings")},
                token=TOKEN,
            )
            try:
                client = RemoteClient(Endpoint.server(server.url, TOKEN), ClientSettings())
                for segments in args.segments:
                    runner = RemoteRunner(client, storage, segments=segments)
                    output = root / f"remote-{segments}.mp4"
                    started = time.perf_counter()
                    result = runner.run(job_for(clip, source, output))
                    wall = time.perf_counter() - started
                    join = result.timings.get("join", 0.0)
                    timings = result.timings
                    engine = timings.get("remote_engine_total", timings.get("remote_engine", 0.0))
                    slowest = timings.get("remote_engine_slowest", engine)
                    print(
                        f"remote, {segments} segment(s): {wall:6.2f} s wall, "
                        f"x{local_wall / wall:4.2f} vs local; join {join * 1000:6.1f} ms; "
                        f"engine {engine:6.2f} s in all, slowest part {slowest:5.2f} s; "
                        f"overhead {wall - slowest:5.2f} s; {result.frames} frames"
                    )
            finally:
                server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
