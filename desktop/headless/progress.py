"""A terminal progress bar for long headless work (downloads now, videos later)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(count) < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000.0
    return f"{count:.1f} GB"


def human_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class ProgressBar:
    """Redraws one line on a terminal; on a pipe or file it writes a line every 10 %."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 28) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_decile = -1
        self._last_draw = 0.0

    def update(self, done: float, total: float | None, detail: str) -> None:
        fraction = (done / total) if total else None
        if self.interactive:
            now = time.monotonic()
            if now - self._last_draw < 0.1 and (fraction or 0) < 1.0:
                return
            self._last_draw = now
            filled = int(self.width * min(fraction or 0.0, 1.0))
            bar = "#" * filled + "-" * (self.width - filled)
            percent = f"{fraction * 100:5.1f}%" if fraction is not None else "   ? %"
            self.stream.write(f"\r{self.label} [{bar}] {percent} {detail}\x1b[K")
            self.stream.flush()
        elif fraction is not None:
            decile = int(min(fraction, 1.0) * 10)
            if decile > self._last_decile:
                self._last_decile = decile
                self.stream.write(f"{self.label}: {decile * 10}% {detail}\n")
                self.stream.flush()

    def close(self) -> None:
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()
