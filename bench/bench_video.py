"""Video throughput: the pipelined job against a plain sequential loop, and memory over length.

Generates a 1080p clip with a moving key-colour face and a sine-tone audio track, then in one
run measures
  (a) a sequential loop: decode a frame, process it with the engine, encode it, repeat;
  (b) run_job: decode, detect/track + swap, encode as threads joined by bounded queues;
both with the same stand-in models, encoder settings and detection interval. Then the
peak resident memory of the pipelined job on a short and a 4x longer clip (each in a fresh
process, so one run's peak does not hide the other's).

    python bench/bench_video.py [--seconds 10] [--long-seconds 40] [--fps 30]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the stand-in models live in tests.support

from facedeck.core.faces.selection import SourceIdentity  # noqa: E402
from facedeck.core.faces.session import SwapOptions, SwapSession  # noqa: E402
from facedeck.core.jobs.runner import run_job  # noqa: E402
from facedeck.core.jobs.spec import FaceAssignment, FaceRef, JobKind, MediaRef, OutputSpec, SwapJob  # noqa: E402
from facedeck.core.media.encoding import EncoderSettings  # noqa: E402
from facedeck.core.media.video_reader import VideoReader  # noqa: E402
from facedeck.core.media.video_types import AudioChunk  # noqa: E402
from facedeck.core.media.video_writer import VideoWriter  # noqa: E402
from facedeck.core.models.library import ModelLibrary  # noqa: E402
from facedeck.core.runtime.providers import select_provider  # noqa: E402
from facedeck.core.tracking.tracker import FaceTracker, TrackerSettings  # noqa: E402
from tests.support.media_fixtures import make_clip  # noqa: E402
from tests.support.models.drawing import KEY_COLORS, draw_square_face  # noqa: E402
from tests.support.models.model_set import build_model_set  # noqa: E402

SIZE = (1920, 1080)
FACE = 300
ENCODER = EncoderSettings(codec="h264", quality=80, preset="ultrafast", hardware="off")


def draw_face(index: int, image: np.ndarray) -> None:
    x0 = 200 + (index * 7) % (SIZE[0] - FACE - 400)
    draw_square_face(image, KEY_COLORS[2], x0, 300, FACE)


def make_engine(models_dir: Path) -> SwapSession:
    library = ModelLibrary(models_dir, select_provider("cpu"))
    source = SourceIdentity("bench", np.ones(512, np.float32) / np.sqrt(512))
    return SwapSession(library, SwapOptions(), [source])


def sequential(
    clip: Path, output: Path, models_dir: Path, encoder: EncoderSettings = ENCODER
) -> tuple[int, float]:
    engine = make_engine(models_dir)
    started = time.perf_counter()
    frames = 0
    with (
        VideoReader(clip) as reader,
        VideoWriter(output, reader.description, encoder, container_format="mp4") as writer,
    ):
        tracker = FaceTracker(engine.detect, engine.embed, TrackerSettings())
        for item in reader.items(with_audio=True):
            if isinstance(item, AudioChunk):
                writer.write_audio(item)
                continue
            faces = tracker.update(item.image, item.time)
            image = regions = None
            if faces:
                work = item.image.copy()
                result = engine.process(work, faces=faces)
                image, regions = work, result.regions
            writer.write_frame(item, image, regions)
            frames += 1
    return frames, time.perf_counter() - started


def pipelined(
    clip: Path, output: Path, models_dir: Path, encoder: EncoderSettings = ENCODER
) -> tuple[int, float]:
    library = ModelLibrary(models_dir, select_provider("cpu"))
    source = output.parent / "source.png"
    if not source.exists():
        import cv2

        photo = np.full((400, 400, 3), 128, np.uint8)
        draw_square_face(photo, KEY_COLORS[3], 100, 100, 200)
        cv2.imwrite(str(source), photo)
    job = SwapJob(
        kind=JobKind.VIDEO,
        target=MediaRef.of(clip),
        faces=FaceAssignment(sources=[FaceRef(MediaRef.of(source))]),
        output=OutputSpec(
            path=str(output),
            quality=encoder.quality,
            codec=encoder.codec,
            preset=encoder.preset,
            hardware=encoder.hardware,
            audio=encoder.audio,
            encoder_threads=encoder.threads,
        ),
    )
    started = time.perf_counter()
    result = run_job(library, job)
    return result.frames, time.perf_counter() - started


def busy_cores(run, *args):
    """Run ``run(*args)``; return its result and the CPU time of all threads divided by wall time."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    result = run(*args)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result, cpu / wall


def peak_rss_child(clip: Path, output: Path, models_dir: Path) -> float:
    """Run the pipelined job in a fresh process (this script in --child mode); its peak RSS in MB."""
    result = subprocess.run(
        [sys.executable, __file__, "--child", str(clip), str(output), str(models_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])["peak_mb"]


def child(clip: str, output: str, models_dir: str) -> int:
    import resource

    frames, _ = pipelined(Path(clip), Path(output), Path(models_dir))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"frames": frames, "peak_mb": peak_mb}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--long-seconds", type=float, default=40.0)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument(
        "--presets", nargs="+", default=["ultrafast", "veryfast"], help="x264 presets to compare"
    )
    parser.add_argument(
        "--encoder-threads",
        nargs="+",
        type=int,
        default=[0, 1],
        help="x264 threads to compare (0: x264's choice)",
    )
    parser.add_argument("--child", nargs=3, metavar=("CLIP", "OUT", "MODELS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        models = build_model_set(
            root / "models",
            key_colors=[KEY_COLORS[2], KEY_COLORS[3]],
            swapper_mode="latent_tint",
            with_landmarks=False,
            with_restorer=False,
        )
        frames = int(args.seconds * args.fps)
        print(f"making a {SIZE[0]}x{SIZE[1]} {args.seconds:.0f} s clip ({frames} frames)...", flush=True)
        clip = make_clip(root / "clip.mp4", frames=frames, size=SIZE, fps=args.fps, draw=draw_face, crf=18)
        print("x264 preset  threads   sequential         pipelined          speed-up")
        print("             (in brackets: cores busy on average; ceiling: all cores / sequential's)")
        for preset in args.presets:
            for threads in args.encoder_threads:
                encoder = EncoderSettings(
                    codec="h264", quality=80, preset=preset, hardware="off", threads=threads or None
                )
                (count, seconds), seq_cores = busy_cores(
                    sequential, clip, root / f"sequential-{preset}.mp4", models.directory, encoder
                )
                sequential_fps = count / seconds
                (count, seconds), pipe_cores = busy_cores(
                    pipelined, clip, root / f"pipelined-{preset}.mp4", models.directory, encoder
                )
                pipelined_fps = count / seconds
                print(
                    f"{preset:>11} {threads or 'auto':>8} {sequential_fps:7.1f} fps ({seq_cores:.2f}) "
                    f"{pipelined_fps:7.1f} fps ({pipe_cores:.2f}) {pipelined_fps / sequential_fps:7.2f}x"
                    f"   ceiling {os.cpu_count() / seq_cores:.2f}x"
                )
        if args.long_seconds > 0:
            long_frames = int(args.long_seconds * args.fps)
            long_clip = make_clip(
                root / "long.mp4", frames=long_frames, size=SIZE, fps=args.fps, draw=draw_face, crf=18
            )
            short_peak = peak_rss_child(clip, root / "p1.mp4", models.directory)
            long_peak = peak_rss_child(long_clip, root / "p2.mp4", models.directory)
            print(f"peak RSS of the pipelined job (x264 {ENCODER.preset}):")
            print(f"  {args.seconds:5.0f} s clip: {short_peak:6.0f} MB")
            print(f"  {args.long_seconds:5.0f} s clip: {long_peak:6.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
