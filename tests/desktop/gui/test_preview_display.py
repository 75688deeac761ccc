"""Frames onto the screen: channel order, the original's pixmap made once, the finished
result decoded by a worker (and dropped when a newer preview was asked for)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facedeck.desktop.gui.images import bgr_to_qimage
from facedeck.desktop.gui.preview_panel import PreviewPanel
from facedeck.desktop.preview import PreviewResult
from tests.desktop.gui.test_main_window import WAIT_MS, load


def qimage_to_bgr(image) -> np.ndarray:
    rgb = image.convertToFormat(image.Format.Format_RGB888)
    width, height = rgb.width(), rgb.height()
    rows = np.frombuffer(rgb.constBits(), np.uint8).reshape(height, rgb.bytesPerLine())
    return rows[:, : 3 * width].reshape(height, width, 3)[:, :, ::-1].copy()


def test_bgr_frames_keep_their_colours_and_need_not_be_contiguous(qapp):
    frame = np.zeros((6, 10, 3), np.uint8)
    frame[:, :5] = (255, 0, 0)  # blue on the left, in OpenCV's BGR order
    frame[:, 5:] = (0, 0, 255)  # red on the right
    image = bgr_to_qimage(frame)
    assert image.pixelColor(0, 0).getRgb()[:3] == (0, 0, 255)
    assert image.pixelColor(9, 0).getRgb()[:3] == (255, 0, 0)
    view = frame[::2, 1:9]  # a strided slice, as crops are
    assert np.array_equal(qimage_to_bgr(bgr_to_qimage(view)), view)
    frame[:] = 0  # the image owns its pixels: the array may be reused
    assert image.pixelColor(0, 0).getRgb()[:3] == (0, 0, 255)


def test_the_original_pixmap_is_made_once_per_decoded_frame(qtbot):
    panel = PreviewPanel()
    qtbot.addWidget(panel)
    frame = np.full((40, 60, 3), 90, np.uint8)
    panel.show_result(PreviewResult(1, frame, frame.copy()))
    first = panel.original.pixmap().cacheKey()
    panel.show_result(PreviewResult(2, frame, frame.copy()))  # an option changed: same frame
    assert panel.original.pixmap().cacheKey() == first
    other = np.full((40, 60, 3), 200, np.uint8)
    panel.show_result(PreviewResult(3, other, other.copy()))  # another frame is converted
    assert panel.original.pixmap().cacheKey() != first
    assert panel.original.pixmap().toImage().pixelColor(0, 0).getRgb()[:3] == (200, 200, 200)


def test_the_finished_image_is_decoded_off_the_gui_thread_and_shown(
    make_window, qtbot, gui_workspace, tmp_path
):
    window = make_window(gui_workspace["models"])
    load(window, qtbot, [gui_workspace["source"]], gui_workspace["target"])
    output = tmp_path / "out.png"
    window.document.set_output_path(str(output))
    with qtbot.waitSignal(window.preview.outputReady, timeout=WAIT_MS) as shown:
        window.run_panel.start.click()
    assert shown.args[0].path == str(output)
    on_screen = qimage_to_bgr(window.preview_panel.swapped.pixmap().toImage())
    assert np.array_equal(on_screen, cv2.imread(str(output)))


def test_a_finished_video_frame_is_shown_at_the_previewed_time(make_window, qtbot, gui_workspace, tmp_path):
    window = make_window(gui_workspace["models"])
    load(window, qtbot, [gui_workspace["source"]], gui_workspace["clip"])
    output = tmp_path / "out.mp4"
    window.document.set_output_path(str(output))
    with qtbot.waitSignal(window.preview.outputReady, timeout=60_000) as shown:
        window.run_panel.start.click()
    frame = shown.args[0]
    assert frame.path == str(output) and frame.image.shape == (240, 320, 3)
    assert Path(output).is_file()


def test_a_newer_preview_drops_the_finished_frame_still_decoding(make_window, qtbot, gui_workspace):
    window = make_window(gui_workspace["models"])
    load(window, qtbot, [gui_workspace["source"]], gui_workspace["target"])
    shown = []
    window.preview.outputReady.connect(shown.append)
    with qtbot.waitSignal(window.preview.previewReady, timeout=WAIT_MS):
        window.preview.show_output(gui_workspace["target"], False)
        window.preview.request_now()  # the user changed something: the preview wins
    qtbot.waitUntil(lambda: window.preview.outputs_dropped == 1, timeout=WAIT_MS)
    assert shown == []
