"""``app.run``: the window opens from the entry point, and its choices are remembered."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from shiboken6 import isValid

from facedeck.desktop.gui import app as gui_app
from facedeck.desktop.gui.main_window import MainWindow


def run_once(monkeypatch, argv, during) -> int:
    """Run the app until its window shows, call ``during(window)``, then close it."""
    monkeypatch.setattr(gui_app, "_consented", lambda window: True)
    seen = {}

    def close_soon() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not windows:
            QTimer.singleShot(20, close_soon)
            return
        seen["threads"] = [windows[0].preview.worker, windows[0].preview.faces_worker]
        try:
            during(windows[0])
        finally:  # a failed check in ``during`` fails the test instead of leaving run() waiting
            windows[0].close()

    QTimer.singleShot(0, close_soon)
    code = gui_app.run(argv)
    assert not any(isValid(thread) and thread.isRunning() for thread in seen["threads"])
    # run() deletes its window while Qt is whole, not leaving it to the garbage collector
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    return code


def test_run_opens_the_window_and_remembers_options(qtbot, monkeypatch, gui_workspace, tmp_path):
    monkeypatch.setenv("FACEDECK_CONFIG_DIR", str(tmp_path))
    models = ["--models-dir", str(gui_workspace["models"])]

    def choose(window) -> None:
        assert window.models_label.text() == "Models: ready"
        assert [action.text() for action in window.menuBar().actions()] == [
            "&File",
            "&View",
            "Language",
            "&Help",
        ]
        window.options_panel.mask_blur.setValue(0.3)
        window.options_panel.codec.setCurrentIndex(window.options_panel.codec.findData("vp9"))

    def restored(window) -> None:
        assert window.document.options.mask_blur == 0.3 and window.document.output.codec == "vp9"
        assert window.options_panel.mask_blur.value() == 0.3  # the widgets start from the document
        assert window.options_panel.codec.currentData() == "vp9"

    assert run_once(monkeypatch, models, choose) == 0
    assert run_once(monkeypatch, models, restored) == 0


def test_an_exception_in_a_slot_is_logged_and_shown(make_window, monkeypatch, gui_workspace, caplog):
    import sys

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    window = make_window(gui_workspace["models"])
    gui_app.show_uncaught_errors(window)
    try:
        raise ValueError("a bug in a slot")
    except ValueError as error:
        sys.excepthook(type(error), error, error.__traceback__)
    assert window.last_error == "internal error: ValueError: a bug in a slot"
    assert window.error_label.text() == window.last_error
    assert "uncaught error" in caplog.text
