"""Stand-in for ``2d106det.onnx``, InsightFace's 106-point face landmark model.

Contract (DESIGN.md section 4): ``data`` float32 ``['n', 3, 192, 192]`` -> ``fc1`` float32
``['n', 212]``, 106 (x, y) pairs in [-1, 1] of the crop. The stand-in answers one fixed,
plausible layout for every crop; :data:`MOUTH_INDICES` are its mouth points.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.support.models.graph import F32, Graph, vi

# The real file name (DESIGN.md section 4).
LANDMARKS_FILE = "2d106det.onnx"

MOUTH_INDICES: tuple[int, ...] = tuple(range(52, 72))


@dataclass
class LandmarkInfo:
    """2d106det stand-in answering ``points`` (106, 2) in [-1, 1] for every crop."""

    path: Path
    points: np.ndarray
    input_name: str = "data"
    output_name: str = "fc1"
    mouth_indices: tuple[int, ...] = MOUTH_INDICES


def _ellipse(
    cx: float, cy: float, rx: float, ry: float, count: int, start: float, stop: float, closed: bool = True
) -> np.ndarray:
    """``count`` points on an ellipse arc; a closed ellipse does not repeat its first point."""
    angles = np.linspace(start, stop, count, endpoint=not closed)
    return np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], axis=1)


def default_landmark_points() -> np.ndarray:
    """A plausible 106-point layout in [-1, 1] (float32, (106, 2)); y grows downwards.

    0-32 jaw contour (lower arc of an ellipse), 33-42 left eye, 43-51 left brow, 52-71
    mouth (ellipse around (0, 0.45), half-width 0.3, half-height 0.12), 72-86 nose,
    87-96 right eye, 97-105 right brow.
    """
    full = 2 * np.pi
    parts = [
        _ellipse(0.0, 0.0, 0.85, 0.9, 33, -0.05 * np.pi, 1.05 * np.pi, closed=False),  # 0-32 contour
        _ellipse(-0.35, -0.2, 0.15, 0.06, 10, 0.0, full),  # 33-42 left eye
        np.stack([np.linspace(-0.6, -0.15, 9), -0.4 - 0.05 * np.sin(np.linspace(0, np.pi, 9))], axis=1),
        _ellipse(0.0, 0.45, 0.3, 0.12, 20, 0.0, full),  # 52-71 mouth
        np.concatenate(
            [
                np.stack([np.zeros(9), np.linspace(-0.15, 0.2, 9)], axis=1),
                _ellipse(0.0, 0.2, 0.12, 0.06, 6, 0.0, np.pi, closed=False),
            ]
        ),  # 72-86 nose
        _ellipse(0.35, -0.2, 0.15, 0.06, 10, 0.0, full),  # 87-96 right eye
        np.stack([np.linspace(0.15, 0.6, 9), -0.4 - 0.05 * np.sin(np.linspace(0, np.pi, 9))], axis=1),
    ]
    points = np.concatenate(parts).astype(np.float32)
    assert points.shape == (106, 2)
    return points


def build_landmarks(path: str | Path, points: np.ndarray | None = None) -> LandmarkInfo:
    """2d106det stand-in: ``data`` float32 ``['n', 3, 192, 192]`` -> ``fc1`` float32 ``['n', 212]``.

    Every crop answers ``points`` (106 (x, y) pairs in [-1, 1] of the crop, flattened
    x0, y0, x1, y1, ...); default :func:`default_landmark_points`.
    """
    pts = (
        default_landmark_points() if points is None else np.asarray(points, dtype=np.float32).reshape(106, 2)
    )
    g = Graph()
    per_item = g.op("Mul", g.op("ReduceSum", "data", g.i64([1, 2, 3]), keepdims=1), g.f32(0.0))  # [n,1,1,1]
    per_item = g.op("Reshape", per_item, g.i64([-1, 1]))
    g.op("Add", per_item, g.f32(pts.reshape(1, 212)), out="fc1")
    out_path = g.save(
        path, [vi("data", F32, ["n", 3, 192, 192])], [vi("fc1", F32, ["n", 212])], "landmark106_standin"
    )
    return LandmarkInfo(path=out_path, points=pts.copy())
