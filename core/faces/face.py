"""The face record that flows between detection, recognition, selection and swapping."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Face:
    """One detected face in a frame, in that frame's pixel coordinates.

    ``bbox`` is ``[x1, y1, x2, y2]``; ``kps`` the five keypoints (left eye, right eye,
    nose, left mouth corner, right mouth corner) as a ``(5, 2)`` float32 array.
    ``embedding`` (L2-normalised, 512 values) and ``landmarks`` (106 points) are filled
    in only when a stage needs them.
    """

    bbox: np.ndarray
    score: float
    kps: np.ndarray | None = None
    embedding: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    @property
    def area(self) -> float:
        width = float(self.bbox[2] - self.bbox[0])
        height = float(self.bbox[3] - self.bbox[1])
        return max(width, 0.0) * max(height, 0.0)

    @property
    def center(self) -> tuple[float, float]:
        return (float(self.bbox[0] + self.bbox[2]) / 2.0, float(self.bbox[1] + self.bbox[3]) / 2.0)
