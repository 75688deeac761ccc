"""The live mode's contract: what a source gives, what a sink gets, what the loop reports.

A source is read by the loop's capture thread only; a sink is called by the loop's
processing thread only (one sink call at a time, in frame order, right after the frame is
swapped), so neither needs its own locking, and a sink must be quick (hand heavy work on).
Everything that goes wrong is a :class:`LiveError` (a FaceDeckError) with one sentence for
the user; the loop never lets a sink or one frame's failure end it, only a dead source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..errors import FaceDeckError


class LiveError(FaceDeckError):
    """A camera, stream, recording or virtual camera failed; the message says what to do."""

    code = "live"


@dataclass(frozen=True)
class SourceInfo:
    """What a source really delivers (a camera may differ from what was asked)."""

    name: str  # for people: "camera 0 (HD Webcam)", "clip.mp4", "rtsp://host/stream"
    width: int
    height: int
    fps: float | None  # frames per second the source delivers; None: unknown (some streams)
    requested: str | None = None  # "1920x1080 @ 60 fps" when the camera gave something else


@dataclass(frozen=True)
class CapturedFrame:
    """One frame as captured: BGR uint8, C-contiguous, upright (and mirrored if asked)."""

    image: np.ndarray
    index: int  # the source's frame counter from 0; the loop counts frames it skipped
    captured_at: float  # time.monotonic() when the source handed it over
    time: float  # seconds since the source started: capture time for cameras, media time for files


class FrameSource(Protocol):
    """A camera, a file played in real time, or a network stream."""

    def open(self) -> SourceInfo:
        """Start delivering; raises LiveError (no such camera, busy, unreachable URL)."""
        ...

    def read(self) -> CapturedFrame | None:
        """Block until the next frame. None: the source ended normally (a file without loop).

        Raises LiveError when the source died (camera unplugged, stream dropped); the
        message is the loop's reason for ending."""
        ...

    def close(self) -> None:
        """Release the device or file; safe to call twice and after a failed open."""
        ...


@dataclass(frozen=True)
class LiveFrame:
    """A processed frame, as every sink gets it."""

    captured: CapturedFrame
    image: np.ndarray  # the swapped frame; the captured image itself when nothing was swapped
    faces_found: int
    faces_swapped: int
    latency: float  # seconds from capture to this frame reaching the sinks
    error: str | None = None  # one line when this frame failed and passes through unswapped


class FrameSink(Protocol):
    """Gets every processed frame: the window's preview, a recording, a virtual camera."""

    def start(self, info: SourceInfo) -> None:
        """Called once before the first frame; raises LiveError when the sink cannot start."""
        ...

    def write(self, frame: LiveFrame) -> None:
        """One frame, in order; raises LiveError for a failure (the loop logs it and drops the sink)."""
        ...

    def stop(self) -> None:
        """The loop ended normally or was stopped: finish (a recording is renamed into place)."""
        ...

    def abort(self) -> None:
        """The sink failed or the process is going down: release everything, keep nothing half-written."""
        ...


@dataclass(frozen=True)
class LiveStats:
    """The loop's figures, over the last ``window`` seconds (the stats line and the window's readouts)."""

    fps: float  # frames delivered to the sinks per second
    source_fps: float  # frames captured per second
    latency_median: float  # seconds, capture to sinks
    latency_p95: float
    dropped: int  # total frames captured but never processed (a newer frame replaced them)
    processed: int  # total frames delivered to the sinks
    errors: int  # total frames that failed and passed through unswapped
    window: float = 1.0
    last_error: str | None = None
    sink_errors: dict[str, str] = field(default_factory=dict)  # sink name -> why it was dropped
