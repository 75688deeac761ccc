"""A running video's progress as JSON-safe dicts, at most a few per second, on the event loop.

The engine emits typed events on its own thread; a remote caller wants plain data, not too
often (each RunPod progress update is a request). The sink is called on the event loop's
thread, so the worker and the server may touch their own state from it without locks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from ..core.jobs.events import JobEvent, Progress

ProgressSink = Callable[[dict[str, Any]], None]
DEFAULT_INTERVAL = 0.5  # seconds between updates: at most 2 per second


class ProgressRelay:
    """An EventSink for run_job that forwards frame progress to a ProgressSink, throttled."""

    def __init__(
        self, sink: ProgressSink, loop: asyncio.AbstractEventLoop, interval: float = DEFAULT_INTERVAL
    ) -> None:
        self._sink = sink
        self._loop = loop
        self._interval = interval
        self._last = float("-inf")

    def __call__(self, event: JobEvent) -> None:
        if not isinstance(event, Progress) or event.stage != "frames":
            return  # image stages take milliseconds; previews are pixels, not JSON
        now = time.monotonic()
        final = event.total is not None and event.done >= event.total
        if now - self._last < self._interval and not final:
            return
        self._last = now
        self._loop.call_soon_threadsafe(self._sink, as_dict(event))


def as_dict(event: Progress) -> dict[str, Any]:
    return {
        "stage": event.stage,
        "done": event.done,
        "total": event.total,
        "fps": round(event.frames_per_second, 2),
        "eta_seconds": None if event.eta_seconds is None else round(event.eta_seconds, 2),
    }
