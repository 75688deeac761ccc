"""Stand-in for SCRFD ``det_10g.onnx``, InsightFace's face detector: the constant detector.

Contract (DESIGN.md section 4): input ``input.1`` float32 ``[1, 3, 'h', 'w']``, the
product's blob (RGB, ``(x - 127.5) / 128``; :func:`detector_blob`); outputs in SCRFD order
(scores, box distances, keypoint distances; one per stride), each ``[N_s, k]`` (``[1, N_s,
k]`` with a batch axis). Form 9 (strides 8/16/32, two anchors, keypoints) is det_10g and
carries its real output names :data:`DET_10G_OUTPUT_NAMES`; forms 6, 10 and 15 are the
other SCRFD exports.

:func:`build_constant_detector` answers chosen faces whatever the image. The shared pieces
(:class:`DetectorInfo`, :class:`FaceSpec`, the forms, :func:`template_kps`) also serve the
colour-key detector in :mod:`tests.support.models.color_key_detector`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from facedeck.core.faces.align import ARCFACE_TEMPLATE_112
from tests.support.models.graph import F32, Graph, vi, zero_from

# The real file name (DESIGN.md section 4).
DETECTOR_FILE = "det_10g.onnx"

# det_10g's real output names, in output order (scores, boxes, keypoints; strides 8/16/32).
DET_10G_OUTPUT_NAMES: tuple[str, ...] = ("448", "471", "494", "451", "474", "497", "454", "477", "500")

_DETECTOR_FORMS: dict[int, tuple[tuple[int, ...], int, bool]] = {
    # form: (strides, anchors per cell, has keypoints)
    6: ((8, 16, 32), 2, False),
    9: ((8, 16, 32), 2, True),
    10: ((8, 16, 32, 64, 128), 1, False),
    15: ((8, 16, 32, 64, 128), 1, True),
}


class FaceSpec(NamedTuple):
    """One face a constant detector reports, in detector-input (letterboxed canvas) pixels.

    ``box`` is float32 ``[x1, y1, x2, y2]``; ``kps`` float32 ``(5, 2)`` or ``None`` (only
    for the keypoint-less forms 6 and 10); ``score`` the value at its anchor.
    """

    box: np.ndarray
    kps: np.ndarray | None
    score: float


@dataclass
class DetectorInfo:
    """What a built SCRFD stand-in answers.

    ``det_size`` is ``(width, height)`` as in insightface's ``input_size``. For the
    constant detector it is the canvas the constants are shaped for (the model only
    answers correctly for inputs of exactly that size); the colour-key detector accepts
    any size (multiples of 32, of 128 for forms 10/15) and keeps the default here.
    ``anchor_slots`` gives, per face of a constant detector, ``(stride, flat anchor index)``
    in that stride's outputs.
    """

    path: Path
    kind: str  # "constant" or "color_key"
    form: int
    det_size: tuple[int, int]
    strides: tuple[int, ...]
    num_anchors: int
    use_kps: bool
    batch_axis: bool
    input_name: str
    output_names: tuple[str, ...]
    faces: list[FaceSpec] = field(default_factory=list)
    anchor_slots: list[tuple[int, int]] = field(default_factory=list)
    background_score: float = 0.02
    face_score: float | None = None
    colors: tuple[tuple[int, int, int], ...] = ()
    tolerance: float | None = None
    min_area: float | None = None
    score_stride: int | None = None

    def anchor_count(self, stride: int, width: int | None = None, height: int | None = None) -> int:
        """Rows of one output of ``stride`` for an input of ``width`` x ``height`` (default det_size)."""
        width = self.det_size[0] if width is None else width
        height = self.det_size[1] if height is None else height
        return (height // stride) * (width // stride) * self.num_anchors


def detector_form(form: int) -> tuple[tuple[int, ...], int, bool]:
    """(strides, anchors per cell, has keypoints) of SCRFD ``form`` (its number of outputs)."""
    if form not in _DETECTOR_FORMS:
        raise ValueError(f"detector form must be one of {sorted(_DETECTOR_FORMS)}, got {form}")
    return _DETECTOR_FORMS[form]


def detector_output_names(form: int) -> tuple[str, ...]:
    """det_10g's names for form 9; ``score_8``/``bbox_8``/``kps_8``-style names otherwise."""
    if form == 9:
        return DET_10G_OUTPUT_NAMES
    strides, _, use_kps = detector_form(form)
    groups = ("score", "bbox", "kps") if use_kps else ("score", "bbox")
    return tuple(f"{group}_{stride}" for group in groups for stride in strides)


def template_kps(box: Sequence[float]) -> np.ndarray:
    """Keypoints placing the ArcFace 112 template onto ``box`` (x and y scaled separately)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    unit = ARCFACE_TEMPLATE_112.astype(np.float64) / 112.0
    kps = np.empty((5, 2), dtype=np.float64)
    kps[:, 0] = x1 + (x2 - x1) * unit[:, 0]
    kps[:, 1] = y1 + (y2 - y1) * unit[:, 1]
    return kps.astype(np.float32)


def build_constant_detector(
    path: str | Path,
    faces: Sequence[tuple[Sequence[float], np.ndarray | Sequence[Sequence[float]] | None, float]],
    det_size: tuple[int, int] = (640, 640),
    form: int = 9,
    batch_axis: bool = False,
    background_score: float = 0.02,
) -> DetectorInfo:
    """SCRFD stand-in whose outputs decode to ``faces`` whatever the input.

    Input ``input.1`` float32 ``[1, 3, 'h', 'w']``; outputs in SCRFD order (scores, box
    distances, keypoint distances per stride), each ``[N_s, k]`` (``[1, N_s, k]`` with
    ``batch_axis``), with ``N_s = (H // s) * (W // s) * A`` for ``det_size = (W, H)``.

    Each face is ``(box_xyxy, kps_5x2_or_None, score)`` in detector-input pixels. It sits
    at one anchor of the smallest stride: the cell whose centre is nearest the box centre
    (``floor(c / s + 0.5)``, clamped to the grid), first free anchor of that cell (if that
    cell is full, the nearest cell of the next stride, and so on). Its distances decode
    exactly back to the box and keypoints. ``kps=None`` on a keypoint form gets
    :func:`template_kps` of the box (recorded in the returned faces). Every other anchor
    scores ``background_score`` with zero distances. The constants only fit inputs of
    exactly ``det_size``; the graph adds ``0 * ReduceSum(input)`` so it consumes the input.
    """
    strides, num_anchors, use_kps = detector_form(form)
    width, height = int(det_size[0]), int(det_size[1])
    scores = {
        s: np.full(((height // s) * (width // s) * num_anchors, 1), background_score, np.float32)
        for s in strides
    }
    boxes = {s: np.zeros((len(scores[s]), 4), np.float32) for s in strides}
    kps_out = {s: np.zeros((len(scores[s]), 10), np.float32) for s in strides}
    taken: set[tuple[int, int]] = set()
    specs: list[FaceSpec] = []
    slots: list[tuple[int, int]] = []

    for box_in, kps_in, score in faces:
        box = np.asarray(box_in, dtype=np.float64).reshape(4)
        if kps_in is not None:
            kps = np.asarray(kps_in, dtype=np.float64).reshape(5, 2)
        elif use_kps:
            kps = template_kps(box).astype(np.float64)
        else:
            kps = None
        cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
        slot = None
        for s in strides:
            grid_w, grid_h = width // s, height // s
            col = int(np.clip(np.floor(cx / s + 0.5), 0, grid_w - 1))
            row = int(np.clip(np.floor(cy / s + 0.5), 0, grid_h - 1))
            for a in range(num_anchors):
                index = (row * grid_w + col) * num_anchors + a
                if (s, index) not in taken:
                    slot = (s, index, col * s, row * s)
                    break
            if slot is not None:
                break
        if slot is None:
            raise ValueError(f"no free anchor left for the face at {box.tolist()}")
        s, index, ax, ay = slot
        taken.add((s, index))
        scores[s][index, 0] = score
        boxes[s][index] = [(ax - box[0]) / s, (ay - box[1]) / s, (box[2] - ax) / s, (box[3] - ay) / s]
        if kps is not None and use_kps:
            kps_out[s][index] = ((kps - np.array([ax, ay])) / s).reshape(10)
        specs.append(
            FaceSpec(
                box=box.astype(np.float32),
                kps=None if kps is None else kps.astype(np.float32),
                score=float(score),
            )
        )
        slots.append((s, index))

    g = Graph()
    zero = zero_from(g, "input.1")
    names = detector_output_names(form)
    tables = [scores[s] for s in strides] + [boxes[s] for s in strides]
    if use_kps:
        tables += [kps_out[s] for s in strides]
    outputs = []
    for name, table in zip(names, tables, strict=True):
        value = table[None] if batch_axis else table
        g.op("Add", g.f32(value), zero, out=name)
        outputs.append(vi(name, F32, value.shape))
    out_path = g.save(path, [vi("input.1", F32, [1, 3, "h", "w"])], outputs, "constant_scrfd")
    return DetectorInfo(
        path=out_path,
        kind="constant",
        form=form,
        det_size=(width, height),
        strides=strides,
        num_anchors=num_anchors,
        use_kps=use_kps,
        batch_axis=batch_axis,
        input_name="input.1",
        output_names=names,
        faces=specs,
        anchor_slots=slots,
        background_score=float(background_score),
    )


def detector_blob(image_bgr: np.ndarray) -> np.ndarray:
    """The SCRFD input blob for an (already letterboxed) BGR uint8 image: RGB, (x - 127.5) / 128."""
    rgb = image_bgr[:, :, ::-1].astype(np.float32)
    return ((rgb - 127.5) / 128.0).transpose(2, 0, 1)[None].copy()
