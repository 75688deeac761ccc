"""Optical flow moves tracked faces between detections: it follows the image, rotation and zoom included."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.support.models.color_key_detector import key_color_kps
from tests.support.tracking_scenes import (
    BACKGROUND,
    BLUE,
    HEIGHT,
    SIDE,
    WIDTH,
    Recorder,
    compose,
    textured_face,
)


def test_tracking_follows_the_image_not_an_extrapolation(engine):
    # Changing speed and direction: constant velocity from the last two positions misses
    # by several px here, only following the texture gets it right.
    blue = textured_face(BLUE, seed=2)
    positions = [(int(260 + 100 * np.sin(i / 5.0)), int(150 + 80 * np.cos(i / 4.0))) for i in range(24)]
    recorder = Recorder(engine)
    tracker = recorder.tracker(detect_every=6)
    results = recorder.run(tracker, [compose([(blue, x, y)]) for x, y in positions])

    assert recorder.detect_frames == list(range(0, 24, 6))
    extrapolation_miss = []
    for index, ((x, y), faces) in enumerate(zip(positions, results, strict=True)):
        assert len(faces) == 1
        assert np.abs(faces[0].kps - key_color_kps(x, y, SIDE)).max() < 1.0, index
        if index >= 2:
            (x1, y1), (x2, y2) = positions[index - 2], positions[index - 1]
            extrapolation_miss.append(np.hypot(2 * x2 - x1 - x, 2 * y2 - y1 - y))
    assert max(extrapolation_miss) > 5.0  # the path really is not linear


def test_a_plain_face_falls_back_to_constant_velocity_without_lag(engine):
    # A flat square gives optical flow nothing to hold on to: that is no reason to
    # re-detect (it is not lost), the track moves by its velocity and the smoother with it.
    plain = np.full((SIDE, SIDE, 3), BLUE, dtype=np.uint8)
    positions = [(40 + 8 * i, 100 + 3 * i) for i in range(27)]
    recorder = Recorder(engine)
    results = recorder.run(recorder.tracker(detect_every=3), [compose([(plain, x, y)]) for x, y in positions])

    assert recorder.detect_frames == list(range(0, 27, 3))
    for index in range(6, 27):  # once two positions give a velocity and the smoother settles
        x, y = positions[index]
        assert np.abs(results[index][0].kps - key_color_kps(x, y, SIDE)).max() < 1.0, index


def test_rotation_and_zoom_move_the_keypoints(engine):
    # Tracking is a similarity, not just a shift: turn 1.5 degrees and grow 1 % per frame,
    # with no detection after the first frame.
    x0, y0 = 270, 190
    layer = np.zeros_like(BACKGROUND)
    layer[y0 : y0 + SIDE, x0 : x0 + SIDE] = textured_face(BLUE, seed=20)
    mask = np.zeros(BACKGROUND.shape[:2], np.float32)
    mask[y0 : y0 + SIDE, x0 : x0 + SIDE] = 1.0
    center = (x0 + SIDE / 2 - 0.5, y0 + SIDE / 2 - 0.5)
    frames, matrices = [], []
    for i in range(16):
        matrix = cv2.getRotationMatrix2D(center, 1.5 * i, 1.01**i)
        matrix[:, 2] += (3 * i, 2 * i)
        face = cv2.warpAffine(layer, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)
        alpha = cv2.warpAffine(mask, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)[..., None]
        frames.append((BACKGROUND * (1 - alpha) + face * alpha).round().astype(np.uint8))
        matrices.append(matrix)
    recorder = Recorder(engine)
    results = recorder.run(recorder.tracker(detect_every=100, smoothing=False), frames)

    assert recorder.detect_frames == [0]
    start = key_color_kps(x0, y0, SIDE).astype(np.float64)
    for faces, matrix in zip(results, matrices, strict=True):
        truth = start @ matrix[:, :2].T + matrix[:, 2]
        assert np.abs(faces[0].kps - truth).max() < 1.0  # 22 degrees and x1.16 by the end
        size = SIDE * np.sqrt(abs(np.linalg.det(matrix[:, :2])))
        assert faces[0].bbox[2] - faces[0].bbox[0] == pytest.approx(size, abs=1.0)
