"""AppSettings: values survive a restart; damaged or wrong-typed values fall back to defaults."""

from __future__ import annotations

import json
import logging
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QByteArray, QSettings

from facedeck.core.faces.options import SelectionMode, SwapOptions
from facedeck.core.jobs.spec import OutputSpec, TrackerOptions
from facedeck.desktop.gui import window_settings
from facedeck.desktop.gui.options_panel import OptionsPanel
from facedeck.desktop.gui.settings import INI_NAME, AppSettings


@pytest.fixture(autouse=True)
def _app(qapp):
    """QSettings needs a Q(Core)Application for its codecs and paths."""
    return qapp


def reopened(path):
    """A fresh AppSettings on the same file, as after a restart."""
    return AppSettings(path)


def test_every_value_survives_a_restart(tmp_path):
    path = tmp_path / "window.ini"
    folder = tmp_path / "photos"
    folder.mkdir()
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"v")
    settings = AppSettings(path)
    settings.set_window_geometry(QByteArray(b"\x01\x02geometry"))
    settings.set_window_state(QByteArray(b"\x00state"))
    settings.set_splitter_state("preview", QByteArray(b"\x03split"))
    settings.set_last_folder("sources", folder / "face.png")  # a file: its folder is kept
    settings.add_recent_file(video)
    options = {
        "selection": SelectionMode.MANY,
        "mask_blur": 0.25,
        "enhance": True,
        "quality": None,
        "codec": "hevc",
    }
    settings.set_options(options)
    settings.set_provider("cpu")
    settings.set_language("zh-Hans")
    assert settings.save()

    again = reopened(path)
    assert again.window_geometry() == QByteArray(b"\x01\x02geometry")
    assert again.window_state() == QByteArray(b"\x00state")
    assert again.splitter_state("preview") == QByteArray(b"\x03split")
    assert again.last_folder("sources") == folder
    assert again.recent_files() == [video]
    assert again.options() == options
    assert again.provider() == "cpu"
    assert again.language() == "zh_CN"
    SwapOptions(**{k: v for k, v in again.options().items() if k in SwapOptions.__dataclass_fields__})
    OutputSpec(**{k: v for k, v in again.options().items() if k in OutputSpec.__dataclass_fields__})

    again.set_provider(None)
    again.set_language(None)  # back to the system's language
    assert reopened(path).provider() is None and reopened(path).language() is None


def test_defaults_when_nothing_is_stored(tmp_path):
    settings = AppSettings(tmp_path / "new.ini")
    assert settings.window_geometry() is None and settings.splitter_state("x") is None
    assert settings.last_folder("target") is None and settings.recent_files() == []
    assert settings.options() == {} and settings.provider() is None and settings.language() is None


def test_a_file_of_random_bytes_is_survived_and_replaced(tmp_path, caplog):
    path = tmp_path / "window.ini"
    path.write_bytes(os.urandom(4096) + b"\n[General\ngeometry=@ByteArray(\n\x00\xff")
    with caplog.at_level(logging.WARNING):
        settings = AppSettings(path)
        assert settings.window_geometry() is None
        assert settings.options() == {} and settings.language() is None
        assert settings.recent_files() == [] and settings.last_folder("sources") is None
    settings.set_provider("cpu")
    assert settings.save()
    assert reopened(path).provider() == "cpu"


def test_wrong_typed_values_fall_back_with_a_warning(tmp_path, caplog):
    path = tmp_path / "window.ini"
    raw = QSettings(str(path), QSettings.Format.IniFormat)
    raw.setValue("window/main/geometry", "not bytes")
    raw.setValue("splitters/preview", 42)
    raw.setValue("folders/sources", ["a", "list"])
    raw.setValue("recent/target", json.dumps({"not": "a list"}))
    raw.setValue(
        "options",
        json.dumps(
            {
                "mask_blur": 3.0,  # out of range
                "detector_size": 500,  # not a multiple of 32
                "enhance": "yes",  # not a bool
                "enhance_strength": True,  # a bool is no number
                "selection": "several",  # not a mode
                "nonsense": 1,  # no such option
                "mask_padding": 0.2,  # fine
                "quality": 90,  # fine
            }
        ),
    )
    raw.setValue("engine/provider", 7)
    raw.setValue("ui/language", "tlh")
    raw.sync()
    with caplog.at_level(logging.WARNING, logger="facedeck.desktop.gui.settings"):
        settings = AppSettings(path)
        assert settings.window_geometry() is None
        assert settings.splitter_state("preview") is None
        assert settings.last_folder("sources") is None
        assert settings.recent_files() == []
        assert settings.options() == {"mask_padding": 0.2, "quality": 90}
        assert settings.provider() is None
        assert settings.language() is None
    text = caplog.text
    for name in (
        "window/main/geometry",
        "mask_blur",
        "detector_size",
        "enhance",
        "selection",
        "nonsense",
        "tlh",
    ):
        assert name in text, name


def test_invalid_options_json_is_ignored(tmp_path, caplog):
    path = tmp_path / "window.ini"
    raw = QSettings(str(path), QSettings.Format.IniFormat)
    raw.setValue("options", "{not json")
    raw.sync()
    with caplog.at_level(logging.WARNING):
        assert AppSettings(path).options() == {}
    assert "not valid JSON" in caplog.text


def test_setters_refuse_what_no_getter_could_read(tmp_path):
    settings = AppSettings(tmp_path / "window.ini")
    with pytest.raises(KeyError):
        settings.set_options({"no_such_option": 1})
    with pytest.raises(ValueError):
        settings.set_language("tlh")


def test_recent_files_newest_first_without_duplicates_or_vanished_files(tmp_path):
    settings = AppSettings(tmp_path / "window.ini")
    files = [tmp_path / f"{index}.png" for index in range(12)]
    for path in files:
        path.write_bytes(b"x")
        settings.add_recent_file(path)
    settings.add_recent_file(files[5])
    recent = settings.recent_files()
    assert recent[0] == files[5] and len(recent) == 10 and len(set(recent)) == 10
    files[11].unlink()
    assert files[11] not in settings.recent_files()


def test_the_config_dir_override_keeps_tests_out_of_the_users_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEDECK_CONFIG_DIR", str(tmp_path / "config"))
    settings = AppSettings()
    assert settings.location == str(tmp_path / "config" / INI_NAME)
    monkeypatch.delenv("FACEDECK_CONFIG_DIR")
    native = AppSettings()
    assert native.qsettings.organizationName() == "FaceDeck"
    assert native.qsettings.applicationName() == "FaceDeck"


VIDEO_CHOICES = {
    "swapper_file": "inswapper_128_fp16.onnx",
    "detect_every": 9,
    "smoothing": False,
    "audio": False,
    "hardware": "off",
    "encoder_threads": 2,
}


def test_swapper_tracker_audio_and_encoder_survive_a_restart(tmp_path):
    path = tmp_path / "window.ini"
    AppSettings(path).set_options(VIDEO_CHOICES)
    assert AppSettings(path).save()
    again = reopened(path)
    assert again.options() == VIDEO_CHOICES
    document = window_settings.document_from(again)
    assert document.options.swapper_file == "inswapper_128_fp16.onnx"
    assert document.tracker == TrackerOptions(detect_every=9, smoothing=False)
    assert (document.output.audio, document.output.hardware) == (False, "off")


def test_bad_swapper_tracker_and_encoder_values_fall_back_with_a_warning(tmp_path, caplog):
    path = tmp_path / "window.ini"
    raw = QSettings(str(path), QSettings.Format.IniFormat)
    stored = {
        "swapper_file": "simswap_256.onnx",  # no swapper of the manifest
        "detect_every": 0,  # out of range (1 to 300)
        "smoothing": "yes",  # not a bool
        "hardware": "quantum",  # no such encoder setting
        "codec": "mpeg2",  # no codec FaceDeck offers
        "audio": False,  # fine
    }
    raw.setValue("options", json.dumps(stored))
    raw.sync()
    with caplog.at_level(logging.WARNING, logger="facedeck.desktop.gui.settings"):
        settings = AppSettings(path)
        assert settings.options() == {"audio": False}
        document = window_settings.document_from(settings)
    for name in ("swapper_file", "detect_every", "smoothing", "hardware", "codec"):
        assert f"ignoring option {name}=" in caplog.text, name
    assert "not one of auto, off, nvenc" in caplog.text
    # the defaults stand in for the dropped values; the good one is kept
    assert document.options.swapper_file is None and document.tracker == TrackerOptions()
    assert document.output.hardware == "auto" and document.output.codec == "h264"
    assert document.output.audio is False


def test_the_window_saves_the_video_choices_it_shows(make_window, gui_workspace, tmp_path, qtbot):
    window = make_window(gui_workspace["models"])
    panel = window.options_panel
    panel.swapper.setCurrentIndex(panel.swapper.findData("inswapper_128_fp16.onnx"))
    panel.video.detect_every.setValue(9)
    panel.video.smoothing.setChecked(False)
    panel.video.audio.setChecked(False)
    panel.video.hardware.setCurrentIndex(panel.video.hardware.findData("off"))
    panel.video.threads.setValue(2)
    settings = AppSettings(tmp_path / "window.ini")
    window_settings.save(window, settings)
    stored = reopened(tmp_path / "window.ini").options()
    assert {name: stored[name] for name in VIDEO_CHOICES} == VIDEO_CHOICES
    assert "start" not in stored and "end" not in stored  # a trim is one video's, not remembered
    # at the next start the panel shows them again, from the restored document
    restored = OptionsPanel(window_settings.document_from(reopened(tmp_path / "window.ini")), ["cpu"], "cpu")
    qtbot.addWidget(restored)
    assert restored.swapper.currentData() == "inswapper_128_fp16.onnx"
    video = restored.video
    assert video.detect_every.value() == 9 and video.hardware.currentData() == "off"
    assert video.threads.value() == 2
    assert not video.smoothing.isChecked() and not video.audio.isChecked()


def test_the_log_dock_and_the_preview_mode_survive_a_restart(make_window, gui_workspace, tmp_path, caplog):
    window = make_window(gui_workspace["models"])
    window.log_panel.show_panel()
    window.preview_panel.mode.setCurrentIndex(window.preview_panel.mode.findData("toggle"))
    window_settings.save(window, AppSettings(tmp_path / "window.ini"))
    again = make_window(gui_workspace["models"])
    assert not again.log_panel.isVisibleTo(again)  # a new window starts with it closed
    window_settings.restore(again, reopened(tmp_path / "window.ini"))
    assert again.log_panel.isVisibleTo(again)
    assert again.preview_panel.mode.currentData() == "toggle"
    # a layout this window did not write is ignored with a warning; the window opens as it is
    damaged = reopened(tmp_path / "window.ini")
    damaged.set_window_state(QByteArray(b"not a layout"))
    damaged.set_preview_mode("upside-down")
    fresh = make_window(gui_workspace["models"])
    with caplog.at_level(logging.WARNING):
        window_settings.restore(fresh, damaged)
    assert "stored window layout" in caplog.text
    assert not fresh.log_panel.isVisibleTo(fresh) and fresh.preview_panel.mode.currentData() == "side"
