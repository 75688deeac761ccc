"""The window's language: FaceDeck's translation and Qt's own, for a chosen or the system language.

English is the source language of every string, so it needs no file. Other languages ship as
Qt Linguist sources (``resources/translations/facedeck_<lang>.ts``); the compiled ``.qm`` next
to them is built by ``scripts/build_translations.py`` before a wheel or bundle is made. Where
it is missing or older than its ``.ts`` (a source checkout, an editable install), the ``.ts``
is compiled here with the ``lrelease`` PySide6-Essentials ships, into memory, so a checkout
never runs on stale or absent translations and nothing is written anywhere.

A language change takes effect at the next start: install_translator swaps the translators,
but widgets already built keep the text they were given (the settings say so to the user).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)

ENGLISH = "en"
# code -> the language's own name, as a language menu shows it
LANGUAGES = {ENGLISH: "English", "zh_CN": "简体中文"}
CATALOG = "facedeck"
LRELEASE_TIMEOUT = 60.0

# The installed translators: QCoreApplication does not own them, so they must stay referenced
# (a collected QTranslator silently stops translating); the next install removes them, and
# dropping the reference deletes them (they have no Qt parent that would keep them alive).
_installed: list[QTranslator] = []
# A translator loaded from memory reads the bytes in place: they must outlive it.
_buffers: list[bytes] = []


def normalize(language: str | None) -> str | None:
    """``language`` as one of LANGUAGES ("zh-Hans-CN", "zh_SG" -> "zh_CN"), or None if none fits."""
    if not language:
        return None
    parts = language.replace("-", "_").split("_")
    base = parts[0].lower()
    if base == "zh":
        # Traditional Chinese readers are better served by English than by Simplified script
        traditional = {"hant", "tw", "hk", "mo"} & {part.lower() for part in parts[1:]}
        return None if traditional else "zh_CN"
    return base if base in LANGUAGES else None


def system_language(locale: QLocale | None = None) -> str:
    """The first of the user's preferred UI languages that FaceDeck ships, else English."""
    locale = locale or QLocale.system()
    traditional = False  # Qt lists "zh-Hant-TW", then plain "zh": that "zh" is not Simplified
    for name in [*locale.uiLanguages(), locale.name()]:
        language = normalize(name)
        if language is None and name.lower().startswith("zh"):
            traditional = True
        elif language is not None and not (traditional and language == "zh_CN"):
            return language
    return ENGLISH


def translations_dir() -> Path:
    return Path(str(resources.files("facedeck.resources").joinpath("translations")))


def install_translator(app: QCoreApplication, language: str | None) -> str:
    """Translate ``app`` into ``language`` (None: the system's); return the language in use.

    An unknown language, or a translation that cannot be loaded, is logged and leaves English.
    """
    chosen = normalize(language) if language else system_language()
    if chosen is None:
        log.warning("no translation for language %r; using English", language)
        chosen = ENGLISH
    for translator in _installed:
        app.removeTranslator(translator)
    _installed.clear()
    _buffers.clear()
    if chosen == ENGLISH:
        return ENGLISH
    ours = _facedeck_translator(chosen)
    if ours is None:
        return ENGLISH
    qt_own = QTranslator()  # Qt's standard buttons and file dialogs, from the PySide6 wheel
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if qt_own.load(f"qtbase_{chosen}", qt_dir):
        _install(app, qt_own)
    else:
        log.info("no Qt translation qtbase_%s in %s", chosen, qt_dir)
    _install(app, ours)
    return chosen


def _install(app: QCoreApplication, translator: QTranslator) -> None:
    app.installTranslator(translator)
    _installed.append(translator)


def _facedeck_translator(language: str) -> QTranslator | None:
    folder = translations_dir()
    source = folder / f"{CATALOG}_{language}.ts"
    compiled = folder / f"{CATALOG}_{language}.qm"
    translator = QTranslator()
    if _is_current(compiled, source):
        if translator.load(str(compiled)):
            return translator
        log.warning("cannot load the translation %s; compiling its source", compiled)
    try:
        data = compile_in_memory(source)
    except (OSError, subprocess.SubprocessError, RuntimeError) as error:
        log.warning("no %s translation: %s", LANGUAGES[language], error)
        return None
    if not translator.load(data):
        log.warning("lrelease's output for %s is not a translation file", source)
        return None
    _buffers.append(data)
    return translator


def _is_current(compiled: Path, source: Path) -> bool:
    try:
        built = compiled.stat().st_mtime
    except OSError:
        return False
    try:
        return built >= source.stat().st_mtime
    except OSError:  # a bundle may carry the .qm alone
        return True


def qt_tool(name: str) -> str:
    """A Qt tool PySide6-Essentials ships ("lrelease", "lupdate"), or its ``pyside6-`` wrapper."""
    import PySide6  # for its folder only

    program = f"{name}.exe" if sys.platform == "win32" else name
    bundled = Path(PySide6.__file__).parent / program
    if bundled.is_file() and os.access(bundled, os.X_OK):
        return str(bundled)
    wrapper = shutil.which(f"pyside6-{name}")
    if wrapper is None:
        raise RuntimeError(f"Qt's {name} is not installed (it comes with PySide6-Essentials)")
    return wrapper


def compile_ts(source: Path, target: Path) -> None:
    """Compile a Qt Linguist source into a ``.qm`` file (RuntimeError with lrelease's words)."""
    result = subprocess.run(
        [qt_tool("lrelease"), "-silent", str(source), "-qm", str(target)],
        capture_output=True,
        text=True,
        timeout=LRELEASE_TIMEOUT,
        check=False,
    )
    if result.returncode != 0 or not target.is_file():
        words = " ".join((result.stderr or result.stdout).split()) or f"exit status {result.returncode}"
        raise RuntimeError(f"lrelease failed on {source}: {words}")


def compile_in_memory(source: Path) -> bytes:
    if not source.is_file():
        raise FileNotFoundError(f"{source} does not exist")
    with tempfile.TemporaryDirectory(prefix="facedeck-qm-") as scratch:
        target = Path(scratch) / f"{source.stem}.qm"
        compile_ts(source, target)
        return target.read_bytes()
