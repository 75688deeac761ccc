"""Per-frame cost of the engine at 720p, 1080p and 2160p, against a stock full-frame paste-back.

Uses the test suite's stand-in models (tests/support/models/): their onnxruntime time is
tiny and not what a real model costs, which is the point: it isolates the engine's own
overhead (everything except onnxruntime ``run`` calls), the part FaceDeck controls.

    python bench/bench_engine.py [--frames 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the stand-in models live in tests.support

from facedeck.core.faces.align import alignment_matrix, arcface_template, invert_affine  # noqa: E402
from facedeck.core.faces.paste import feathered_mask, paste_roi  # noqa: E402
from facedeck.core.faces.selection import SourceIdentity  # noqa: E402
from facedeck.core.faces.session import SwapOptions, SwapSession  # noqa: E402
from facedeck.core.models.library import ModelLibrary  # noqa: E402
from facedeck.core.runtime.providers import select_provider  # noqa: E402
from facedeck.core.runtime.sessions import create_session  # noqa: E402
from tests.support.models.detector import template_kps  # noqa: E402
from tests.support.models.model_set import build_model_set  # noqa: E402

RESOLUTIONS = {"720p": (1280, 720), "1080p": (1920, 1080), "2160p": (3840, 2160)}
DETECTOR_SIZE = 640


class TimedSession:
    """Wraps an onnxruntime session and adds up the seconds spent inside ``run``."""

    def __init__(self, session, totals: dict[str, float], name: str) -> None:
        self._session = session
        self._totals = totals
        self._name = name

    def run(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self._session.run(*args, **kwargs)
        finally:
            self._totals[self._name] += time.perf_counter() - started

    def __getattr__(self, name):
        return getattr(self._session, name)


def stock_paste_back(frame: np.ndarray, crop: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The usual full-frame paste-back: warp crop and mask over the whole frame, erode, blur, blend."""
    height, width = frame.shape[:2]
    inverse = invert_affine(matrix)
    warped = cv2.warpAffine(crop, inverse, (width, height), borderValue=0.0)
    white = np.full(crop.shape[:2], 255.0, dtype=np.float32)
    mask = cv2.warpAffine(white, inverse, (width, height), borderValue=0.0)
    mask[mask > 20] = 255
    rows, cols = np.where(mask == 255)
    mask_size = int(np.sqrt((rows.max() - rows.min()) * (cols.max() - cols.min())))
    erode = max(mask_size // 10, 10)
    mask = cv2.erode(mask, np.ones((erode, erode), np.uint8), iterations=1)
    blur = max(mask_size // 20, 5)
    mask = cv2.GaussianBlur(mask, (2 * blur + 1, 2 * blur + 1), 0)[..., None] / 255.0
    merged = mask * warped.astype(np.float32) + (1 - mask) * frame.astype(np.float32)
    return merged.astype(np.uint8)


def textured_frame(width: int, height: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    small = rng.uniform(0, 255, (height // 16, width // 16, 3)).astype(np.float32)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC).clip(0, 255).astype(np.uint8)


def bench_resolution(label: str, width: int, height: int, frames: int, workdir: Path) -> dict[str, float]:
    side = height // 4
    x0, y0 = width // 2 - side // 2, height // 3
    scale = DETECTOR_SIZE / width  # 16:9 frames fit the canvas by width
    box = np.array([x0, y0, x0 + side, y0 + side], np.float32) * scale
    models = build_model_set(
        workdir / label,
        detector_faces=[(box, template_kps(box), 0.9)],
        det_size=(DETECTOR_SIZE, DETECTOR_SIZE),
        swapper_mode="latent_tint",
        with_landmarks=False,
        with_restorer=False,
    )
    ort_seconds: dict[str, float] = defaultdict(float)
    provider = select_provider("cpu")

    def factory(path, selection):
        return TimedSession(create_session(path, selection), ort_seconds, Path(path).stem)

    library = ModelLibrary(models.directory, provider, session_factory=factory)
    source = SourceIdentity("bench", np.ones(512, np.float32) / np.sqrt(512))
    engine = SwapSession(library, SwapOptions(detector_size=DETECTOR_SIZE), [source])
    frame = textured_frame(width, height)

    for _ in range(5):  # warm-up: first runs allocate and optimise
        engine.process(frame.copy())
    ort_seconds.clear()
    totals, overheads, stage_sums = [], [], defaultdict(float)
    for _ in range(frames):
        work = frame.copy()
        ort_before = sum(ort_seconds.values())
        started = time.perf_counter()
        result = engine.process(work)
        elapsed = time.perf_counter() - started
        totals.append(elapsed)
        overheads.append(elapsed - (sum(ort_seconds.values()) - ort_before))
        for stage, seconds in result.timings.items():
            stage_sums[stage] += seconds
        assert result.faces_swapped == 1
    # medians: this is a shared 2-core VM and single frames can stall
    total_ms = statistics.median(totals) * 1000
    overhead_ms = statistics.median(overheads) * 1000

    # Paste-back alone: ours against the stock full-frame version, same crop and matrix.
    kps = template_kps(box / scale)
    matrix = alignment_matrix(kps, arcface_template(128))
    crop = cv2.warpAffine(frame, matrix, (128, 128))
    mask = feathered_mask(128)
    roi_times, stock_times = [], []
    for _ in range(frames):
        work = frame.copy()
        started = time.perf_counter()
        paste_roi(work, crop, matrix, mask)
        roi_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        stock_paste_back(frame, crop, matrix)
        stock_times.append(time.perf_counter() - started)
    roi_ms = statistics.median(roi_times) * 1000
    stock_ms = statistics.median(stock_times) * 1000
    return {
        "total": total_ms,
        "onnxruntime": sum(ort_seconds.values()) / frames * 1000,
        "overhead": overhead_ms,
        "detect": stage_sums["detect"] / frames * 1000 - ort_seconds["det_10g"] / frames * 1000,
        "swap": stage_sums["swap"] / frames * 1000 - ort_seconds.get("inswapper_128", 0.0) / frames * 1000,
        "select": stage_sums["select"] / frames * 1000,
        "paste_roi": roi_ms,
        "paste_stock": stock_ms,
        "face": side,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40, help="timed frames per resolution")
    parser.add_argument(
        "--cv-threads", type=int, default=None, help="OpenCV worker threads (default: its own choice)"
    )
    args = parser.parse_args()
    if args.cv_threads is not None:
        cv2.setNumThreads(args.cv_threads)
    print(f"engine cost per frame, one face, median of {args.frames} frames, stand-in models, CPU")
    header = (
        f"{'frame':>6} {'face':>5} {'total':>8} {'onnxrt':>8} {'overhead':>9} {'detect*':>8} {'swap*':>7} "
        f"{'paste ROI':>10} {'stock paste':>12} {'speed-up':>9}"
    )
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for label, (width, height) in RESOLUTIONS.items():
            row = bench_resolution(label, width, height, args.frames, Path(tmp))
            speedup = row["paste_stock"] / row["paste_roi"]
            print(
                f"{label:>6} {row['face']:>4}px {row['total']:>6.2f}ms {row['onnxruntime']:>6.2f}ms "
                f"{row['overhead']:>7.2f}ms {row['detect']:>6.2f}ms {row['swap']:>5.2f}ms "
                f"{row['paste_roi']:>8.2f}ms {row['paste_stock']:>10.2f}ms {speedup:>8.1f}x"
            )
    print("total and overhead (everything but onnxruntime run calls) are medians; onnxrt and the")
    print("stage columns are means; * detect and swap exclude their onnxruntime run time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
