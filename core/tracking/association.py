"""Association of tracks to detections: IoU first, then centre distance for fast motion."""

from __future__ import annotations

import math

import numpy as np


def box_size(bbox: np.ndarray) -> float:
    return float(math.sqrt(max(bbox[2] - bbox[0], 1.0) * max(bbox[3] - bbox[1], 1.0)))


def _iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of ``a`` (n, 4) with every box of ``b`` (m, 4)."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def associate(
    track_boxes: np.ndarray, det_boxes: np.ndarray, iou_min: float, center_max: float
) -> list[tuple[int, int]]:
    """Greedy best-first matching of predicted track boxes to detection boxes.

    First by IoU (at least ``iou_min``); the rest by centre distance in face sizes (at most
    ``center_max``, sizes within a factor of two), which catches fast motion where the
    boxes no longer overlap. Returns ``(track index, detection index)`` pairs.
    """
    if len(track_boxes) == 0 or len(det_boxes) == 0:
        return []
    pairs: list[tuple[int, int]] = []
    used_t: set[int] = set()
    used_d: set[int] = set()
    iou = _iou_matrix(track_boxes, det_boxes)
    for flat in np.argsort(-iou, axis=None):
        t, d = divmod(int(flat), iou.shape[1])
        if iou[t, d] < iou_min:
            break
        if t not in used_t and d not in used_d:
            pairs.append((t, d))
            used_t.add(t)
            used_d.add(d)
    candidates = []
    for t, tbox in enumerate(track_boxes):
        if t in used_t:
            continue
        t_size = box_size(tbox)
        t_center = (tbox[:2] + tbox[2:]) / 2.0
        for d, dbox in enumerate(det_boxes):
            if d in used_d:
                continue
            d_size = box_size(dbox)
            if not 0.5 <= d_size / t_size <= 2.0:
                continue
            distance = float(np.linalg.norm((dbox[:2] + dbox[2:]) / 2.0 - t_center)) / math.sqrt(
                t_size * d_size
            )
            if distance <= center_max:
                candidates.append((distance, t, d))
    for _, t, d in sorted(candidates):
        if t not in used_t and d not in used_d:
            pairs.append((t, d))
            used_t.add(t)
            used_d.add(d)
    return pairs
