"""The GFPGAN v1.4 stand-in loads with the real contract: identity or a constant colour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.standin_models.checks import io_signature, open_session
from tests.support.models.restorer import build_restorer


@pytest.mark.parametrize("mode", ["identity", "constant"])
def test_restorer_contract(tmp_path: Path, mode: str) -> None:
    info = build_restorer(tmp_path / "GFPGANv1.4.onnx", mode=mode, value=(0.25, -0.5, 1.0))
    session = open_session(info.path)
    assert io_signature(session) == (
        [("input", [1, 3, 512, 512], "tensor(float)")],
        [("output", [1, 3, 512, 512], "tensor(float)")],
    )
    face = np.random.default_rng(0).uniform(-1, 1, (1, 3, 512, 512)).astype(np.float32)
    out = session.run(None, {"input": face})[0]
    assert out.shape == (1, 3, 512, 512) and out.dtype == np.float32
    if mode == "identity":
        np.testing.assert_array_equal(out, face)
    else:
        np.testing.assert_array_equal(
            out, np.broadcast_to(np.float32([0.25, -0.5, 1.0]).reshape(1, 3, 1, 1), out.shape)
        )
