"""VirtualCameraSink: frames to a virtual camera through pyvirtualcam.

No virtual camera device exists in containers or CI (no v4l2loopback module, no OBS), so
the sink is exercised with a fake camera passed as ``camera_factory``; the error mapping is
checked with pyvirtualcam's own messages for each system, and once with the real
pyvirtualcam on this Linux machine, which has no v4l2loopback device.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from facedeck.core.live.types import CapturedFrame, LiveError, LiveFrame, SourceInfo
from facedeck.core.live.virtual_camera import VirtualCameraSink, device_error

INFO = SourceInfo(name="camera 0", width=64, height=48, fps=25.0)

# pyvirtualcam 0.15's messages (its native backends' texts, joined by Camera()).
LINUX_NONE = (
    "'v4l2loopback' backend: No v4l2 loopback device found at /dev/video[0-99]. "
    "Did you run 'modprobe v4l2loopback'? See also pyvirtualcam's documentation."
)
WINDOWS_NONE = "'obs' backend: OBS Virtual Camera device not found! Did you install OBS?"
MACOS_NONE = (
    "'obs' backend: OBS Virtual Camera is not installed in your system. Use the Virtual Camera "
    "function in OBS 30.0 or later to trigger the installation [Device not found]"
)


class FakeCamera:
    def __init__(self, width: int, height: int, fps: float, *, device: str | None, backend: str | None):
        self.args = (width, height, fps, device, backend)
        self.device = device or "/dev/video7"
        self.sent: list[np.ndarray] = []
        self.closed = 0

    def send(self, frame: np.ndarray) -> None:
        self.sent.append(frame.copy())

    def close(self) -> None:
        self.closed += 1


class Factory:
    def __init__(self, error: str | None = None) -> None:
        self.error = error
        self.cameras: list[FakeCamera] = []

    def __call__(self, width: int, height: int, fps: float, **kwargs: str | None) -> FakeCamera:
        if self.error is not None:
            raise RuntimeError(self.error)
        camera = FakeCamera(width, height, fps, **kwargs)
        self.cameras.append(camera)
        return camera


def live_frame(index: int, shape: tuple[int, int] = (48, 64)) -> LiveFrame:
    image = np.full((*shape, 3), index, np.uint8)
    captured = CapturedFrame(image=image, index=index, captured_at=100.0 + index / 25, time=index / 25)
    return LiveFrame(captured=captured, image=image, faces_found=0, faces_swapped=0, latency=0.01)


def test_frames_go_out_in_order_and_the_camera_closes_on_stop() -> None:
    factory = Factory()
    sink = VirtualCameraSink(device="/dev/video3", backend="v4l2loopback", camera_factory=factory)
    sink.start(INFO)
    (camera,) = factory.cameras
    assert camera.args == (64, 48, 25.0, "/dev/video3", "v4l2loopback")  # the source's size and rate
    assert sink.device == "/dev/video3"
    for index in range(5):
        sink.write(live_frame(index))
    assert [int(frame[0, 0, 0]) for frame in camera.sent] == [0, 1, 2, 3, 4]
    assert all(frame.shape == (48, 64, 3) for frame in camera.sent)  # BGR, as the loop has it
    sink.stop()
    sink.stop()
    sink.abort()
    assert camera.closed == 1
    with pytest.raises(LiveError, match="not running"):
        sink.write(live_frame(5))


def test_the_device_opened_is_reported_and_fps_falls_back() -> None:
    factory = Factory()
    sink = VirtualCameraSink(camera_factory=factory)
    sink.start(SourceInfo(name="rtsp://cam", width=64, height=48, fps=None))
    assert sink.device == "/dev/video7"  # the camera's choice, for the window
    assert factory.cameras[0].args[2] == 30.0  # the source does not know its rate
    sink.abort()
    assert factory.cameras[0].closed == 1
    explicit = VirtualCameraSink(fps=60.0, camera_factory=factory)
    explicit.start(INFO)
    assert factory.cameras[1].args[2] == 60.0
    explicit.stop()


def test_a_frame_of_another_size_is_refused() -> None:
    factory = Factory()
    sink = VirtualCameraSink(camera_factory=factory)
    sink.start(INFO)
    with pytest.raises(LiveError, match="128x96"):
        sink.write(live_frame(0, shape=(96, 128)))
    assert factory.cameras[0].sent == []
    sink.stop()


@pytest.mark.parametrize(
    "platform, reason, expected",
    [
        ("linux", LINUX_NONE, ["v4l2loopback-dkms", "sudo modprobe v4l2loopback", 'card_label="FaceDeck"']),
        ("win32", WINDOWS_NONE, ["OBS Studio 26", "virtual camera once"]),
        ("darwin", MACOS_NONE, ["OBS Studio", "Start Virtual Camera", "System Settings"]),
    ],
)
def test_no_device_says_what_to_install_for_the_system(
    platform: str, reason: str, expected: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="facedeck.core.live.virtual_camera")
    sink = VirtualCameraSink(camera_factory=Factory(reason), platform=platform)
    with pytest.raises(LiveError) as caught:
        sink.start(INFO)
    message = str(caught.value)
    assert message.startswith("no virtual camera device found; ") and "\n" not in message
    for words in expected:
        assert words in message
    assert reason.splitlines()[0] in caplog.text  # pyvirtualcam's own reason stays in the debug log
    assert sink.device is None


def test_the_platform_defaults_to_this_system(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    with pytest.raises(LiveError, match="OBS Studio"):
        VirtualCameraSink(camera_factory=Factory(WINDOWS_NONE)).start(INFO)


def test_other_device_errors_are_one_sentence() -> None:
    missing = device_error(
        "'v4l2loopback' backend: Device /dev/video9 does not exist.", "/dev/video9", "linux"
    )
    assert str(missing).startswith("the virtual camera /dev/video9 does not exist; install and load")
    denied = device_error(
        "'v4l2loopback' backend: Could not access /dev/video2 due to missing permissions. "
        "Did you add your user to the 'video' group?",
        "/dev/video2",
        "linux",
    )
    assert "permission denied" in str(denied) and "video group" in str(denied)
    busy = device_error("'obs' backend: Multiple cameras are not supported by this backend.", None, "darwin")
    assert "already in use" in str(busy)
    other = device_error("'obs' backend: Couldn't start stream", None, "darwin")
    assert str(other) == "cannot start the virtual camera ('obs' backend: Couldn't start stream)"


def test_a_device_that_stops_taking_frames_is_a_live_error() -> None:
    class Unplugged(FakeCamera):
        def send(self, frame: np.ndarray) -> None:
            raise RuntimeError("Stream does not exist.")

    sink = VirtualCameraSink(camera_factory=lambda w, h, fps, **kw: Unplugged(w, h, fps, **kw))
    sink.start(INFO)
    with pytest.raises(LiveError, match=r"stopped taking frames \(Stream does not exist\.\)"):
        sink.write(live_frame(0))
    sink.abort()


def test_without_pyvirtualcam_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes any import of it fail, as when the extra is not installed
    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)
    monkeypatch.setitem(sys.modules, "pyvirtualcam.camera", None)
    with pytest.raises(LiveError) as caught:
        VirtualCameraSink().start(INFO)
    assert str(caught.value) == 'the virtual camera needs pyvirtualcam: pip install "facedeck[virtualcam]"'


def test_the_module_does_not_import_pyvirtualcam() -> None:
    code = (
        "import sys, facedeck.core.live.virtual_camera as v; "
        "v.VirtualCameraSink(); print('pyvirtualcam' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


def test_an_unknown_backend_is_named() -> None:
    pytest.importorskip("pyvirtualcam")
    with pytest.raises(LiveError, match="unknown virtual camera backend nosuch; available: "):
        VirtualCameraSink(backend="nosuch").start(INFO)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the v4l2loopback message is Linux's")
def test_real_pyvirtualcam_without_a_device_gives_the_linux_advice(caplog: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("pyvirtualcam")
    caplog.set_level(logging.DEBUG, logger="facedeck.core.live.virtual_camera")
    sink = VirtualCameraSink()
    try:
        sink.start(INFO)
    except LiveError as error:
        message = str(error)
    else:
        sink.stop()
        pytest.skip(f"this machine has a virtual camera ({sink.device})")
    assert message == (
        "no virtual camera device found; install and load v4l2loopback: sudo apt install "
        'v4l2loopback-dkms, then sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label="FaceDeck"'
    )
    assert "No v4l2 loopback device found" in caplog.text


def test_a_missing_named_device_with_real_pyvirtualcam(tmp_path: Path) -> None:
    pytest.importorskip("pyvirtualcam")
    if not sys.platform.startswith("linux"):
        pytest.skip("device files are Linux's")
    device = str(tmp_path / "video99")  # a path that is certainly not there
    with pytest.raises(LiveError, match=f"the virtual camera {device} does not exist; install and load"):
        VirtualCameraSink(device=device).start(INFO)
