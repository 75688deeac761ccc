"""A model set writes every stand-in under its real file name, each loadable."""

from __future__ import annotations

from pathlib import Path

from tests.standin_models.checks import open_session
from tests.support.models.detector import build_constant_detector
from tests.support.models.drawing import KEY_COLORS
from tests.support.models.model_set import build_model_set


def test_model_set_real_file_names(tmp_path: Path) -> None:
    models = build_model_set(tmp_path / "m", swapper_mode="latent_color")
    names = sorted(p.name for p in (tmp_path / "m").glob("*.onnx"))
    assert names == sorted(
        ["det_10g.onnx", "w600k_r50.onnx", "inswapper_128.onnx", "2d106det.onnx", "GFPGANv1.4.onnx"]
    )
    assert models.detector.kind == "color_key" and models.detector.colors == KEY_COLORS
    assert models.swapper.mode == "latent_color"
    for path in models.paths.values():
        open_session(path)

    fp16 = build_model_set(
        tmp_path / "h",
        fp16=True,
        with_landmarks=False,
        with_restorer=False,
        detector_faces=[([10, 10, 50, 60], None, 0.9)],
        det_size=(640, 384),
    )
    assert sorted(p.name for p in (tmp_path / "h").glob("*.onnx")) == sorted(
        ["det_10g.onnx", "w600k_r50.onnx", "inswapper_128_fp16.onnx"]
    )
    assert (
        fp16.landmarks is None
        and fp16.restorer is None
        and set(fp16.paths) == {"detector", "recognizer", "swapper"}
    )
    assert fp16.detector.kind == "constant" and fp16.detector.det_size == (640, 384)
    assert fp16.swapper.fp16

    custom = build_model_set(
        tmp_path / "c",
        detector=lambda p: build_constant_detector(p, [], form=15),
        with_landmarks=False,
    )
    assert custom.detector.form == 15 and custom.detector.path == tmp_path / "c" / "det_10g.onnx"
    keyed = build_model_set(tmp_path / "k", key_colors=[KEY_COLORS[1]], with_restorer=False)
    assert keyed.detector.colors == (KEY_COLORS[1],)
