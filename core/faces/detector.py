"""SCRFD face detector (InsightFace ``det_10g.onnx`` and its family), see DESIGN.md section 4."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime

from ..models.files import Role
from ..models.manifest import ModelSpec
from .face import Face
from .onnx_model import OnnxModel, fixed_dim

log = logging.getLogger(__name__)

INPUT_NAME = "input.1"

# outputs -> (strides, anchors per cell, has keypoints)
OUTPUT_LAYOUTS: dict[int, tuple[tuple[int, ...], int, bool]] = {
    6: ((8, 16, 32), 2, False),
    9: ((8, 16, 32), 2, True),
    10: ((8, 16, 32, 64, 128), 1, False),
    15: ((8, 16, 32, 64, 128), 1, True),
}


@dataclass(frozen=True)
class Letterbox:
    """How a frame was scaled into the top-left corner of the detector's canvas."""

    scale_x: float
    scale_y: float
    width: int
    height: int


def canvas_to_frame(points: np.ndarray, box: Letterbox) -> np.ndarray:
    """Map ``(..., 2)`` canvas coordinates back to the frame with cv2.resize's pixel-centre convention.

    ``cv2.resize`` aligns pixel centres, not pixel edges: canvas pixel ``c`` samples the
    frame at ``(c + 0.5) / scale - 0.5``. Dividing by the scale alone (as insightface does)
    shifts every point towards the top-left by ``0.5 * (1 / scale - 1)`` px, about 1 px
    when a 1080p frame is detected on a 640 canvas.
    """
    scale = np.array([box.scale_x, box.scale_y], dtype=np.float32)
    return (points + np.float32(0.5)) / scale - np.float32(0.5)


def letterbox_geometry(frame_height: int, frame_width: int, canvas: tuple[int, int]) -> Letterbox:
    """Scale that fits the frame inside ``canvas`` (width, height) keeping its aspect ratio."""
    canvas_width, canvas_height = canvas
    scale = min(canvas_width / frame_width, canvas_height / frame_height)
    width = max(1, min(canvas_width, int(round(frame_width * scale))))
    height = max(1, min(canvas_height, int(round(frame_height * scale))))
    return Letterbox(width / frame_width, height / frame_height, width, height)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """Greedy non-maximum suppression; returns kept indices, best score first."""
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    order = scores.argsort()[::-1]
    keep: list[int] = []
    while order.size > 0:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        inter_w = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]))
        inter_h = np.maximum(0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]))
        inter = inter_w * inter_h
        union = areas[best] + areas[rest] - inter
        iou = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
        order = rest[iou <= iou_threshold]
    return keep


class _Canvas:
    """One thread's reusable detector input for one canvas size (the session itself is shared)."""

    def __init__(self, width: int, height: int) -> None:
        self.image = np.zeros((height, width, 3), dtype=np.uint8)
        # padding value: a zero pixel normalised, set once; rows a frame fills are rewritten
        self.blob = np.full((1, 3, height, width), -127.5 / 128.0, dtype=np.float32)
        self.filled_rows = 0


class FaceDetector(OnnxModel):
    """Runs SCRFD on a letterboxed frame and decodes boxes and keypoints in frame pixels.

    One detector serves every thread and every job: the canvas size and the score
    threshold are per call, and each thread letterboxes into buffers of its own.
    """

    role = Role.DETECTOR

    def __init__(
        self,
        session: onnxruntime.InferenceSession,
        path: Path,
        spec: ModelSpec | None = None,
        *,
        input_size: tuple[int, int] = (640, 640),
        score_threshold: float = 0.5,
        nms_threshold: float = 0.4,
    ) -> None:
        super().__init__(session, path, spec)
        layout = OUTPUT_LAYOUTS.get(len(self.output_names))
        if layout is None:  # a manifest whose contract allows other counts than SCRFD's
            raise self.fault(f"has {len(self.output_names)} outputs; SCRFD decoding needs 6, 9, 10 or 15")
        self.strides, self.anchors_per_cell, self.has_keypoints = layout
        # A model exported with a fixed input size dictates the canvas.
        shape = session.get_inputs()[0].shape
        fixed_h, fixed_w = fixed_dim(shape[2]), fixed_dim(shape[3])
        self.fixed_size = (fixed_w, fixed_h) if fixed_h and fixed_w else None
        self.input_size = self.canvas_size(input_size)
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        # Anchor grids depend only on the canvas: computed once, shared by threads (a race
        # computes the same array twice, which is harmless).
        self._anchor_cache: dict[tuple[int, int, int], np.ndarray] = {}
        self._local = threading.local()

    def canvas_size(self, requested: int | tuple[int, int]) -> tuple[int, int]:
        """The (width, height) canvas used for a requested size (a fixed-size model wins)."""
        if self.fixed_size is not None:
            return self.fixed_size
        if isinstance(requested, int):
            return (requested, requested)
        return (int(requested[0]), int(requested[1]))

    def _canvas(self, size: tuple[int, int]) -> _Canvas:
        canvases: dict[tuple[int, int], _Canvas] | None = getattr(self._local, "canvases", None)
        if canvases is None:
            canvases = self._local.canvases = {}
        canvas = canvases.get(size)
        if canvas is None:
            canvas = canvases[size] = _Canvas(*size)
        return canvas

    def _anchor_centers(self, height: int, width: int, stride: int) -> np.ndarray:
        key = (height, width, stride)
        centers = self._anchor_cache.get(key)
        if centers is None:
            grid_y, grid_x = np.mgrid[:height, :width]
            centers = np.stack([grid_x, grid_y], axis=-1).reshape(-1, 2).astype(np.float32) * stride
            if self.anchors_per_cell > 1:
                centers = np.repeat(centers, self.anchors_per_cell, axis=0)
            self._anchor_cache[key] = centers
        return centers

    def preprocess(
        self, frame_bgr: np.ndarray, input_size: int | tuple[int, int] | None = None
    ) -> tuple[np.ndarray, Letterbox]:
        """Letterbox into the top-left of a zero canvas and normalise: RGB, (x - 127.5) / 128.

        Only the rows the frame occupies are converted; the rest of the blob keeps the
        padding value. The blob belongs to the calling thread and is reused by its next call.
        """
        size = self.input_size if input_size is None else self.canvas_size(input_size)
        frame_h, frame_w = frame_bgr.shape[:2]
        box = letterbox_geometry(frame_h, frame_w, size)
        buffers = self._canvas(size)
        rows = buffers.image[: box.height]
        rows[:, box.width :] = 0
        # INTER_LINEAR as insightface does: the detector was trained on such inputs.
        rows[:, : box.width] = cv2.resize(frame_bgr, (box.width, box.height), interpolation=cv2.INTER_LINEAR)
        # One strided pass HWC/BGR -> CHW/RGB with the scale, one in-place shift: measured
        # several times faster than cv2.dnn.blobFromImage on the whole canvas.
        target = buffers.blob[0, :, : box.height]
        np.multiply(rows.transpose(2, 0, 1)[::-1], np.float32(1.0 / 128.0), out=target, dtype=np.float32)
        target -= np.float32(127.5 / 128.0)
        if box.height < buffers.filled_rows:
            buffers.blob[0, :, box.height : buffers.filled_rows] = -127.5 / 128.0
        buffers.filled_rows = box.height
        return buffers.blob, box

    def detect(
        self,
        frame_bgr: np.ndarray,
        max_faces: int = 0,
        *,
        input_size: int | tuple[int, int] | None = None,
        score_threshold: float | None = None,
    ) -> list[Face]:
        """Faces in ``frame_bgr``, highest score first (at most ``max_faces`` when it is > 0)."""
        size = self.input_size if input_size is None else self.canvas_size(input_size)
        blob, box = self.preprocess(frame_bgr, size)
        outputs = self.run(self.output_names, {INPUT_NAME: blob})
        return self.decode(outputs, box, max_faces=max_faces, canvas=size, score_threshold=score_threshold)

    def decode(
        self,
        outputs: list[np.ndarray],
        box: Letterbox,
        max_faces: int = 0,
        *,
        canvas: tuple[int, int] | None = None,
        score_threshold: float | None = None,
    ) -> list[Face]:
        """Turn raw SCRFD outputs into faces in frame coordinates."""
        threshold = self.score_threshold if score_threshold is None else score_threshold
        level_count = len(self.strides)
        canvas_w, canvas_h = canvas or self.input_size
        all_scores, all_boxes, all_kps = [], [], []
        for level, stride in enumerate(self.strides):
            scores = outputs[level].reshape(-1)
            keep = np.nonzero(scores >= threshold)[0]
            if keep.size == 0:
                continue
            centers = self._anchor_centers(canvas_h // stride, canvas_w // stride, stride)[keep]
            distances = outputs[level + level_count].reshape(-1, 4)[keep] * stride
            boxes = np.concatenate([centers - distances[:, :2], centers + distances[:, 2:]], axis=1)
            all_scores.append(scores[keep])
            all_boxes.append(boxes)
            if self.has_keypoints:
                level_kps = outputs[level + 2 * level_count].reshape(-1, 10)[keep] * stride
                all_kps.append(level_kps.reshape(-1, 5, 2) + centers[:, None, :])
        if not all_scores:
            return []
        scores = np.concatenate(all_scores).astype(np.float32)
        boxes = canvas_to_frame(np.concatenate(all_boxes).astype(np.float32).reshape(-1, 2, 2), box)
        boxes = boxes.reshape(-1, 4)
        kps = canvas_to_frame(np.concatenate(all_kps).astype(np.float32), box) if all_kps else None
        kept = nms(boxes, scores, self.nms_threshold)
        if max_faces > 0:
            kept = kept[:max_faces]
        return [
            Face(bbox=boxes[index], score=float(scores[index]), kps=None if kps is None else kps[index])
            for index in kept
        ]
