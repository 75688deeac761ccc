"""The colour-key SCRFD stand-in finds key-colour squares at any input size, exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facedeck.core.faces.align import ARCFACE_TEMPLATE_112, alignment_matrix, arcface_template, warp_crop
from tests.standin_models.checks import FORMS, decode_scrfd, io_signature, open_session
from tests.support.models.color_key_detector import build_color_key_detector, key_color_box, key_color_kps
from tests.support.models.detector import DET_10G_OUTPUT_NAMES, detector_blob
from tests.support.models.drawing import KEY_COLORS, draw_square_face
from tests.support.models.recognizer import build_recognizer


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
    session = open_session(info.path)
    ins, outs = io_signature(session)
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

    found = decode_scrfd(results, width, height, 9)
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
    session = open_session(info.path)
    _, outs = io_signature(session)
    assert len(outs) == form and all(o[1][0] == 1 for o in outs)
    image = _background(640, 512)
    squares = [(KEY_COLORS[3], 300, 100, 80), (KEY_COLORS[4], 33, 401, 41)]
    for color, x0, y0, side in squares:
        draw_square_face(image, color, x0, y0, side)
    results = session.run(None, {"input.1": detector_blob(image)})
    for level, s in enumerate(strides):
        assert results[level].shape == (1, (640 // s) * (512 // s) * anchors, 1)
    found = decode_scrfd(results, 512, 640, form)
    assert len(found) == 2
    for (_, x0, y0, side), hit in zip(squares, sorted(found, key=lambda f: -f["box"][0]), strict=True):
        np.testing.assert_allclose(hit["box"], key_color_box(x0, y0, side), atol=1e-3)
        if use_kps:
            np.testing.assert_allclose(hit["kps"], key_color_kps(x0, y0, side), atol=1e-3)


def test_color_key_detector_ignores_small_and_unknown_colours(tmp_path: Path) -> None:
    session = open_session(build_color_key_detector(tmp_path / "det.onnx", KEY_COLORS[:2], min_area=64).path)

    def faces_in(image: np.ndarray) -> list[dict]:
        return decode_scrfd(session.run(None, {"input.1": detector_blob(image)}), 320, 320, 9)

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
    session = open_session(build_color_key_detector(tmp_path / "det.onnx", KEY_COLORS[:2]).path)
    image = _background(height, width)
    squares = [(KEY_COLORS[0], 0, 0, 24), (KEY_COLORS[1], width - 12, height - 12, 12)]
    for color, x0, y0, side in squares:
        draw_square_face(image, color, x0, y0, side)
    found = sorted(
        decode_scrfd(session.run(None, {"input.1": detector_blob(image)}), width, height, 9),
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
    embedding = open_session(recognizer.path).run(None, {"input.1": blob})[0][0]
    want = recognizer.embedding_for_color(color)
    cosine = embedding @ want / np.linalg.norm(embedding) / np.linalg.norm(want)
    assert cosine > 0.999
