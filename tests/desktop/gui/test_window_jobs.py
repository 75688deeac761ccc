"""Start, progress, Cancel and closing through the window, on real clips and real threads."""

from __future__ import annotations

from pathlib import Path

import pytest

from facedeck.core.jobs.events import Progress
from facedeck.core.media.metadata import DIGITAL_SOURCE_TYPE
from facedeck.core.media.video_reader import VideoReader
from facedeck.core.media.video_types import SourceFrame
from tests.desktop.gui.test_main_window import WAIT_MS, load, swapped_preview
from tests.support.media_fixtures import decode_frames


def start(window, qtbot):
    with qtbot.waitSignal(window.jobs.started, timeout=WAIT_MS):
        window.run_panel.start.click()


def run_to_the_end(window, qtbot, output: Path) -> list[Progress]:
    """Start the document's job into ``output`` and wait until it succeeds; its progress."""
    window.document.set_output_path(str(output))
    progress: list[Progress] = []
    window.jobs.progress.connect(progress.append)
    with qtbot.waitSignal(window.jobs.finished, timeout=60_000) as finished:
        start(window, qtbot)
    result, message = finished.args
    assert result is not None, message
    return progress


def test_image_job_writes_next_to_the_target_and_shows_the_result(
    make_window, qtbot, gui_workspace, tmp_path
):
    window = make_window(gui_workspace["models"])
    target = tmp_path / "photo.png"
    target.write_bytes(Path(gui_workspace["target"]).read_bytes())
    load(window, qtbot, [gui_workspace["source"]], str(target))
    expected = tmp_path / "photo.facedeck.png"  # the CLI's default name
    assert window.run_panel.output.placeholderText() == str(expected)
    with qtbot.waitSignal(window.jobs.finished, timeout=WAIT_MS) as finished:
        start(window, qtbot)
    result, message = finished.args
    assert result is not None and result.output_path == str(expected), message
    assert expected.is_file()
    assert DIGITAL_SOURCE_TYPE.encode() in expected.read_bytes()  # marked as synthetic
    assert window.run_panel.show_folder.isEnabled() and window.run_panel.progress.value() == 100
    # the result is opened in the preview
    assert window.preview_panel.swapped.pixmap().width() == 480
    # the next default never overwrites the result
    assert window.document.default_output() == str(tmp_path / "photo.facedeck-2.png")


def test_an_output_that_is_an_input_is_refused_with_the_cli_message(
    make_window, qtbot, gui_workspace, tmp_path
):
    window = make_window(gui_workspace["models"])
    target = tmp_path / "photo.png"
    target.write_bytes(Path(gui_workspace["target"]).read_bytes())
    before = target.read_bytes()
    load(window, qtbot, [gui_workspace["source"]], str(target))
    window.document.set_output_path(str(target))
    with qtbot.waitSignal(window.jobs.finished, timeout=WAIT_MS) as finished:
        start(window, qtbot)
    result, message = finished.args
    assert result is None and "would overwrite the input" in message
    assert window.last_error == message and target.read_bytes() == before
    assert window.run_panel.start.isEnabled()  # the window stays usable


def test_video_job_reports_progress_and_finishes(make_window, qtbot, gui_workspace, tmp_path):
    window = make_window(gui_workspace["models"])
    load(window, qtbot, [gui_workspace["source"]], gui_workspace["clip"])
    assert window.preview_panel.video_bar.isVisibleTo(window)
    output = tmp_path / "out.mp4"
    progress = run_to_the_end(window, qtbot, output)
    assert len(decode_frames(output)) == 30
    assert progress and progress[-1].done == 30 and progress[-1].total == 30
    assert window.run_panel.state.text().startswith("Done")
    assert window.preview_panel.swapped.has_frame()  # the result's frame is shown


def test_cancel_leaves_no_output(make_window, qtbot, gui_workspace, tmp_path):
    window = make_window(gui_workspace["models"])
    load(window, qtbot, [gui_workspace["source"]], gui_workspace["long_clip"])
    output = tmp_path / "cancelled.mp4"
    window.document.set_output_path(str(output))
    with qtbot.waitSignal(window.jobs.progress, timeout=60_000, check_params_cb=lambda p: p.done >= 1):
        start(window, qtbot)
    assert "fps" in window.run_panel.state.text()
    with qtbot.waitSignal(window.jobs.finished, timeout=60_000) as finished:
        window.run_panel.cancel.click()
    result, message = finished.args
    assert result is None and message.startswith("Cancelled")
    assert not output.exists()
    assert list(tmp_path.iterdir()) == []  # no partial file either
    assert window.run_panel.start.isEnabled() and not window.run_panel.cancel.isEnabled()


def test_closing_during_a_job_asks_then_stops_every_thread(make_window, qtbot, gui_workspace, tmp_path):
    window = make_window(gui_workspace["models"])
    load(window, qtbot, [gui_workspace["source"]], gui_workspace["long_clip"])
    window.document.set_output_path(str(tmp_path / "closed.mp4"))
    with qtbot.waitSignal(window.jobs.progress, timeout=60_000, check_params_cb=lambda p: p.done >= 1):
        start(window, qtbot)
    asked: list[bool] = []

    def refuse() -> bool:
        asked.append(False)
        return False

    window.confirm_stop = refuse
    assert not window.close()  # "no": the window and its job stay
    assert asked == [False] and window.isVisible() and window.jobs.running()

    def agree() -> bool:
        asked.append(True)
        return True

    window.confirm_stop = agree
    threads = [window.preview.worker, window.preview.faces_worker, window.jobs.worker]
    assert window.close()
    assert asked == [False, True]
    assert not any(thread.isRunning() for thread in threads if thread is not None)
    assert list(tmp_path.iterdir()) == []


def test_a_trimmed_video_job_writes_only_that_part(make_window, qtbot, gui_workspace, tmp_path):
    window = make_window(gui_workspace["models"])
    load(window, qtbot, [gui_workspace["source"]], gui_workspace["clip"])  # 30 frames at 30 fps
    video = window.options_panel.video
    assert video.isEnabled()
    video.start.setValue(0.2)
    video.end.setValue(0.7)
    video.detect_every.setValue(2)
    assert not window.preview.timer.isActive()  # what is written changes no preview frame
    output = tmp_path / "trimmed.mp4"
    progress = run_to_the_end(window, qtbot, output)
    with VideoReader(output) as reader:
        info = reader.info
        frames = [item for item in reader.items(with_audio=False) if isinstance(item, SourceFrame)]
    assert info.duration == pytest.approx(0.5, abs=1 / 30 + 0.01)
    assert len(frames) == 15 and progress[-1].done == 15  # frames 6 to 20: 0.2 s up to 0.7 s
    assert frames[0].time == pytest.approx(0.0, abs=0.01)  # the output starts at its first kept frame


def test_a_trim_ending_before_its_start_is_refused_at_start(make_window, qtbot, gui_workspace, tmp_path):
    window = make_window(gui_workspace["models"])
    load(window, qtbot, [gui_workspace["source"]], gui_workspace["clip"])
    window.options_panel.video.start.setValue(0.6)
    window.options_panel.video.end.setValue(0.3)
    assert window.options_panel.video.trim_error.isVisible()
    window.document.set_output_path(str(tmp_path / "never.mp4"))
    with qtbot.waitSignal(window.jobs.error, timeout=WAIT_MS) as refused:
        window.run_panel.start.click()
    assert refused.args == ["trim end: 0.3 s is not after the start (0.6 s)"]
    assert window.last_error == refused.args[0]  # one line in the status bar, no traceback
    assert window.jobs.worker is None and list(tmp_path.iterdir()) == []
    # the boxes stop at the clip's length, known from the preview
    window.options_panel.video.end.setValue(9.0)
    assert window.options_panel.video.end.value() == pytest.approx(1.0, abs=0.02)
    # a trim past the video's end (a job edited elsewhere) is the job's to find, as for the
    # CLI: its message, no output
    window.document.set_trim(5.0, 9.0)
    with qtbot.waitSignal(window.jobs.finished, timeout=60_000) as finished:
        start(window, qtbot)
    result, message = finished.args
    assert result is None and "past the end" in message and "1 s long" in message
    assert list(tmp_path.iterdir()) == []


def test_the_swapper_choice_recomputes_the_preview(make_window, qtbot, gui_workspace):
    window = make_window(gui_workspace["models"])  # it holds inswapper_128.onnx only
    load(window, qtbot, [gui_workspace["source"]], gui_workspace["target"])
    swapper = window.options_panel.swapper
    assert [swapper.itemData(row) for row in range(swapper.count())] == [
        "",
        "inswapper_128.onnx",
        "inswapper_128_fp16.onnx",
    ]
    with qtbot.waitSignal(window.preview.previewReady, timeout=WAIT_MS) as shown:
        swapper.setCurrentIndex(2)
    assert shown.args[0].swapped is None and "inswapper_128_fp16.onnx" in shown.args[0].error
    assert window.document.job().options.swapper_file == "inswapper_128_fp16.onnx"
    with qtbot.waitSignal(window.preview.previewReady, timeout=WAIT_MS, check_params_cb=swapped_preview):
        swapper.setCurrentIndex(1)
    assert window.document.job().options.swapper_file == "inswapper_128.onnx"
