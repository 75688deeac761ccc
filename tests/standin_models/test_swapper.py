"""The inswapper stand-in (fp32 and fp16) loads with the real contract, emap last, and answers per mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from tests.standin_models.checks import io_signature, open_session
from tests.support.models.swapper import build_swapper


@pytest.mark.parametrize("fp16", [False, True])
@pytest.mark.parametrize("mode", ["identity", "latent_color", "latent_tint"])
def test_swapper_contract_and_modes(tmp_path: Path, mode: str, fp16: bool) -> None:
    info = build_swapper(tmp_path / "inswapper_128.onnx", mode=mode, fp16=fp16, seed=5, gain=10.0)
    session = open_session(info.path)
    assert io_signature(session) == (
        [("target", [1, 3, 128, 128], "tensor(float)"), ("source", [1, 512], "tensor(float)")],
        [("output", [1, 3, 128, 128], "tensor(float)")],
    )
    model = onnx.load(str(info.path))
    last = model.graph.initializer[-1]
    emap = numpy_helper.to_array(last)
    assert emap.shape == (512, 512)
    assert emap.dtype == (np.float16 if fp16 else np.float32)
    np.testing.assert_array_equal(emap.astype(np.float32), info.emap)
    if fp16:
        assert all(
            init.data_type == onnx.TensorProto.FLOAT16
            for init in model.graph.initializer
            if init.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16)
        )
    # Not orthogonal, like the real emap: skipping the second normalisation must show.
    probe = np.random.default_rng(1).standard_normal(512).astype(np.float32)
    probe /= np.linalg.norm(probe)
    assert np.linalg.norm(probe @ info.emap) > 1.5
    unnormalised = info.latent_for_embedding(probe, normalise_output=False)
    assert np.linalg.norm(unnormalised) > 1.5

    rng = np.random.default_rng(2)
    target = rng.uniform(0, 1, (1, 3, 128, 128)).astype(np.float32)
    embedding = rng.standard_normal(512).astype(np.float32)
    latent = info.latent_for_embedding(embedding)
    assert latent.shape == (1, 512) and np.linalg.norm(latent) == pytest.approx(1.0, abs=1e-5)
    out = session.run(None, {"target": target, "source": latent})[0]
    assert out.shape == (1, 3, 128, 128) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_allclose(out, info.expected_output(target, latent), atol=2e-3 if fp16 else 1e-6)
    if mode != "identity":
        color = 0.5 + 10.0 * latent[0, :3].astype(np.float64)
        np.testing.assert_allclose(info.latent_color(latent), np.clip(color, 0, 1), atol=1e-6)
        # Another latent changes the colour: tests can tell which source went where.
        other = info.latent_for_embedding(rng.standard_normal(512))
        out2 = session.run(None, {"target": target, "source": other})[0]
        assert np.abs(out2 - out).max() > 0.05
    if mode == "latent_color":
        assert np.ptp(out.reshape(3, -1), axis=1).max() < 1e-6


def test_swapper_clips_latent_colour(tmp_path: Path) -> None:
    info = build_swapper(tmp_path / "s.onnx", mode="latent_color", gain=10.0)
    latent = np.zeros((1, 512), np.float32)
    latent[0, :3] = [1.0, -1.0, 0.01]
    out = open_session(info.path).run(
        None, {"target": np.zeros((1, 3, 128, 128), np.float32), "source": latent}
    )[0]
    np.testing.assert_allclose(out[0, :, 5, 7], [1.0, 0.0, 0.6], atol=1e-6)


def test_swapper_rejects_unknown_mode(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        build_swapper(tmp_path / "s.onnx", mode="nope")
