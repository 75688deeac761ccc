"""The 2d106det stand-in loads with the real contract and answers its fixed 106-point layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.standin_models.checks import io_signature, open_session
from tests.support.models.landmarks import MOUTH_INDICES, build_landmarks


def test_landmarks_contract_and_points(tmp_path: Path) -> None:
    info = build_landmarks(tmp_path / "2d106det.onnx")
    session = open_session(info.path)
    assert io_signature(session) == (
        [("data", ["n", 3, 192, 192], "tensor(float)")],
        [("fc1", ["n", 212], "tensor(float)")],
    )
    crops = np.random.default_rng(0).uniform(0, 255, (2, 3, 192, 192)).astype(np.float32)
    out = session.run(None, {"data": crops})[0]
    assert out.shape == (2, 212) and out.dtype == np.float32
    np.testing.assert_array_equal(out.reshape(2, 106, 2), np.stack([info.points] * 2))
    points = info.points
    assert points.shape == (106, 2) and np.abs(points).max() <= 1.0
    mouth = points[list(MOUTH_INDICES)]
    assert info.mouth_indices == tuple(range(52, 72))
    np.testing.assert_allclose(mouth.mean(axis=0), [0.0, 0.45], atol=1e-6)
    np.testing.assert_allclose(np.ptp(mouth, axis=0), [0.6, 0.24], atol=0.02)
    others = np.delete(points, list(MOUTH_INDICES), axis=0)
    assert np.all((others[:, 0] / 0.3) ** 2 + ((others[:, 1] - 0.45) / 0.12) ** 2 > 1.0)

    custom = np.linspace(-1, 1, 212, dtype=np.float32).reshape(106, 2)
    info2 = build_landmarks(tmp_path / "custom.onnx", points=custom)
    out2 = open_session(info2.path).run(None, {"data": crops[:1]})[0]
    np.testing.assert_array_equal(out2[0], custom.reshape(212))
