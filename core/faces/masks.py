"""Masks in crop space: the feathered face mask minus an optional mouth region."""

from __future__ import annotations

import cv2
import numpy as np

from .align import transform_points
from .landmarks import MOUTH_POINTS


def mouth_mask(
    landmarks: np.ndarray, matrix: np.ndarray, size: int, grow: float = 0.1, blur: float = 0.05
) -> np.ndarray:
    """Float32 ``size`` x ``size`` mask that is 1 over the target's mouth in crop space.

    The convex hull of the 106-point mouth landmarks, mapped through ``matrix`` (frame ->
    crop), grown by ``grow`` of the crop size and feathered by ``blur`` of it.
    """
    points = transform_points(landmarks[list(MOUTH_POINTS)], matrix).astype(np.float32)
    hull = cv2.convexHull(points).astype(np.int32)
    mask: np.ndarray = np.zeros((size, size), dtype=np.uint8)
    cv2.fillConvexPoly(mask, hull, 255, lineType=cv2.LINE_AA)
    grow_px = int(round(grow * size))
    if grow_px > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow_px + 1, 2 * grow_px + 1))
        mask = cv2.dilate(mask, kernel)
    result: np.ndarray = mask.astype(np.float32) / 255.0
    kernel_size = int(round(blur * size)) | 1
    if kernel_size > 1:
        result = cv2.GaussianBlur(result, (kernel_size, kernel_size), 0)
    return result


def without_mouth(face_mask: np.ndarray, mouth: np.ndarray) -> np.ndarray:
    """The face mask with the mouth region taken out (keeps the target's own mouth)."""
    return face_mask * (1.0 - mouth)
