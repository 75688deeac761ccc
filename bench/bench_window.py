"""The window's cost: a 1080p video job from the window against the same job headless, the
GUI thread's largest stall meanwhile, and the preview latency after an option change.

With the test suite's stand-in models (tests/support/models/) and generated media, in one
process and one run:
  1. the window's job: the document's SwapJob started through the Start button (the
     JobController and its JobWorker thread), timed from the click to the finished signal;
     the same job headless: ``run_job`` on the window's ModelLibrary, nothing else running.
     After an untimed warm-up the two alternate (H W W H H W) so machine noise falls on both;
     one more windowed job runs with the preview scrubbed to mid-clip (window*);
  2. a QTimer on the GUI thread ticks every few ms throughout; the largest gap between two
     ticks during the windowed jobs is the longest the window did not respond. During the
     headless jobs a plain Python thread ticks the same way: the control, what the engine
     alone (GIL, busy cores) costs any thread;
  3. on a 1080p image target: an option change in the document (mask blur) until the new
     preview reaches the window (the previewReady signal the main window's view gets;
     this bench's slot is connected after it, so the pixmaps are made by then). The
     controller's debounce is part of that on purpose: it is what the user waits.

    QT_QPA_PLATFORM=offscreen python bench/bench_window.py [--seconds 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is first imported

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Slot  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the stand-in models live in tests.support

from facedeck.core.jobs.runner import run_job  # noqa: E402
from facedeck.desktop.gui.app import create_window  # noqa: E402
from facedeck.desktop.gui.controllers import DEBOUNCE_MS  # noqa: E402
from facedeck.desktop.gui.images import bgr_to_pixmap  # noqa: E402
from facedeck.desktop.preview import PreviewRequest, TargetFrames, compute_preview  # noqa: E402
from tests.support.media_fixtures import make_clip  # noqa: E402
from tests.support.models.drawing import KEY_COLORS, draw_square_face  # noqa: E402
from tests.support.models.model_set import build_model_set  # noqa: E402

SIZE = (1920, 1080)
FACE = 300
RED, YELLOW = KEY_COLORS[2], KEY_COLORS[3]
TICK_MS = 5
BLURS = (0.05, 0.25, 0.1, 0.3, 0.15, 0.35, 0.2, 0.4, 0.08, 0.28)  # each differs from the last


def draw_face(index: int, image: np.ndarray) -> None:
    x0 = 200 + (index * 7) % (SIZE[0] - FACE - 400)
    draw_square_face(image, RED, x0, 300, FACE)


class StallMeter(QObject):
    """A GUI-thread timer noting when it fires: a long gap is the GUI thread stalled."""

    def __init__(self) -> None:
        super().__init__()
        self.ticks: list[float] = []
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    @Slot()
    def _tick(self) -> None:
        self.ticks.append(time.perf_counter())

    def gaps(self, start: float, end: float) -> tuple[np.ndarray, float]:
        """Gaps (s) between ticks from ``start`` to ``end``, and the tick ending the largest."""
        ticks = np.array([start] + [t for t in self.ticks if start < t < end] + [end])
        gaps = np.diff(ticks)
        return gaps, float(ticks[1 + int(np.argmax(gaps))])


class Recorder(QObject):
    """Slots on the GUI thread for the window's signals; ``wait`` runs the event loop until."""

    def __init__(self, window) -> None:  # noqa: ANN001 - MainWindow
        super().__init__()
        self.finished: list[tuple[float, object, str]] = []
        self.previews: list[tuple[float, object]] = []
        self.outputs: list[float] = []  # when a finished result reached the preview
        self._loop: QEventLoop | None = None
        self._condition = None
        # connected after the main window's own slots: they run first (Qt keeps the order)
        window.jobs.finished.connect(self._finished)
        window.preview.previewReady.connect(self._preview)
        window.preview.outputReady.connect(self._output)

    @Slot(object, str)
    def _finished(self, result, message: str) -> None:  # noqa: ANN001 - JobResult or None
        self.finished.append((time.perf_counter(), result, message))
        self._wake()

    @Slot(object)
    def _preview(self, result) -> None:  # noqa: ANN001 - PreviewResult
        self.previews.append((time.perf_counter(), result))
        self._wake()

    @Slot(object)
    def _output(self, _frame) -> None:  # noqa: ANN001 - OutputFrame
        self.outputs.append(time.perf_counter())
        self._wake()

    def _wake(self) -> None:
        if self._loop is not None and self._condition():
            self._loop.quit()

    def wait(self, condition, timeout: float, *, required: bool = True) -> None:  # noqa: ANN001
        """Run the GUI event loop (no busy polling) until ``condition()`` or ``timeout`` seconds."""
        if condition():
            return
        loop = QEventLoop()
        self._loop, self._condition = loop, condition
        QTimer.singleShot(int(timeout * 1000), loop.quit)
        loop.exec()
        self._loop = self._condition = None
        if required and not condition():
            raise TimeoutError(f"nothing after {timeout:.0f} s")


def write_image(path: Path, size: tuple[int, int], faces) -> str:  # noqa: ANN001 - [(colour, x0, y0, side)]
    frame = np.full((size[1], size[0], 3), 128, np.uint8)
    for colour, x0, y0, side in faces:
        draw_square_face(frame, colour, x0, y0, side)
    assert cv2.imwrite(str(path), frame)
    return str(path)


def swapped_preview_of(recorder: Recorder, since: int, shape: tuple[int, int, int]):  # noqa: ANN201
    def done() -> bool:
        return any(
            result.swapped is not None and result.original.shape == shape
            for _, result in recorder.previews[since:]
        )

    return done


class ThreadTicker(threading.Thread):
    """A plain Python thread ticking every few ms while a headless job runs: the control for
    the GUI timer. Its largest gap is the wait the engine (holding the GIL, loading the cores)
    imposes on any Python thread; what the GUI thread waits beyond that is the window's own."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.ticks: list[float] = []
        self.done = threading.Event()

        self.cpu = 0.0

    def run(self) -> None:
        began = time.thread_time()
        while not self.done.wait(TICK_MS / 1000):
            self.ticks.append(time.perf_counter())
        self.cpu = time.thread_time() - began


def headless_run(window, output: Path) -> dict:  # noqa: ANN001
    """The document's job, as the Start button would run it, through run_job on this thread."""
    job = window.document.job()
    job = dataclasses.replace(job, output=dataclasses.replace(job.output, path=str(output)))
    ticker = ThreadTicker()
    ticker.start()
    started = time.perf_counter()
    result = run_job(window.library, job)
    ended = time.perf_counter()
    ticker.done.set()
    ticker.join()
    ticks = np.array([started] + [t for t in ticker.ticks if started < t < ended] + [ended])
    gaps = np.diff(ticks)
    return {
        "frames": result.frames,
        "seconds": ended - started,
        "inner": result.seconds,
        "cpu": ticker.cpu,
        "gaps": gaps,
        "worst_at": float(ticks[1 + int(np.argmax(gaps))]) - started,
    }


def window_run(window, recorder: Recorder, meter: StallMeter, output: Path) -> dict:  # noqa: ANN001
    window.document.set_output_path(str(output))
    count, shown = len(recorder.finished), len(recorder.outputs)
    cpu = time.thread_time()  # this is the GUI thread: its own CPU time while the job runs
    started = time.perf_counter()
    window.run_panel.start.click()  # the Start button: JobController.start
    recorder.wait(lambda: len(recorder.finished) > count, 300)
    ended, result, message = recorder.finished[-1]
    if result is None:
        raise RuntimeError(message)
    # the user's wait ends when the result is on screen: the stalls are counted until then
    recorder.wait(lambda: len(recorder.outputs) > shown, 60)
    cpu = time.thread_time() - cpu
    gaps, worst_at = meter.gaps(started, recorder.outputs[-1])
    return {
        "shown": recorder.outputs[-1] - ended,
        "frames": result.frames,
        "seconds": ended - started,
        "inner": result.seconds,
        "cpu": cpu,
        "gaps": gaps,
        "worst_at": worst_at - started,
    }


def bench_video(  # noqa: PLR0913
    window, recorder, meter, root: Path, clip: str, source: str, rounds: int, seconds: float
) -> list[dict]:  # noqa: ANN001
    since = len(recorder.previews)
    window.sources_panel.add([source])
    window.target_panel.open(clip)
    recorder.wait(swapped_preview_of(recorder, since, (SIZE[1], SIZE[0], 3)), 60)
    # x264 ultrafast, as bench_video.py: a fast job makes the window's share most visible
    window.document.set_output_options(preset="ultrafast", hardware="off")
    headless_run(window, root / "warm-up.mp4")  # untimed: first-use costs (x264, allocators) fall on neither
    runs = []
    for number in range(rounds):
        order = ("headless", "window") if number % 2 == 0 else ("window", "headless")
        for mode in order:
            output = root / f"{mode}-{number}.mp4"
            run = (
                headless_run(window, output)
                if mode == "headless"
                else window_run(window, recorder, meter, output)
            )
            runs.append({"mode": mode, **run})
            output.unlink()
            recorder.wait(lambda: False, 0.3, required=False)  # let the GUI settle between runs
    # A user who scrubbed the preview to mid-clip: the finished result is shown at that time
    # (not counted in the fps above).
    since = len(recorder.previews)
    window.document.set_frame_time(seconds / 2)
    recorder.wait(swapped_preview_of(recorder, since, (SIZE[1], SIZE[0], 3)), 60)
    runs.append({"mode": "window*", **window_run(window, recorder, meter, root / "scrubbed.mp4")})
    return runs


def bench_preview(window, recorder: Recorder, meter: StallMeter, image: str) -> dict:
    shape = (SIZE[1], SIZE[0], 3)
    since = len(recorder.previews)
    window.target_panel.open(image)
    recorder.wait(swapped_preview_of(recorder, since, shape), 60)
    latencies = []
    started_all = time.perf_counter()
    for blur in BLURS:
        since = len(recorder.previews)
        started = time.perf_counter()
        window.document.set_options(mask_blur=blur)
        recorder.wait(swapped_preview_of(recorder, since, shape), 30)
        latencies.append(recorder.previews[-1][0] - started)
    gaps, _ = meter.gaps(started_all, time.perf_counter())
    # the parts: the worker's engine call alone, and the GUI thread's ndarray -> QPixmap
    request = PreviewRequest(0, image, False, 0.0, window.document.options, window.document.job(output=False))
    frames = TargetFrames()
    compute_preview(window.library, request, frames)
    engine = []
    for _ in range(5):
        began = time.perf_counter()
        compute_preview(window.library, request, frames)
        engine.append(time.perf_counter() - began)
    frame = recorder.previews[-1][1].swapped
    pixmap = []
    for _ in range(10):
        began = time.perf_counter()
        bgr_to_pixmap(frame)
        pixmap.append(time.perf_counter() - began)
    return {
        "latencies": latencies,
        "gaps": gaps,
        "engine": statistics.median(engine),
        "pixmap": statistics.median(pixmap),
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:6.1f} ms"


def report(runs: list[dict], idle_gaps: np.ndarray, preview: dict) -> None:
    print("seconds: from the Start click (window) or the call (headless) to the end; run_job: the job's")
    print("own time; cpu s: the GUI thread's CPU seconds meanwhile; GUI stall: the GUI timer's largest gap")
    print("in that run, until the result was on screen; at: when it ended, from the click;")
    print("headless rows: the same from a plain Python thread (the control); window*: preview scrubbed")
    print("to mid-clip first (not in the fps below)")
    print("run  mode     frames seconds run_job    fps   cpu s  GUI stall    p99 gap  at")
    for number, run in enumerate(runs, 1):
        fps = run["frames"] / run["seconds"]
        line = f"{number:>3}  {run['mode']:<8} {run['frames']:>6} {run['seconds']:>7.2f} {run['inner']:>7.2f}"
        line += f" {fps:>6.1f} {run['cpu']:>7.2f}"
        gaps = run["gaps"]
        line += f"  {ms(gaps.max())} {ms(np.percentile(gaps, 99))}  +{run['worst_at']:.2f} s"
        print(line)
    fps = {}
    for mode in ("headless", "window"):
        chosen = [run for run in runs if run["mode"] == mode]
        fps[mode] = sum(run["frames"] for run in chosen) / sum(run["seconds"] for run in chosen)
    cost = (1 - fps["window"] / fps["headless"]) * 100
    outside = statistics.median(run["seconds"] - run["inner"] for run in runs if run["mode"] == "window")
    window_gaps = np.concatenate([run["gaps"] for run in runs if run["mode"] == "window"])
    thread_gaps = np.concatenate([run["gaps"] for run in runs if run["mode"] == "headless"])
    scrubbed = next(run for run in runs if run["mode"] == "window*")
    first_shown = statistics.median(run["shown"] for run in runs if run["mode"] == "window")
    latencies = preview["latencies"]
    print()
    print(
        f"video job, 1080p: headless {fps['headless']:.1f} fps, window {fps['window']:.1f} fps"
        f" -> window cost {cost:+.1f} % (goal < 5 %); outside run_job: {ms(outside).strip()} a job (median)"
    )
    print(
        f"GUI thread during the windowed jobs: largest stall {ms(window_gaps.max()).strip()} (goal < 50 ms),"
        f" p99 gap {ms(np.percentile(window_gaps, 99)).strip()};"
        f" idle window: largest {ms(idle_gaps.max()).strip()}; a Python thread during the headless jobs:"
        f" largest {ms(thread_gaps.max()).strip()} (timers every {TICK_MS} ms)"
    )
    print(
        f"  window*: the same job with the preview at mid-clip (the result is then shown there):"
        f" largest stall {ms(scrubbed['gaps'].max()).strip()}, {scrubbed['worst_at']:.2f} s after the click;"
        f" the result's frame on screen {ms(scrubbed['shown']).strip()} after the job ended"
        f" (at the clip's start: {ms(first_shown).strip()}, median)"
    )
    print(
        f"preview latency, 1080p image, mask blur changed {len(latencies)}x: median"
        f" {ms(statistics.median(latencies)).strip()}, max {ms(max(latencies)).strip()}"
        f" (includes the {DEBOUNCE_MS} ms debounce)"
    )
    print(
        f"  parts: engine (compute_preview) {ms(preview['engine']).strip()},"
        f" ndarray -> QPixmap on the GUI thread {ms(preview['pixmap']).strip()} a frame (2 a preview);"
        f" largest GUI stall meanwhile {ms(preview['gaps'].max()).strip()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="clip length")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (headless, window), alternating")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        models = build_model_set(
            root / "models",
            key_colors=[RED, YELLOW],
            swapper_mode="latent_tint",
            with_landmarks=False,
            with_restorer=False,
        )
        frames = int(args.seconds * args.fps)
        print(
            f"window bench: {SIZE[0]}x{SIZE[1]} {frames} frames at {args.fps} fps, x264 ultrafast,"
            f" stand-in models, {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}),"
            f" Qt platform {app.platformName()}",
            flush=True,
        )
        clip = str(
            make_clip(root / "clip.mp4", frames=frames, size=SIZE, fps=args.fps, draw=draw_face, crf=18)
        )
        source = write_image(root / "source.png", (400, 400), [(YELLOW, 100, 100, 200)])
        image = write_image(root / "target.png", SIZE, [(RED, 800, 300, FACE)])
        window = create_window(models.directory, "cpu")
        window.show()
        meter = StallMeter()
        recorder = Recorder(window)
        try:
            idle_start = time.perf_counter()
            recorder.wait(lambda: False, 1.0, required=False)
            idle_gaps, _ = meter.gaps(idle_start, time.perf_counter())
            runs = bench_video(window, recorder, meter, root, clip, source, args.rounds, args.seconds)
            preview = bench_preview(window, recorder, meter, image)
        finally:
            window.confirm_stop = lambda: True
            window.close()
        report(runs, idle_gaps, preview)
    return 0


if __name__ == "__main__":
    sys.exit(main())
