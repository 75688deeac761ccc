"""ArcFace recogniser (InsightFace ``w600k_r50.onnx``): identity embeddings for faces."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import onnxruntime

from ..models.files import Role
from ..models.manifest import ModelSpec
from .align import alignment_matrix, arcface_template, warp_crop
from .face import Face
from .onnx_model import OnnxModel, fixed_dim

INPUT_NAME = "input.1"
CROP_SIZE = 112
EMBEDDING_SIZE = 512


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Unit-length rows (a zero row stays zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class FaceRecognizer(OnnxModel):
    """Crops each face onto the ArcFace template and returns L2-normalised embeddings."""

    role = Role.RECOGNIZER

    def __init__(
        self, session: onnxruntime.InferenceSession, path: Path, spec: ModelSpec | None = None
    ) -> None:
        super().__init__(session, path, spec)
        self.output_name = self.output_names[0]
        # The real model takes any batch size; some exports are fixed at 1.
        self.batched = fixed_dim(session.get_inputs()[0].shape[0]) is None
        self._template = arcface_template(CROP_SIZE)

    def crop(self, frame_bgr: np.ndarray, kps: np.ndarray) -> np.ndarray:
        matrix = alignment_matrix(kps, self._template)
        return warp_crop(frame_bgr, matrix, CROP_SIZE)

    def embed_crops(self, crops_bgr: Sequence[np.ndarray]) -> np.ndarray:
        """Raw crops (112x112 BGR uint8) -> ``(N, 512)`` normalised embeddings."""
        if not crops_bgr:
            return np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
        blob = cv2.dnn.blobFromImages(
            list(crops_bgr), 1.0 / 127.5, (CROP_SIZE, CROP_SIZE), (127.5, 127.5, 127.5), swapRB=True
        )
        if self.batched:
            raw = self.run([self.output_name], {INPUT_NAME: blob})[0]
        else:
            raw = np.concatenate(
                [self.run([self.output_name], {INPUT_NAME: blob[i : i + 1]})[0] for i in range(len(blob))]
            )
        return l2_normalize(raw.reshape(len(crops_bgr), -1))

    def embed(self, frame_bgr: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """Fill ``face.embedding`` for each face and return the stacked embeddings."""
        crops = []
        for face in faces:
            assert face.kps is not None  # detect_faces and the tracker fill in missing keypoints
            crops.append(self.crop(frame_bgr, face.kps))
        embeddings = self.embed_crops(crops)
        for face, embedding in zip(faces, embeddings, strict=True):
            face.embedding = embedding
        return embeddings
