"""Type-check core/ and remote/ as the installed packages facedeck.core and facedeck.remote.

The repository keeps core/, remote/ and models/ at its root, mapped to facedeck.* only when
installed. Checked as top-level folders, remote's ``from ..core import ...`` points above
its package and mypy cannot follow it (everything remote takes from core would be Any).
So this builds a throwaway ``facedeck/`` of links to the real folders and runs mypy there,
with the project's own settings from pyproject.toml.

    python scripts/typecheck.py [extra mypy options]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "remote", "models")  # core reads models' manifest; desktop is not checked


def main(extra: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="facedeck-mypy-") as folder:
        view = Path(folder) / "facedeck"  # a namespace package, as installed
        view.mkdir()
        for name in PACKAGES:
            os.symlink(ROOT / name, view / name, target_is_directory=True)
        command = [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            "--namespace-packages",
            "--explicit-package-bases",
            "-p",
            "facedeck.core",
            "-p",
            "facedeck.remote",
            *extra,
        ]
        return subprocess.run(command, cwd=folder, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
