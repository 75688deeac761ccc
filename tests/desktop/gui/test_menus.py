"""Menus and keyboard shortcuts: each drives the control it names, enabled when that control is."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from facedeck.core.version import software_version
from facedeck.desktop.gui import menus, run_panel, sources_panel, target_panel
from tests.desktop.gui.test_main_window import WAIT_MS, load, swapped_preview

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def active(window, qtbot):
    """The window active and focused, as shortcuts need (offscreen too)."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window


def keys(action) -> list[str]:
    return [sequence.toString(QKeySequence.SequenceFormat.PortableText) for sequence in action.shortcuts()]


def test_menus_and_their_keys(make_window, gui_workspace):
    window = make_window(gui_workspace["models"])
    m = window.menus
    titles = [action.text() for action in window.menuBar().actions()]
    assert titles == ["&File", "&View", "&Help"]  # app.run adds Language before Help
    assert [action.text() for action in m.file_menu.actions() if not action.isSeparator()] == [
        "&Open target\u2026",
        "&Add source photos\u2026",
        "&Save output as\u2026",
        "S&tart",
        "&Cancel job",
        "&Models\u2026",
        "&Quit",
    ]
    assert "Ctrl+O" in keys(m.open_target)  # platforms add their own (the Open key)
    assert keys(m.add_sources) == ["Ctrl+Shift+O"]
    assert "Ctrl+Shift+S" in keys(m.save_output)
    assert keys(m.start) == ["Ctrl+Return", "Ctrl+Enter"]
    assert keys(m.cancel) == ["Esc"]
    assert "Ctrl+Q" in keys(m.quit)
    assert keys(m.log) == ["Ctrl+L"] and m.log is window.log_panel.toggleViewAction()
    assert (keys(m.previous_frame), keys(m.next_frame), keys(m.show_original)) == (["Left"], ["Right"], ["B"])
    for action in (m.previous_frame, m.next_frame, m.show_original):
        assert action.shortcutContext() == Qt.ShortcutContext.WidgetWithChildrenShortcut
        assert action in window.preview_panel.actions()  # the panel is the context, not the window


def test_ctrl_l_shows_and_hides_the_log(make_window, qtbot, gui_workspace):
    window = active(make_window(gui_workspace["models"]), qtbot)
    assert not window.log_panel.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_L, CTRL)
    assert window.log_panel.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_L, CTRL)
    assert not window.log_panel.isVisible()


def test_file_keys_open_the_panels_dialogs(make_window, qtbot, gui_workspace, monkeypatch, tmp_path):
    window = active(make_window(gui_workspace["models"]), qtbot)
    dialog = target_panel.QFileDialog
    monkeypatch.setattr(dialog, "getOpenFileName", lambda *a, **k: (gui_workspace["target"], ""))
    monkeypatch.setattr(dialog, "getOpenFileNames", lambda *a, **k: ([gui_workspace["source"]], ""))
    monkeypatch.setattr(dialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "out.png"), ""))
    assert sources_panel.QFileDialog is dialog and run_panel.QFileDialog is dialog  # one class, patched once
    qtbot.keyClick(window, Qt.Key.Key_O, CTRL)
    assert window.document.target == gui_workspace["target"]
    qtbot.keyClick(window, Qt.Key.Key_O, CTRL | SHIFT)
    assert [source.path for source in window.document.sources] == [gui_workspace["source"]]
    qtbot.keyClick(window, Qt.Key.Key_S, CTRL | SHIFT)
    assert window.document.output_path == str(tmp_path / "out.png")


def test_start_and_esc_follow_the_run_panel(make_window, qtbot, gui_workspace, tmp_path):
    window = active(make_window(gui_workspace["models"]), qtbot)
    m, panel = window.menus, window.run_panel
    assert not m.start.isEnabled() and not m.cancel.isEnabled()  # nothing to run yet
    load(window, qtbot, [gui_workspace["source"]], gui_workspace["long_clip"])
    window.document.set_output_path(str(tmp_path / "out.mp4"))
    assert m.start.isEnabled() and not m.cancel.isEnabled()
    with qtbot.assertNotEmitted(panel.cancelRequested):
        qtbot.keyClick(window, Qt.Key.Key_Escape)  # no job: Esc does nothing
    with qtbot.waitSignal(window.jobs.progress, timeout=60_000, check_params_cb=lambda p: p.done >= 1):
        qtbot.keyClick(window, Qt.Key.Key_Return, CTRL)
    assert window.jobs.running() and m.cancel.isEnabled() and not m.start.isEnabled()
    with qtbot.waitSignal(window.jobs.finished, timeout=60_000) as finished:
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert finished.args[0] is None and finished.args[1].startswith("Cancelled")
    assert m.start.isEnabled() and not m.cancel.isEnabled()


def test_quit_closes_the_window_and_keeps_the_running_job_question(make_window, gui_workspace):
    window = make_window(gui_workspace["models"])
    asked = []
    window.jobs.running = lambda: True  # as if a job ran: the question comes first
    window.confirm_stop = lambda: asked.append(True) or False
    window.menus.quit.trigger()
    assert asked == [True] and window.isVisible()
    del window.jobs.running
    window.menus.quit.trigger()
    assert not window.isVisible()


def test_models_action_opens_the_models_dialog(make_window, monkeypatch, tmp_path):
    from facedeck.desktop.gui import main_window

    window = make_window(tmp_path / "empty-models")
    opened = []
    monkeypatch.setattr(main_window.ModelsDialog, "exec", lambda dialog: opened.append(dialog.store) or 0)
    window.menus.models.trigger()
    assert opened == [window.library.store]


def test_view_modes_follow_the_preview_combo_and_b_shows_the_original(make_window, qtbot, gui_workspace):
    window = active(make_window(gui_workspace["models"]), qtbot)
    m, preview = window.menus, window.preview_panel
    assert m.side_by_side.isChecked() and not m.show_original.isEnabled()
    m.before_after.trigger()
    assert preview.mode.currentData() == "toggle" and m.before_after.isChecked()
    assert m.show_original.isEnabled() and not preview.original.isVisible() and preview.swapped.isVisible()
    qtbot.mouseClick(preview.swapped, Qt.MouseButton.LeftButton)  # a click on the picture focuses the panel
    assert QApplication.focusWidget() is preview
    qtbot.keyClick(preview, Qt.Key.Key_B)
    assert preview.show_original.isChecked() and m.show_original.isChecked()
    assert preview.original.isVisible() and not preview.swapped.isVisible()
    preview.show_original.setChecked(False)  # the checkbox and the action stay one
    assert not m.show_original.isChecked()
    preview.mode.setCurrentIndex(preview.mode.findData("side"))
    assert m.side_by_side.isChecked() and not m.show_original.isEnabled()


def test_arrows_step_the_video_in_the_preview_but_not_elsewhere(make_window, qtbot, gui_workspace):
    window = active(make_window(gui_workspace["models"]), qtbot)
    m, preview = window.menus, window.preview_panel
    assert not m.next_frame.isEnabled()  # an image or nothing: no frames to step
    load(window, qtbot, [gui_workspace["source"], gui_workspace["source2"]], gui_workspace["clip"])
    assert m.next_frame.isEnabled() and m.previous_frame.isEnabled()
    preview.slider.setFocus()  # focus inside the preview panel
    with qtbot.waitSignal(window.preview.previewReady, timeout=WAIT_MS, check_params_cb=swapped_preview) as b:
        qtbot.keyClick(preview.slider, Qt.Key.Key_Right)
    assert abs(b.args[0].time - 1 / 30) < 0.01  # one frame, not the slider's own millisecond step
    with qtbot.waitSignal(window.preview.previewReady, timeout=WAIT_MS, check_params_cb=swapped_preview) as b:
        qtbot.keyClick(preview.slider, Qt.Key.Key_Left)
    assert b.args[0].time < 1 / 60

    spin = window.options_panel.quality
    spin.setFocus()
    assert QApplication.focusWidget() is not None and spin.isAncestorOf(QApplication.focusWidget())
    value = spin.value()
    with qtbot.assertNotEmitted(preview.timeRequested):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Up)
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Right)
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Left)
    assert spin.value() == value + 1  # the spin box kept its keys

    photos = window.sources_panel.photos  # a list moves its selection with the arrows
    photos.setFocus()
    assert photos.currentRow() == 1
    with qtbot.assertNotEmitted(preview.timeRequested):
        qtbot.keyClick(photos, Qt.Key.Key_Left)
    assert photos.currentRow() == 0


def test_about_names_the_version_and_responsible_use(make_window, gui_workspace, monkeypatch):
    window = make_window(gui_workspace["models"])
    shown = []
    monkeypatch.setattr(
        menus.QMessageBox, "about", lambda parent, title, text: shown.append((parent, title, text))
    )
    window.menus.about.trigger()
    ((parent, title, text),) = shown
    assert parent is window and title == "About FaceDeck"
    assert software_version() in text and "consent" in text and "synthetic" in text


def test_menus_and_log_speak_the_chosen_language(make_window, gui_workspace, qapp):
    from facedeck.desktop.gui import i18n

    assert i18n.install_translator(qapp, "zh_CN") == "zh_CN"
    try:
        window = make_window(gui_workspace["models"])
    finally:
        i18n.install_translator(qapp, "en")
    titles = [action.text() for action in window.menuBar().actions()]
    assert titles == ["文件(&F)", "视图(&V)", "帮助(&H)"]
    assert window.log_panel.windowTitle() == "日志" and window.menus.log.text() == "日志(&L)"
    assert window.log_panel.debug.text() == "显示详细信息（调试）"
