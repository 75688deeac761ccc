"""Face alignment: similarity transforms from five keypoints onto the model templates."""

from __future__ import annotations

import cv2
import numpy as np

# InsightFace's ArcFace template for a 112x112 crop (DESIGN.md section 4).
ARCFACE_TEMPLATE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)

# The FFHQ template GFPGAN was trained on, in units of the crop size.
FFHQ_TEMPLATE_UNIT = np.array(
    [
        [0.37691676, 0.46864664],
        [0.62285697, 0.46912813],
        [0.50123859, 0.61331904],
        [0.39308822, 0.72541100],
        [0.61150205, 0.72490465],
    ],
    dtype=np.float32,
)


def arcface_template(size: int) -> np.ndarray:
    """The ArcFace template scaled to a ``size`` crop, as insightface's ``norm_crop`` does.

    Sizes that are multiples of 112 scale the template; others (128 for inswapper) scale
    by ``size / 128`` and shift right by ``8 * ratio`` pixels.
    """
    if size % 112 == 0:
        ratio = size / 112.0
        shift_x = 0.0
    else:
        ratio = size / 128.0
        shift_x = 8.0 * ratio
    template = ARCFACE_TEMPLATE_112 * ratio
    template[:, 0] += shift_x
    return template.astype(np.float32)


def ffhq_template(size: int = 512) -> np.ndarray:
    """The FFHQ (GFPGAN) template in pixels of a ``size`` crop."""
    return (FFHQ_TEMPLATE_UNIT * size).astype(np.float32)


def estimate_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (Umeyama, no reflection) mapping ``src`` onto ``dst``.

    Returns a 2x3 float64 matrix ``M`` with ``dst ~= M @ [x, y, 1]``.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    count = src.shape[0]
    src_mean = src.mean(axis=0)
    dst_mean = dst.mean(axis=0)
    src_centered = src - src_mean
    dst_centered = dst - dst_mean
    covariance = dst_centered.T @ src_centered / count
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.ones(2)
    if np.linalg.det(covariance) < 0:
        sign[1] = -1.0
    rotation = u @ np.diag(sign) @ vt
    src_variance = (src_centered**2).sum() / count
    scale = (singular * sign).sum() / src_variance if src_variance > 0 else 1.0
    matrix = np.zeros((2, 3), dtype=np.float64)
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def alignment_matrix(kps: np.ndarray, template: np.ndarray) -> np.ndarray:
    """The 2x3 matrix that maps frame pixels onto the crop the template describes."""
    return estimate_similarity(kps, template)


def warp_crop(frame: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Cut the ``size`` x ``size`` aligned crop out of ``frame`` (outside the frame: black,
    as the models were trained with insightface's crops)."""
    return cv2.warpAffine(frame, matrix, (size, size), flags=cv2.INTER_LINEAR)


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine matrix."""
    return cv2.invertAffineTransform(np.asarray(matrix, dtype=np.float64))


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine matrix to an ``(N, 2)`` array of points."""
    points = np.asarray(points, dtype=np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]
