"""The main window with the stand-in models: previews, options, mappings, errors."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from facedeck.core.jobs.spec import FaceMapping, FaceRef, MediaRef
from tests.desktop.gui.conftest import TARGET_FACES

WAIT_MS = 15_000


def swapped_preview(result) -> bool:
    return result.swapped is not None


def load(window, qtbot, sources, target, check=swapped_preview):
    """Add sources and the target as a user does; the first matching preview."""
    with qtbot.waitSignal(window.preview.previewReady, timeout=WAIT_MS, check_params_cb=check) as blocker:
        window.sources_panel.add(list(sources))
        window.target_panel.open(target)
    return blocker.args[0]


def box_mask(shape, box, grow: float) -> np.ndarray:
    """True inside ``box`` grown by ``grow`` of its side on each edge."""
    x0, y0, x1, y1 = box
    pad = grow * (x1 - x0)
    mask = np.zeros(shape[:2], bool)
    mask[max(0, int(y0 - pad)) : int(y1 + pad) + 1, max(0, int(x0 - pad)) : int(x1 + pad) + 1] = True
    return mask


def face_colour(frame: np.ndarray, box) -> np.ndarray:
    """Mean colour of the middle of a face box (away from the feathered edge)."""
    x0, y0, x1, y1 = (int(v) for v in box)
    w, h = x1 - x0, y1 - y0
    return frame[y0 + h // 3 : y1 - h // 3, x0 + w // 3 : x1 - w // 3].reshape(-1, 3).mean(axis=0)


def test_window_opens_without_models_and_says_what_is_missing(make_window, tmp_path):
    window = make_window(tmp_path / "empty-models")
    assert window.banner.isVisible()
    note = window.models_note.text()
    for name in ("det_10g.onnx", "w600k_r50.onnx", "inswapper_128.onnx"):
        assert name in note
    assert "missing" in window.models_label.text()
    assert window.models_button.isEnabled()


def test_window_opens_with_models(make_window, gui_workspace):
    window = make_window(gui_workspace["models"])
    assert not window.banner.isVisible()
    assert window.models_label.text() == "Models: ready"
    assert "cpu" in window.provider_label.text()
    # live mode is there (test_live.py); so are remote runs (test_remote_gui.py), off by default
    kind_model = window.target_panel.kind.model()
    assert window.target_panel.kind.itemText(1) == "Camera" and kind_model.item(1).isEnabled()
    run_on = window.target_panel.run_on
    assert [run_on.itemText(row) for row in range(run_on.count())] == [
        "This computer",
        "RunPod",
        "FaceDeck server",
    ]
    assert run_on.currentText() == "This computer"


def test_missing_models_in_the_preview_give_the_cli_message(make_window, qtbot, gui_workspace, tmp_path):
    window = make_window(tmp_path / "empty-models")
    result = load(window, qtbot, [gui_workspace["source"]], gui_workspace["target"], check=lambda r: True)
    assert result.swapped is None and "det_10g.onnx" in result.error
    assert "facedeck --headless models download" in window.last_error  # the CLI's hint, word for word


def test_image_preview_changes_the_face_and_nothing_else(make_window, qtbot, gui_workspace):
    window = make_window(gui_workspace["models"])
    result = load(window, qtbot, [gui_workspace["source"]], gui_workspace["target"])
    assert result.error is None
    original, swapped = result.original, result.swapped
    assert len(result.faces) == 2
    largest = result.faces[0]
    assert abs(largest[0] - TARGET_FACES[0][1]) < 3  # faces are numbered largest first
    assert np.abs(face_colour(swapped, largest) - face_colour(original, largest)).max() > 40
    # selection "one": only the largest face; everything away from it is untouched
    outside = ~box_mask(original.shape, largest, grow=0.35)
    assert np.array_equal(swapped[outside], original[outside])
    # and the window shows it: both panes hold a picture with the faces outlined
    assert window.preview_panel.swapped.has_frame() and len(window.preview_panel.original.faces()) == 2


def test_option_change_recomputes_the_preview(make_window, qtbot, gui_workspace):
    window = make_window(gui_workspace["models"])
    first = load(window, qtbot, [gui_workspace["source"]], gui_workspace["target"])
    with qtbot.waitSignal(window.preview.previewReady, timeout=WAIT_MS, check_params_cb=swapped_preview) as b:
        window.options_panel.mask_padding.setValue(0.3)
    second = b.args[0]
    assert second.serial > first.serial
    assert window.document.options.mask_padding == pytest.approx(0.3)
    assert not np.array_equal(first.swapped, second.swapped)
    # a burst of edits is one request, made once the edits pause
    serial = window.preview.serial
    with qtbot.waitSignal(window.preview.previewReady, timeout=WAIT_MS, check_params_cb=swapped_preview):
        for value in (0.2, 0.25, 0.3, 0.35):
            window.options_panel.mask_blur.setValue(value)
    assert window.preview.serial == serial + 1


def test_stale_requests_are_dropped_and_only_the_newest_is_shown(make_window, qtbot, gui_workspace):
    window = make_window(gui_workspace["models"])
    load(window, qtbot, [gui_workspace["source"]], gui_workspace["target"])
    worker = window.preview.worker
    release = threading.Event()
    computing = threading.Event()
    compute = worker.compute
    seen: list[int] = []

    def slow_compute(request):
        seen.append(request.serial)
        computing.set()
        release.wait(10)
        return compute(request)

    worker.compute = slow_compute
    shown: list[int] = []
    window.preview.previewReady.connect(lambda result: shown.append(result.serial))
    window.preview.request_now()  # taken at once, then held in slow_compute
    assert computing.wait(5)
    for _ in range(4):  # these wait in the one-slot mailbox, each replacing the one before
        window.preview.request_now()
    newest = window.preview.serial
    release.set()
    qtbot.waitUntil(lambda: newest in shown, timeout=WAIT_MS)
    assert seen == [newest - 4, newest]  # the three in between were never computed
    assert shown == [newest]  # the held one finished after newer requests: dropped
    assert worker.dropped >= 1


def test_mapping_editor_choice_reaches_the_engine(make_window, qtbot, gui_workspace):
    window = make_window(gui_workspace["models"])
    yellow, magenta, target = gui_workspace["source"], gui_workspace["source2"], gui_workspace["target"]
    plain = load(window, qtbot, [yellow, magenta], target)
    big, small = plain.faces

    def mapped(face: int, source: int):
        with qtbot.waitSignal(
            window.preview.previewReady, timeout=WAIT_MS, check_params_cb=swapped_preview
        ) as b:
            window.preview_panel.faceClicked.emit(face)  # a click on the face
            row = window.mapping_panel.source.findData(source)
            window.mapping_panel.source.setCurrentIndex(row)
            window.mapping_panel.source.activated.emit(row)
        return b.args[0]

    mapped(0, 1)  # the largest face gets the magenta person
    result = mapped(1, 0)  # the small one the yellow person
    faces = window.document.job().faces
    # what the CLI's --map SOURCE REFERENCE builds, the reference being that face of the target
    assert faces.sources == [] and faces.mappings == [
        FaceMapping(sources=[FaceRef(MediaRef.of(magenta))], reference=FaceRef(MediaRef.of(target), face=0)),
        FaceMapping(sources=[FaceRef(MediaRef.of(yellow))], reference=FaceRef(MediaRef.of(target), face=1)),
    ]
    # the latent-colour swapper paints each face in its source's colour: who went where shows
    first_big, first_small = face_colour(result.swapped, big), face_colour(result.swapped, small)
    assert np.abs(first_big - first_small).max() > 20
    swapped_over = mapped(0, 0)
    swapped_over = mapped(1, 1)
    np.testing.assert_allclose(face_colour(swapped_over.swapped, big), first_small, atol=6)
    np.testing.assert_allclose(face_colour(swapped_over.swapped, small), first_big, atol=6)
    assert "Mappings decide" in window.mapping_panel.summary.text()
    assert not window.mapping_panel.mode.isEnabled()  # mappings decide alone, as --map does
    window.mapping_panel.distance.setValue(0.4)
    assert window.document.job().options.distance_threshold == 0.4


def test_a_source_without_a_face_shows_the_cli_message_and_the_window_stays_usable(
    make_window, qtbot, gui_workspace
):
    window = make_window(gui_workspace["models"])
    result = load(window, qtbot, [gui_workspace["blank"]], gui_workspace["target"], check=lambda r: True)
    assert result.error == "no face found in blank.png"
    assert window.error_label.text() == "no face found in blank.png"
    with qtbot.waitSignal(window.preview.previewReady, timeout=WAIT_MS, check_params_cb=swapped_preview):
        window.document.remove_source(0)
        window.sources_panel.add([gui_workspace["source"]])
    assert window.error_label.text() == ""


def test_source_faces_are_offered_as_crops(make_window, qtbot, gui_workspace):
    window = make_window(gui_workspace["models"])
    with qtbot.waitSignal(window.preview.sourceFacesReady, timeout=WAIT_MS):
        window.sources_panel.add([gui_workspace["target"]])  # a photo with two people
    qtbot.waitUntil(lambda: window.sources_panel.faces.count() == 2, timeout=WAIT_MS)
    window.sources_panel.faces.itemClicked.emit(window.sources_panel.faces.item(1))
    assert window.document.sources[0].face == 1


def test_video_slider_and_frame_steps_show_the_swap_on_that_frame(make_window, qtbot, gui_workspace):
    window = make_window(gui_workspace["models"])
    first = load(window, qtbot, [gui_workspace["source"]], gui_workspace["clip"])
    assert first.duration and first.time == 0.0
    panel = window.preview_panel
    assert panel.video_bar.isVisibleTo(window) and panel.slider.maximum() > 0
    with qtbot.waitSignal(window.preview.previewReady, timeout=WAIT_MS, check_params_cb=swapped_preview) as b:
        panel.slider.setValue(500)  # 0.5 s: frame 15, its face drawn 30 px further right
    later = b.args[0]
    assert abs(later.time - 0.5) < 0.04 and later.faces[0][0] - first.faces[0][0] > 20
    assert not np.array_equal(later.original, later.swapped)
    with qtbot.waitSignal(window.preview.previewReady, timeout=WAIT_MS, check_params_cb=swapped_preview) as b:
        panel.forward.click()
    stepped = b.args[0]
    assert abs(stepped.time - later.time - 1 / 30) < 0.01  # one frame at the clip's own rate


def test_models_button_opens_the_models_dialog_on_the_window_store(make_window, monkeypatch, tmp_path):
    from facedeck.desktop.gui import main_window

    window = make_window(tmp_path / "empty-models")
    opened = []
    monkeypatch.setattr(main_window.ModelsDialog, "exec", lambda dialog: opened.append(dialog.store) or 0)
    window.models_button.click()
    assert opened == [window.library.store]


def drop(widget, paths) -> None:
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    event = QDropEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dropEvent(event)


def test_dropped_files_become_sources_and_target(make_window, qtbot, gui_workspace):
    window = make_window(gui_workspace["models"])
    with qtbot.waitSignal(window.preview.previewReady, timeout=WAIT_MS, check_params_cb=swapped_preview):
        drop(window.sources_panel, [gui_workspace["source"], gui_workspace["source2"]])
        drop(window.target_panel, [gui_workspace["target"]])
    assert [photo.path for photo in window.document.sources] == [
        gui_workspace["source"],
        gui_workspace["source2"],
    ]
    assert window.document.target == gui_workspace["target"]
    assert window.sources_panel.photos.count() == 2
    assert window.target_panel.recent_files() == [gui_workspace["target"]]


def test_an_unavailable_provider_falls_back_and_says_why(qtbot, gui_workspace):
    from facedeck.desktop.gui.app import create_window

    window = create_window(gui_workspace["models"], "cuda")  # this onnxruntime build has only the CPU
    qtbot.addWidget(window)
    assert window.library.provider.name == "cpu"
    assert "execution provider 'cuda' is not available here" in window.last_error
    window.close()


def test_progress_reads_as_frames_fps_and_time_left():
    from facedeck.core.jobs.events import Progress
    from facedeck.desktop.gui.run_panel import describe_progress

    percent, text = describe_progress(Progress("frames", 120, 300, 24.5, 7.2))
    assert percent == 40 and text == "120 / 300 frames \u00b7 24.5 fps \u00b7 7 s left"
