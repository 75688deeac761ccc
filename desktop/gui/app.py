"""``facedeck`` without ``--headless``: the QApplication and the main window.

Settings (settings.py, window_settings.py), translations (i18n.py), the log file
(log_file.py) and the first-run consent (consent.py) are set up here, around the window.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtWidgets import QApplication

from ...core.errors import FaceDeckError
from ...core.models.files import resolve_models_dir
from ...core.models.library import ModelLibrary
from ...core.runtime.providers import available_providers, select_provider
from ..errors import cli_message
from ..job_document import JobDocument
from . import window_settings
from .i18n import install_translator
from .language_menu import LanguageMenu
from .log_file import logging_to_file
from .main_window import MainWindow

log = logging.getLogger(__name__)


def parse_window_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="facedeck", add_help=False)
    parser.add_argument("--models-dir")
    parser.add_argument("--provider", default=None)
    # the bundle's smoke test (scripts/smoke_bundle.py): open, show, say so on stdout, quit
    parser.add_argument("--smoke-test", action="store_true")
    # Qt's own arguments (-platform, -style) stay for QApplication
    args, _ = parser.parse_known_args(list(argv))
    return args


def create_window(
    models_dir: str | Path | None = None, provider: str = "auto", document: JobDocument | None = None
) -> MainWindow:
    """The main window on a fresh ModelLibrary (the one the preview and jobs share).

    A provider that is not available here falls back to ``auto``; the window says why.
    """
    directory = resolve_models_dir(models_dir, check=False)
    providers = available_providers()
    problem = None
    try:
        selection = select_provider(provider, providers)
    except FaceDeckError as error:
        problem = cli_message(error)
        selection = select_provider("auto", providers)
    window = MainWindow(ModelLibrary(directory, selection), providers, document)
    if problem:
        window.show_error(problem)
    return window


def _settings():  # noqa: ANN202 - AppSettings, or None where QSettings itself is unusable
    from .settings import AppSettings

    return AppSettings()


def _consented(window: MainWindow) -> bool:
    from .consent import ensure_consent

    return bool(ensure_consent(window, window.library.store))


def show_uncaught_errors(window: MainWindow) -> None:
    """An exception escaping a slot is logged and shown in the status bar; the window stays.

    PySide6 hands such exceptions to ``sys.excepthook``: the one boundary for them.
    """

    def hook(kind, error, trace) -> None:  # noqa: ANN001 - sys.excepthook's arguments
        log.error("uncaught error", exc_info=(kind, error, trace))
        window.show_error(f"internal error: {kind.__name__}: {error}")

    sys.excepthook = hook


SMOKE_TEST_LINE = "facedeck: smoke test: window shown"


def _smoke_test(app: QApplication, window: MainWindow) -> int:
    """Run the event loop until the window is on screen, say so, and quit.

    No consent question (nothing can be swapped before the window closes itself) and no
    settings saved: a smoke test leaves the user's settings as they were.
    """

    def shown() -> None:
        handle = window.windowHandle()
        if handle is None or not handle.isExposed():
            QTimer.singleShot(10, shown)
            return
        print(SMOKE_TEST_LINE, flush=True)
        window.close()
        app.quit()

    QTimer.singleShot(0, shown)
    return int(app.exec())


def run(argv: Sequence[str]) -> int:
    # the file handler is on for the whole session, start-up included, and gone when it ends
    with logging_to_file() as log_path:
        return _run(argv, log_path)


def _run(argv: Sequence[str], log_path: Path | None) -> int:
    args = parse_window_arguments(argv)
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "facedeck", *argv])
    assert isinstance(app, QApplication)
    app.setApplicationName("FaceDeck")
    settings = _settings()
    # the language applies at start: a change in settings takes effect after a restart
    install_translator(app, settings.language())
    provider = args.provider or settings.provider() or "auto"
    window = create_window(args.models_dir, provider, window_settings.document_from(settings))
    window_settings.restore(window, settings)
    window.log_panel.set_log_file(log_path)
    # the language stays a menu of its own, before Help: easy to find in a language one cannot read
    window.menuBar().insertMenu(window.menus.help_menu.menuAction(), LanguageMenu(settings, window))
    previous_hook = sys.excepthook
    show_uncaught_errors(window)
    try:
        window.show()
        if args.smoke_test:
            return _smoke_test(app, window)
        if not _consented(window):
            window.close()
            return 0
        code = app.exec()
        window_settings.save(window, settings)
        return int(code)
    finally:
        sys.excepthook = previous_hook
        # deleted here, while Qt is whole: left to the garbage collector, the window would
        # go at an arbitrary moment (at interpreter exit, or in the middle of other work)
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
