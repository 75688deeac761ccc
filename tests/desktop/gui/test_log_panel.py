"""The log panel, the status bar's Details button and the log file that app.run writes."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import platformdirs

from facedeck.desktop.gui import log_file, log_panel
from facedeck.desktop.gui.log_panel import PanelHandler
from tests.desktop.gui.test_app import run_once

LOGGER = logging.getLogger("facedeck")


def panel_handlers() -> list[logging.Handler]:
    return [handler for handler in LOGGER.handlers if isinstance(handler, PanelHandler)]


def file_handlers() -> list[logging.Handler]:
    return [handler for handler in LOGGER.handlers if isinstance(handler, logging.FileHandler)]


def test_a_warning_from_a_worker_thread_reaches_the_panel_on_the_gui_thread(
    make_window, qtbot, gui_workspace
):
    window = make_window(gui_workspace["models"])
    panel = window.log_panel
    assert not panel.isVisible()  # hidden until asked for
    thread = threading.Thread(
        target=lambda: logging.getLogger("facedeck.core.test").warning("from a worker: %d", 7), name="worker"
    )
    thread.start()
    thread.join()
    # queued: the widget is written by the GUI thread's event loop, not by the worker
    assert not any("from a worker" in line for line in panel.lines())
    qtbot.waitUntil(lambda: any("from a worker: 7" in line for line in panel.lines()))
    (line,) = [line for line in panel.lines() if "from a worker" in line]
    assert "WARNING facedeck.core.test" in line


def test_debug_records_show_only_when_details_are_asked_for(make_window, qtbot, gui_workspace):
    window = make_window(gui_workspace["models"])
    panel = window.log_panel
    level_before = LOGGER.level
    child = logging.getLogger("facedeck.gui.test")
    child.debug("hidden detail")
    child.info("hidden info")
    child.error("shown error")
    qtbot.waitUntil(lambda: any("shown error" in line for line in panel.lines()))
    assert not any("hidden" in line for line in panel.lines())

    panel.debug.setChecked(True)
    child.debug("a detail")
    qtbot.waitUntil(lambda: any("DEBUG facedeck.gui.test: a detail" in line for line in panel.lines()))
    panel.debug.setChecked(False)
    assert LOGGER.level == level_before  # the logger is put back as it was
    child.debug("hidden again")
    child.warning("last")
    qtbot.waitUntil(lambda: any("last" in line for line in panel.lines()))
    assert not any("hidden again" in line for line in panel.lines())

    panel.clear_button.click()
    assert panel.lines() == []


def test_the_handler_goes_when_the_window_shuts_down(make_window, gui_workspace):
    before, level_before = len(panel_handlers()), LOGGER.level
    window = make_window(gui_workspace["models"])
    assert len(panel_handlers()) == before + 1
    window.log_panel.debug.setChecked(True)  # the logger's level is put back as well
    window.close()
    assert len(panel_handlers()) == before and LOGGER.level == level_before
    window.shutdown()  # twice is harmless
    logging.getLogger("facedeck.gui.test").warning("after the window")  # no handler, no error


def test_details_next_to_the_last_error_opens_the_log(make_window, qtbot, gui_workspace):
    window = make_window(gui_workspace["models"])
    line = window.error_line
    assert not line.details.isVisible()
    window.show_error("the swapper failed\non two lines")
    assert window.error_label.text() == "the swapper failed on two lines"
    assert line.details.isVisible()
    line.details.click()
    assert window.log_panel.isVisible()
    qtbot.waitUntil(
        lambda: any("the swapper failed on two lines" in text for text in window.log_panel.lines())
    )
    line.clear()
    assert not line.details.isVisible() and window.error_label.text() == ""


def test_open_log_file_needs_a_file(make_window, gui_workspace, monkeypatch, tmp_path):
    window = make_window(gui_workspace["models"])
    panel = window.log_panel
    assert not panel.open_file_button.isEnabled()  # a window made without run(): no file
    opened = []
    monkeypatch.setattr(log_panel.QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    panel.set_log_file(tmp_path / "facedeck.log")
    panel.open_file_button.click()
    assert opened == [str(tmp_path / "facedeck.log")]


def test_run_writes_the_log_file_and_removes_its_handler(qtbot, monkeypatch, gui_workspace, tmp_path):
    monkeypatch.setenv(log_file.LOG_DIR_ENV, str(tmp_path / "logs"))
    level_before = LOGGER.level
    seen = {}

    def during(window) -> None:
        seen["file"] = window.log_panel.log_file
        seen["button"] = window.log_panel.open_file_button.isEnabled()
        logging.getLogger("facedeck.gui.test").warning("written to the file")
        logging.getLogger("facedeck.gui.test").debug("not written")

    assert run_once(monkeypatch, ["--models-dir", str(gui_workspace["models"])], during) == 0
    path = tmp_path / "logs" / "facedeck.log"
    assert seen == {"file": path, "button": True}
    text = path.read_text(encoding="utf-8")
    assert "FaceDeck" in text and "started" in text and "closed" in text
    assert "WARNING facedeck.gui.test [MainThread]: written to the file" in text
    assert "not written" not in text
    assert file_handlers() == [] and panel_handlers() == [] and LOGGER.level == level_before


def test_the_log_folder_defaults_to_the_platforms(monkeypatch, tmp_path):
    monkeypatch.delenv(log_file.LOG_DIR_ENV, raising=False)
    monkeypatch.setenv("FACEDECK_CONFIG_DIR", str(tmp_path))
    assert log_file.log_dir() == tmp_path / "logs"  # tests and portable setups stay in their folder
    monkeypatch.delenv("FACEDECK_CONFIG_DIR")
    assert log_file.log_dir() == Path(platformdirs.user_log_dir("FaceDeck", appauthor=False))


def test_a_log_folder_that_cannot_be_written_is_a_warning(
    qtbot, monkeypatch, gui_workspace, tmp_path, caplog
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    monkeypatch.setenv(log_file.LOG_DIR_ENV, str(blocker))
    seen = {}

    def during(window) -> None:
        seen["file"] = window.log_panel.log_file
        seen["button"] = window.log_panel.open_file_button.isEnabled()

    with caplog.at_level(logging.WARNING, "facedeck"):
        assert run_once(monkeypatch, ["--models-dir", str(gui_workspace["models"])], during) == 0
    assert seen == {"file": None, "button": False}
    assert f"no log file: cannot write to {blocker}" in caplog.text
    assert file_handlers() == []
