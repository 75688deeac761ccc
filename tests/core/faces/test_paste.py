"""ROI paste-back: blends only where the mask reaches, leaves every other pixel exact."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facedeck.core.faces.align import invert_affine
from facedeck.core.faces.paste import feathered_mask, paste_roi


def similarity(scale, angle_deg, tx, ty):
    angle = np.deg2rad(angle_deg)
    return np.array(
        [
            [scale * np.cos(angle), -scale * np.sin(angle), tx],
            [scale * np.sin(angle), scale * np.cos(angle), ty],
        ]
    )


@pytest.mark.parametrize(("scale", "angle"), [(0.5, 0.0), (0.25, 17.0), (1.5, -30.0)])
def test_pixels_without_mask_weight_stay_exact(scale, angle):
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    original = frame.copy()
    crop = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    matrix = similarity(scale, angle, -100 * scale, -80 * scale)  # frame -> crop
    mask = feathered_mask(128, 0.1, 0.15)
    x0, y0, x1, y1 = paste_roi(frame, crop, matrix, mask)
    weight = cv2.warpAffine(mask, invert_affine(matrix), (640, 480), flags=cv2.INTER_LINEAR, borderValue=0.0)
    untouched = weight == 0
    assert untouched.any() and (~untouched).any()
    assert np.array_equal(frame[untouched], original[untouched])
    # Full weight means the crop's own pixels.
    full = weight >= 1.0 - 1e-6
    warped = cv2.warpAffine(crop, invert_affine(matrix), (640, 480), flags=cv2.INTER_LINEAR)
    assert full.sum() > 100
    assert np.abs(frame[full].astype(int) - warped[full].astype(int)).max() <= 1
    # and the touched rectangle holds every changed pixel
    changed = np.argwhere((frame != original).any(axis=2))
    assert changed[:, 0].min() >= y0 and changed[:, 0].max() < y1
    assert changed[:, 1].min() >= x0 and changed[:, 1].max() < x1


def test_half_weight_blends_halfway():
    frame = np.full((200, 200, 3), 100, np.uint8)
    crop = np.full((128, 128, 3), 200, np.uint8)
    mask = np.full((128, 128), 0.5, np.float32)
    paste_roi(frame, crop, similarity(1.0, 0.0, -30, -30), mask)
    assert tuple(frame[90, 90]) == (150, 150, 150)


def test_face_partly_outside_the_frame_is_clipped():
    frame = np.zeros((100, 100, 3), np.uint8)
    crop = np.full((128, 128, 3), 255, np.uint8)
    box = paste_roi(
        frame, crop, similarity(1.0, 0.0, 60, 60), feathered_mask(128)
    )  # crop starts at (-60, -60)
    assert box[0] == 0 and box[1] == 0 and box[2] <= 100 and box[3] <= 100
    assert frame[20, 20].max() == 255


def test_feathered_mask_is_zero_at_the_edge_and_one_inside():
    mask = feathered_mask(128, 0.1, 0.15)
    assert mask[0].max() == 0 and mask[:, -1].max() == 0
    assert mask[64, 64] == pytest.approx(1.0)
    assert not mask.flags.writeable
