"""SCRFD decoding: faces placed in the detector's canvas come back exactly in frame pixels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facedeck.core.faces.detector import FaceDetector, canvas_to_frame, letterbox_geometry, nms
from facedeck.core.runtime.providers import select_provider
from facedeck.core.runtime.sessions import create_session
from tests.support.models.color_key_detector import build_color_key_detector, key_color_box
from tests.support.models.detector import build_constant_detector
from tests.support.models.drawing import draw_square_face

CPU = select_provider("cpu")


def load_detector(path, det_size):
    return FaceDetector(create_session(path, CPU), path, input_size=det_size)


def frame_faces(width: int, height: int, count: int, seed: int = 0):
    """``count`` non-overlapping faces in frame pixels, with keypoints inside each box."""
    rng = np.random.default_rng(seed)
    faces = []
    cols = max(1, int(np.ceil(np.sqrt(count))))
    cell_w, cell_h = width / cols, height / cols
    for index in range(count):
        side = min(cell_w, cell_h) * rng.uniform(0.35, 0.6)
        x0 = (index % cols) * cell_w + rng.uniform(0.05, 0.3) * cell_w
        y0 = (index // cols) * cell_h + rng.uniform(0.05, 0.3) * cell_h
        box = np.array([x0, y0, x0 + side, y0 + side * 1.2], dtype=np.float64)
        kps = np.column_stack([x0 + side * rng.uniform(0.2, 0.8, 5), y0 + side * rng.uniform(0.3, 1.0, 5)])
        faces.append((box, kps, 0.9 - 0.01 * index))
    return faces


def to_canvas(faces, width, height, det_size):
    # Independent of the product's code: scale that fits the frame, rounded canvas size, and
    # cv2.resize's pixel-centre convention (frame x -> (x + 0.5) * scale - 0.5 on the canvas).
    scale = min(det_size[0] / width, det_size[1] / height)
    sx = round(width * scale) / width
    sy = round(height * scale) / height
    factor = np.array([sx, sy])

    def mapped(points):
        return (points + 0.5) * factor - 0.5

    return [
        (mapped(box.reshape(2, 2)).reshape(4), None if kps is None else mapped(kps), score)
        for box, kps, score in faces
    ]


@pytest.mark.parametrize("form", [9, 6, 15, 10])
@pytest.mark.parametrize(
    ("frame_size", "det_size"),
    [
        ((640, 480), (640, 640)),
        ((1920, 1080), (640, 640)),
        ((720, 1280), (640, 640)),
        ((500, 333), (320, 320)),
        ((1280, 720), (640, 384)),
    ],
)
@pytest.mark.parametrize("count", [0, 1, 5])
def test_decodes_placed_faces_exactly(tmp_path, form, frame_size, det_size, count):
    width, height = frame_size
    faces = frame_faces(width, height, count, seed=count + width)
    path = tmp_path / "det_10g.onnx"
    build_constant_detector(path, to_canvas(faces, width, height, det_size), det_size=det_size, form=form)
    detector = load_detector(path, det_size)
    found = detector.detect(np.zeros((height, width, 3), np.uint8))
    assert len(found) == count
    by_score = sorted(faces, key=lambda face: -face[2])
    for face, (box, kps, score) in zip(found, by_score, strict=True):
        np.testing.assert_allclose(face.bbox, box, atol=0.02)  # float32 at 1080p: well under a pixel
        assert face.score == pytest.approx(score, abs=1e-6)
        if form in (9, 15):
            np.testing.assert_allclose(face.kps, kps, atol=0.02)
        else:
            assert face.kps is None


def test_batch_axis_outputs_decode_the_same(tmp_path):
    faces = frame_faces(800, 600, 3)
    path = tmp_path / "det.onnx"
    build_constant_detector(path, to_canvas(faces, 800, 600, (640, 640)), batch_axis=True)
    found = load_detector(path, (640, 640)).detect(np.zeros((600, 800, 3), np.uint8))
    assert len(found) == 3
    np.testing.assert_allclose(
        sorted(f.bbox[0] for f in found), sorted(box[0] for box, _, _ in faces), atol=0.02
    )


def test_scores_below_threshold_are_dropped(tmp_path):
    faces = [(np.array([100, 100, 200, 220.0]), None, 0.45), (np.array([300, 100, 400, 220.0]), None, 0.7)]
    path = tmp_path / "det.onnx"
    build_constant_detector(path, faces)
    found = load_detector(path, (640, 640)).detect(np.zeros((640, 640, 3), np.uint8))
    assert [round(f.score, 2) for f in found] == [0.7]


def test_content_detector_finds_drawn_faces_in_any_frame_size(tmp_path):
    colors = [(0, 0, 255), (0, 255, 0)]
    path = tmp_path / "det.onnx"
    build_color_key_detector(path, colors)
    detector = load_detector(path, (640, 640))
    frame = np.full((480, 640, 3), 128, np.uint8)
    draw_square_face(frame, colors[0], 40, 60, 120)
    draw_square_face(frame, colors[1], 400, 200, 160)
    found = sorted(detector.detect(frame), key=lambda f: f.bbox[0])
    assert len(found) == 2
    np.testing.assert_allclose(found[0].bbox, key_color_box(40, 60, 120), atol=0.5)
    np.testing.assert_allclose(found[1].bbox, key_color_box(400, 200, 160), atol=0.5)


def test_letterbox_keeps_aspect_ratio():
    box = letterbox_geometry(1080, 1920, (640, 640))
    assert (box.width, box.height) == (640, 360)
    assert box.scale_x == pytest.approx(1 / 3) and box.scale_y == pytest.approx(1 / 3)
    tall = letterbox_geometry(1280, 720, (640, 640))
    assert (tall.width, tall.height) == (360, 640)


def test_nms_keeps_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 100, 100], [5, 5, 105, 105], [200, 200, 300, 300]], np.float32)
    scores = np.array([0.8, 0.9, 0.7], np.float32)
    assert nms(boxes, scores, 0.4) == [1, 2]


@pytest.mark.parametrize("frame_size", [(1920, 1080), (720, 1280), (640, 640), (300, 200)])
def test_preprocess_matches_insightface_normalisation(tmp_path, frame_size):
    path = tmp_path / "det.onnx"
    build_constant_detector(path, [])
    detector = load_detector(path, (640, 640))
    rng = np.random.default_rng(1)
    # A tall frame after a wide one: rows left over from the previous frame must be cleared.
    detector.preprocess(rng.integers(0, 256, (1080, 1920, 3), dtype=np.uint8))
    width, height = frame_size
    frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    blob, box = detector.preprocess(frame)
    canvas = np.zeros((640, 640, 3), np.float32)
    canvas[: box.height, : box.width] = cv2.resize(frame, (box.width, box.height))
    expected = ((canvas[..., ::-1] - 127.5) / 128.0).transpose(2, 0, 1)[None]
    assert blob.shape == (1, 3, 640, 640) and blob.dtype == np.float32
    np.testing.assert_allclose(blob, expected, atol=1e-6)


def test_detections_map_back_to_the_frame_with_pixel_centres(tmp_path):
    """Markers at known frame positions, through the product's real resize, found on the
    canvas and mapped back, land where they were drawn (within 0.1 px at 1080p)."""
    path = tmp_path / "det.onnx"
    build_constant_detector(path, [])
    detector = load_detector(path, (640, 640))
    height, width = 1080, 1920
    marks = [(101.3, 201.7), (960.0, 540.0), (1700.6, 900.2)]
    ys, xs = np.mgrid[:height, :width].astype(np.float64)
    frame = np.zeros((height, width), np.float64)
    for x, y in marks:  # smooth blobs, so resampling cannot move their centroids
        frame += 250.0 * np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * 8.0**2))
    blob, box = detector.preprocess(cv2.merge([np.round(frame).astype(np.uint8)] * 3))
    canvas = blob[0, 0, : box.height, : box.width].astype(np.float64) * 128.0 + 127.5
    cy, cx = np.mgrid[: box.height, : box.width].astype(np.float64)
    found = []
    for x, y in marks:
        near = (np.abs(cx - x * box.scale_x) < 12) & (np.abs(cy - y * box.scale_y) < 12)
        weight = np.where(near, canvas, 0.0)
        found.append([(weight * cx).sum() / weight.sum(), (weight * cy).sum() / weight.sum()])
    mapped = canvas_to_frame(np.array(found, np.float32), box)
    np.testing.assert_allclose(mapped, np.array(marks), atol=0.1)
    # what dividing by the scale alone gives: about a pixel towards the top-left
    naive = np.array(found) / np.array([box.scale_x, box.scale_y])
    assert (np.array(marks) - naive).min() > 0.9
