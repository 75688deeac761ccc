"""Live mode: output rate, dropped frames and capture-to-output latency of the LiveLoop.

Generates a 720p and a 1080p clip at 30 fps with a moving key-colour face on a textured
picture, and plays each through the real-time file source (the stand-in for a camera:
frames arrive paced at the clip's rate), then measures in one run, per resolution:

  source alone      the source read as fast as it delivers: the rate frames are offered
                    at, the ceiling of any live output (30 fps here)
  engine alone      FrameStream.push on frames decoded beforehand, back to back, no loop,
                    no pacing: what the engine costs per frame and the rate it could reach
  loop, headless    LiveLoop -> a counting sink (what ``facedeck --headless live`` does
                    without outputs)
  loop + recording  LiveLoop -> RecordingSink (``--record``: x264 veryfast on its worker)
  loop + window     LiveLoop -> the window's WindowSink -> a queued signal -> the real
                    PreviewPanel.show_live on the Qt GUI thread (bgr_to_pixmap of the
                    camera picture and the swap, painted), under QT_QPA_PLATFORM=offscreen;
                    skipped when the GUI extra (PySide6) is not installed

Latency is per frame: from the source handing the frame over (``captured_at``) to the
frame reaching the sinks (the loop's own figure), and for the window to the moment
show_live returned on the GUI thread. Dropped: frames the source delivered that a newer
frame replaced before processing (the loop's one-slot mailbox), plus, for the window,
frames replaced before the GUI thread took them ("not drawn").

The goal printed next to the figures: at 720p, >= 29 fps out and a median latency under
66 ms (two frame periods at 30 fps). The models are the test suite's stand-ins
(tests/support/models/): their onnxruntime time is tiny, so these figures are FaceDeck's
own overhead (decode, tracking, alignment, paste-back, threads, sinks, Qt); real models
add their inference time to "engine alone" and to every latency.

    QT_QPA_PLATFORM=offscreen python bench/bench_live.py [--seconds 6] [--only 720p]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the stand-in models live in tests.support

from facedeck.core.faces.options import SwapOptions  # noqa: E402
from facedeck.core.jobs.assignment import build_session  # noqa: E402
from facedeck.core.jobs.inputs import JobInputs  # noqa: E402
from facedeck.core.jobs.spec import FaceAssignment, FaceRef, MediaRef  # noqa: E402
from facedeck.core.jobs.stream import FrameStream  # noqa: E402
from facedeck.core.live.loop import LiveLoop  # noqa: E402
from facedeck.core.live.recording import RecordingSink  # noqa: E402
from facedeck.core.live.types import FrameSink, FrameSource, LiveFrame, SourceInfo  # noqa: E402
from facedeck.core.media.video_reader import VideoReader  # noqa: E402
from facedeck.core.models.library import ModelLibrary  # noqa: E402
from facedeck.core.tracking.tracker import TrackerSettings  # noqa: E402
from tests.support.media_fixtures import make_clip  # noqa: E402
from tests.support.models.drawing import KEY_COLORS, draw_square_face  # noqa: E402
from tests.support.models.model_set import build_model_set  # noqa: E402

RED, YELLOW = KEY_COLORS[2], KEY_COLORS[3]
RESOLUTIONS = {"720p": (1280, 720), "1080p": (1920, 1080)}
FPS = 30
DETECT_EVERY = 3  # the CLI's and the window's default
GOAL_FPS = 29.0
GOAL_LATENCY = 0.066  # seconds: two frame periods at 30 fps


@dataclass
class Row:
    mode: str
    fps: float | None = None
    dropped: int | None = None
    latencies: list[float] | None = None  # seconds, capture to sinks
    shown_latencies: list[float] | None = None  # seconds, capture to painted (the window)
    note: str = ""

    def latency(self, which: str = "loop") -> tuple[float, float] | None:
        values = self.latencies if which == "loop" else self.shown_latencies
        if not values:
            return None
        return statistics.median(values), float(np.percentile(values, 95))


# ----- inputs ---------------------------------------------------------------------------------
def textured(width: int, height: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    small = rng.uniform(60, 200, (height // 16, width // 16, 3)).astype(np.float32)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC).clip(0, 255).astype(np.uint8)


def make_face_clip(path: Path, size: tuple[int, int], seconds: float) -> Path:
    width, height = size
    background = textured(width, height)
    side = height // 4

    def draw(index: int, image: np.ndarray) -> None:
        image[...] = background
        x = int((width - side) * (0.5 + 0.4 * np.sin(index / 20.0)))
        draw_square_face(image, RED, x, height // 3, side)

    # crf 18: a camera-like stream to decode, not a lossless one (which decodes much slower)
    return make_clip(path, frames=int(seconds * FPS), size=size, fps=FPS, draw=draw, audio=False, crf=18)


def open_file_source(path: Path) -> FrameSource:
    """The source ``facedeck --headless live --camera FILE`` opens."""
    from facedeck.core.live import sources

    return sources.open_source(str(path))


# ----- sinks ----------------------------------------------------------------------------------
class CountingSink:
    """Counts frames and keeps their latencies; nothing else (the loop's own cost)."""

    name = "count"

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.times: list[float] = []

    def start(self, info: SourceInfo) -> None:
        return None

    def write(self, frame: LiveFrame) -> None:
        self.latencies.append(frame.latency)
        self.times.append(time.monotonic())

    def stop(self) -> None:
        return None

    def abort(self) -> None:
        return None


def rate(times: list[float]) -> float:
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0


# ----- measurements ---------------------------------------------------------------------------
def source_alone(clip: Path) -> Row:
    source = open_file_source(clip)
    source.open()
    times = []
    try:
        while (frame := source.read()) is not None:
            times.append(frame.captured_at)
    finally:
        source.close()
    return Row("source alone (offered)", fps=rate(times), note=f"{len(times)} frames")


def engine_alone(clip: Path, make_stream: Callable[[], FrameStream], frames: int) -> Row:
    with VideoReader(clip) as reader:
        images = [item.image for item in reader.items(with_audio=False)][:frames]
    stream = make_stream()
    stream.push(images[0], 0.0)  # warm-up: first detection and embedding
    took = []
    for index, image in enumerate(images[1:], 1):
        started = time.perf_counter()
        stream.push(image, index / FPS)
        took.append(time.perf_counter() - started)
    fps = len(took) / sum(took)
    return Row("engine alone (push)", fps=fps, latencies=took, note="per frame, back to back, no loop")


def run_loop(
    clip: Path, stream: FrameStream, sinks: list[FrameSink], wait: Callable[[LiveLoop], None]
) -> LiveLoop:
    source = open_file_source(clip)
    loop = LiveLoop(source, stream, sinks)
    loop.start()
    wait(loop)
    loop.stop()
    return loop


def loop_headless(clip: Path, stream: FrameStream) -> Row:
    counter = CountingSink()
    loop = run_loop(clip, stream, [counter], lambda loop: loop.wait())
    return Row(
        "loop, headless", fps=rate(counter.times), dropped=loop.stats().dropped, latencies=counter.latencies
    )


def loop_recording(clip: Path, stream: FrameStream, folder: Path) -> Row:
    counter = CountingSink()
    recording = RecordingSink(folder / f"{clip.stem}-recorded.mp4")
    loop = run_loop(clip, stream, [recording, counter], lambda loop: loop.wait())
    errors = loop.stats().sink_errors
    note = f"encoder {recording.encoder_name}, {recording.dropped} not encoded (encoder behind)"
    if errors:
        note = f"recording failed: {errors}"
    return Row(
        "loop + recording",
        fps=rate(counter.times),
        dropped=loop.stats().dropped,
        latencies=counter.latencies,
        note=note,
    )


def loop_window(clip: Path, stream: FrameStream) -> Row:
    """The window's path: WindowSink -> queued signal -> PreviewPanel.show_live on the GUI thread."""
    from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, QTimer, Slot
    from PySide6.QtWidgets import QApplication

    from facedeck.desktop.gui.live_sink import WindowSink
    from facedeck.desktop.gui.preview_panel import PreviewPanel

    app = QApplication.instance() or QApplication([sys.argv[0]])

    class Receiver(QObject):
        """What LiveController does with a waiting frame: take it, hand it to the preview."""

        def __init__(self, sink: WindowSink, panel: PreviewPanel) -> None:
            super().__init__()
            self.sink, self.panel = sink, panel
            self.shown: list[float] = []
            self.latencies: list[float] = []
            self.loop_latencies: list[float] = []
            self.loop: LiveLoop | None = None
            self.events = QEventLoop()
            sink.frameWaiting.connect(self.take)

        @Slot()
        def take(self) -> None:
            frame = self.sink.take()
            if frame is None:
                return
            self.panel.show_live(frame)
            now = time.monotonic()
            self.shown.append(now)
            self.latencies.append(now - frame.captured.captured_at)
            self.loop_latencies.append(frame.latency)

        @Slot()
        def check(self) -> None:
            if self.loop is not None and self.loop.wait(0):
                self.events.quit()

    panel = PreviewPanel()
    panel.resize(1280, 560)
    panel.set_live(True)
    panel.show()
    sink = WindowSink()
    receiver = Receiver(sink, panel)
    timer = QTimer()
    timer.timeout.connect(receiver.check)

    def wait(loop: LiveLoop) -> None:
        receiver.loop = loop
        timer.start(20)
        receiver.events.exec()
        timer.stop()
        app.processEvents()  # the last queued frame

    loop = run_loop(clip, stream, [sink], wait)
    row = Row(
        "loop + window preview",
        fps=rate(receiver.shown),
        dropped=loop.stats().dropped + sink.not_shown,
        latencies=receiver.loop_latencies,
        shown_latencies=receiver.latencies,
        note=f"{sink.not_shown} of the dropped: not drawn (GUI busy)",
    )
    # Qt objects go while the application is alive, not to the collector at interpreter exit
    panel.close()
    for item in (timer, receiver, sink, panel):
        item.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    return row


def window_available() -> bool:
    try:
        import facedeck.desktop.gui.live_sink  # noqa: F401
        import facedeck.desktop.gui.preview_panel  # noqa: F401
    except ImportError:
        return False
    return True


def hold_refcounts_for_pyside() -> bool:
    """The window's own guard against PySide6 6.12.0's over-release of None/True on Python
    < 3.12 (every emit took one from True: the run aborted after ~570 emits without it)."""
    from facedeck.desktop.gui.pyside_refs import pin_singletons

    return pin_singletons()


# ----- report ---------------------------------------------------------------------------------
def ms(value: float) -> str:
    return f"{value * 1000:6.1f}"


def print_rows(name: str, rows: list[Row]) -> None:
    print(f"  {'mode':<26}{'out fps':>8}{'dropped':>9}{'latency median':>16}{'p95':>8}   note")
    for row in rows:
        fps = f"{row.fps:8.1f}" if row.fps is not None else f"{'-':>8}"
        dropped = f"{row.dropped:9d}" if row.dropped is not None else f"{'-':>9}"
        latency = row.latency()
        figures = f"{ms(latency[0]):>13} ms{ms(latency[1]):>6} ms" if latency else f"{'-':>16}{'-':>8}   "
        print(f"  {row.mode:<26}{fps}{dropped}{figures}   {row.note}")
        shown = row.latency("shown")
        if shown:
            print(f"  {'  ... to painted':<26}{'':8}{'':9}{ms(shown[0]):>13} ms{ms(shown[1]):>6} ms")


def verdict(name: str, rows: list[Row]) -> None:
    if name != "720p":
        return
    for row in rows:
        if not row.mode.startswith("loop"):
            continue
        latency = row.latency("shown") or row.latency()
        assert latency is not None and row.fps is not None
        ok = row.fps >= GOAL_FPS and latency[0] < GOAL_LATENCY
        print(
            f"  goal ({GOAL_FPS:g}+ fps, median < {GOAL_LATENCY * 1000:.0f} ms) {row.mode}: "
            f"{'MET' if ok else 'NOT MET'} ({row.fps:.1f} fps, {latency[0] * 1000:.1f} ms)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each clip (default 6)")
    parser.add_argument("--only", choices=sorted(RESOLUTIONS), help="one resolution only")
    parser.add_argument("--no-window", action="store_true", help="skip the run through the window's preview")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="facedeck-bench-live-") as tmp:
        folder = Path(tmp)
        models = build_model_set(folder / "models", swapper_mode="latent_color", with_restorer=False)
        photo = np.full((400, 400, 3), 128, np.uint8)
        cv2.imwrite(str(folder / "source.png"), draw_square_face(photo, YELLOW, 80, 80, 240))
        library = ModelLibrary(models.directory, "cpu")
        options = SwapOptions()
        library.preload(options.required_roles())
        faces = FaceAssignment(sources=[FaceRef(MediaRef.of(folder / "source.png"))])
        with JobInputs() as inputs:
            session = build_session(library, faces, options, inputs)  # as the CLI and a job build it

        def make_stream() -> FrameStream:
            return FrameStream(session, TrackerSettings(detect_every=DETECT_EVERY))

        window = not args.no_window and window_available()
        if window and hold_refcounts_for_pyside():
            print(
                "note: PySide6 6.12.0 on Python < 3.12 over-releases None/True; references held for the run"
            )
        print(
            f"facedeck live benchmark: stand-in models on {library.provider.name}, detect every "
            f"{DETECT_EVERY}{'' if window else '; the window run skipped (--no-window or no PySide6)'}"
        )
        for name, size in RESOLUTIONS.items():
            if args.only and name != args.only:
                continue
            clip = make_face_clip(folder / f"{name}.mp4", size, args.seconds)
            rows = [
                source_alone(clip),
                engine_alone(clip, make_stream, frames=min(120, int(args.seconds * FPS))),
            ]
            rows.append(loop_headless(clip, make_stream()))
            rows.append(loop_recording(clip, make_stream(), folder))
            if window:
                rows.append(loop_window(clip, make_stream()))
            print(f"\n{name} ({size[0]}x{size[1]} @ {FPS} fps, {args.seconds:g} s)")
            print_rows(name, rows)
            verdict(name, rows)
        library.close()
    print("\nsource: open_source(FILE), as --camera FILE; the window row: real WindowSink and PreviewPanel")
    return 0


if __name__ == "__main__":
    sys.exit(main())
