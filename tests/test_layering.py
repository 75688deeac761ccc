"""The layering rules of DESIGN.md section 2, checked two ways."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Runs a snippet with PySide6 (and shiboken6) made unimportable, then reports any Qt
# module that got imported anyway.
BLOCK_QT = textwrap.dedent(
    """
    import importlib.abc, sys

    class BlockQt(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("PySide6", "shiboken6", "PyQt5", "PyQt6"):
                raise ImportError(f"{name} is blocked by the layering test")
            return None

    sys.meta_path.insert(0, BlockQt())
    """
)


def run_without_qt(code: str, cwd: Path) -> subprocess.CompletedProcess:
    script = BLOCK_QT + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_import_linter_contracts_hold():
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is part of the dev extra"
    # By default lint-imports caches its graph in .import_linter_cache/ under the current
    # folder; a test run must not leave files in the repository. Start without one so the
    # check below sees what this run wrote.
    cache = REPO / ".import_linter_cache"
    shutil.rmtree(cache, ignore_errors=True)
    result = subprocess.run(
        [lint_imports, "--no-cache", str(REPO / "pyproject.toml")],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    assert not cache.exists(), "lint-imports wrote its cache into the repository"


def test_core_and_headless_modules_import_without_qt(tmp_path):
    code = """
    import importlib, pkgutil, sys
    import facedeck.core, facedeck.remote, facedeck.desktop.headless
    names = []
    for package in (facedeck.core, facedeck.remote, facedeck.desktop.headless):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(info.name)
            names.append(info.name)
    import facedeck.desktop.cli
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6"))
    print("imported", len(names), "leaked", leaked)
    assert not leaked, leaked
    """
    result = run_without_qt(code, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "leaked []" in result.stdout


def test_headless_doctor_runs_with_qt_blocked(tmp_path):
    code = """
    import sys
    from facedeck.desktop.cli import main
    code = main(["--headless", "doctor", "--models-dir", "."])
    leaked = [m for m in sys.modules if m.startswith("PySide6")]
    assert not leaked, leaked
    print("exit", code)
    """
    result = run_without_qt(code, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "onnxruntime" in result.stdout
    # no models in "." here: the verdict is "not ready" (exit 1), reached without Qt
    assert "NOT READY" in result.stdout
    assert "exit 1" in result.stdout


def test_blocker_really_blocks_qt(tmp_path):
    # Guards the two tests above: if the blocker stopped working they would prove nothing.
    pytest.importorskip("PySide6")
    result = run_without_qt("import PySide6.QtCore\n", tmp_path)
    assert result.returncode != 0
    assert "blocked by the layering test" in result.stderr


def test_every_package_directory_is_listed_in_pyproject():
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    mapping = config["tool"]["setuptools"]["package-dir"]
    on_disk = set()
    for package, directory in mapping.items():
        for init in (REPO / directory).rglob("__init__.py"):
            relative = init.parent.relative_to(REPO / directory)
            on_disk.add(".".join([package, *relative.parts]))
    assert on_disk == listed
