"""What a running job tells its front end: progress, preview frames and warnings.

The CLI's progress bar, the window's progress bar and a remote worker's progress updates
all consume these same typed events; a job never prints or touches a widget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` steps of ``stage`` (frames for a video; None when unknown)."""

    stage: str
    done: int
    total: int | None
    frames_per_second: float = 0.0
    eta_seconds: float | None = None
    faces_swapped: int = 0

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.done / self.total) if self.total else None


@dataclass(frozen=True)
class Preview:
    """A processed frame to show, when the job asked for previews (``preview_every``)."""

    index: int
    time: float
    frame: np.ndarray  # BGR uint8; the front end copies it if it keeps it


@dataclass(frozen=True)
class JobWarning:
    """Something the user should know that did not stop the job (e.g. corrupt frames skipped)."""

    code: str
    message: str


JobEvent = Progress | Preview | JobWarning
EventSink = Callable[[JobEvent], None]


def progress_of(
    done: int, total: int | None, elapsed: float, swapped: int, stage: str = "frames"
) -> Progress:
    """Progress with the rate so far and the time left at that rate."""
    fps = done / elapsed if elapsed > 0 else 0.0
    eta = (total - done) / fps if (total and fps > 0) else None
    return Progress(stage, done, total, fps, eta, swapped)
