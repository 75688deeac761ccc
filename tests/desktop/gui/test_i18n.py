"""Languages: the system's or the chosen one, English built in, Simplified Chinese from its .ts."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, QTranslator
from PySide6.QtWidgets import QMessageBox

from facedeck.core.models.manifest import load_manifest_file
from facedeck.core.models.store import ModelStore
from facedeck.desktop.gui import i18n
from facedeck.desktop.gui.consent import ConsentBox
from facedeck.desktop.gui.models_dialog import ModelsDialog
from tests.support.manifest_fixtures import payload, write_manifest

REPO = Path(__file__).resolve().parents[3]
TS = REPO / "resources" / "translations" / "facedeck_zh_CN.ts"
# every context is checked for untranslated strings; these must also be there (a context
# that vanished means its strings moved where no lookup finds them)
MINE = {
    "ModelsDialog",
    "ModelsTable",
    "ModelPrompts",
    "TrustBox",
    "ConsentBox",
    "LanguageMenu",
    "MainWindow",
    "OptionsPanel",
    "VideoOptions",
    "LogPanel",
    "ErrorLine",
    "WindowMenus",
    "CameraPanel",
    "LivePanel",
    "LiveController",
    "PreviewPanel",
    "TargetPanel",
    "RemoteDialog",
    "SecretField",
    "RunOnController",
}


@pytest.fixture
def app(qapp):
    yield qapp
    i18n.install_translator(qapp, "en")  # no test leaves a language behind


@pytest.fixture
def store(tmp_path):
    files = [payload("inswapper_128.onnx", 4000, 1)]
    manifest = write_manifest(tmp_path / "manifest.toml", "http://127.0.0.1:9", files, None, [])
    return ModelStore(
        tmp_path / "models", manifest=load_manifest_file(manifest), settings_dir=tmp_path / "cfg"
    )


def visible_texts(dialog: ModelsDialog) -> list[str]:
    header = [
        dialog.table.horizontalHeaderItem(column).text() for column in range(dialog.table.columnCount())
    ]
    return [
        dialog.windowTitle(),
        dialog.download_missing_button.text(),
        dialog.table.item(0, 1).text(),
        *header,
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("zh_CN", "zh_CN"), ("zh-Hans-CN", "zh_CN"), ("zh_SG", "zh_CN"), ("zh_TW", None), ("zh-Hant", None)]
    + [("en_GB", "en"), ("de_DE", None), ("", None), (None, None)],
)
def test_language_names_are_normalized(name, expected):
    assert i18n.normalize(name) == expected


def test_the_system_language_picks_the_first_one_shipped():
    assert i18n.system_language(QLocale("zh_CN")) == "zh_CN"
    assert i18n.system_language(QLocale("de_DE")) == "en"
    assert i18n.system_language(QLocale("zh_TW")) == "en"


def test_switching_to_chinese_changes_visible_strings(app, store, qtbot):
    english = ModelsDialog(store)
    qtbot.addWidget(english)
    assert visible_texts(english) == [
        "Models",
        "Download missing",
        "missing",
        "Model",
        "Status",
        "Size",
        "Licence",
        "Purpose",
    ]

    assert i18n.install_translator(app, "zh_CN") == "zh_CN"
    chinese = ModelsDialog(store)
    qtbot.addWidget(chinese)
    assert visible_texts(chinese) == [
        "模型",
        "下载缺少的模型",
        "缺失",
        "模型",
        "状态",
        "大小",
        "许可",
        "用途",
    ]
    box = ConsentBox(None)
    qtbot.addWidget(box)
    assert box.windowTitle() == "负责任地使用" and "合成" in box.text()
    assert box.agree_button.text() == "我同意"
    # Qt's own strings come from the qtbase translation in the PySide6 wheel
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"
    standard = QMessageBox(QMessageBox.Icon.NoIcon, "", "", QMessageBox.StandardButton.Cancel)
    qtbot.addWidget(standard)
    assert standard.button(QMessageBox.StandardButton.Cancel).text() == "取消"

    assert i18n.install_translator(app, "en") == "en"  # back: no translator left installed
    again = ModelsDialog(store)
    qtbot.addWidget(again)
    assert visible_texts(again)[:3] == ["Models", "Download missing", "missing"]


def test_none_follows_the_system_language(app, monkeypatch):
    monkeypatch.setattr(i18n, "system_language", lambda locale=None: "zh_CN")
    assert i18n.install_translator(app, None) == "zh_CN"
    assert QCoreApplication.translate("ModelsDialog", "Verify") == "校验"


def test_an_unknown_language_leaves_english_with_a_warning(app, caplog):
    with caplog.at_level(logging.WARNING):
        assert i18n.install_translator(app, "tlh") == "en"
    assert "tlh" in caplog.text
    assert QCoreApplication.translate("ModelsDialog", "Verify") == "Verify"


def test_a_checkout_without_qm_files_compiles_the_ts_in_memory(app, tmp_path, monkeypatch):
    shutil.copy(TS, tmp_path / TS.name)
    monkeypatch.setattr(i18n, "translations_dir", lambda: tmp_path)
    assert i18n.install_translator(app, "zh_CN") == "zh_CN"
    assert QCoreApplication.translate("ModelsDialog", "Verify") == "校验"
    assert sorted(path.name for path in tmp_path.iterdir()) == [TS.name]  # nothing written


def test_a_built_qm_is_loaded_and_a_stale_one_is_not(app, tmp_path, monkeypatch):
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import build_translations
    finally:
        sys.path.remove(str(REPO / "scripts"))
    assert build_translations.main(["--output-dir", str(tmp_path)]) == 0
    (built,) = sorted(tmp_path.glob("*.qm"))
    assert built.name == "facedeck_zh_CN.qm" and QTranslator().load(str(built))

    # a .qm that says otherwise than its newer .ts is not used: the .ts wins
    (tmp_path / TS.name).write_text(
        TS.read_text(encoding="utf-8").replace(
            "<translation>校验</translation>", "<translation>核对</translation>"
        ),
        encoding="utf-8",
    )
    os.utime(built, (1, 1))
    monkeypatch.setattr(i18n, "translations_dir", lambda: tmp_path)
    i18n.install_translator(app, "zh_CN")
    assert QCoreApplication.translate("ModelsDialog", "Verify") == "核对"
    os.utime(built, None)  # now the .qm is the newer: it is loaded as it is
    i18n.install_translator(app, "zh_CN")
    assert QCoreApplication.translate("ModelsDialog", "Verify") == "校验"


def test_a_broken_ts_leaves_english(app, tmp_path, monkeypatch, caplog):
    (tmp_path / TS.name).write_text("<TS><context>", encoding="utf-8")
    monkeypatch.setattr(i18n, "translations_dir", lambda: tmp_path)
    with caplog.at_level(logging.WARNING):
        assert i18n.install_translator(app, "zh_CN") == "en"
    assert "简体中文" in caplog.text


def test_the_dialogs_strings_are_all_translated():
    unfinished = []
    contexts = list(ET.parse(TS).getroot().iter("context"))
    # a string lupdate could not place (a translate() wrapper) is never looked up at run time
    assert [context.findtext("name") for context in contexts if not context.findtext("name")] == []
    assert MINE <= {context.findtext("name") for context in contexts}
    for context in contexts:
        for message in context.iter("message"):
            translation = message.find("translation")
            if (
                translation is None
                or translation.get("type") in ("unfinished", "obsolete")
                or not translation.text
            ):
                unfinished.append(f"{context.findtext('name')}: {message.findtext('source')}")
    assert unfinished == []


def test_the_language_menu_stores_the_override_for_the_next_start(app, tmp_path, qtbot):
    from facedeck.desktop.gui.language_menu import LanguageMenu
    from facedeck.desktop.gui.settings import AppSettings

    settings = AppSettings(tmp_path / "window.ini")
    menu = LanguageMenu(settings)
    qtbot.addWidget(menu)
    assert menu.choices[""].isChecked()  # nothing stored: the system's language
    assert [action.text() for action in menu.actions() if not action.isSeparator()] == [
        "Follow the system",
        "English",
        "简体中文",
        "Applies the next time FaceDeck starts",
    ]
    with qtbot.waitSignal(menu.language_chosen) as chosen:
        menu.choices["zh_CN"].trigger()
    assert chosen.args == ["zh_CN"]
    assert AppSettings(tmp_path / "window.ini").language() == "zh_CN"

    # at the next start the stored language is installed before any widget is built
    assert i18n.install_translator(app, AppSettings(tmp_path / "window.ini").language()) == "zh_CN"
    again = LanguageMenu(AppSettings(tmp_path / "window.ini"))
    qtbot.addWidget(again)
    assert again.title() == "语言" and again.choices["zh_CN"].isChecked()
    again.choices[""].trigger()
    assert AppSettings(tmp_path / "window.ini").language() is None


def test_the_options_column_speaks_chinese(app, qtbot, tmp_path):
    from facedeck.desktop.gui.options_panel import OptionsPanel
    from facedeck.desktop.job_document import JobDocument

    assert i18n.install_translator(app, "zh_CN") == "zh_CN"
    document = JobDocument()
    document.set_target(str(tmp_path / "clip.mp4"))
    panel = OptionsPanel(document, ["cpu"], "cpu", models_dir=tmp_path)
    qtbot.addWidget(panel)
    assert panel.swapper.itemText(0) == "自动（inswapper_128）"
    assert panel.swapper.itemText(2) == "inswapper_128_fp16（缺失）"
    video = panel.video
    assert video.title() == "视频" and video.end.text() == "直到结尾"
    assert video.detect_every.suffix() == " 帧" and video.hardware.itemText(0) == "自动"
    video.start.setValue(3.0)
    video.end.setValue(1.0)
    assert video.trim_error.text() == "结束时间（1 s）必须晚于开始时间（3 s）。"


def test_job_progress_speaks_chinese(app):
    from facedeck.core.jobs.events import Progress
    from facedeck.desktop.gui.run_panel import describe_progress

    progress = Progress(stage="frames", done=120, total=300, frames_per_second=24.5, eta_seconds=7.0)
    assert describe_progress(progress)[1] == "120 / 300 frames \u00b7 24.5 fps \u00b7 7 s left"
    assert i18n.install_translator(app, "zh_CN") == "zh_CN"
    assert describe_progress(progress)[1] == "120 / 300 帧 \u00b7 24.5 帧/秒 \u00b7 剩余 7 秒"
