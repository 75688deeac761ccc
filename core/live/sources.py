"""Frame sources: cameras, video files played in real time, network streams.

CONTRACT (stub: to be implemented).
"""

from __future__ import annotations

from dataclasses import dataclass

from .types import FrameSource


@dataclass(frozen=True)
class CameraInfo:
    """A camera found on this machine."""

    index: int  # OpenCV's index
    name: str  # what the platform calls it ("HD Webcam"), or "Camera N" when it says nothing
    path: str | None = None  # /dev/videoN on Linux


def open_source(
    spec: str,
    *,
    width: int | None = None,
    height: int | None = None,
    fps: float | None = None,
    mirror: bool = False,
    loop: bool = False,
) -> FrameSource:
    """The source ``spec`` names: "0" (a camera index), "/dev/video2" (a camera device),
    "rtsp://..."/"http(s)://..." (a network stream), or a video file path (played at its own
    frame rate; ``loop`` starts it over at the end). ``width``/``height``/``fps`` are requests
    to a camera (what it gives is in ``open()``'s SourceInfo). Nothing is opened here;
    a spec that names nothing usable raises LiveError."""
    raise NotImplementedError


def list_cameras(max_index: int = 8) -> list[CameraInfo]:
    """The cameras here, with names where the platform gives them (Linux: /sys/class/video4linux);
    elsewhere indices probed with OpenCV."""
    raise NotImplementedError
