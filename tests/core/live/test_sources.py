"""Sources: a file played in real time (pacing, looping, mirror, close), network streams
from a local HTTP server, cameras through a stand-in VideoCapture, and open_source's dispatch."""

from __future__ import annotations

import functools
import http.server
import os
import sys
import threading
import time

import cv2
import numpy as np
import pytest

from facedeck.core.live import camera as camera_module
from facedeck.core.live import sources as sources_module
from facedeck.core.live import stream_source as stream_module
from facedeck.core.live.camera import CameraSource
from facedeck.core.live.capture_util import redact_url
from facedeck.core.live.file_source import FileSource
from facedeck.core.live.sources import CameraInfo, list_cameras, open_source
from facedeck.core.live.stream_source import StreamSource
from facedeck.core.live.types import LiveError
from tests.core.live.helpers import WAIT, face_clip
from tests.support.media_fixtures import make_clip

# indices no test machine has a camera at: the "no such camera" paths
NO_CAMERA = 63


def read_all(source, limit=1000):
    frames = []
    while len(frames) < limit and (frame := source.read()) is not None:
        frames.append(frame)
    return frames


# -- files


def test_a_file_plays_at_its_own_frame_rate(tmp_path):
    clip = face_clip(tmp_path / "one_second.mp4", frames=30, fps=30)
    source = FileSource(clip)
    info = source.open()
    assert (info.name, info.width, info.height, info.fps) == ("one_second.mp4", 320, 240, 30.0)
    began = time.monotonic()
    frames = read_all(source)
    took = time.monotonic() - began
    source.close()
    assert [frame.index for frame in frames] == list(range(30))
    assert [frame.time for frame in frames] == pytest.approx([index / 30 for index in range(30)], abs=1e-3)
    # The last frame is due 29/30 s after the first, so an unpaced reader (a whole clip in a
    # few ms) fails the lower bound; the upper bound only catches waiting far too long and
    # leaves a busy test machine room. A behaviour check, not a speed test.
    assert 0.7 < took < 3.0, took
    gaps = np.diff([frame.captured_at for frame in frames])
    assert (gaps >= 0).all()
    for frame in frames:
        image = frame.image
        assert image.dtype == np.uint8 and image.shape == (240, 320, 3) and image.flags.c_contiguous


def test_a_looping_file_starts_over_and_its_time_keeps_going(tmp_path):
    clip = make_clip(tmp_path / "short.mkv", frames=6, fps=30, audio=False)
    source = FileSource(clip, loop=True)
    source.open()
    frames = read_all(source, limit=15)
    source.close()
    assert [frame.index for frame in frames] == list(range(15))
    times = [frame.time for frame in frames]
    assert times == pytest.approx([index / 30 for index in range(15)], abs=1e-3)  # 6 frames = 0.2 s a pass
    assert np.array_equal(frames[6].image, frames[0].image) and np.array_equal(
        frames[13].image, frames[1].image
    )


def test_mirror_flips_left_and_right(tmp_path):
    clip = make_clip(tmp_path / "clip.mkv", frames=2, fps=30, audio=False)
    plain, mirrored = FileSource(clip), FileSource(clip, mirror=True)
    plain.open(), mirrored.open()
    first, flipped = plain.read(), mirrored.read()
    plain.close(), mirrored.close()
    assert np.array_equal(flipped.image, first.image[:, ::-1]) and flipped.image.flags.c_contiguous


def test_close_cuts_a_waiting_read_short(tmp_path):
    clip = make_clip(tmp_path / "slow.mkv", frames=3, fps=1, audio=False)  # a frame a second
    source = FileSource(clip)
    source.open()
    assert source.read() is not None
    results = []
    reader = threading.Thread(target=lambda: results.append(source.read()))
    reader.start()
    source.close()  # the next frame is due a second later: read() must give up instead
    reader.join(WAIT)
    assert results == [None]
    source.close()


def test_a_file_that_is_not_a_video_is_refused_when_opened(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("hello")
    source = open_source(str(bad))
    with pytest.raises(LiveError, match="notes.mp4"):
        source.open()
    source.close()  # after a failed open: harmless


# -- network streams


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test's output is not the place for an access log
        pass


class StallingHandler(QuietHandler):
    """Sends the first half of the file, then nothing (a dropped connection that stays open)."""

    release = threading.Event()

    def do_GET(self):
        data = (self.directory and open(os.path.join(self.directory, "clip.mkv"), "rb").read()) or b""
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.release.wait(WAIT)


@pytest.fixture
def serve(tmp_path):
    servers = []

    def start(handler=QuietHandler):
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(tmp_path))
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    StallingHandler.release.set()
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_stream_delivers_its_frames_then_ends(tmp_path, serve):
    make_clip(tmp_path / "clip.mkv", frames=10, fps=24, audio=False)
    source = open_source(serve() + "/clip.mkv")
    assert isinstance(source, StreamSource)
    info = source.open()
    assert (info.width, info.height, info.fps) == (320, 240, 24.0)
    frames = read_all(source)
    source.close(), source.close()
    assert [frame.index for frame in frames] == list(range(10))
    assert all(frame.image.flags.c_contiguous and frame.image.dtype == np.uint8 for frame in frames)
    assert (np.diff([frame.time for frame in frames]) >= 0).all()


def test_a_stream_that_stops_sending_is_a_live_error_without_credentials(tmp_path, serve, monkeypatch):
    monkeypatch.setattr(stream_module, "_READ_TIMEOUT", 0.5)
    make_clip(tmp_path / "clip.mkv", frames=60, fps=24, audio=False)
    base = serve(StallingHandler)
    url = base.replace("http://", "http://bob:hunter2@") + "/clip.mkv?token=s3cret"
    source = StreamSource(url)
    source.open()
    with pytest.raises(LiveError) as caught:
        read_all(source)
    source.close()
    message = str(caught.value)
    assert message.startswith(f"the stream {base}/clip.mkv stopped sending frames (")
    assert not any(secret in message for secret in ("bob", "hunter2", "s3cret"))


@pytest.mark.parametrize(
    "url", ["http://bob:hunter2@127.0.0.1:1/cam?token=s3cret", "rtsp://bob:hunter2@127.0.0.1:1/live"]
)
def test_an_unreachable_stream_is_named_without_its_credentials(url, caplog):
    source = open_source(url)
    with pytest.raises(LiveError, match="cannot open the stream") as caught:
        source.open()
    source.close()
    said = str(caught.value) + caplog.text + source.name
    assert "127.0.0.1:1" in str(caught.value)
    assert not any(secret in said for secret in ("bob", "hunter2", "s3cret"))


def test_redact_url_keeps_what_a_person_needs():
    assert redact_url("rtsp://admin:pw@10.0.0.5:554/h264?channel=1&token=x#y") == "rtsp://10.0.0.5:554/h264"
    assert redact_url("https://[::1]:8443/live") == "https://[::1]:8443/live"
    assert "pw" not in redact_url("rtsp://admin:pw@host:notaport/x")


# -- cameras


def test_a_camera_that_is_not_there_is_a_clear_live_error():
    for device in (NO_CAMERA, f"/dev/video{NO_CAMERA}"):
        source = CameraSource(device)
        with pytest.raises(LiveError, match=f"cannot open camera .*{NO_CAMERA}.*another application"):
            source.open()
        source.close(), source.close()


class FakeCapture:
    """Stands in for cv2.VideoCapture: a 640x480 camera at 30 fps whatever is asked, which
    gives ``frames`` pictures and then fails (unplugged)."""

    frames = 3
    made: list[FakeCapture] = []

    def __init__(self, device, backend=cv2.CAP_ANY):
        self.device, self.backend = device, backend
        self.props: dict[int, float] = {}
        self.reads = 0
        self.released = False
        FakeCapture.made.append(self)

    def isOpened(self):
        return True

    def getBackendName(self):
        return "V4L2"

    def set(self, prop, value):
        self.props[prop] = value
        return True

    def get(self, prop):
        return {cv2.CAP_PROP_FRAME_WIDTH: 640, cv2.CAP_PROP_FRAME_HEIGHT: 480, cv2.CAP_PROP_FPS: 30.0}.get(
            prop, 0.0
        )

    def read(self):
        self.reads += 1
        if self.reads > self.frames:
            return False, None
        image = np.zeros((480, 640, 3), np.uint8)
        image[:, :320] = 255  # left half white: shows a mirror
        return True, image

    def release(self):
        self.released = True


@pytest.fixture
def fake_camera(monkeypatch):
    FakeCapture.made = []
    monkeypatch.setattr(camera_module.cv2, "VideoCapture", FakeCapture)
    return FakeCapture


def test_a_camera_reports_what_it_gives_against_what_was_asked(fake_camera):
    source = CameraSource(0, width=1920, height=1080, fps=60, mirror=True)
    info = source.open()
    assert (info.width, info.height, info.fps) == (640, 480, 30.0)
    assert info.requested == "1920x1080 @ 60 fps" and info.name == "camera 0"
    (capture,) = fake_camera.made
    assert capture.props[cv2.CAP_PROP_FRAME_WIDTH] == 1920 and capture.props[cv2.CAP_PROP_FPS] == 60
    assert capture.props[cv2.CAP_PROP_BUFFERSIZE] == 1
    frames = [source.read() for _ in range(3)]
    assert [frame.index for frame in frames] == [0, 1, 2]
    assert (frames[0].image[:, 320:] == 255).all() and (frames[0].image[:, :320] == 0).all()  # mirrored
    with pytest.raises(LiveError, match="camera 0 stopped delivering frames"):
        source.read()
    source.close()
    assert capture.released


def test_a_camera_that_gives_what_was_asked_reports_no_request(fake_camera):
    source = CameraSource(1, width=640, height=480, fps=30)
    assert source.open().requested is None
    source.close()


def test_a_camera_opened_but_silent_is_refused(fake_camera, monkeypatch):
    monkeypatch.setattr(FakeCapture, "frames", 0)
    source = CameraSource(2)
    with pytest.raises(LiveError, match="camera 2 opened but sends no picture"):
        source.open()
    assert fake_camera.made[0].released


def test_close_from_another_thread_ends_reading(fake_camera):
    source = CameraSource(0)
    source.open()
    assert source.read() is not None
    source.close()
    assert source.read() is None and fake_camera.made[0].released


# -- open_source and list_cameras


def test_open_source_names_the_right_kind_of_source(tmp_path):
    clip = make_clip(tmp_path / "clip.mkv", frames=2, fps=30, audio=False)
    assert isinstance(open_source(str(clip), loop=True), FileSource)
    stream = open_source(" rtsp://user:pw@cam.local/live ")
    assert isinstance(stream, StreamSource) and stream.name == "rtsp://cam.local/live"
    camera = open_source(str(NO_CAMERA)) if sys.platform != "linux" else None
    assert camera is None or isinstance(camera, CameraSource)


@pytest.mark.skipif(sys.platform != "linux", reason="Linux names cameras by /dev/videoN")
def test_open_source_gives_a_linux_camera_its_name(tmp_path, monkeypatch):
    fake_sysfs(tmp_path / "sys", {0: ("HD Webcam", 0)})
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "video0").touch()
    monkeypatch.setattr(sources_module, "_V4L_SYSFS", tmp_path / "sys")
    monkeypatch.setattr(sources_module, "_DEV", tmp_path / "dev")
    camera = open_source("0", width=1280, height=720, fps=30, mirror=True)
    assert isinstance(camera, CameraSource) and camera.name == "camera 0 (HD Webcam)"
    assert (camera.device, camera.width, camera.height, camera.fps, camera.mirror) == (0, 1280, 720, 30, True)
    with pytest.raises(LiveError, match=r"there is no camera 1 \(cameras here: 0\)"):
        open_source("1")


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("", "no live source given"),
        ("   ", "no live source given"),
        ("-1", "cameras count from 0"),
        ("missing.mp4", "no such video file, camera index or stream URL"),
        ("ftp://user:pw@host/x.mp4", "unsupported stream type"),
    ],
)
def test_open_source_refuses_what_names_nothing_usable(spec, says):
    with pytest.raises(LiveError, match=says) as caught:
        open_source(spec)
    assert "pw" not in str(caught.value)


def test_open_source_refuses_a_folder(tmp_path):
    with pytest.raises(LiveError, match="is a folder"):
        open_source(str(tmp_path))


@pytest.mark.skipif(sys.platform != "linux", reason="Linux names cameras by /dev/videoN")
def test_a_camera_index_with_no_device_is_refused_up_front():
    with pytest.raises(LiveError, match=f"there is no camera {NO_CAMERA}"):
        open_source(str(NO_CAMERA))
    with pytest.raises(LiveError, match=f"there is no camera /dev/video{NO_CAMERA}"):
        open_source(f"/dev/video{NO_CAMERA}")


def fake_sysfs(root, nodes):
    for number, (name, index) in nodes.items():
        node = root / f"video{number}"
        node.mkdir(parents=True)
        (node / "name").write_text(name + "\n")
        if index is not None:
            (node / "index").write_text(f"{index}\n")


def test_list_cameras_reads_linux_names_and_skips_metadata_nodes(tmp_path, monkeypatch):
    fake_sysfs(tmp_path, {0: ("HD Webcam", 0), 1: ("HD Webcam", 1), 10: ("USB Cam", 0), 2: ("Old Cam", None)})
    monkeypatch.setattr(sources_module, "_V4L_SYSFS", tmp_path)
    monkeypatch.setattr(sources_module.sys, "platform", "linux")
    assert list_cameras() == [
        CameraInfo(0, "HD Webcam", "/dev/video0"),
        CameraInfo(2, "Old Cam", "/dev/video2"),
        CameraInfo(10, "USB Cam", "/dev/video10"),
    ]


def test_list_cameras_elsewhere_probes_indices_quietly(monkeypatch, fake_camera):
    monkeypatch.setattr(sources_module.sys, "platform", "win32")

    class SomeIndices(FakeCapture):
        def isOpened(self):
            return self.device in (0, 3)

    monkeypatch.setattr(sources_module.cv2, "VideoCapture", SomeIndices)
    levels = []
    real = cv2.utils.logging.setLogLevel
    monkeypatch.setattr(cv2.utils.logging, "setLogLevel", lambda level: (levels.append(level), real(level)))
    assert list_cameras(max_index=5) == [CameraInfo(0, "Camera 0"), CameraInfo(3, "Camera 3")]
    assert levels[0] == cv2.utils.logging.LOG_LEVEL_SILENT and all(
        capture.released for capture in SomeIndices.made
    )


def test_list_cameras_on_this_machine_does_not_fail():
    cameras = list_cameras()
    assert all(isinstance(camera, CameraInfo) for camera in cameras)
