"""Stand-in for ArcFace ``w600k_r50.onnx``, InsightFace's face recogniser.

Contract (DESIGN.md section 4): ``input.1`` float32 ``['n', 3, 112, 112]`` (aligned RGB
crops, ``(x - 127.5) / 127.5``) -> ``683`` float32 ``['n', 512]``, raw (not normalised)
embeddings. The stand-in's embedding is a fixed linear map of the crop's mean colour, so a
face's identity is its colour (see :mod:`tests.support.models.drawing`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.support.models.graph import F32, Graph, vi

# The real file name (DESIGN.md section 4).
RECOGNIZER_FILE = "w600k_r50.onnx"
# w600k_r50's real output name.
RECOGNIZER_OUTPUT_NAME = "683"


@dataclass
class RecognizerInfo:
    """ArcFace stand-in: ``embedding = gain * mean_rgb @ W`` with ``W`` of shape (3, 512).

    ``mean_rgb`` is the per-channel mean of the fed crop, i.e. after the product's
    ``(x - 127.5) / 127.5`` normalisation, channels in RGB order.
    """

    path: Path
    W: np.ndarray
    gain: float
    input_name: str = "input.1"
    output_name: str = RECOGNIZER_OUTPUT_NAME

    def expected_embedding(self, crop_rgb_normalised_mean: np.ndarray | Sequence[float]) -> np.ndarray:
        """Raw embedding(s) for mean colour(s) ``(3,)`` or ``(n, 3)`` of normalised RGB crops."""
        mean = np.asarray(crop_rgb_normalised_mean, dtype=np.float64)
        return (self.gain * (mean @ self.W.astype(np.float64))).astype(np.float32)

    def embedding_for_color(self, color_bgr: Sequence[int]) -> np.ndarray:
        """Raw embedding of a crop filled with one BGR uint8 colour (e.g. a key-colour face)."""
        rgb = np.asarray(color_bgr, dtype=np.float64)[::-1]
        return self.expected_embedding((rgb - 127.5) / 127.5)


def build_recognizer(path: str | Path, seed: int = 0, gain: float = 10.0) -> RecognizerInfo:
    """ArcFace stand-in: ``input.1`` float32 ``['n', 3, 112, 112]`` -> ``683`` float32 ``['n', 512]``.

    ``embedding = gain * mean_rgb @ W`` (GlobalAveragePool -> Flatten -> MatMul -> Mul), raw
    (not normalised); ``W`` is a fixed standard-normal (3, 512) matrix from ``seed``. The
    identity of a face is thus its mean colour; a crop near mid-grey gives a near-zero
    embedding, so use saturated key colours.
    """
    weight = np.random.default_rng(seed).standard_normal((3, 512)).astype(np.float32)
    g = Graph()
    pooled = g.op("Flatten", g.op("GlobalAveragePool", "input.1"), axis=1)
    g.op("Mul", g.op("MatMul", pooled, g.f32(weight)), g.f32(float(gain)), out=RECOGNIZER_OUTPUT_NAME)
    out_path = g.save(
        path,
        [vi("input.1", F32, ["n", 3, 112, 112])],
        [vi(RECOGNIZER_OUTPUT_NAME, F32, ["n", 512])],
        "arcface_standin",
    )
    return RecognizerInfo(path=out_path, W=weight, gain=float(gain))
