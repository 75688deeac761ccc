"""The options panel's swapper choice and video group: each widget edits the document."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from facedeck.core.errors import UsageError
from facedeck.core.jobs.spec import MAX_SECONDS, TrackerOptions, Trim
from facedeck.core.models.manifest import load_manifest
from facedeck.desktop.gui.options_panel import OptionsPanel
from facedeck.desktop.job_document import OPTIONS, OUTPUT, JobDocument


def make_panel(qtbot, document: JobDocument, active: str = "cpu", **kwargs) -> OptionsPanel:
    panel = OptionsPanel(document, [active], active, **kwargs)
    qtbot.addWidget(panel)
    return panel


def video_document(tmp_path) -> JobDocument:
    document = JobDocument()
    document.add_sources(["a.jpg"])
    document.set_target(str(tmp_path / "clip.mp4"))
    return document


def combo_items(combo) -> list[tuple[str, str]]:
    return [(combo.itemText(row), combo.itemData(row)) for row in range(combo.count())]


def test_the_swapper_combo_lists_the_manifests_swappers_with_their_files(qtbot, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "inswapper_128.onnx").write_bytes(b"stand-in")
    document = JobDocument()
    panel = make_panel(qtbot, document, models_dir=models)
    swappers = load_manifest().for_role("swapper")
    assert [spec.id for spec in swappers] == ["inswapper_128", "inswapper_128_fp16"]
    assert combo_items(panel.swapper) == [
        ("Automatic (inswapper_128)", ""),  # no swapper_file: the provider's default, named
        ("inswapper_128 (present)", "inswapper_128.onnx"),
        ("inswapper_128_fp16 (missing)", "inswapper_128_fp16.onnx"),
    ]
    assert panel.swapper.currentIndex() == 0 and document.options.swapper_file is None
    # the file arrives (the models dialog): the window asks the panel to look again
    (models / "inswapper_128_fp16.onnx").write_bytes(b"stand-in")
    panel.refresh_swappers(models)
    assert panel.swapper.itemText(2) == "inswapper_128_fp16 (present)"
    # on a GPU the default is the fp16 file (ModelLibrary.default_swapper_file)
    gpu = make_panel(qtbot, JobDocument(), active="cuda")
    assert gpu.swapper.itemText(0) == "Automatic (inswapper_128_fp16)"
    assert gpu.swapper.itemText(1) == "inswapper_128"  # where the models are is unknown: no mark
    # ... unless only the fp32 file is there: the library takes that one, and the label says so
    (models / "inswapper_128_fp16.onnx").unlink()
    gpu.refresh_swappers(models)
    assert gpu.swapper.itemText(0) == "Automatic (inswapper_128)"


def test_a_swapper_choice_reaches_the_job_and_asks_for_a_preview(qtbot, tmp_path):
    document = video_document(tmp_path)
    panel = make_panel(qtbot, document)
    changes: list[str] = []
    document.subscribe(changes.append)
    panel.swapper.setCurrentIndex(panel.swapper.findData("inswapper_128_fp16.onnx"))
    assert changes == [OPTIONS]
    assert document.job().options.swapper_file == "inswapper_128_fp16.onnx"
    panel.swapper.setCurrentIndex(0)
    assert document.job().options.swapper_file is None
    # a panel built on a document with a choice shows that choice
    document.set_options(swapper_file="inswapper_128.onnx")
    assert make_panel(qtbot, document).swapper.currentData() == "inswapper_128.onnx"


def test_the_video_widgets_edit_the_document_without_a_preview(qtbot, tmp_path):
    document = video_document(tmp_path)
    panel = make_panel(qtbot, document)
    video = panel.video
    assert video.isEnabled()
    assert video.end.text() == "to the end" and video.start.value() == 0.0
    assert video.detect_every.minimum() == 1 and video.detect_every.maximum() == 300  # the field's limits
    changes: list[str] = []
    document.subscribe(changes.append)
    video.start.setValue(1.25)
    video.end.setValue(3.5)
    video.detect_every.setValue(6)
    video.smoothing.setChecked(False)
    video.audio.setChecked(False)
    video.hardware.setCurrentIndex(video.hardware.findData("nvenc"))
    assert video.threads.text() == "automatic"
    video.threads.setValue(2)
    assert set(changes) == {OUTPUT}  # none of these shows in a preview frame
    job = document.job()
    assert job.trim == Trim(1.25, 3.5) and job.tracker == TrackerOptions(6, False)
    assert job.output.audio is False and job.output.hardware == "nvenc" and job.output.encoder_threads == 2
    video.threads.setValue(video.threads.minimum())
    assert document.job().output.encoder_threads is None  # the encoder's own choice
    assert [video.hardware.itemData(row) for row in range(video.hardware.count())] == ["auto", "off", "nvenc"]
    video.end.setValue(video.end.minimum())  # back to "to the end"
    assert document.job().trim == Trim(1.25, None)
    video.start.setValue(0.0)
    assert document.trim is None and document.job().trim is None  # the whole video: no trim


def test_an_end_before_the_start_is_shown_in_the_panel_and_refused_at_start(qtbot, tmp_path):
    document = video_document(tmp_path)
    panel = make_panel(qtbot, document)
    panel.show()
    video = panel.video
    video.start.setValue(4.0)
    video.end.setValue(2.0)
    assert video.trim_error.isVisible()
    assert video.trim_error.text() == "The end (2 s) must come after the start (4 s)."
    with pytest.raises(UsageError, match="not after the start"):
        document.job()
    video.end.setValue(5.0)
    assert not video.trim_error.isVisible() and document.job().trim == Trim(4.0, 5.0)


def test_the_video_group_is_disabled_for_an_image_and_follows_the_target(qtbot, tmp_path):
    document = JobDocument()
    document.add_sources(["a.jpg"])
    document.set_target(str(tmp_path / "photo.png"))
    panel = make_panel(qtbot, document)
    assert not panel.video.isEnabled()
    assert panel.quality.isEnabled()  # the quality applies to images too
    document.set_target(str(tmp_path / "clip.mp4"))
    assert panel.video.isEnabled()
    panel.video.start.setValue(2.0)
    panel.video.set_duration(10.0)  # the preview knows the length: the boxes stop there
    assert panel.video.end.maximum() == 10.0 and panel.video.start.maximum() == 10.0
    document.set_target(str(tmp_path / "photo.png"))
    assert not panel.video.isEnabled()
    # the old video's trim went with it, in the document and on screen
    assert document.trim is None and panel.video.start.value() == 0.0
    assert panel.video.end.maximum() == MAX_SECONDS  # the next video's length is not known yet
    assert document.job().trim is None


def test_a_duration_shorter_than_the_trim_clamps_it(qtbot, tmp_path):
    document = video_document(tmp_path)
    panel = make_panel(qtbot, document)
    panel.video.start.setValue(1.0)
    panel.video.end.setValue(30.0)
    panel.video.set_duration(12.345)
    assert panel.video.end.value() == 12.35 and document.trim == Trim(1.0, 12.35)
    panel.video.set_duration(None)
    assert panel.video.end.maximum() == MAX_SECONDS and document.trim == Trim(1.0, 12.35)
