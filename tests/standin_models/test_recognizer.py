"""The ArcFace stand-in loads with w600k_r50's contract; its embedding is a map of the mean colour."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.standin_models.checks import io_signature, open_session
from tests.support.models.drawing import KEY_COLORS
from tests.support.models.recognizer import build_recognizer


def test_recognizer_contract_and_embedding(tmp_path: Path) -> None:
    info = build_recognizer(tmp_path / "w600k_r50.onnx", seed=3, gain=10.0)
    session = open_session(info.path)
    assert io_signature(session) == (
        [("input.1", ["n", 3, 112, 112], "tensor(float)")],
        [("683", ["n", 512], "tensor(float)")],
    )
    assert info.W.shape == (3, 512) and info.W.dtype == np.float32
    crops = np.random.default_rng(0).uniform(-1, 1, (3, 3, 112, 112)).astype(np.float32)
    out = session.run(None, {"input.1": crops})[0]
    assert out.shape == (3, 512) and out.dtype == np.float32
    want = info.expected_embedding(crops.mean(axis=(2, 3)))
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-4)
    assert not np.allclose(np.linalg.norm(out, axis=1), 1.0)  # raw, not normalised

    embeddings = np.stack([info.embedding_for_color(c) for c in KEY_COLORS])
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    similarity = unit @ unit.T
    assert np.all(similarity[~np.eye(len(KEY_COLORS), dtype=bool)] < 0.6)
    np.testing.assert_array_equal(build_recognizer(tmp_path / "again.onnx", seed=3).W, info.W)
