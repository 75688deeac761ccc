"""Live mode in the window: a generated clip played as the camera, stand-in models, real
loop threads. Frames and figures reach the preview; edits while live change the next
frames; recording, the virtual camera, the end of a source and closing the window."""

from __future__ import annotations

import sys
import threading
import traceback

import av
import numpy as np
import pytest

from facedeck.core.live.file_source import FileSource
from facedeck.core.live.sources import CameraInfo
from facedeck.core.live.types import CapturedFrame, LiveError, LiveFrame
from facedeck.core.media.metadata import synthetic_text_fields
from facedeck.desktop.gui import live_workers
from facedeck.desktop.gui.live_controller import LIVE, STOPPED
from facedeck.desktop.gui.live_sink import WindowSink
from facedeck.desktop.gui.settings import AppSettings
from facedeck.desktop.gui.target_panel import CAMERA, FILE
from facedeck.desktop.gui.window_settings import document_from
from facedeck.desktop.job_document import LiveSetup
from tests.desktop.gui.test_main_window import face_colour

WAIT_MS = 15_000
FACE_SIDE = 60  # conftest's moving_face: a red face at (10 + 2 * index, 30)


def face_box(index: int) -> tuple[int, int, int, int]:
    x0 = 10 + 2 * index
    return (x0, 30, x0 + FACE_SIDE, 30 + FACE_SIDE)


def go_live(window, qtbot, clip: str, sources: list[str], *, repeat: bool = False) -> None:
    """Sources, Camera chosen, the clip as the camera, Start: until the first frame is shown."""
    window.sources_panel.add(sources)
    window.target_panel.set_kind(CAMERA)
    window.camera_panel.use_source(clip)
    window.camera_panel.repeat.setChecked(repeat)
    signals = [window.live.started, window.live.frame]
    with qtbot.waitSignals(signals, timeout=WAIT_MS, raising=False) as blocker:
        window.live_panel.start.click()
    # a start that never comes: say where every thread stood, so a rare hang can be traced
    assert blocker.signal_triggered, f"live did not start (state {window.live.state}):\n{thread_stacks()}"


def thread_stacks() -> str:
    """Every thread running Python code (QThreads included, which threading may not list)."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    return "\n".join(
        f"--- {names.get(ident, ident)}\n{''.join(traceback.format_stack(frame))}"
        for ident, frame in sys._current_frames().items()
    )


def loop_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if "live" in thread.name.lower()]


def stop_live(window, qtbot) -> None:
    window.live_panel.start.click()  # "Stop live"
    assert window.live.state == STOPPED
    assert not any(thread.isRunning() for thread in window.live.threads()[1:])
    assert not [thread for thread in loop_threads() if thread.is_alive()]


def test_the_window_sink_keeps_only_the_newest_frame(qtbot):
    sink = WindowSink()
    image = np.zeros((4, 4, 3), np.uint8)
    frames = [LiveFrame(CapturedFrame(image, i, 0.0, 0.0), image, 0, 0, 0.0) for i in range(3)]
    with qtbot.waitSignal(sink.frameWaiting):
        for frame in frames:  # the GUI takes none of them in between
            sink.write(frame)
    assert sink.take() is frames[-1] and sink.take() is None
    assert (sink.received, sink.not_shown) == (3, 2)


def test_live_shows_frames_and_figures_then_stops_cleanly(make_window, qtbot, gui_workspace):
    window = make_window(gui_workspace["models"])
    computed = window.preview.worker.computed
    go_live(window, qtbot, gui_workspace["long_clip"], [gui_workspace["source"]], repeat=True)
    assert not window.run_panel.isVisible() and window.live_panel.isVisible()
    assert not window.camera_panel.camera.isEnabled()  # the camera's settings are locked while live
    qtbot.waitUntil(lambda: window.live.shown >= 5, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.preview_panel.live_stats.text() != "", timeout=WAIT_MS)
    fps = float(window.preview_panel.live_stats.text().split()[0])
    assert fps > 0 and "ms" in window.preview_panel.live_stats.text()
    assert window.preview_panel.swapped.pixmap().size().toTuple() == (320, 240)
    assert window.preview_panel.original.has_frame()
    assert "clip" in window.live_panel.status.text() or "long" in window.live_panel.status.text()
    window.document.set_options(mouth_mask=True)  # an edit while live: no file preview runs
    qtbot.waitUntil(lambda: window.live.sessions_used >= 1, timeout=WAIT_MS)
    assert window.preview.worker.computed == computed
    stop_live(window, qtbot)
    assert window.live_panel.start.text() == "Start live" and window.camera_panel.camera.isEnabled()
    assert window.live_panel.status.text() == "Stopped"


def test_a_new_source_face_while_live_changes_the_face_within_a_few_frames(make_window, qtbot, gui_workspace):
    window = make_window(gui_workspace["models"])
    colours: list[np.ndarray] = []

    def seen(frame: LiveFrame) -> None:
        if frame.faces_swapped:
            colours.append(face_colour(frame.image, face_box(frame.captured.index)))

    window.live.frame.connect(seen)
    go_live(window, qtbot, gui_workspace["long_clip"], [gui_workspace["source"]], repeat=True)
    qtbot.waitUntil(lambda: len(colours) >= 3, timeout=WAIT_MS)
    before = colours[-1]
    window.sources_panel.add([gui_workspace["source2"]])
    window.document.remove_source(0)  # only the magenta face is the source now
    qtbot.waitUntil(lambda: window.live.sessions_used >= 1, timeout=WAIT_MS)
    count = len(colours)
    qtbot.waitUntil(lambda: len(colours) >= count + 3, timeout=WAIT_MS)
    assert np.abs(colours[-1] - before).max() > 40  # the latent_color swapper paints by identity
    stop_live(window, qtbot)


def test_recording_writes_a_marked_file_when_live_stops(make_window, qtbot, gui_workspace, tmp_path):
    window = make_window(gui_workspace["models"])
    window.document.set_live(record_folder=str(tmp_path))
    go_live(window, qtbot, gui_workspace["long_clip"], [gui_workspace["source"]], repeat=True)
    window.live_panel.record.setChecked(True)
    assert window.live.recorder is not None and "Recording to" in window.live_panel.status.text()
    shown = window.live.shown
    qtbot.waitUntil(lambda: window.live.shown >= shown + 10, timeout=WAIT_MS)
    stop_live(window, qtbot)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].name.startswith("facedeck-live-") and files[0].suffix == ".mp4"
    assert window.live_panel.status.text() == f"Recording saved: {files[0]}"
    with av.open(str(files[0])) as container:
        tags = {key.lower(): value for key, value in container.metadata.items()}
        frames = list(container.decode(video=0))
    assert len(frames) >= 5 and frames[0].width == 320
    for key, value in synthetic_text_fields().items():
        assert tags.get(key.lower()) == value
    assert window.live_panel.record.isChecked()  # the next start records again


def test_the_virtual_camera_without_a_device_says_why_and_unchecks(make_window, qtbot, gui_workspace):
    pytest.importorskip("pyvirtualcam")
    from facedeck.core.live.virtual_camera import setup_hint

    window = make_window(gui_workspace["models"])
    go_live(window, qtbot, gui_workspace["long_clip"], [gui_workspace["source"]], repeat=True)
    window.live_panel.virtual_camera.setChecked(True)  # no v4l2loopback device in here
    assert not window.live_panel.virtual_camera.isChecked()
    assert setup_hint() in window.last_error  # what to install on this system
    assert window.live.state == LIVE  # the preview goes on
    stop_live(window, qtbot)


def test_a_file_that_ends_returns_to_stopped(make_window, qtbot, gui_workspace):
    window = make_window(gui_workspace["models"])
    go_live(window, qtbot, gui_workspace["clip"], [gui_workspace["source"]])  # one second, no repeat
    qtbot.waitUntil(lambda: window.live.state == STOPPED, timeout=WAIT_MS)
    assert window.live_panel.status.text() == "Stopped: The source ended"
    assert window.live_panel.start.text() == "Start live"
    assert not any(thread.isRunning() for thread in window.live.threads()[1:])


class DyingSource(FileSource):
    """A clip that fails after a few frames, as an unplugged camera does."""

    def read(self) -> CapturedFrame | None:
        frame = super().read()
        if frame is not None and frame.index >= 5:
            raise LiveError("camera 0 was unplugged")
        return frame


def test_a_source_that_dies_shows_its_reason_and_returns_to_stopped(
    make_window, qtbot, gui_workspace, monkeypatch
):
    monkeypatch.setattr(live_workers, "open_source", lambda spec, **kw: DyingSource(spec))
    window = make_window(gui_workspace["models"])
    go_live(window, qtbot, gui_workspace["long_clip"], [gui_workspace["source"]])
    qtbot.waitUntil(lambda: window.live.state == STOPPED, timeout=WAIT_MS)
    assert "camera 0 was unplugged" in window.last_error
    assert "unplugged" in window.live_panel.status.text()
    assert window.camera_panel.camera.isEnabled()


def test_closing_the_window_while_live_joins_everything(make_window, qtbot, gui_workspace):
    window = make_window(gui_workspace["models"])
    go_live(window, qtbot, gui_workspace["long_clip"], [gui_workspace["source"]], repeat=True)
    threads = window.live.threads()
    window.close()
    assert not any(thread.isRunning() for thread in threads)
    assert not [thread for thread in loop_threads() if thread.is_alive()]


def test_switching_back_to_a_file_stops_live_and_the_preview_resumes(make_window, qtbot, gui_workspace):
    window = make_window(gui_workspace["models"])
    window.document.set_target(gui_workspace["target"])
    go_live(window, qtbot, gui_workspace["long_clip"], [gui_workspace["source"]], repeat=True)
    with qtbot.waitSignal(window.preview.previewReady, timeout=WAIT_MS):
        window.target_panel.set_kind(FILE)
    assert window.live.state == STOPPED and window.run_panel.isVisible()
    assert not [thread for thread in loop_threads() if thread.is_alive()]


def test_starting_without_a_source_or_models_gives_the_cli_message(
    make_window, qtbot, gui_workspace, tmp_path
):
    window = make_window(gui_workspace["models"])
    window.target_panel.set_kind(CAMERA)
    window.camera_panel.use_source(gui_workspace["clip"])
    window.live_panel.start.click()
    assert window.live.state == STOPPED and window.last_error == "add a source photo"
    empty = make_window(tmp_path / "no-models")
    empty.sources_panel.add([gui_workspace["source"]])
    empty.target_panel.set_kind(CAMERA)
    empty.camera_panel.use_source(gui_workspace["clip"])
    with qtbot.waitSignal(empty.live.stopped, timeout=WAIT_MS):
        empty.live_panel.start.click()
    assert "det_10g.onnx" in empty.last_error and "facedeck --headless models download" in empty.last_error
    assert empty.live_panel.start.text() == "Start live" and empty.live_panel.start.isEnabled()


def test_a_source_that_cannot_be_opened_says_so(make_window, qtbot, gui_workspace, tmp_path):
    window = make_window(gui_workspace["models"])
    window.sources_panel.add([gui_workspace["source"]])
    window.target_panel.set_kind(CAMERA)
    window.camera_panel.use_source(str(tmp_path / "nothing-here.mp4"))
    with qtbot.waitSignal(window.live.stopped, timeout=WAIT_MS):
        window.live_panel.start.click()
    assert "nothing-here.mp4" in window.last_error


def test_cameras_found_fill_the_list_and_keep_a_typed_source(make_window, qtbot, gui_workspace, monkeypatch):
    cameras = [CameraInfo(0, "HD Webcam", "/dev/video0"), CameraInfo(2, "Capture card", "/dev/video2")]
    monkeypatch.setattr(live_workers, "list_cameras", lambda: cameras)
    window = make_window(gui_workspace["models"])
    with qtbot.waitSignal(window.live.camerasFound, timeout=WAIT_MS):
        window.target_panel.set_kind(CAMERA)  # the first switch looks for cameras, off the GUI thread
    combo = window.camera_panel.camera
    assert [combo.itemText(row) for row in range(combo.count())] == [
        "HD Webcam (/dev/video0)",
        "Capture card (/dev/video2)",
    ]
    combo.setCurrentIndex(1)
    combo.activated.emit(1)
    assert window.document.live.source == "/dev/video2"
    window.camera_panel.use_source("rtsp://192.0.2.1/stream")
    with qtbot.waitSignal(window.live.camerasFound, timeout=WAIT_MS):
        window.camera_panel.refresh.click()
    assert (
        combo.currentText() == "rtsp://192.0.2.1/stream"
        and window.camera_panel.source() == combo.currentText()
    )


def test_the_camera_setup_is_remembered_and_bad_values_fall_back(tmp_path, qapp):
    settings = AppSettings(tmp_path / "window.ini")
    setup = LiveSetup(source="/dev/video2", width=1280, height=720, fps=30, mirror=True, repeat=False)
    settings.set_live_setup(setup)
    assert document_from(AppSettings(tmp_path / "window.ini")).live == setup
    settings.qsettings.setValue(
        "live/setup", '{"source": 3, "width": 1280, "height": -1, "fps": 9999, "mirror": "yes", "x": 1}'
    )
    assert document_from(settings).live == LiveSetup()
    settings.qsettings.setValue("live/setup", "not json")
    assert document_from(settings).live == LiveSetup()


def test_the_live_panels_show_the_remembered_setup(make_window, gui_workspace):
    from facedeck.desktop.gui.app import create_window
    from facedeck.desktop.job_document import JobDocument

    document = JobDocument()
    document.set_live(source="/dev/video5", width=1920, height=1080, fps=24, mirror=True)
    window = create_window(gui_workspace["models"], "cpu", document)
    try:
        panel = window.camera_panel
        assert panel.source() == "/dev/video5" and panel.resolution.currentData() == (1920, 1080)
        assert panel.fps.value() == 24 and panel.mirror.isChecked()
    finally:
        window.shutdown()
        window.deleteLater()


def test_the_start_action_starts_and_stops_live_in_camera_mode(make_window, qtbot, gui_workspace):
    window = make_window(gui_workspace["models"])
    window.sources_panel.add([gui_workspace["source"]])
    menus = window.menus
    assert menus.save_output.isEnabled()
    window.target_panel.set_kind(CAMERA)
    window.camera_panel.use_source(gui_workspace["long_clip"])
    assert menus.start.isEnabled() and not menus.save_output.isEnabled()  # no file target needed
    with qtbot.waitSignal(window.live.frame, timeout=WAIT_MS):
        menus.start.trigger()  # Ctrl+Return
    assert not window.jobs.running()
    menus.start.trigger()
    assert window.live.state == STOPPED
    window.target_panel.set_kind(FILE)
    assert not menus.start.isEnabled()  # back to the file's Start: no target yet


def test_a_recording_that_cannot_start_says_why_and_unchecks(make_window, qtbot, gui_workspace, tmp_path):
    window = make_window(gui_workspace["models"])
    window.document.set_live(record_folder=str(tmp_path / "no-such-folder"))
    go_live(window, qtbot, gui_workspace["long_clip"], [gui_workspace["source"]], repeat=True)
    window.live_panel.record.setChecked(True)
    assert not window.live_panel.record.isChecked() and window.live.recorder is None
    assert "no-such-folder" in window.last_error
    assert window.live.state == LIVE  # the preview goes on
    stop_live(window, qtbot)


def test_recordings_never_overwrite_one_another(tmp_path):
    from facedeck.desktop.gui.live_controller import recording_path

    first = recording_path(str(tmp_path))
    first.touch()
    second = recording_path(str(tmp_path))
    assert second != first and second.parent == tmp_path and not second.exists()
    assert second.name.startswith("facedeck-live-") and second.suffix == ".mp4"


def test_qtmultimedia_names_the_cameras_where_it_is_installed(monkeypatch):
    import sys
    import types

    from PySide6.QtCore import QByteArray

    from facedeck.desktop.gui.live_controller import qt_cameras

    class Device:
        def __init__(self, ident: bytes, description: str) -> None:
            self._id, self._description = ident, description

        def id(self) -> QByteArray:
            return QByteArray(self._id)

        def description(self) -> str:
            return self._description

    devices = [Device(b"/dev/video0", "HD Webcam"), Device(b"@device_pnp_\\\\?\\usb#vid", "")]
    fake = types.ModuleType("PySide6.QtMultimedia")
    fake.QMediaDevices = types.SimpleNamespace(videoInputs=lambda: devices)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", fake)
    assert qt_cameras() == [CameraInfo(0, "HD Webcam", "/dev/video0"), CameraInfo(1, "Camera 1", None)]
    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", None)  # not installed: ImportError
    assert qt_cameras() is None


def test_stop_while_starting_leaves_nothing_running(make_window, qtbot, gui_workspace):
    from PySide6.QtCore import QCoreApplication

    window = make_window(gui_workspace["models"])
    window.sources_panel.add([gui_workspace["source"]])
    window.target_panel.set_kind(CAMERA)
    window.camera_panel.use_source(gui_workspace["long_clip"])
    window.live_panel.start.click()
    assert window.live_panel.start.text() == "Stop live"
    window.live_panel.start.click()  # before the first frame: the start is undone
    assert window.live.state == STOPPED
    assert not [thread for thread in loop_threads() if thread.is_alive()]
    QCoreApplication.processEvents()  # whatever the stopped start still had queued
    assert window.live.state == STOPPED and window.live.shown == 0
    assert window.live_panel.status.text() == "Stopped"


def test_a_long_session_of_signals_does_not_abort_the_interpreter(tmp_path):
    """PySide6 6.12.0 on Python 3.11 over-releases True on every emit (pyside_refs.py): live
    mode's few emits per frame would abort the window within a minute."""
    import subprocess
    import sys

    script = tmp_path / "emits.py"
    script.write_text(
        "import sys\n"
        "from PySide6.QtCore import QCoreApplication, QObject, Signal\n"
        "from facedeck.desktop.gui.pyside_refs import pin_singletons\n"
        "app = QCoreApplication([])\n"
        "pin_singletons()\n"
        "class Sender(QObject):\n"
        "    frame = Signal(object)\n"
        "sender = Sender()\n"
        "for index in range(20_000):  # ten minutes of a 30 fps live session's frame signals\n"
        "    sender.frame.emit(index)\n"
        "print('done')\n"
    )
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "done", run.stderr[-500:]
