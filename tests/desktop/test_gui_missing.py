"""``facedeck`` without ``--headless``: a one-line answer when the window cannot open.

Qt (PySide6) is the ``gui`` extra, so a headless install has none; the message must name
the extra to install, never a FaceDeck module.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# Makes PySide6 look uninstalled: the finder raises what Python raises for a missing
# package (ModuleNotFoundError with its name), unlike the layering test's plain ImportError.
HIDE_QT = textwrap.dedent(
    """
    import importlib.abc, sys

    class HideQt(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("PySide6", "shiboken6"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, HideQt())
    """
)

RUN_CLI = textwrap.dedent(
    """
    from facedeck.desktop.cli import main
    code = main(sys.argv[1:])
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6"))
    print("leaked", leaked)
    sys.exit(code)
    """
)


def facedeck(*args: str, hide_qt: bool, cwd: Path) -> subprocess.CompletedProcess:
    script = (HIDE_QT if hide_qt else "import sys\n") + RUN_CLI
    return subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def error_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("facedeck: error: ")
    # users act on extras and commands, not on FaceDeck's package layout
    assert "facedeck.desktop" not in lines[0] and "Traceback" not in result.stderr
    return lines[0]


def test_without_qt_names_the_gui_extra(tmp_path):
    result = facedeck(hide_qt=True, cwd=tmp_path)
    assert result.returncode != 0
    line = error_line(result)
    # this venv has the CPU onnxruntime: the fix keeps that extra instead of adding the GPU one
    assert 'pip install "facedeck[gui,cpu]"' in line, line
    assert "facedeck --headless" in line
    assert "leaked []" in result.stdout


def test_help_and_version_need_no_qt(tmp_path):
    version = facedeck("--version", hide_qt=True, cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("FaceDeck ")
    usage = facedeck("--help", hide_qt=True, cwd=tmp_path)
    assert usage.returncode == 0, usage.stderr
    assert "--headless" in usage.stdout and not usage.stderr


def test_with_qt_says_the_window_is_not_built_yet(tmp_path):
    pytest.importorskip("PySide6")
    from facedeck.desktop import cli

    if cli.importlib.util.find_spec("facedeck.desktop.gui") is not None:
        pytest.skip("the window is built: this message no longer applies")
    result = facedeck(hide_qt=False, cwd=tmp_path)
    assert result.returncode == 2
    line = error_line(result)
    assert "not built yet" in line and "facedeck --headless --help" in line
    assert "pip install" not in line  # Qt is there: nothing to install


def test_install_command_follows_the_installed_runtime(monkeypatch):
    from importlib import metadata

    from facedeck.desktop import cli

    def only(installed: str):
        def distribution(name: str):
            if name != installed:
                raise metadata.PackageNotFoundError(name)
            return object()

        return distribution

    monkeypatch.setattr(importlib.metadata, "distribution", only("onnxruntime-gpu"))
    assert cli.gui_install_command() == 'pip install "facedeck[gui,gpu]"'
    monkeypatch.setattr(importlib.metadata, "distribution", only("onnxruntime"))
    assert cli.gui_install_command() == 'pip install "facedeck[gui,cpu]"'
    monkeypatch.setattr(importlib.metadata, "distribution", only("nothing"))
    both = cli.gui_install_command()
    assert '"facedeck[gui,gpu]"' in both and '"facedeck[gui,cpu]"' in both
