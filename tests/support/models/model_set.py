"""A whole model directory of stand-ins under the real file names (DESIGN.md section 4).

:func:`build_model_set` writes ``det_10g.onnx``, ``w600k_r50.onnx``, ``inswapper_128.onnx``
(or ``inswapper_128_fp16.onnx``), ``2d106det.onnx`` and ``GFPGANv1.4.onnx``, each with its
real model's contract (see the sibling modules), and returns a :class:`ModelSet` saying
what each will answer. Stand-ins match no published SHA-256 pin, so it trusts them the way
a user does (``models import ID FILE --trust``, DESIGN.md section 7).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.support.models.color_key_detector import build_color_key_detector
from tests.support.models.detector import DETECTOR_FILE, DetectorInfo, build_constant_detector
from tests.support.models.drawing import KEY_COLORS
from tests.support.models.landmarks import LANDMARKS_FILE, LandmarkInfo, build_landmarks
from tests.support.models.recognizer import RECOGNIZER_FILE, RecognizerInfo, build_recognizer
from tests.support.models.restorer import RESTORER_FILE, RestorerInfo, build_restorer
from tests.support.models.swapper import SWAPPER_FILE, SWAPPER_FP16_FILE, SwapperInfo, build_swapper


@dataclass
class ModelSet:
    """A model directory written by :func:`build_model_set`."""

    directory: Path
    detector: DetectorInfo
    recognizer: RecognizerInfo
    swapper: SwapperInfo
    landmarks: LandmarkInfo | None = None
    restorer: RestorerInfo | None = None

    @property
    def paths(self) -> dict[str, Path]:
        """File paths by role (``detector``, ``recognizer``, ``swapper``, ``landmarks``, ``restorer``)."""
        roles = {
            "detector": self.detector,
            "recognizer": self.recognizer,
            "swapper": self.swapper,
            "landmarks": self.landmarks,
            "restorer": self.restorer,
        }
        return {role: info.path for role, info in roles.items() if info is not None}


def build_model_set(
    directory: str | Path,
    *,
    detector: Callable[[Path], DetectorInfo] | None = None,
    detector_faces: Sequence[tuple[Sequence[float], np.ndarray | None, float]] | None = None,
    key_colors: Sequence[Sequence[int]] | None = None,
    detector_form: int = 9,
    det_size: tuple[int, int] = (640, 640),
    swapper_mode: str = "identity",
    fp16: bool = False,
    with_landmarks: bool = True,
    with_restorer: bool = True,
    restorer_mode: str = "identity",
    restorer_value: Sequence[float] = (0.0, 0.0, 0.0),
    landmark_points: np.ndarray | None = None,
    seed: int = 0,
    recognizer_gain: float = 10.0,
    swapper_gain: float = 10.0,
    trust: bool = True,
) -> ModelSet:
    """Write a model directory with the real file names and return what each model does.

    Files: ``det_10g.onnx``, ``w600k_r50.onnx``, ``inswapper_128.onnx`` (or
    ``inswapper_128_fp16.onnx`` with ``fp16``), and optionally ``2d106det.onnx`` and
    ``GFPGANv1.4.onnx``. Detector, first match wins: ``detector`` (a callable given the
    target path), ``detector_faces`` (:func:`build_constant_detector` with ``det_size``),
    ``key_colors`` (:func:`build_color_key_detector`); with none of them, a colour-key
    detector for :data:`KEY_COLORS`.

    Stand-ins never match the published SHA-256 pins, so with ``trust`` (the default)
    their hashes are recorded as trusted through the store's own API, exactly as
    ``facedeck --headless models import NAME PATH --trust`` does; the settings directory
    is ``FACEDECK_CONFIG_DIR``, which tests/conftest.py points at a temporary folder.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    det_path = root / DETECTOR_FILE
    if detector is not None:
        det_info = detector(det_path)
    elif detector_faces is not None:
        det_info = build_constant_detector(det_path, detector_faces, det_size=det_size, form=detector_form)
    else:
        colors = KEY_COLORS if key_colors is None else key_colors
        det_info = build_color_key_detector(det_path, colors, form=detector_form)
    models = ModelSet(
        directory=root,
        detector=det_info,
        recognizer=build_recognizer(root / RECOGNIZER_FILE, seed=seed, gain=recognizer_gain),
        swapper=build_swapper(
            root / (SWAPPER_FP16_FILE if fp16 else SWAPPER_FILE),
            mode=swapper_mode,
            fp16=fp16,
            seed=seed,
            gain=swapper_gain,
        ),
        landmarks=build_landmarks(root / LANDMARKS_FILE, landmark_points) if with_landmarks else None,
        restorer=build_restorer(root / RESTORER_FILE, restorer_mode, restorer_value)
        if with_restorer
        else None,
    )
    if trust:
        trust_model_set(models)
    return models


def trust_model_set(models: ModelSet) -> None:
    """Record every file of ``models`` as trusted, through the product's own import path."""
    from facedeck.core.models.store import ModelStore

    store = ModelStore(models.directory)
    for path in models.paths.values():
        spec = store.manifest.by_file(path.name)
        store.import_file(spec.id, path, trust=True)
