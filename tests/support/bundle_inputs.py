"""The bundle smoke test's inputs: stand-in models, a source and a target photo, a short clip.

scripts/smoke_bundle.py runs this in the build's virtual environment with the source tree as
the working directory (``python -m tests.support.bundle_inputs FOLDER``); the bundle itself
then runs with nothing of the source tree on its path. The models are written untrusted: the
bundle imports them itself (``models import ID FILE --trust``), as a user would.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

from tests.support.media_fixtures import make_clip
from tests.support.models.drawing import KEY_COLORS, draw_square_face
from tests.support.models.model_set import build_model_set

RED, YELLOW = KEY_COLORS[2], KEY_COLORS[3]
CLIP_FRAMES = 12
# where the target's face is, and a pixel inside it that a swap changes
TARGET_FACE = (40, 60, 160)
PROBE = (140, 120)  # (row, column)


def write_photo(path: Path, color: tuple[int, int, int], x0: int, y0: int, side: int) -> Path:
    frame = np.full((360, 480, 3), 128, np.uint8)
    draw_square_face(frame, color, x0, y0, side)
    if not cv2.imwrite(str(path), frame):
        raise OSError(f"cannot write {path}")
    return path


def write_inputs(folder: Path) -> dict[str, object]:
    """Write every input into ``folder``; return their paths (and what to check) as JSON data."""
    folder.mkdir(parents=True, exist_ok=True)
    models = build_model_set(folder / "models", swapper_mode="latent_color", trust=False)

    def draw(_index: int, frame: np.ndarray) -> None:
        draw_square_face(frame, RED, 60, 40, 120)

    clip = make_clip(folder / "clip.mp4", frames=CLIP_FRAMES, size=(320, 240), audio=True, draw=draw)
    return {
        "models": {
            "det_10g": str(models.detector.path),
            "w600k_r50": str(models.recognizer.path),
            "inswapper_128": str(models.swapper.path),
        },
        "source": str(write_photo(folder / "source.png", YELLOW, 140, 80, 200)),
        "target": str(write_photo(folder / "target.png", RED, *TARGET_FACE)),
        "probe": list(PROBE),
        "clip": str(clip),
        "clip_frames": CLIP_FRAMES,
    }


if __name__ == "__main__":
    print(json.dumps(write_inputs(Path(sys.argv[1]))))
