"""The stand-in models load in onnxruntime with the real contracts and answer as documented."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

from facedeck.core.faces.align import ARCFACE_TEMPLATE_112, alignment_matrix, arcface_template, warp_crop
from tests.support.model_factory import (
    DET_10G_OUTPUT_NAMES,
    KEY_COLORS,
    MOUTH_INDICES,
    build_color_key_detector,
    build_constant_detector,
    build_landmarks,
    build_model_set,
    build_recognizer,
    build_restorer,
    build_swapper,
    detector_blob,
    draw_square_face,
    key_color_box,
    key_color_kps,
    template_kps,
)

FORMS = {
    6: ((8, 16, 32), 2, False),
    9: ((8, 16, 32), 2, True),
    10: ((8, 16, 32, 64, 128), 1, False),
    15: ((8, 16, 32, 64, 128), 1, True),
}


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3  # the swapper's unused emap is reported, as with the real file
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _io(session: ort.InferenceSession) -> tuple[list[tuple], list[tuple]]:
    ins = [(i.name, list(i.shape), i.type) for i in session.get_inputs()]
    outs = [(o.name, list(o.shape), o.type) for o in session.get_outputs()]
    return ins, outs


def _decode(
    outputs: list[np.ndarray], width: int, height: int, form: int, threshold: float = 0.5
) -> list[dict]:
    """Reference SCRFD decoder (insightface's scheme), independent of the factory."""
    strides, anchors, use_kps = FORMS[form]
    fmc = len(strides)
    found = []
    for level, stride in enumerate(strides):
        scores = outputs[level].reshape(-1)
        dists = outputs[level + fmc].reshape(-1, 4).astype(np.float32) * stride
        grid_h, grid_w = height // stride, width // stride
        centers = np.stack(np.mgrid[:grid_h, :grid_w][::-1], axis=-1).astype(np.float32)
        centers = (centers * stride).reshape(-1, 2)
        if anchors > 1:
            centers = np.stack([centers] * anchors, axis=1).reshape(-1, 2)
        assert len(centers) == len(scores)
        for index in np.where(scores >= threshold)[0]:
            c = centers[index]
            d = dists[index]
            box = np.array([c[0] - d[0], c[1] - d[1], c[0] + d[2], c[1] + d[3]], np.float32)
            kps = None
            if use_kps:
                k = outputs[level + 2 * fmc].reshape(-1, 10)[index].astype(np.float32) * stride
                kps = (k.reshape(5, 2) + c).astype(np.float32)
            found.append(
                {"stride": stride, "index": int(index), "score": float(scores[index]), "box": box, "kps": kps}
            )
    return found


# --------------------------------------------------------------------------- constant detector


@pytest.mark.parametrize("batch_axis", [False, True])
@pytest.mark.parametrize("det_size", [(640, 640), (640, 384)])
@pytest.mark.parametrize("form", [6, 9, 10, 15])
def test_constant_detector_decodes_to_the_requested_faces(
    tmp_path: Path, form: int, det_size: tuple[int, int], batch_axis: bool
) -> None:
    width, height = det_size
    strides, anchors, use_kps = FORMS[form]
    kps0 = template_kps([100.0, 80.0, 220.0, 230.0]) + np.float32(1.5)
    faces = [
        ([100.0, 80.0, 220.0, 230.0], kps0, 0.91),
        ([400.3, 200.7, 452.9, 262.1], None, 0.77),  # keypoints from the template
        ([590.0, 330.0, 660.0, 420.0], None, 0.66),  # centre near/over the grid's edge: clamped
        ([402.0, 204.0, 450.0, 258.0], None, 0.88),  # same nearest cell as the second face
    ]
    info = build_constant_detector(
        tmp_path / "det.onnx",
        faces,
        det_size=det_size,
        form=form,
        batch_axis=batch_axis,
        background_score=0.02,
    )
    assert info.strides == strides and info.num_anchors == anchors and info.use_kps == use_kps
    assert info.det_size == det_size and len(info.faces) == len(faces)

    session = _session(info.path)
    ins, outs = _io(session)
    assert ins == [("input.1", [1, 3, "h", "w"], "tensor(float)")]
    widths = [1, 4, 10] if use_kps else [1, 4]
    expected = [(height // s) * (width // s) * anchors for s in strides]
    want_shapes = [([1] if batch_axis else []) + [n, k] for k in widths for n in expected]
    assert [o[1] for o in outs] == want_shapes
    assert all(o[2] == "tensor(float)" for o in outs)
    if form == 9:
        assert [o[0] for o in outs] == list(DET_10G_OUTPUT_NAMES)
    assert any("input.1" in node.input for node in onnx.load(str(info.path)).graph.node)

    rng = np.random.default_rng(1)
    blob = rng.uniform(-1, 1, (1, 3, height, width)).astype(np.float32)
    results = session.run(None, {"input.1": blob})
    assert [list(r.shape) for r in results] == want_shapes
    assert all(r.dtype == np.float32 for r in results)
    again = session.run(None, {"input.1": np.zeros_like(blob)})
    for first, second in zip(results, again, strict=True):
        np.testing.assert_array_equal(first, second)

    found = _decode(results, width, height, form)
    assert len(found) == len(faces)
    by_score = {round(f["score"], 4): f for f in found}
    for (box, kps, score), spec in zip(faces, info.faces, strict=True):
        hit = by_score[round(score, 4)]
        np.testing.assert_allclose(hit["box"], np.asarray(box, np.float32), atol=1e-3)
        if use_kps:
            want_kps = template_kps(box) if kps is None else kps
            np.testing.assert_allclose(hit["kps"], want_kps, atol=1e-3)
            np.testing.assert_allclose(spec.kps, want_kps, atol=1e-6)
        else:
            assert hit["kps"] is None
    # Faces sit on the smallest stride, at their nearest cell's first free anchor.
    first = found[0]
    assert first["stride"] == 8
    col, row = round(160 / 8), round(155 / 8)
    assert first["index"] == (row * (width // 8) + col) * anchors
    assert info.anchor_slots[0] == (8, first["index"])
    if anchors == 2:
        assert info.anchor_slots[3] == (8, info.anchor_slots[1][1] + 1)
    else:
        assert info.anchor_slots[3][0] == 16
    # Everything else is background.
    n_scores = len(strides)
    all_scores = np.concatenate([r.reshape(-1) for r in results[:n_scores]])
    assert np.count_nonzero(all_scores != np.float32(0.02)) == len(faces)


def test_constant_detector_without_faces_is_background(tmp_path: Path) -> None:
    info = build_constant_detector(tmp_path / "det.onnx", [], background_score=0.05)
    results = _session(info.path).run(None, {"input.1": np.zeros((1, 3, 640, 640), np.float32)})
    assert all(np.all(r == np.float32(0.05)) for r in results[:3])
    assert all(np.all(r == 0) for r in results[3:])
    assert _decode(results, 640, 640, 9) == []


# --------------------------------------------------------------------------- colour-key detector


def _background(height: int, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(90, 166, (height, width, 3), dtype=np.uint8)


SQUARES = [
    (KEY_COLORS[2], 40, 32, 96),
    (KEY_COLORS[1], 250, 150, 57),
    (KEY_COLORS[0], 150, 230, 33),
]


@pytest.mark.parametrize("count", [0, 1, 3])
@pytest.mark.parametrize("size", [(640, 640), (320, 480), (480, 320)])
def test_color_key_detector_finds_squares(tmp_path: Path, size: tuple[int, int], count: int) -> None:
    height, width = size
    info = build_color_key_detector(tmp_path / "det.onnx", KEY_COLORS[:3])
    session = _session(info.path)
    ins, outs = _io(session)
    assert ins == [("input.1", [1, 3, "h", "w"], "tensor(float)")]
    assert [o[0] for o in outs] == list(DET_10G_OUTPUT_NAMES)
    assert [o[1][1] for o in outs] == [1, 1, 1, 4, 4, 4, 10, 10, 10]

    image = _background(height, width, seed=count)
    squares = SQUARES[:count]
    for color, x0, y0, side in squares:
        draw_square_face(image, color, x0, y0, side)
    results = session.run(None, {"input.1": detector_blob(image)})
    for s, r_score, r_box, r_kps in zip((8, 16, 32), results[:3], results[3:6], results[6:], strict=True):
        n = (height // s) * (width // s) * 2
        assert r_score.shape == (n, 1) and r_box.shape == (n, 4) and r_kps.shape == (n, 10)

    found = _decode(results, width, height, 9)
    assert len(found) == len(squares)
    assert all(f["stride"] == 16 for f in found)
    assert all(f["score"] == pytest.approx(0.99) for f in found)
    for color, x0, y0, side in squares:
        matches = [f for f in found if np.allclose(f["box"], key_color_box(x0, y0, side), atol=1e-3)]
        assert len(matches) == 1, (color, x0, y0, side, [f["box"] for f in found])
        np.testing.assert_allclose(matches[0]["kps"], key_color_kps(x0, y0, side), atol=1e-3)
        np.testing.assert_allclose(
            key_color_kps(x0, y0, side), [x0, y0] + side * ARCFACE_TEMPLATE_112 / 112, atol=1e-4
        )
    scores = np.concatenate([r.reshape(-1) for r in results[:3]])
    assert np.count_nonzero(scores != np.float32(0.01)) == len(squares)


@pytest.mark.parametrize("form", [6, 10, 15])
def test_color_key_detector_other_forms(tmp_path: Path, form: int) -> None:
    strides, anchors, use_kps = FORMS[form]
    info = build_color_key_detector(tmp_path / "det.onnx", KEY_COLORS, form=form, batch_axis=True)
    session = _session(info.path)
    _, outs = _io(session)
    assert len(outs) == form and all(o[1][0] == 1 for o in outs)
    image = _background(640, 512)
    squares = [(KEY_COLORS[3], 300, 100, 80), (KEY_COLORS[4], 33, 401, 41)]
    for color, x0, y0, side in squares:
        draw_square_face(image, color, x0, y0, side)
    results = session.run(None, {"input.1": detector_blob(image)})
    for level, s in enumerate(strides):
        assert results[level].shape == (1, (640 // s) * (512 // s) * anchors, 1)
    found = _decode(results, 512, 640, form)
    assert len(found) == 2
    for (_, x0, y0, side), hit in zip(squares, sorted(found, key=lambda f: -f["box"][0]), strict=True):
        np.testing.assert_allclose(hit["box"], key_color_box(x0, y0, side), atol=1e-3)
        if use_kps:
            np.testing.assert_allclose(hit["kps"], key_color_kps(x0, y0, side), atol=1e-3)


def test_color_key_detector_ignores_small_and_unknown_colours(tmp_path: Path) -> None:
    session = _session(build_color_key_detector(tmp_path / "det.onnx", KEY_COLORS[:2], min_area=64).path)

    def faces_in(image: np.ndarray) -> list[dict]:
        return _decode(session.run(None, {"input.1": detector_blob(image)}), 320, 320, 9)

    small = draw_square_face(_background(320, 320), KEY_COLORS[0], 10, 10, 7)  # 49 px < min_area
    assert faces_in(small) == []
    just_enough = draw_square_face(_background(320, 320), KEY_COLORS[0], 10, 10, 8)  # 64 px
    assert len(faces_in(just_enough)) == 1
    unknown = draw_square_face(_background(320, 320), KEY_COLORS[3], 100, 100, 60)  # not a key here
    assert faces_in(unknown) == []
    near_key = draw_square_face(_background(320, 320), (250, 5, 5), 200, 200, 40)  # within tolerance
    found = faces_in(near_key)
    assert len(found) == 1
    np.testing.assert_allclose(found[0]["box"], key_color_box(200, 200, 40), atol=1e-3)
    padded = np.zeros((320, 320, 3), np.uint8)  # black letterbox padding matches no key
    assert faces_in(padded) == []


@pytest.mark.parametrize("size", [(320, 480), (640, 640)])
def test_color_key_detector_faces_at_the_edges(tmp_path: Path, size: tuple[int, int]) -> None:
    """Centres beyond the last anchor row/column are clamped onto the grid, nothing is lost."""
    height, width = size
    session = _session(build_color_key_detector(tmp_path / "det.onnx", KEY_COLORS[:2]).path)
    image = _background(height, width)
    squares = [(KEY_COLORS[0], 0, 0, 24), (KEY_COLORS[1], width - 12, height - 12, 12)]
    for color, x0, y0, side in squares:
        draw_square_face(image, color, x0, y0, side)
    found = sorted(
        _decode(session.run(None, {"input.1": detector_blob(image)}), width, height, 9),
        key=lambda f: f["box"][0],
    )
    assert len(found) == 2
    grid_w, grid_h = width // 16, height // 16
    assert found[1]["index"] == ((grid_h - 1) * grid_w + grid_w - 1) * 2
    for (_, x0, y0, side), hit in zip(squares, found, strict=True):
        np.testing.assert_allclose(hit["box"], key_color_box(x0, y0, side), atol=1e-3)
        np.testing.assert_allclose(hit["kps"], key_color_kps(x0, y0, side), atol=1e-3)


def test_color_key_square_aligns_onto_the_arcface_crop(tmp_path: Path) -> None:
    """The reported keypoints map the square onto the 112 crop, so the crop is the key colour."""
    color = KEY_COLORS[2]
    image = _background(480, 640)
    draw_square_face(image, color, 200, 120, 168)
    matrix = alignment_matrix(key_color_kps(200, 120, 168), arcface_template(112))
    np.testing.assert_allclose(
        matrix, [[112 / 168, 0, -200 * 112 / 168], [0, 112 / 168, -120 * 112 / 168]], atol=1e-3
    )
    crop = warp_crop(image, matrix, 112)
    assert np.all(crop[:110, :110] == np.asarray(color, np.uint8))

    recognizer = build_recognizer(tmp_path / "rec.onnx")
    blob = ((crop[:, :, ::-1].astype(np.float32) - 127.5) / 127.5).transpose(2, 0, 1)[None]
    embedding = _session(recognizer.path).run(None, {"input.1": blob})[0][0]
    want = recognizer.embedding_for_color(color)
    cosine = embedding @ want / np.linalg.norm(embedding) / np.linalg.norm(want)
    assert cosine > 0.999


# --------------------------------------------------------------------------- recogniser


def test_recognizer_contract_and_embedding(tmp_path: Path) -> None:
    info = build_recognizer(tmp_path / "w600k_r50.onnx", seed=3, gain=10.0)
    session = _session(info.path)
    assert _io(session) == (
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


# --------------------------------------------------------------------------- swapper


@pytest.mark.parametrize("fp16", [False, True])
@pytest.mark.parametrize("mode", ["identity", "latent_color", "latent_tint"])
def test_swapper_contract_and_modes(tmp_path: Path, mode: str, fp16: bool) -> None:
    info = build_swapper(tmp_path / "inswapper_128.onnx", mode=mode, fp16=fp16, seed=5, gain=10.0)
    session = _session(info.path)
    assert _io(session) == (
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
    out = _session(info.path).run(None, {"target": np.zeros((1, 3, 128, 128), np.float32), "source": latent})[
        0
    ]
    np.testing.assert_allclose(out[0, :, 5, 7], [1.0, 0.0, 0.6], atol=1e-6)


def test_swapper_rejects_unknown_mode(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        build_swapper(tmp_path / "s.onnx", mode="nope")


# --------------------------------------------------------------------------- landmarks and restorer


def test_landmarks_contract_and_points(tmp_path: Path) -> None:
    info = build_landmarks(tmp_path / "2d106det.onnx")
    session = _session(info.path)
    assert _io(session) == (
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
    out2 = _session(info2.path).run(None, {"data": crops[:1]})[0]
    np.testing.assert_array_equal(out2[0], custom.reshape(212))


@pytest.mark.parametrize("mode", ["identity", "constant"])
def test_restorer_contract(tmp_path: Path, mode: str) -> None:
    info = build_restorer(tmp_path / "GFPGANv1.4.onnx", mode=mode, value=(0.25, -0.5, 1.0))
    session = _session(info.path)
    assert _io(session) == (
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


# --------------------------------------------------------------------------- model set


def test_model_set_real_file_names(tmp_path: Path) -> None:
    models = build_model_set(tmp_path / "m", swapper_mode="latent_color")
    names = sorted(p.name for p in (tmp_path / "m").glob("*.onnx"))
    assert names == sorted(
        ["det_10g.onnx", "w600k_r50.onnx", "inswapper_128.onnx", "2d106det.onnx", "GFPGANv1.4.onnx"]
    )
    assert models.detector.kind == "color_key" and models.detector.colors == KEY_COLORS
    assert models.swapper.mode == "latent_color"
    for path in models.paths.values():
        _session(path)

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


def test_cv2_drawn_square_matches_helper() -> None:
    image = np.zeros((64, 64, 3), np.uint8)
    cv2.rectangle(image, (5, 6), (5 + 20 - 1, 6 + 20 - 1), KEY_COLORS[0], thickness=-1)
    other = draw_square_face(np.zeros((64, 64, 3), np.uint8), KEY_COLORS[0], 5, 6, 20)
    np.testing.assert_array_equal(image, other)
