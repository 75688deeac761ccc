"""Save a screenshot of the real main window with a swapped preview.

    xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb \
        python scripts/screenshot.py [resources/screenshots/main-window.png]

Run from the repository root, on a virtual X screen (Debian: xvfb, libxcb-cursor0) so the
window is drawn by the real xcb platform with its fonts and style; without Xvfb,
QT_QPA_PLATFORM=offscreen gives the same picture in Qt's offscreen style.

It uses the stand-in models of the test suite (no weights are downloaded): the "faces" are
key-colour squares the stand-in detector finds, and the stand-in swapper paints each
swapped face in a colour taken from its source identity.
Everything else is the application itself: the window, its workers and the engine.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.support: the stand-in models
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# the stand-ins are trusted through the store's own API: into a throw-away settings folder
os.environ["FACEDECK_CONFIG_DIR"] = tempfile.mkdtemp(prefix="facedeck-shot-")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from facedeck.desktop.gui.app import create_window  # noqa: E402
from tests.support.models.drawing import KEY_COLORS, draw_square_face  # noqa: E402
from tests.support.models.model_set import build_model_set  # noqa: E402

BLUE, GREEN, RED, YELLOW, MAGENTA, CYAN = KEY_COLORS
log = logging.getLogger("screenshot")


def scene(path: Path, faces, size=(960, 540)) -> str:
    """A soft gradient 'room' with key-colour faces on it."""
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    frame = np.stack(
        [90 + 60 * xs / width, 110 + 40 * ys / height, 140 + 50 * (1 - xs / width)], axis=-1
    ).astype(np.uint8)
    for color, x0, y0, side in faces:
        cv2.rectangle(frame, (x0 - 20, y0 + side), (x0 + side + 20, height), (70, 70, 90), -1)  # shoulders
        draw_square_face(frame, color, x0, y0, side)
    assert cv2.imwrite(str(path), frame)
    return str(path)


def wait_for(app: QApplication, condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not show a swapped preview in time")
        app.processEvents()
        time.sleep(0.01)


def main(argv: list[str]) -> int:
    output = Path(argv[0]) if argv else REPO / "resources" / "screenshots" / "main-window.png"
    work = Path(tempfile.mkdtemp(prefix="facedeck-shot-"))
    models = build_model_set(work / "models", swapper_mode="latent_color", with_restorer=False)
    source = scene(work / "alice.png", [(YELLOW, 360, 140, 240)], size=(960, 720))
    source2 = scene(work / "bob.png", [(MAGENTA, 330, 160, 260)], size=(960, 720))
    target = scene(work / "street.png", [(RED, 180, 150, 200), (GREEN, 620, 200, 150)])
    app = QApplication.instance() or QApplication(["facedeck"])
    window = create_window(models.directory, "cpu")
    window.resize(1440, 860)
    window.show()
    window.sources_panel.add([source, source2])
    window.target_panel.open(target)
    shown = {}

    def remember(result) -> None:
        shown["last"] = result

    window.preview.previewReady.connect(remember)
    wait_for(app, lambda: "last" in shown and shown["last"].swapped is not None)
    # the mapping editor: Bob onto face 2, Alice onto face 1
    for face, source_index in ((1, 1), (0, 0)):
        window.preview_panel.faceClicked.emit(face)
        row = window.mapping_panel.source.findData(source_index)
        window.mapping_panel.source.setCurrentIndex(row)
        window.mapping_panel.source.activated.emit(row)
    serial = window.preview.serial
    wait_for(app, lambda: window.preview.serial > serial and window.preview.shown == window.preview.serial)
    for _ in range(20):
        app.processEvents()
    output.parent.mkdir(parents=True, exist_ok=True)
    ok = window.grab().save(str(output))
    window.close()
    log.warning("saved %s: %s", output, ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
