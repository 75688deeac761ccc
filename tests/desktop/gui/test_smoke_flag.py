"""``facedeck --smoke-test``: a real process opens the window, says so and closes by itself.

The bundle's smoke test (scripts/smoke_bundle.py) relies on exactly this; here it runs from
the install, in its own process, with the offscreen platform.
"""

from __future__ import annotations

import os
import subprocess
import sys

from facedeck.desktop.gui.app import SMOKE_TEST_LINE


def test_smoke_test_shows_the_window_and_quits_without_asking_or_saving(tmp_path):
    config = tmp_path / "config"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "FACEDECK_CONFIG_DIR": str(config),
        "FACEDECK_LOG_DIR": str(tmp_path / "logs"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "facedeck.desktop", "--smoke-test", "--models-dir", str(tmp_path / "models")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,  # a hang guard: without the flag the window would wait for a user
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert SMOKE_TEST_LINE in result.stdout.splitlines()
    # no consent question was answered and no window settings were written
    written = [
        path.name for folder in (config, tmp_path / "xdg") if folder.exists() for path in folder.rglob("*")
    ]
    assert not [name for name in written if name.endswith((".json", ".ini", ".conf"))], written
