"""``facedeck`` without ``--headless``: the QApplication and the main window.

The settings, translations and first-run consent come from their own modules
(settings.py, i18n.py, consent.py); each is optional here so the window opens while one
is missing or broken in a development tree.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import QApplication

from ...core.errors import FaceDeckError
from ...core.models.files import resolve_models_dir
from ...core.models.library import ModelLibrary
from ...core.runtime.providers import available_providers, select_provider
from ..errors import cli_message
from .main_window import MainWindow

log = logging.getLogger(__name__)


def parse_window_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="facedeck", add_help=False)
    parser.add_argument("--models-dir")
    parser.add_argument("--provider", default=None)
    # Qt's own arguments (-platform, -style) stay for QApplication
    args, _ = parser.parse_known_args(list(argv))
    return args


def create_window(models_dir: str | Path | None = None, provider: str = "auto") -> MainWindow:
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
    window = MainWindow(ModelLibrary(directory, selection), providers)
    if problem:
        window.show_error(problem)
    return window


def _settings():  # noqa: ANN202 - AppSettings, or None while settings.py is not there
    try:
        from .settings import AppSettings
    except ImportError:
        return None
    return AppSettings()


def _install_translator(app: QApplication, language: str | None) -> None:
    try:
        from .i18n import install_translator
    except ImportError:
        return
    install_translator(app, language)


def _consented(window: MainWindow) -> bool:
    try:
        from .consent import ensure_consent
    except ImportError:
        return True
    return bool(ensure_consent(window, window.library.store))


def run(argv: Sequence[str]) -> int:
    args = parse_window_arguments(argv)
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "facedeck", *argv])
    assert isinstance(app, QApplication)
    app.setApplicationName("FaceDeck")
    settings = _settings()
    _install_translator(app, settings.language() if settings is not None else None)
    provider = args.provider or (settings.provider() if settings is not None else None) or "auto"
    window = create_window(args.models_dir, provider)
    if settings is not None:
        geometry = settings.window_geometry()
        if geometry is not None:
            window.restoreGeometry(geometry)
    window.show()
    if not _consented(window):
        window.close()
        return 0
    code = app.exec()
    if settings is not None:
        settings.set_window_geometry(window.saveGeometry())
        settings.save()
    return int(code)
