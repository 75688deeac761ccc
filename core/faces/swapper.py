"""inswapper_128 (fp32 or fp16 file): puts a source identity onto an aligned target crop."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import onnxruntime

from ..models.contract import format_shape
from ..models.files import Role
from ..models.manifest import ModelSpec
from .align import alignment_matrix, arcface_template
from .onnx_model import OnnxModel
from .recognizer import EMBEDDING_SIZE, l2_normalize

log = logging.getLogger(__name__)

CROP_SIZE = 128


class FaceSwapper(OnnxModel):
    """Aligned 128 crop + source latent -> swapped 128 crop."""

    role = Role.SWAPPER

    def __init__(
        self,
        session: onnxruntime.InferenceSession,
        path: Path,
        spec: ModelSpec | None = None,
        emap: np.ndarray | None = None,
    ) -> None:
        super().__init__(session, path, spec)
        self.output_name = self.output_names[0]
        self.emap = self._read_emap() if emap is None else emap
        self.template = arcface_template(CROP_SIZE)

    def _read_emap(self) -> np.ndarray:
        """The 512x512 identity map inswapper stores as the graph's last initializer."""
        # onnx costs ~1 s to import, needed only here: imported when a swapper loads, so a
        # process that never loads one (doctor, models, a failing job) does not pay for it
        import onnx
        from google.protobuf.message import DecodeError  # type: ignore[import-untyped]  # no stubs
        from onnx import numpy_helper
        from onnx.checker import ValidationError

        try:
            model = onnx.load(str(self.path))
        except (OSError, DecodeError, ValidationError, ValueError) as error:
            raise self.fault(f"onnx cannot read it: {' '.join(str(error).split())}") from error
        if not model.graph.initializer:
            raise self.fault("not an inswapper model: it has no initializers (the emap is the last)")
        emap = numpy_helper.to_array(model.graph.initializer[-1]).astype(np.float32)
        if emap.shape != (EMBEDDING_SIZE, EMBEDDING_SIZE):
            shape = format_shape(emap.shape)
            raise self.fault(
                f"not an inswapper model: its last initializer (the emap) has shape {shape}, "
                f"expected [{EMBEDDING_SIZE},{EMBEDDING_SIZE}]"
            )
        return emap

    def latent(self, embedding: np.ndarray) -> np.ndarray:
        """normalize(embedding) @ emap, normalised again (as insightface does): shape (1, 512)."""
        normed = l2_normalize(np.asarray(embedding, dtype=np.float32).reshape(1, -1))
        return l2_normalize(normed @ self.emap)

    def crop_matrix(self, kps: np.ndarray) -> np.ndarray:
        return alignment_matrix(kps, self.template)

    def swap_crop(self, crop_bgr: np.ndarray, latent: np.ndarray) -> np.ndarray:
        """Swap one aligned 128x128 BGR uint8 crop; returns a BGR uint8 crop."""
        blob = cv2.dnn.blobFromImage(crop_bgr, 1.0 / 255.0, (CROP_SIZE, CROP_SIZE), (0, 0, 0), swapRB=True)
        output = self.run([self.output_name], {"target": blob, "source": latent.astype(np.float32)})[0]
        rgb = np.clip(output[0].transpose(1, 2, 0) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
