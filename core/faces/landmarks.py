"""2d106det landmarks: 106 points per face, used for the mouth mask."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnxruntime

from ..models.files import Role
from ..models.manifest import ModelSpec
from .align import invert_affine, transform_points, warp_crop
from .face import Face
from .onnx_model import OnnxModel

INPUT_NAME = "data"
CROP_SIZE = 192
POINT_COUNT = 106
# Indices of the mouth in the 106-point layout (outer and inner lip).
MOUTH_POINTS = tuple(range(52, 72))


class LandmarkDetector(OnnxModel):
    """Crops a box-centred 192 patch (scale 192 / (1.5 * max side)) and predicts 106 points."""

    role = Role.LANDMARKS

    def __init__(
        self, session: onnxruntime.InferenceSession, path: Path, spec: ModelSpec | None = None
    ) -> None:
        super().__init__(session, path, spec)
        self.output_name = self.output_names[0]

    @staticmethod
    def crop_matrix(bbox: np.ndarray) -> np.ndarray:
        width = float(bbox[2] - bbox[0])
        height = float(bbox[3] - bbox[1])
        center_x = float(bbox[0] + bbox[2]) / 2.0
        center_y = float(bbox[1] + bbox[3]) / 2.0
        scale = CROP_SIZE / (1.5 * max(width, height, 1.0))
        half = CROP_SIZE / 2.0
        return np.array([[scale, 0.0, half - center_x * scale], [0.0, scale, half - center_y * scale]])

    def predict(self, frame_bgr: np.ndarray, face: Face) -> np.ndarray:
        """106 (x, y) points in frame pixels; also stored on ``face.landmarks``."""
        matrix = self.crop_matrix(face.bbox)
        crop = warp_crop(frame_bgr, matrix, CROP_SIZE)
        blob = cv2.dnn.blobFromImage(crop, 1.0, (CROP_SIZE, CROP_SIZE), (0, 0, 0), swapRB=True)
        raw = self.run([self.output_name], {INPUT_NAME: blob})[0].reshape(-1, 2)[:POINT_COUNT]
        crop_points = (raw.astype(np.float64) + 1.0) * (CROP_SIZE / 2.0)
        points = transform_points(crop_points, invert_affine(matrix)).astype(np.float32)
        face.landmarks = points
        return points
