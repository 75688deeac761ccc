"""Save a screenshot of the remote runs' settings dialog, over the main window with Run on = RunPod.

    xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb \\
        python scripts/screenshot_remote.py [DIALOG_PNG [WINDOW_PNG]]

DIALOG_PNG defaults to resources/screenshots/remote-dialog.png; the main window is saved only
when WINDOW_PNG is given. The window is the real one on the test suite's stand-in models, as in
scripts/screenshot.py; the dialog's key is a made-up one (shown as dots), kept in an in-memory
keyring, and its "Test connection" line is the dialog's own wording of a typical answer
(no endpoint is contacted).
"""

from __future__ import annotations

import sys
from pathlib import Path

import screenshot  # scripts/screenshot.py: the scene, the stand-in models, the settings folder
from PySide6.QtWidgets import QApplication

from facedeck.desktop.gui.app import create_window
from facedeck.desktop.gui.remote_dialog import GOOD_STYLE
from facedeck.desktop.remote_check import ConnectionReport
from facedeck.desktop.remote_choice import RUNPOD, RemoteChoice
from facedeck.desktop.secret_store import RUNPOD_API_KEY, STORAGE_SECRET_KEY
from tests.support.keyrings import MemoryKeyring, installed
from tests.support.models.model_set import build_model_set

REPO = Path(__file__).resolve().parents[1]
GREEN, RED, YELLOW = screenshot.GREEN, screenshot.RED, screenshot.YELLOW


def settle(app: QApplication) -> None:
    for _ in range(20):
        app.processEvents()


def main(argv: list[str]) -> int:
    dialog_png = Path(argv[0]) if argv else REPO / "resources" / "screenshots" / "remote-dialog.png"
    window_png = Path(argv[1]) if len(argv) > 1 else None
    dialog_png.parent.mkdir(parents=True, exist_ok=True)
    work = Path(screenshot.tempfile.mkdtemp(prefix="facedeck-shot-"))
    models = build_model_set(work / "models", swapper_mode="latent_color", with_restorer=False)
    source = screenshot.scene(work / "alice.png", [(YELLOW, 360, 140, 240)], size=(960, 720))
    target = screenshot.scene(work / "street.png", [(RED, 180, 150, 200), (GREEN, 620, 200, 150)])
    app = QApplication.instance() or QApplication(["facedeck"])
    assert isinstance(app, QApplication)
    with installed(MemoryKeyring()):
        window = create_window(models.directory, "cpu")
        window.resize(1440, 860)
        window.show()
        window.sources_panel.add([source])
        window.target_panel.open(target)
        screenshot.wait_for(app, lambda: window.preview.shown > 0)
        window.secrets.set(RUNPOD_API_KEY, "rpa_EXAMPLEKEY0000000000000000000000000000")
        window.secrets.set(STORAGE_SECRET_KEY, "example-secret-access-key")
        choice = RemoteChoice(
            where=RUNPOD,
            runpod_endpoint="abc123xyz",
            segments=4,
            bucket="facedeck-media",
            storage_endpoint="https://0123456789abcdef.r2.cloudflarestorage.com",
            region="auto",
            access_key_id="a1b2c3d4e5f6",
        )
        window.run_on.set_choice(choice)
        settle(app)
        saved = window_png is None or window.grab().save(str(window_png))
        window.run_on.open_settings()
        dialog = window.run_on.dialog
        assert dialog is not None
        report = ConnectionReport(
            "RunPod endpoint abc123xyz",
            {"idle": 1, "ready": 2, "running": 1},
            {"status": "ok", "provider": "cuda", "version": "0.1.0"},
            "s3://facedeck-media/facedeck/jobs/",
        )
        dialog.say(dialog.describe(report), GOOD_STYLE)
        settle(app)
        saved = dialog.grab().save(str(dialog_png)) and saved
        dialog.reject()
        window.close()
    screenshot.log.warning("saved %s: %s", dialog_png, saved)
    return 0 if saved else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
