"""Alignment: templates and similarity transforms follow the published maths."""

from __future__ import annotations

import numpy as np
import pytest

from facedeck.core.faces.align import (
    ARCFACE_TEMPLATE_112,
    FFHQ_TEMPLATE_UNIT,
    alignment_matrix,
    arcface_template,
    estimate_similarity,
    ffhq_template,
    transform_points,
)


def similarity(scale, angle_deg, tx, ty):
    angle = np.deg2rad(angle_deg)
    cos, sin = scale * np.cos(angle), scale * np.sin(angle)
    return np.array([[cos, -sin, tx], [sin, cos, ty]])


def test_templates_for_each_crop_size():
    np.testing.assert_allclose(arcface_template(112), ARCFACE_TEMPLATE_112)
    # inswapper's 128 crop: same template shifted 8 px right (insightface norm_crop)
    np.testing.assert_allclose(arcface_template(128), ARCFACE_TEMPLATE_112 + [8.0, 0.0])
    np.testing.assert_allclose(arcface_template(224), ARCFACE_TEMPLATE_112 * 2)
    np.testing.assert_allclose(arcface_template(256), (ARCFACE_TEMPLATE_112 + [8.0, 0.0]) * 2)
    np.testing.assert_allclose(ffhq_template(512), FFHQ_TEMPLATE_UNIT * 512)


@pytest.mark.parametrize(
    ("scale", "angle", "tx", "ty"), [(1, 0, 0, 0), (0.37, 12, -40, 9), (2.5, -75, 300, -120)]
)
def test_recovers_an_exact_similarity(scale, angle, tx, ty):
    truth = similarity(scale, angle, tx, ty)
    frame_points = np.random.default_rng(4).uniform(0, 500, (5, 2))
    crop_points = transform_points(frame_points, truth)
    np.testing.assert_allclose(estimate_similarity(frame_points, crop_points), truth, atol=1e-9)


def test_least_squares_fit_to_noisy_points_beats_perturbed_fits():
    rng = np.random.default_rng(5)
    kps = ARCFACE_TEMPLATE_112 * 3 + [200, 100] + rng.normal(0, 2, (5, 2))
    matrix = alignment_matrix(kps, ARCFACE_TEMPLATE_112)

    def residual(m):
        return np.sum((transform_points(kps, m) - ARCFACE_TEMPLATE_112) ** 2)

    best = residual(matrix)
    a, b = matrix[0, 0], matrix[1, 0]
    for _ in range(50):  # any other similarity fits worse
        da, db, dx, dy = rng.normal(0, [1e-3, 1e-3, 0.1, 0.1])
        other = np.array([[a + da, -(b + db), matrix[0, 2] + dx], [b + db, a + da, matrix[1, 2] + dy]])
        assert residual(other) > best
    # a similarity: equal scale on both axes, no shear, no reflection
    np.testing.assert_allclose(matrix[:, :2], [[a, -b], [b, a]], atol=1e-12)


def test_keypoints_on_the_template_give_the_identity():
    np.testing.assert_allclose(
        alignment_matrix(arcface_template(128), arcface_template(128)), [[1, 0, 0], [0, 1, 0]], atol=1e-9
    )
