"""GFPGAN v1.4 face restorer (ONNX): sharpens a swapped face on the FFHQ 512 template."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnxruntime

from ..models.files import Role
from ..models.manifest import ModelSpec
from .align import alignment_matrix, ffhq_template
from .onnx_model import OnnxModel

INPUT_NAME = "input"
CROP_SIZE = 512


class FaceRestorer(OnnxModel):
    """Aligned 512 crop in, restored 512 crop out (both BGR uint8)."""

    role = Role.RESTORER

    def __init__(
        self, session: onnxruntime.InferenceSession, path: Path, spec: ModelSpec | None = None
    ) -> None:
        super().__init__(session, path, spec)
        self.output_name = self.output_names[0]
        self.template = ffhq_template(CROP_SIZE)

    def crop_matrix(self, kps: np.ndarray) -> np.ndarray:
        return alignment_matrix(kps, self.template)

    def restore_crop(self, crop_bgr: np.ndarray) -> np.ndarray:
        # RGB scaled to [-1, 1]
        blob = cv2.dnn.blobFromImage(
            crop_bgr, 1.0 / 127.5, (CROP_SIZE, CROP_SIZE), (127.5, 127.5, 127.5), swapRB=True
        )
        output = self.run([self.output_name], {INPUT_NAME: blob})[0][0]
        rgb = np.clip((output.transpose(1, 2, 0) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
