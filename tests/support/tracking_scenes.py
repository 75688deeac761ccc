"""Synthetic tracking scenes for the FaceTracker tests: textured key-colour faces on a textured background.

Faces are key-colour squares with a mild texture inside (kept within the detector's colour
tolerance, so detection stays exact) on a textured background, so optical flow has
something to follow. Ground truth comes from the drawing: key_color_box / key_color_kps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facedeck.core.faces.detector import FaceDetector
from facedeck.core.faces.face import Face
from facedeck.core.faces.recognizer import FaceRecognizer
from facedeck.core.runtime.providers import select_provider
from facedeck.core.runtime.sessions import create_session
from facedeck.core.tracking.tracker import FaceTracker, TrackerSettings
from tests.support.models.drawing import KEY_COLORS
from tests.support.models.model_set import build_model_set

BLUE, RED = KEY_COLORS[0], KEY_COLORS[2]
HEIGHT, WIDTH = 480, 640  # fits the 640 detector canvas unscaled: detections are exact
SIDE = 100
FPS = 30.0


def smooth_texture(rng: np.random.Generator, height: int, width: int, cell: int) -> np.ndarray:
    """Blob texture in [0, 1]: random values on a coarse grid, upsampled with cubic interpolation."""
    rows, cols = height // cell + 2, width // cell + 2
    big = cv2.resize(rng.random((rows, cols)).astype(np.float32), (cols * cell, rows * cell), cv2.INTER_CUBIC)
    big = big[:height, :width]
    return (big - big.min()) / (big.max() - big.min())


def textured_face(color: tuple[int, int, int], seed: int, side: int = SIDE) -> np.ndarray:
    """A key-colour square whose channels move up to 14 levels inward (the detector allows ~15).

    Only channels that shift the grey value the same way as green are textured, so the
    grey image the tracker sees has as much contrast as the tolerance allows.
    """
    pattern = np.round(smooth_texture(np.random.default_rng(seed), side, side, 6) * 14.0)
    key = np.asarray(color, dtype=np.float32)
    green_up = key[1] == 0
    face = np.empty((side, side, 3), dtype=np.float32)
    for channel in range(3):
        up = key[channel] == 0
        textured = up == green_up
        face[..., channel] = (key[channel] + (pattern if up else -pattern)) if textured else key[channel]
    return face.astype(np.uint8)


# Grey-ish texture in 60..200: never within the tolerance of a key colour (0 or 255 per channel).
BACKGROUND = np.stack(
    [60 + 140 * smooth_texture(np.random.default_rng(100 + c), HEIGHT, WIDTH, 12) for c in range(3)], axis=2
).astype(np.uint8)


def compose(faces: list[tuple[np.ndarray, int, int]]) -> np.ndarray:
    """The background with each (face image, x0, y0) pasted on, later ones on top."""
    frame = BACKGROUND.copy()
    for image, x0, y0 in faces:
        side = image.shape[0]
        frame[y0 : y0 + side, x0 : x0 + side] = image
    return frame


@dataclass
class SceneModels:
    """The stand-in detector and recogniser the tracker runs with, straight on CPU sessions."""

    detector: FaceDetector
    recognizer: FaceRecognizer

    def detect(self, frame_bgr: np.ndarray) -> list[Face]:
        return self.detector.detect(frame_bgr)


def build_scene_models(directory: Path) -> SceneModels:
    """The synthetic model set (colour-key detector, mean-colour recogniser) written to ``directory``.

    Only the two models tracking needs, loaded without the swap engine, so these tests do
    not depend on how the engine assembles its models.
    """
    paths = build_model_set(directory).paths
    cpu = select_provider("cpu")
    return SceneModels(
        FaceDetector(create_session(paths["detector"], cpu), paths["detector"]),
        FaceRecognizer(create_session(paths["recognizer"], cpu), paths["recognizer"]),
    )


class Recorder:
    """detect/embed wrappers that count calls (and optionally perturb detections)."""

    def __init__(self, engine: SceneModels, perturb: Callable[[Face], None] | None = None) -> None:
        self.engine = engine
        self.perturb = perturb
        self.detect_frames: list[int] = []
        self.embed_calls: list[int] = []  # faces per call
        self.frame = -1
        self.raw_kps: list[np.ndarray] = []

    def detect(self, frame: np.ndarray) -> list[Face]:
        self.detect_frames.append(self.frame)
        faces = self.engine.detect(frame)
        for face in faces:
            if self.perturb is not None:
                self.perturb(face)
            self.raw_kps.append(face.kps.copy())
        return faces

    def embed(self, frame: np.ndarray, faces: list[Face]) -> None:
        self.embed_calls.append(len(faces))
        self.engine.recognizer.embed(frame, faces)

    def tracker(self, **settings: object) -> FaceTracker:
        return FaceTracker(self.detect, self.embed, TrackerSettings(**settings))

    def run(self, tracker: FaceTracker, frames: list[np.ndarray]) -> list[list[Face]]:
        results = []
        for index, frame in enumerate(frames):
            self.frame = index
            results.append(tracker.update(frame, index / FPS))
        return results


def assert_detected_flags(results: list[list[Face]], recorder: Recorder) -> None:
    detected_frames = set(recorder.detect_frames)
    for index, faces in enumerate(results):
        for face in faces:
            assert face.extra["detected"] is (index in detected_frames), index
