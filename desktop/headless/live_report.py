"""What ``live`` tells its user: the source it got, a stats line a second, a summary.

People get the stats on stderr (one line redrawn in place on a terminal, a line per
second on a pipe or file, like swap's progress) and the summary on stdout, like swap's
"wrote ..." line. ``--json`` gets JSON lines on stdout instead: "started", "stats" each
second, "summary" at the end (errors come as swap's do, from the CLI's error handler).
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from typing import TextIO

from ...core.live.types import LiveStats, SourceInfo
from .common import emit_json, say
from .progress import human_duration


@dataclass(frozen=True)
class Summary:
    frames: int  # delivered to the outputs
    seconds: float
    dropped: int
    errors: int
    recording: str | None = None  # where the recording is, when one was kept
    recorded_frames: int | None = None
    stopped_by: str | None = None  # "SIGINT", "SIGTERM", "SIGHUP"; None: it ended by itself

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def ms(seconds: float) -> float:
    return round(seconds * 1000.0, 1)


def stats_line(stats: LiveStats, elapsed: float) -> str:
    return (
        f"live {human_duration(elapsed)}  {stats.fps:5.1f} fps (source {stats.source_fps:.1f})  "
        f"latency {ms(stats.latency_median):.0f} ms median, {ms(stats.latency_p95):.0f} ms p95  "
        f"{stats.dropped} dropped  {stats.errors} failed"
    )


def describe_source(info: SourceInfo) -> str:
    rate = f" @ {info.fps:g} fps" if info.fps else ""
    asked = f" (asked for {info.requested})" if info.requested else ""
    return f"{info.name}, {info.width}x{info.height}{rate}{asked}"


class LiveReporter:
    """The loop's ``on_stats`` (called on its processing thread) and the start and end lines."""

    def __init__(self, *, as_json: bool, stream: TextIO | None = None) -> None:
        self.as_json = as_json
        self.stream = stream or sys.stderr
        self.interactive = not as_json and bool(getattr(self.stream, "isatty", lambda: False)())
        self._lock = threading.Lock()  # the processing thread draws; the main thread closes
        self._started = time.monotonic()
        self._drawn = False

    def started(self, info: SourceInfo, outputs: list[str]) -> None:
        self._started = time.monotonic()
        if self.as_json:
            emit_json(
                "started",
                source=info.name,
                width=info.width,
                height=info.height,
                fps=info.fps,
                requested=info.requested,
                outputs=outputs,
            )
            return
        where = (
            ", ".join(outputs)
            if outputs
            else "no output (a dry run: --record or --virtual-cam to keep frames)"
        )
        self._line(f"live: {describe_source(info)} -> {where}; Ctrl-C to stop")

    def stats(self, stats: LiveStats) -> None:
        elapsed = time.monotonic() - self._started
        if self.as_json:
            emit_json(
                "stats",
                seconds=round(elapsed, 2),
                fps=round(stats.fps, 2),
                source_fps=round(stats.source_fps, 2),
                latency_median_ms=ms(stats.latency_median),
                latency_p95_ms=ms(stats.latency_p95),
                dropped=stats.dropped,
                processed=stats.processed,
                errors=stats.errors,
                last_error=stats.last_error,
                output_errors=dict(stats.sink_errors),
            )
            return
        line = stats_line(stats, elapsed)
        with self._lock:
            if self.interactive:
                self.stream.write(f"\r{line}\x1b[K")
                self._drawn = True
            else:
                self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        """End the redrawn line, so what follows starts on a line of its own."""
        with self._lock:
            if self._drawn:
                self.stream.write("\n")
                self.stream.flush()
                self._drawn = False

    def summary(self, summary: Summary) -> None:
        if self.as_json:
            emit_json(
                "summary",
                frames=summary.frames,
                seconds=round(summary.seconds, 3),
                fps=round(summary.fps, 2),
                dropped=summary.dropped,
                errors=summary.errors,
                recording=summary.recording,
                recorded_frames=summary.recorded_frames,
                stopped_by=summary.stopped_by,
            )
            return
        how = f"stopped by {summary.stopped_by}: " if summary.stopped_by else ""
        text = (
            f"live: {how}{summary.frames} frames in {summary.seconds:.1f} s ({summary.fps:.1f} fps average), "
            f"{summary.dropped} dropped, {summary.errors} failed"
        )
        if summary.recording is not None:
            text += f"; recorded {summary.recording} ({summary.recorded_frames} frames)"
        say(text)

    def _line(self, text: str) -> None:
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()
