"""The live loop's figures: rolling rates and latency percentiles over the last window.

Kept apart from the loop so the arithmetic is simple to read and to test; the loop owns the
locking (every method here is called with the loop's stats lock held).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from .types import LiveStats


class RollingStats:
    """Counts and per-frame timings; ``snapshot`` reports the last ``window`` seconds."""

    def __init__(self, window: float = 1.0) -> None:
        self.window = window
        self._captured: deque[float] = deque()  # monotonic times frames were captured
        self._delivered: deque[tuple[float, float]] = deque()  # (monotonic time delivered, latency)
        self._started: float | None = None
        self.dropped = 0
        self.processed = 0
        self.errors = 0
        self.last_error: str | None = None
        self.sink_errors: dict[str, str] = {}

    def start(self, now: float) -> None:
        self._started = now

    def captured(self, now: float) -> None:
        self._captured.append(now)
        self._prune(now)

    def delivered(self, now: float, latency: float) -> None:
        self.processed += 1
        self._delivered.append((now, latency))
        self._prune(now)

    def failed(self, reason: str) -> None:
        self.errors += 1
        self.last_error = reason

    def _prune(self, now: float) -> None:
        horizon = now - self.window
        while self._captured and self._captured[0] < horizon:
            self._captured.popleft()
        while self._delivered and self._delivered[0][0] < horizon:
            self._delivered.popleft()

    def snapshot(self, now: float) -> LiveStats:
        self._prune(now)
        # Before a whole window has passed, divide by the time the loop has run: the first
        # readout would otherwise show a rate far below the real one.
        span = self.window
        if self._started is not None:
            span = min(span, max(now - self._started, 1e-3))
        latencies = np.fromiter((latency for _, latency in self._delivered), dtype=np.float64)
        median = float(np.median(latencies)) if latencies.size else 0.0
        p95 = float(np.percentile(latencies, 95)) if latencies.size else 0.0
        return LiveStats(
            fps=len(self._delivered) / span,
            source_fps=len(self._captured) / span,
            latency_median=median,
            latency_p95=p95,
            dropped=self.dropped,
            processed=self.processed,
            errors=self.errors,
            window=self.window,
            last_error=self.last_error,
            sink_errors=dict(self.sink_errors),
        )
