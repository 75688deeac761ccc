"""Frame sources: cameras, video files played in real time, network streams.

``open_source`` turns what a user typed ("0", "/dev/video2", "rtsp://...", "clip.mp4") into
a source without opening anything; ``list_cameras`` says which cameras there are. The
classes live in ``camera.py``, ``file_source.py`` and ``stream_source.py``.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2

from .camera import CameraSource
from .capture_util import quiet_opencv, redact_url
from .file_source import FileSource
from .stream_source import STREAM_SCHEMES, StreamSource
from .types import FrameSource, LiveError

log = logging.getLogger(__name__)

_V4L_SYSFS = Path("/sys/class/video4linux")
_DEV = Path("/dev")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


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
    text = spec.strip()
    if not text:
        raise LiveError("no live source given: name a camera index, a device, a stream URL or a video file")
    scheme = _SCHEME.match(text)
    if scheme:
        if scheme.group(1).lower() not in STREAM_SCHEMES:
            schemes = ", ".join(f"{name}://" for name in STREAM_SCHEMES)
            raise LiveError(f"{redact_url(text)}: unsupported stream type (use {schemes})")
        return StreamSource(text, mirror=mirror)
    if re.fullmatch(r"[+-]?\d+", text):
        index = int(text)
        if index < 0:
            raise LiveError(f"camera index {index} is not valid: cameras count from 0")
        return CameraSource(
            index, width=width, height=height, fps=fps, mirror=mirror, name=_camera_name(index)
        )
    if text.startswith("/dev/"):
        if not os.path.exists(text):
            raise LiveError(f"there is no camera {text}{_found()}")
        node = re.fullmatch(r"/dev/video(\d+)", text)
        label = _sysfs_name(int(node.group(1))) if node and sys.platform.startswith("linux") else None
        name = f"camera {text} ({label})" if label else f"camera {text}"
        return CameraSource(text, width=width, height=height, fps=fps, mirror=mirror, name=name)
    path = Path(text).expanduser()
    if path.is_dir():
        raise LiveError(f"{text} is a folder, not a video file", path=text)
    if not path.exists():
        raise LiveError(f"{text}: no such video file, camera index or stream URL", path=text)
    return FileSource(path, loop=loop, mirror=mirror)


def _camera_name(index: int) -> str:
    """ "camera 0 (HD Webcam)" where the platform names it; on Linux a missing /dev/videoN is refused."""
    if not sys.platform.startswith("linux"):
        return f"camera {index}"
    if not (_DEV / f"video{index}").exists():
        raise LiveError(f"there is no camera {index}{_found()}")
    name = _sysfs_name(index)
    return f"camera {index} ({name})" if name else f"camera {index}"


def _found() -> str:
    """ " (cameras here: 0, 2)" or " (no camera found)", for messages; Linux only (it is cheap there)."""
    if not sys.platform.startswith("linux"):
        return ""
    cameras = _linux_cameras()
    if not cameras:
        return " (no camera found)"
    return " (cameras here: " + ", ".join(str(camera.index) for camera in cameras) + ")"


def _sysfs_name(index: int) -> str | None:
    try:
        return (_V4L_SYSFS / f"video{index}" / "name").read_text(
            encoding="utf-8", errors="replace"
        ).strip() or None
    except OSError:
        return None


def _linux_cameras() -> list[CameraInfo]:
    """Every /sys/class/video4linux/videoN whose ``index`` is 0: a UVC camera also shows a
    metadata-only node (index 1) that gives no picture."""
    cameras = []
    try:
        found = [
            (int(entry.name[5:]), entry) for entry in _V4L_SYSFS.glob("video*") if entry.name[5:].isdigit()
        ]
    except OSError:
        return []
    for index, entry in sorted(found):
        try:
            node_index = (entry / "index").read_text().strip()
        except OSError:
            node_index = "0"  # no index file (older kernels): keep it
        if node_index != "0":
            continue
        cameras.append(CameraInfo(index, _sysfs_name(index) or f"Camera {index}", f"/dev/video{index}"))
    return cameras


def list_cameras(max_index: int = 8) -> list[CameraInfo]:
    """The cameras here, with names where the platform gives them (Linux: /sys/class/video4linux);
    elsewhere indices probed with OpenCV (0 to ``max_index`` - 1)."""
    if sys.platform.startswith("linux"):
        return _linux_cameras()
    cameras = []
    with quiet_opencv():  # every missing index would print a warning
        for index in range(max_index):
            try:
                capture = cv2.VideoCapture(index)
                found = capture.isOpened()
                capture.release()
            except cv2.error as error:
                log.debug("probing camera %d: %s", index, error)
                continue
            if found:
                cameras.append(CameraInfo(index, f"Camera {index}"))
    return cameras
