"""Optical flow on a small grey patch around a face: the similarity that moves it to the next frame."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypedDict

import cv2
import numpy as np


class _LKParams(TypedDict):
    """The keyword arguments of cv2.calcOpticalFlowPyrLK that the flow sets."""

    winSize: tuple[int, int]
    maxLevel: int
    criteria: tuple[int, int, float]


# Optical flow parameters. The patch is at most ``flow_face_size`` px across the face, so
# a 15 px window on 3 pyramid levels follows motion of about a quarter face per frame.
_LK_PARAMS: _LKParams = {
    "winSize": (15, 15),
    "maxLevel": 3,
    "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03),
}
_MAX_FLOW_POINTS = 40
_REFRESH_FLOW_POINTS = 20  # tracked points are reused until fewer than this are left
_MIN_FLOW_POINTS = 6
_FB_MAX_ERROR = 0.7  # forward-backward error (patch px) above which a flow point is dropped
_RANSAC_THRESHOLD = 1.0  # patch px
_REGION_MARGIN = 0.5  # flow patch = face box grown by this fraction of its size on each side
_BOX_INSET = 0.1  # flow points come from the box shrunk by this fraction (skip the background)


@dataclass
class Patch:
    """A grey, possibly downscaled copy of one frame region, for optical flow on the next frame."""

    image: np.ndarray
    region: tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels, sides multiples of factor
    factor: int  # frame px per patch px (integer: INTER_AREA then is a cheap box filter)
    face_size: float  # the face's size when the region was chosen
    frame_index: int

    # Patch pixel j averages frame pixels [k*j, k*j + k): centres map with a half-pixel shift.
    def to_patch(self, points: np.ndarray) -> np.ndarray:
        return (points - np.asarray(self.region[:2], dtype=np.float64) + 0.5) / self.factor - 0.5

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, dtype=np.float64) + 0.5) * self.factor - 0.5 + self.region[:2]


def move_box(bbox: np.ndarray, linear: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """An axis-aligned box moved by a similarity: centre transformed, sides scaled."""
    scale = math.sqrt(abs(float(np.linalg.det(linear))))
    center = linear @ ((bbox[:2] + bbox[2:]) / 2.0) + offset
    half = (bbox[2:] - bbox[:2]) * scale / 2.0
    return np.concatenate([center - half, center + half])


def flow_similarity(
    previous: Patch | None,
    points: np.ndarray | None,
    bbox: np.ndarray,
    frame_bgr: np.ndarray,
    frame_index: int,
) -> tuple[str, np.ndarray | None, Patch | None, np.ndarray | None]:
    """("moved", 2x3 similarity in frame px), ("lost", None) or ("untrackable", None).

    ``previous`` is the track's patch, ``points`` its flow points (frame px) on it and
    ``bbox`` its box. The last two items returned are the patch and the surviving points
    to leave on the track for the next frame.
    """
    if previous is None or previous.frame_index != frame_index - 1:
        return "untrackable", None, previous, points
    # Points from inside the face box only: the background does not move with the face.
    inset = _BOX_INSET * (bbox[2:] - bbox[:2])
    low, high = bbox[:2] + inset, bbox[2:] - inset
    if points is not None:
        points = points[np.all((points >= low) & (points <= high), axis=1)]
    if points is None or len(points) < _REFRESH_FLOW_POINTS:
        mask = np.zeros(previous.image.shape, dtype=np.uint8)
        mx0, my0 = np.maximum(previous.to_patch(low).round().astype(int), 0)
        mx1, my1 = np.maximum(previous.to_patch(high).round().astype(int), 0)
        mask[my0:my1, mx0:mx1] = 255
        found = cv2.goodFeaturesToTrack(
            previous.image, _MAX_FLOW_POINTS, qualityLevel=0.01, minDistance=3, mask=mask, blockSize=5
        )
        if found is None or len(found) < _MIN_FLOW_POINTS:
            return "untrackable", None, None, None
        start = found.reshape(-1, 1, 2).astype(np.float32)
    else:
        start = previous.to_patch(points).astype(np.float32).reshape(-1, 1, 2)

    # reused as the next frame's patch while the face stays inside it
    current = patch_at(frame_bgr, previous.region, previous.factor, previous.face_size, frame_index)
    forward, status, _ = cv2.calcOpticalFlowPyrLK(previous.image, current.image, start, None, **_LK_PARAMS)
    backward, status_back, _ = cv2.calcOpticalFlowPyrLK(
        current.image, previous.image, forward, None, **_LK_PARAMS
    )
    error = np.linalg.norm((backward - start).reshape(-1, 2), axis=1)
    good = (status.reshape(-1) == 1) & (status_back.reshape(-1) == 1) & (error < _FB_MAX_ERROR)
    count = int(good.sum())
    # Most points must survive: after a cut or a full occlusion only chance matches do.
    if count < max(_MIN_FLOW_POINTS, len(start) // 2):
        return "lost", None, current, None
    before = previous.to_frame(start.reshape(-1, 2)[good])
    after = previous.to_frame(forward.reshape(-1, 2)[good])
    matrix, inliers = cv2.estimateAffinePartial2D(
        before, after, method=cv2.RANSAC, ransacReprojThreshold=_RANSAC_THRESHOLD * previous.factor
    )
    if matrix is None or inliers is None or int(inliers.sum()) < max(_MIN_FLOW_POINTS, count // 2):
        return "lost", None, current, None
    scale = math.sqrt(abs(float(np.linalg.det(matrix[:, :2]))))
    if not 0.8 <= scale <= 1.25:
        return "lost", None, current, None
    return "moved", matrix, current, after[inliers.reshape(-1) == 1]


def make_patch(
    frame_bgr: np.ndarray, bbox: np.ndarray, size: float, flow_face_size: int, frame_index: int
) -> Patch | None:
    """Grey patch of this frame around ``bbox`` (face ``size``), at most ``flow_face_size`` px per face."""
    height, width = frame_bgr.shape[:2]
    factor = max(1, math.ceil(size / flow_face_size))
    margin = _REGION_MARGIN * size
    x0 = max(0, int(math.floor(bbox[0] - margin)))
    y0 = max(0, int(math.floor(bbox[1] - margin)))
    x1 = min(width, int(math.ceil(bbox[2] + margin)))
    y1 = min(height, int(math.ceil(bbox[3] + margin)))
    x1 -= (x1 - x0) % factor
    y1 -= (y1 - y0) % factor
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None  # (almost) out of the frame
    return patch_at(frame_bgr, (x0, y0, x1, y1), factor, size, frame_index)


def patch_at(
    frame_bgr: np.ndarray, region: tuple[int, int, int, int], factor: int, face_size: float, frame_index: int
) -> Patch:
    """Grey copy of ``region``, shrunk by the integer ``factor``."""
    x0, y0, x1, y1 = region
    roi = frame_bgr[y0:y1, x0:x1]
    gray = cv2.cvtColor(roi, cv2.COLOR_BGR2GRAY) if roi.ndim == 3 else roi
    if factor > 1:
        size = ((x1 - x0) // factor, (y1 - y0) // factor)
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    return Patch(np.ascontiguousarray(gray), region, factor, face_size, frame_index)
