"""VirtualCameraSink: the live loop's processed frames as a camera other programs can pick.

Through pyvirtualcam (the optional ``virtualcam`` extra, imported only when a virtual
camera starts): v4l2loopback on Linux, OBS Studio's virtual camera on Windows and macOS.
Frames go out as BGR, as the loop has them; the loop sets the pace, so no
``sleep_until_next_frame`` here. When no device exists the error says what to install
for this system. A real device cannot be exercised in containers or CI; tests pass a
fake camera through ``camera_factory`` (and check that the real pyvirtualcam, with no
device, gives the Linux message).
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Callable
from typing import Protocol

import numpy as np

from .types import LiveError, LiveFrame, SourceInfo

log = logging.getLogger(__name__)

DEFAULT_FPS = 30.0  # what other programs are told when the source does not know its rate

INSTALL_EXTRA = 'pip install "facedeck[virtualcam]"'
LINUX_SETUP = (
    "sudo apt install v4l2loopback-dkms, then "
    'sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label="FaceDeck"'
)


class VirtualCamera(Protocol):
    """What the sink needs of a camera: pyvirtualcam.Camera, or a test's fake."""

    @property
    def device(self) -> str: ...

    def send(self, frame: np.ndarray) -> None: ...

    def close(self) -> None: ...


# (width, height, fps, device=..., backend=...) -> an open camera that takes BGR frames
CameraFactory = Callable[..., VirtualCamera]


def setup_hint(platform: str | None = None) -> str:
    """How to get a virtual camera device on ``platform`` (``sys.platform`` spelling)."""
    platform = platform or sys.platform
    if platform.startswith("linux"):
        return f"install and load v4l2loopback: {LINUX_SETUP}"
    if platform == "darwin":
        return (
            "install OBS Studio (30 or newer on macOS 13 and later), click Start Virtual Camera "
            "once and allow its system extension in System Settings"
        )
    if platform in ("win32", "cygwin"):
        return "install OBS Studio 26 or newer and start its virtual camera once (Start Virtual Camera)"
    return "this system has no virtual camera pyvirtualcam can use"


def device_error(reason: str, device: str | None = None, platform: str | None = None) -> LiveError:
    """pyvirtualcam's reason for not opening a camera as one sentence that says what to do."""
    text = " ".join(reason.split())
    lowered = text.lower()
    named = f"virtual camera {device}" if device else "virtual camera"
    if "permission" in lowered:
        return LiveError(
            f"cannot open the {named}: permission denied; add your user to the video group "
            "(sudo usermod -a -G video $USER) and log in again"
        )
    if "already in use" in lowered or "multiple cameras" in lowered:
        return LiveError(f"the {named} is already in use; stop the other output or choose another device")
    missing = (
        "no v4l2 loopback device",
        "does not exist",
        "not installed",
        "not found",
        "did you install obs",
    )
    if any(words in lowered for words in missing):
        found = f"the virtual camera {device} does not exist" if device else "no virtual camera device found"
        return LiveError(f"{found}; {setup_hint(platform)}")
    if "not a video output device" in lowered or "not a v4l2 device" in lowered:
        return LiveError(f"{device or 'the device'} is not a v4l2loopback device; {setup_hint(platform)}")
    return LiveError(f"cannot start the {named} ({text})")


def open_pyvirtualcam(
    width: int, height: int, fps: float, *, device: str | None = None, backend: str | None = None
) -> VirtualCamera:
    """A pyvirtualcam camera taking BGR frames; LiveError when the package or a device is missing."""
    try:
        # Optional (the virtualcam extra), untyped, and imported only when a camera starts.
        pyvirtualcam = importlib.import_module("pyvirtualcam")
        backends: dict[str, object] = importlib.import_module("pyvirtualcam.camera").BACKENDS
    except ImportError:
        raise LiveError(f"the virtual camera needs pyvirtualcam: {INSTALL_EXTRA}") from None
    # Checked here: pyvirtualcam raises a bare KeyError for an unknown backend name.
    if backend is not None and backend not in backends:
        known = " ".join(sorted(backends)) or "none on this system"
        raise LiveError(f"unknown virtual camera backend {backend}; available: {known}")
    if not backends:
        raise LiveError(f"no virtual camera device found; {setup_hint()}")
    try:
        camera: VirtualCamera = pyvirtualcam.Camera(
            width, height, fps, fmt=pyvirtualcam.PixelFormat.BGR, device=device, backend=backend
        )
    except RuntimeError as error:
        log.debug("pyvirtualcam could not open a camera: %s", " | ".join(str(error).splitlines()))
        raise device_error(str(error), device) from None
    return camera


class VirtualCameraSink:
    """Sends every processed frame to a virtual camera (``device``: "/dev/video2", "OBS Virtual Camera").

    ``backend`` picks pyvirtualcam's backend ("v4l2loopback", "obs", "unitycapture"); None
    tries each. ``fps`` is the rate other programs are told (default: the source's). Tests
    pass ``camera_factory`` (same arguments as :func:`open_pyvirtualcam`) with a fake camera;
    ``platform`` (``sys.platform`` spelling) picks the setup advice in error messages.
    """

    def __init__(
        self,
        device: str | None = None,
        backend: str | None = None,
        fps: float | None = None,
        camera_factory: CameraFactory | None = None,
        *,
        platform: str | None = None,
    ) -> None:
        self._wanted = device
        self._backend = backend
        self._fps = fps
        self._factory = camera_factory or open_pyvirtualcam
        self._platform = platform
        self._camera: VirtualCamera | None = None
        self._shape: tuple[int, int, int] | None = None
        self.device: str | None = None  # the device opened, for the window ("/dev/video2")
        self.frames = 0

    @property
    def name(self) -> str:
        """For the loop's reports (stats.sink_errors) and the window."""
        return f"virtual camera {self.device or self._wanted or ''}".strip()

    def start(self, info: SourceInfo) -> None:
        """Open the virtual camera at the source's size; LiveError saying what to install when none exists."""
        if self._camera is not None:
            raise LiveError(f"the {self.name} is already running")
        fps = self._fps or info.fps or DEFAULT_FPS
        try:
            camera = self._factory(info.width, info.height, fps, device=self._wanted, backend=self._backend)
        except RuntimeError as error:  # a factory that raises pyvirtualcam's own errors
            log.debug("the virtual camera could not open: %s", " | ".join(str(error).splitlines()))
            raise device_error(str(error), self._wanted, self._platform) from None
        self._camera = camera
        self._shape = (info.height, info.width, 3)
        self.device = str(camera.device)
        self.frames = 0
        log.info("virtual camera %s: %dx%d at %.3g fps", self.device, info.width, info.height, fps)

    def write(self, frame: LiveFrame) -> None:
        """Send one BGR frame; LiveError when it does not fit or the device went away."""
        camera = self._camera
        if camera is None:
            raise LiveError("the virtual camera is not running")
        image = frame.image
        if image.shape != self._shape or image.dtype != np.uint8:
            height, width = self._shape[:2] if self._shape else (0, 0)
            raise LiveError(
                f"a {image.shape[1]}x{image.shape[0]} frame ({image.dtype}) cannot go to the "
                f"{width}x{height} {self.name}"
            )
        try:
            camera.send(image)
        except (RuntimeError, ValueError, TypeError) as error:
            reason = " ".join(str(error).split())
            raise LiveError(f"the {self.name} stopped taking frames ({reason})") from None
        self.frames += 1

    def stop(self) -> None:
        """Close the camera (other programs see it stop); safe to call more than once."""
        self._close()

    def abort(self) -> None:
        self._close()

    def _close(self) -> None:
        camera, self._camera = self._camera, None
        if camera is None:
            return
        try:
            camera.close()
        except (RuntimeError, OSError) as error:  # nothing to keep or undo: say it and go on
            log.warning("closing the %s: %s", self.name, error)
        log.info("virtual camera %s closed after %d frames", self.device, self.frames)
