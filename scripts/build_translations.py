"""Build the window's translations: ``.ts`` sources -> ``.qm`` files Qt loads.

    python scripts/build_translations.py           # compile resources/translations/*.ts
    python scripts/build_translations.py --update  # first collect new strings from desktop/gui

Run it before building a wheel or a bundle so the ``.qm`` files ship (pyproject's package data
for ``facedeck.resources`` takes ``translations/*.qm``). A checkout without them still shows
translations: desktop/gui/i18n.py compiles a missing or stale ``.qm`` in memory at start-up.
``--update`` runs lupdate over every desktop/gui module, keeping the translations already made
and marking new strings unfinished for a translator (Qt Linguist, or any text editor).
Needs the gui extra (PySide6-Essentials ships lupdate and lrelease).
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from pathlib import Path

from facedeck.desktop.gui.i18n import CATALOG, ENGLISH, LANGUAGES, compile_ts, qt_tool

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "desktop" / "gui"
TRANSLATIONS = ROOT / "resources" / "translations"

log = logging.getLogger("build_translations")


def update_sources(folder: Path) -> list[Path]:
    """Refresh (or create) every language's .ts from the strings in desktop/gui."""
    modules = sorted(str(path.relative_to(ROOT)) for path in SOURCES.glob("*.py"))
    written = []
    for language in LANGUAGES:
        if language == ENGLISH:  # the source language
            continue
        target = folder / f"{CATALOG}_{language}.ts"
        command = [qt_tool("lupdate"), "-silent", "-locations", "relative", "-no-obsolete", *modules]
        subprocess.run([*command, "-ts", str(target)], cwd=ROOT, check=True, timeout=120)
        written.append(target)
    return written


def compile_all(folder: Path, output: Path) -> list[Path]:
    output.mkdir(parents=True, exist_ok=True)
    built = []
    for source in sorted(folder.glob(f"{CATALOG}_*.ts")):
        target = output / f"{source.stem}.qm"
        compile_ts(source, target)
        built.append(target)
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--update", action="store_true", help="run lupdate over desktop/gui first")
    parser.add_argument("--output-dir", type=Path, default=TRANSLATIONS, help="where the .qm files go")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.update:
        for path in update_sources(TRANSLATIONS):
            log.info("updated %s", path.relative_to(ROOT))
    for path in compile_all(TRANSLATIONS, args.output_dir):
        log.info("built %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
