"""Small stand-in ONNX models with the exact contracts of the real InsightFace family.

The real weights cannot be downloaded in tests (DESIGN.md section 7), so these builders
write tiny models with exactly the real input/output names, shapes and dtypes
(DESIGN.md section 4) using ``onnx.helper``; the product loads them through its normal
code path. Every builder writes one file and returns a dataclass describing what the
model will answer, so tests can check numbers exactly.

Importable from tests as ``from model_factory import ...`` (``tests/conftest.py`` puts
``tests/`` on ``sys.path``); ``bench/`` scripts add ``tests/`` to ``sys.path`` themselves.

Models at a glance:

* :func:`build_constant_detector` -- SCRFD (``det_10g.onnx``) whose outputs decode to
  chosen faces whatever the image.
* :func:`build_color_key_detector` -- SCRFD that finds filled squares of key colours
  (see :func:`draw_square_face`), for tests with moving faces.
* :func:`build_recognizer` -- ArcFace (``w600k_r50.onnx``); embedding is a fixed linear
  map of the crop's mean colour.
* :func:`build_swapper` -- inswapper (``inswapper_128.onnx`` / ``_fp16``) with an emap
  as the last initializer; identity, flat latent colour or latent tint.
* :func:`build_landmarks` -- ``2d106det.onnx`` answering a fixed 106-point layout.
* :func:`build_restorer` -- GFPGAN v1.4 (``GFPGANv1.4.onnx``), identity or constant.
* :func:`build_model_set` -- all of them under their real file names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from facedeck.core.faces.align import ARCFACE_TEMPLATE_112

OPSET = 17
IR_VERSION = 8  # loads in onnxruntime 1.14+ (opset 17 needs IR >= 8)

# Real file names (DESIGN.md section 4).
DETECTOR_FILE = "det_10g.onnx"
RECOGNIZER_FILE = "w600k_r50.onnx"
SWAPPER_FILE = "inswapper_128.onnx"
SWAPPER_FP16_FILE = "inswapper_128_fp16.onnx"
LANDMARKS_FILE = "2d106det.onnx"
RESTORER_FILE = "GFPGANv1.4.onnx"

# det_10g's real output names, in output order (scores, boxes, keypoints; strides 8/16/32).
DET_10G_OUTPUT_NAMES: tuple[str, ...] = ("448", "471", "494", "451", "474", "497", "454", "477", "500")
# w600k_r50's real output name.
RECOGNIZER_OUTPUT_NAME = "683"

# Saturated BGR key colours far from any grey and from the black letterbox padding
# (each differs from black by 255 in at least one channel).
KEY_COLORS: tuple[tuple[int, int, int], ...] = (
    (255, 0, 0),  # blue
    (0, 255, 0),  # green
    (0, 0, 255),  # red
    (0, 255, 255),  # yellow
    (255, 0, 255),  # magenta
    (255, 255, 0),  # cyan
)

MOUTH_INDICES: tuple[int, ...] = tuple(range(52, 72))

_DETECTOR_FORMS: dict[int, tuple[tuple[int, ...], int, bool]] = {
    # form: (strides, anchors per cell, has keypoints)
    6: ((8, 16, 32), 2, False),
    9: ((8, 16, 32), 2, True),
    10: ((8, 16, 32, 64, 128), 1, False),
    15: ((8, 16, 32, 64, 128), 1, True),
}

_F32 = TensorProto.FLOAT
_F16 = TensorProto.FLOAT16
_F64 = TensorProto.DOUBLE
_I64 = TensorProto.INT64


# --------------------------------------------------------------------------- records


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


@dataclass
class RecognizerInfo:
    """ArcFace stand-in: ``embedding = gain * mean_rgb @ W`` with ``W`` of shape (3, 512).

    ``mean_rgb`` is the per-channel mean of the fed crop, i.e. after the product's
    ``(x - 127.5) / 127.5`` normalisation, channels in RGB order.
    """

    path: Path
    W: np.ndarray
    gain: float
    input_name: str = "input.1"
    output_name: str = RECOGNIZER_OUTPUT_NAME

    def expected_embedding(self, crop_rgb_normalised_mean: np.ndarray | Sequence[float]) -> np.ndarray:
        """Raw embedding(s) for mean colour(s) ``(3,)`` or ``(n, 3)`` of normalised RGB crops."""
        mean = np.asarray(crop_rgb_normalised_mean, dtype=np.float64)
        return (self.gain * (mean @ self.W.astype(np.float64))).astype(np.float32)

    def embedding_for_color(self, color_bgr: Sequence[int]) -> np.ndarray:
        """Raw embedding of a crop filled with one BGR uint8 colour (e.g. a key-colour face)."""
        rgb = np.asarray(color_bgr, dtype=np.float64)[::-1]
        return self.expected_embedding((rgb - 127.5) / 127.5)


@dataclass
class SwapperInfo:
    """inswapper stand-in. ``emap`` is float32 (the fp16 file's values widened)."""

    path: Path
    mode: str
    fp16: bool
    gain: float
    emap: np.ndarray
    input_names: tuple[str, str] = ("target", "source")
    output_name: str = "output"

    def latent_for_embedding(self, embedding: np.ndarray, normalise_output: bool = True) -> np.ndarray:
        """insightface's source latent: ``normalize(embedding) @ emap``, normalised again.

        ``normalise_output=False`` is FaceFusion's variant. Returns ``(1, 512)`` float32.
        """
        emb = np.asarray(embedding, dtype=np.float64).reshape(1, -1)
        latent = (emb / np.linalg.norm(emb)) @ self.emap.astype(np.float64)
        if normalise_output:
            latent = latent / np.linalg.norm(latent)
        return latent.astype(np.float32)

    def latent_color(self, latent: np.ndarray) -> np.ndarray:
        """The flat RGB colour in [0, 1] that latent_color mode paints: clip(0.5 + gain * latent[:3])."""
        head = np.asarray(latent, dtype=np.float64).reshape(-1)[:3]
        return np.clip(0.5 + self.gain * head, 0.0, 1.0).astype(np.float32)

    def expected_output(self, target: np.ndarray, latent: np.ndarray) -> np.ndarray:
        """Output for ``target`` ``(1, 3, 128, 128)`` and ``latent`` (before any fp16 rounding)."""
        target = np.asarray(target, dtype=np.float32)
        color = self.latent_color(latent).reshape(1, 3, 1, 1)
        if self.mode == "identity":
            return target.copy()
        if self.mode == "latent_color":
            return np.broadcast_to(color, target.shape).astype(np.float32)
        return (0.5 * target + 0.5 * color).astype(np.float32)


@dataclass
class LandmarkInfo:
    """2d106det stand-in answering ``points`` (106, 2) in [-1, 1] for every crop."""

    path: Path
    points: np.ndarray
    input_name: str = "data"
    output_name: str = "fc1"
    mouth_indices: tuple[int, ...] = MOUTH_INDICES


@dataclass
class RestorerInfo:
    """GFPGAN stand-in: identity, or a constant RGB ``value`` in [-1, 1] everywhere."""

    path: Path
    mode: str
    value: np.ndarray
    input_name: str = "input"
    output_name: str = "output"


@dataclass
class ModelSet:
    """A model directory written by :func:`build_model_set`."""

    directory: Path
    detector: DetectorInfo
    recognizer: RecognizerInfo
    swapper: SwapperInfo
    landmarks: LandmarkInfo | None = None
    restorer: RestorerInfo | None = None

    @property
    def paths(self) -> dict[str, Path]:
        """File paths by role (``detector``, ``recognizer``, ``swapper``, ``landmarks``, ``restorer``)."""
        roles = {
            "detector": self.detector,
            "recognizer": self.recognizer,
            "swapper": self.swapper,
            "landmarks": self.landmarks,
            "restorer": self.restorer,
        }
        return {role: info.path for role, info in roles.items() if info is not None}


# --------------------------------------------------------------------------- graph helper


class _Graph:
    """Minimal builder over ``onnx.helper``: nodes and initializers with generated names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, value: np.ndarray | float | int | Sequence[float], dtype: type | None = None) -> str:
        """Add an initializer and return its name."""
        array = np.asarray(value, dtype=dtype) if dtype is not None else np.asarray(value)
        name = self._name("c")
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def i64(self, value: int | Sequence[int]) -> str:
        return self.const(value, np.int64)

    def f32(self, value: float | Sequence[float] | np.ndarray) -> str:
        return self.const(value, np.float32)

    def f64(self, value: float | Sequence[float] | np.ndarray) -> str:
        return self.const(value, np.float64)

    def op(self, op_type: str, *inputs: str, out: str | None = None, **attrs: object) -> str:
        """Append one node with a single output and return the output's name."""
        output = out if out is not None else self._name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], **attrs))
        return output

    def save(
        self,
        path: str | Path,
        inputs: list[onnx.ValueInfoProto],
        outputs: list[onnx.ValueInfoProto],
        name: str,
    ) -> Path:
        """Check the model and write it to ``path`` (parent folders are created)."""
        graph = helper.make_graph(self.nodes, name, inputs, outputs, initializer=self.initializers)
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="facedeck-tests",
        )
        model.ir_version = IR_VERSION
        onnx.checker.check_model(model)
        out_path = Path(path)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(model, str(out_path))
        return out_path


def _zero_from(g: _Graph, tensor: str) -> str:
    """A float32 scalar 0 that depends on ``tensor`` (so the graph consumes it): 0 * ReduceSum(tensor)."""
    return g.op("Mul", g.op("ReduceSum", tensor, keepdims=0), g.f32(0.0))


def _vi(name: str, elem_type: int, shape: Sequence[int | str | None]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem_type, list(shape))


# --------------------------------------------------------------------------- detectors


def _form(form: int) -> tuple[tuple[int, ...], int, bool]:
    if form not in _DETECTOR_FORMS:
        raise ValueError(f"detector form must be one of {sorted(_DETECTOR_FORMS)}, got {form}")
    return _DETECTOR_FORMS[form]


def _detector_output_names(form: int) -> tuple[str, ...]:
    """det_10g's names for form 9; ``score_8``/``bbox_8``/``kps_8``-style names otherwise."""
    if form == 9:
        return DET_10G_OUTPUT_NAMES
    strides, _, use_kps = _form(form)
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
    strides, num_anchors, use_kps = _form(form)
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

    g = _Graph()
    zero = _zero_from(g, "input.1")
    names = _detector_output_names(form)
    tables = [scores[s] for s in strides] + [boxes[s] for s in strides]
    if use_kps:
        tables += [kps_out[s] for s in strides]
    outputs = []
    for name, table in zip(names, tables, strict=True):
        value = table[None] if batch_axis else table
        g.op("Add", g.f32(value), zero, out=name)
        outputs.append(_vi(name, _F32, value.shape))
    out_path = g.save(path, [_vi("input.1", _F32, [1, 3, "h", "w"])], outputs, "constant_scrfd")
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


def draw_square_face(image_bgr: np.ndarray, color: Sequence[int], x0: int, y0: int, side: int) -> np.ndarray:
    """Draw a key-colour "face" in place: ``image_bgr[y0:y0+side, x0:x0+side] = color``.

    The colour-key detector reports it as box ``[x0, y0, x0 + side, y0 + side]`` and
    keypoints :func:`key_color_kps` (exactly, when the image reaches the detector unscaled).
    Returns the image for chaining.
    """
    image_bgr[y0 : y0 + side, x0 : x0 + side] = np.asarray(color, dtype=image_bgr.dtype)
    return image_bgr


def key_color_kps(x0: float, y0: float, side: float) -> np.ndarray:
    """The five keypoints the colour-key detector reports for a square: origin + side * template / 112.

    With them, the 112 ArcFace alignment maps the square exactly onto the crop.
    """
    unit = ARCFACE_TEMPLATE_112.astype(np.float64) / 112.0
    return (np.array([x0, y0], dtype=np.float64) + float(side) * unit).astype(np.float32)


def key_color_box(x0: float, y0: float, side: float) -> np.ndarray:
    """The box the colour-key detector reports for a square drawn by :func:`draw_square_face`."""
    return np.array([x0, y0, x0 + side, y0 + side], dtype=np.float32)


def detector_blob(image_bgr: np.ndarray) -> np.ndarray:
    """The SCRFD input blob for an (already letterboxed) BGR uint8 image: RGB, (x - 127.5) / 128."""
    rgb = image_bgr[:, :, ::-1].astype(np.float32)
    return ((rgb - 127.5) / 128.0).transpose(2, 0, 1)[None].copy()


def build_color_key_detector(
    path: str | Path,
    colors: Sequence[Sequence[int]],
    tolerance: float = 0.12,
    min_area: float = 64,
    form: int = 9,
    *,
    score_stride: int = 16,
    batch_axis: bool = False,
    face_score: float = 0.99,
    background_score: float = 0.01,
) -> DetectorInfo:
    """SCRFD stand-in that finds axis-aligned filled squares of key colours in any input.

    Works for any input ``[1, 3, H, W]`` (H, W multiples of 32, of 128 for forms 10/15);
    grids are computed in-graph. The input is the product's blob: RGB, ``(x - 127.5) / 128``.

    For each key colour ``k`` (BGR uint8): ``mask_k`` = pixels whose three channels are all
    within ``tolerance`` (normalised units, 0.12 ~ 15 grey levels) of the key;
    ``area_k = sum(mask_k)``; ``(mx_k, my_k)`` the mask's mean pixel index (pixel
    ``img[i, j]`` has x = j, y = i); side ``L_k = sqrt(area_k)``.

    **Box convention**: pixel ``j`` spans ``[j, j + 1)``, so the box centre is the centroid
    plus 0.5: ``box_k = [mx_k + 0.5 - L/2, my_k + 0.5 - L/2, mx_k + 0.5 + L/2, my_k + 0.5 + L/2]``.
    A square drawn as ``img[y0:y0+L, x0:x0+L]`` decodes to exactly ``[x0, y0, x0+L, y0+L]``.
    Keypoints ``kps_k = (box_k x1, y1) + L_k * ARCFACE_TEMPLATE_112 / 112``.

    **Scoring**: only the ``score_stride`` level (default 16) reports faces; the other
    levels answer ``background_score`` with zero distances. On that level each face with
    ``area_k >= min_area`` claims exactly one cell: the one whose anchor centre
    ``(col * s, row * s)`` is nearest the box centre (``floor(c / s + 0.5)``, i.e.
    ``|anchor - centre| <= s/2`` half-open, clamped to the grid). The cell's first anchor
    scores ``face_score`` and carries the face's distances; its other anchor (forms 6/9) and
    unclaimed cells score ``background_score`` with zero distances. So one face gives one
    detection above threshold. Two faces claiming the same cell get averaged: keep
    faces' centres more than ``s`` apart.

    Keys must differ from the background (and from the black letterbox padding) by more
    than ``tolerance`` in at least one channel; see :data:`KEY_COLORS`.
    """
    strides, num_anchors, use_kps = _form(form)
    if score_stride not in strides:
        raise ValueError(f"score_stride {score_stride} is not among the strides {strides} of form {form}")
    if not colors:
        raise ValueError("at least one key colour is needed")
    key_bgr = np.asarray(colors, dtype=np.float64).reshape(-1, 3)
    keys = ((key_bgr[:, ::-1] - 127.5) / 128.0).astype(np.float32)  # normalised RGB
    num_keys = len(keys)

    g = _Graph()
    x = "input.1"
    shape = g.op("Shape", x)
    in_h = g.op("Gather", shape, g.i64(2), axis=0)
    in_w = g.op("Gather", shape, g.i64(3), axis=0)

    # Per-key masks [K, H, W] and their moments (float64 after the integer-valued sums).
    diff = g.op("Abs", g.op("Sub", x, g.f32(keys.reshape(num_keys, 3, 1, 1))))
    within = g.op("Cast", g.op("Less", diff, g.f32(float(tolerance))), to=_F32)
    mask = g.op("ReduceMin", within, axes=[1], keepdims=0)
    col_sum = g.op("Cast", g.op("ReduceSum", mask, g.i64([1]), keepdims=0), to=_F64)  # [K, W]
    row_sum = g.op("Cast", g.op("ReduceSum", mask, g.i64([2]), keepdims=0), to=_F64)  # [K, H]
    area = g.op("ReduceSum", col_sum, g.i64([1]), keepdims=0)  # [K]
    zero_d, one_d, half_d = g.f64(0.0), g.f64(1.0), g.f64(0.5)
    xs = g.op("Range", zero_d, g.op("Cast", in_w, to=_F64), one_d)
    ys = g.op("Range", zero_d, g.op("Cast", in_h, to=_F64), one_d)
    safe_area = g.op("Max", area, one_d)
    cx = g.op("Add", g.op("Div", g.op("MatMul", col_sum, xs), safe_area), half_d)
    cy = g.op("Add", g.op("Div", g.op("MatMul", row_sum, ys), safe_area), half_d)
    side = g.op("Sqrt", area)
    half_side = g.op("Mul", side, half_d)
    x1, y1 = g.op("Sub", cx, half_side), g.op("Sub", cy, half_side)
    x2, y2 = g.op("Add", cx, half_side), g.op("Add", cy, half_side)
    valid = g.op("Cast", g.op("GreaterOrEqual", area, g.f64(float(min_area))), to=_F64)

    axis1 = g.i64([1])
    face_boxes = g.op("Concat", *(g.op("Unsqueeze", v, axis1) for v in (x1, y1, x2, y2)), axis=1)  # [K, 4]
    unit = ARCFACE_TEMPLATE_112.astype(np.float64) / 112.0
    side_col = g.op("Unsqueeze", side, axis1)
    kx = g.op("Add", g.op("Unsqueeze", x1, axis1), g.op("Mul", side_col, g.f64(unit[None, :, 0])))  # [K, 5]
    ky = g.op("Add", g.op("Unsqueeze", y1, axis1), g.op("Mul", side_col, g.f64(unit[None, :, 1])))
    axis2 = g.i64([2])
    face_kps = g.op(
        "Reshape",
        g.op("Concat", g.op("Unsqueeze", kx, axis2), g.op("Unsqueeze", ky, axis2), axis=2),
        g.i64([-1, 10]),
    )  # [K, 10]

    names = _detector_output_names(form)
    widths = [1, 4, 10] if use_kps else [1, 4]
    per_group: list[list[str]] = [[] for _ in widths]
    axis0 = g.i64([0])
    for s in strides:
        stride_i = g.i64(s)
        grid_h = g.op("Div", in_h, stride_i)
        grid_w = g.op("Div", in_w, stride_i)
        cells = g.op("Mul", grid_h, grid_w)
        if s != score_stride:
            rows = g.op("Unsqueeze", g.op("Mul", cells, g.i64(num_anchors)), axis0)
            for group, width in enumerate(widths):
                fill = background_score if group == 0 else 0.0
                out_shape = g.op("Concat", rows, g.i64([width]), axis=0)
                per_group[group].append(
                    g.op(
                        "ConstantOfShape",
                        out_shape,
                        value=numpy_helper.from_array(np.array([fill], np.float32)),
                    )
                )
            continue

        s_d = g.f64(float(s))
        grid_w_d = g.op("Cast", grid_w, to=_F64)
        grid_h_d = g.op("Cast", grid_h, to=_F64)
        col = g.op("Floor", g.op("Add", g.op("Div", cx, s_d), half_d))
        row = g.op("Floor", g.op("Add", g.op("Div", cy, s_d), half_d))
        col = g.op("Clip", col, zero_d, g.op("Sub", grid_w_d, one_d))
        row = g.op("Clip", row, zero_d, g.op("Sub", grid_h_d, one_d))
        face_cell = g.op("Cast", g.op("Add", g.op("Mul", row, grid_w_d), col), to=_I64)  # [K]
        cell_ids = g.op("Range", g.i64(0), cells, g.i64(1))  # [N]
        onehot = g.op(
            "Cast",
            g.op("Equal", g.op("Unsqueeze", face_cell, axis1), g.op("Unsqueeze", cell_ids, axis0)),
            to=_F64,
        )
        onehot = g.op("Mul", onehot, g.op("Unsqueeze", valid, axis1))  # [K, N]
        claim = g.op("Unsqueeze", g.op("ReduceMax", onehot, axes=[0], keepdims=0), axis1)  # [N, 1]
        count = g.op("ReduceSum", onehot, axis0, keepdims=0)
        weights = g.op("Transpose", g.op("Div", onehot, g.op("Max", count, one_d)), perm=[1, 0])  # [N, K]
        anchor_x = g.op("Mul", g.op("Cast", g.op("Mod", cell_ids, grid_w), to=_F64), s_d)
        anchor_y = g.op("Mul", g.op("Cast", g.op("Div", cell_ids, grid_w), to=_F64), s_d)
        ax_col, ay_col = g.op("Unsqueeze", anchor_x, axis1), g.op("Unsqueeze", anchor_y, axis1)

        cell_score = g.op(
            "Add", g.f64(background_score), g.op("Mul", claim, g.f64(face_score - background_score))
        )
        anchors4 = g.op("Concat", ax_col, ay_col, ax_col, ay_col, axis=1)
        box_scale = g.f64(np.array([1.0, 1.0, -1.0, -1.0]) / s)
        cell_box = g.op(
            "Mul", g.op("Mul", g.op("Sub", anchors4, g.op("MatMul", weights, face_boxes)), box_scale), claim
        )
        cell_tables = [cell_score, cell_box]
        if use_kps:
            anchors10 = g.op("Tile", g.op("Concat", ax_col, ay_col, axis=1), g.i64([1, 5]))
            cell_kps = g.op(
                "Mul",
                g.op("Div", g.op("Sub", g.op("MatMul", weights, face_kps), anchors10), s_d),
                claim,
            )
            cell_tables.append(cell_kps)

        for group, (table, width) in enumerate(zip(cell_tables, widths, strict=True)):
            table32 = g.op("Cast", table, to=_F32)
            if num_anchors > 1:
                # Other anchors of the cell: background score, zero distances.
                rest = g.op("Mul", table32, g.f32(0.0))
                if group == 0:
                    rest = g.op("Add", rest, g.f32(background_score))
                table32 = g.op("Concat", table32, *([rest] * (num_anchors - 1)), axis=1)
                table32 = g.op("Reshape", table32, g.i64([-1, width]))
            per_group[group].append(table32)

    outputs = []
    ordered = [t for group in per_group for t in group]
    for name, table, (s, width) in zip(
        names, ordered, [(s, w) for w in widths for s in strides], strict=True
    ):
        dims: list[int | str] = [f"anchors_{s}", width]
        if batch_axis:
            g.op("Unsqueeze", table, axis0, out=name)
            dims = [1, *dims]
        else:
            g.op("Identity", table, out=name)
        outputs.append(_vi(name, _F32, dims))
    out_path = g.save(path, [_vi("input.1", _F32, [1, 3, "h", "w"])], outputs, "color_key_scrfd")
    return DetectorInfo(
        path=out_path,
        kind="color_key",
        form=form,
        det_size=(640, 640),
        strides=strides,
        num_anchors=num_anchors,
        use_kps=use_kps,
        batch_axis=batch_axis,
        input_name="input.1",
        output_names=names,
        background_score=float(background_score),
        face_score=float(face_score),
        colors=tuple(tuple(int(c) for c in color) for color in key_bgr.astype(int)),
        tolerance=float(tolerance),
        min_area=float(min_area),
        score_stride=score_stride,
    )


# --------------------------------------------------------------------------- recogniser


def build_recognizer(path: str | Path, seed: int = 0, gain: float = 10.0) -> RecognizerInfo:
    """ArcFace stand-in: ``input.1`` float32 ``['n', 3, 112, 112]`` -> ``683`` float32 ``['n', 512]``.

    ``embedding = gain * mean_rgb @ W`` (GlobalAveragePool -> Flatten -> MatMul -> Mul), raw
    (not normalised); ``W`` is a fixed standard-normal (3, 512) matrix from ``seed``. The
    identity of a face is thus its mean colour; a crop near mid-grey gives a near-zero
    embedding, so use saturated key colours.
    """
    weight = np.random.default_rng(seed).standard_normal((3, 512)).astype(np.float32)
    g = _Graph()
    pooled = g.op("Flatten", g.op("GlobalAveragePool", "input.1"), axis=1)
    g.op("Mul", g.op("MatMul", pooled, g.f32(weight)), g.f32(float(gain)), out=RECOGNIZER_OUTPUT_NAME)
    out_path = g.save(
        path,
        [_vi("input.1", _F32, ["n", 3, 112, 112])],
        [_vi(RECOGNIZER_OUTPUT_NAME, _F32, ["n", 512])],
        "arcface_standin",
    )
    return RecognizerInfo(path=out_path, W=weight, gain=float(gain))


# --------------------------------------------------------------------------- swapper


SWAPPER_MODES = ("identity", "latent_color", "latent_tint")


def make_emap(seed: int = 0) -> np.ndarray:
    """A random 512x512 float32 emap that stretches vectors (norm ~3), like the real one is not orthogonal.

    Because it changes lengths, a latent that skipped the second L2 normalisation comes
    out about three times too long, which the latent tests can see.
    """
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((512, 512)) * (3.0 / np.sqrt(512.0))).astype(np.float32)


def build_swapper(
    path: str | Path, mode: str = "identity", fp16: bool = False, seed: int = 0, gain: float = 10.0
) -> SwapperInfo:
    """inswapper stand-in: ``target`` [1,3,128,128] + ``source`` [1,512] -> ``output`` [1,3,128,128].

    All float32 at the interface. The emap (random 512x512 from ``seed``, see make_emap) is the
    graph's last initializer and, as in the real file, unused by the computation.

    Modes: ``identity`` (output = target), ``latent_color`` (flat colour,
    channel c = clip(0.5 + gain * source[0, c], 0, 1)), ``latent_tint`` (0.5 * target +
    0.5 * that colour). Both inputs are always consumed.

    ``fp16=True`` stores every initializer (emap last) as float16 and Casts internally, so
    values pass through float16 precision (about 1e-3) like ``inswapper_128_fp16.onnx``.
    """
    if mode not in SWAPPER_MODES:
        raise ValueError(f"swapper mode must be one of {SWAPPER_MODES}, got {mode!r}")
    emap = make_emap(seed)
    g = _Graph()
    store = np.float16 if fp16 else np.float32

    def constant(value: float | np.ndarray) -> str:
        name = g.const(value, store)
        return g.op("Cast", name, to=_F32) if fp16 else name

    def through_fp16(tensor: str) -> str:
        return g.op("Cast", g.op("Cast", tensor, to=_F16), to=_F32) if fp16 else tensor

    target = through_fp16("target")
    source = through_fp16("source")
    zero = constant(0.0)
    head = g.op("Slice", source, g.i64([0]), g.i64([3]), g.i64([1]))  # [1, 3]
    color = g.op(
        "Clip", g.op("Add", g.op("Mul", head, constant(float(gain))), constant(0.5)), zero, constant(1.0)
    )
    color = g.op("Reshape", color, g.i64([1, 3, 1, 1]))
    if mode == "identity":
        result = g.op("Add", target, g.op("Mul", g.op("ReduceSum", color, keepdims=0), zero))
    elif mode == "latent_color":
        result = g.op("Add", g.op("Mul", target, zero), color)
    else:
        half = constant(0.5)
        result = g.op("Add", g.op("Mul", target, half), g.op("Mul", color, half))
    if fp16:
        result = through_fp16(result)
    g.op("Identity", result, out="output")
    # The emap goes last, stored in the file's precision.
    g.initializers.append(numpy_helper.from_array(emap.astype(store), "emap"))
    out_path = g.save(
        path,
        [_vi("target", _F32, [1, 3, 128, 128]), _vi("source", _F32, [1, 512])],
        [_vi("output", _F32, [1, 3, 128, 128])],
        "inswapper_standin",
    )
    return SwapperInfo(
        path=out_path, mode=mode, fp16=fp16, gain=float(gain), emap=emap.astype(store).astype(np.float32)
    )


# --------------------------------------------------------------------------- landmarks


def _ellipse(
    cx: float, cy: float, rx: float, ry: float, count: int, start: float, stop: float, closed: bool = True
) -> np.ndarray:
    """``count`` points on an ellipse arc; a closed ellipse does not repeat its first point."""
    angles = np.linspace(start, stop, count, endpoint=not closed)
    return np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], axis=1)


def default_landmark_points() -> np.ndarray:
    """A plausible 106-point layout in [-1, 1] (float32, (106, 2)); y grows downwards.

    0-32 jaw contour (lower arc of an ellipse), 33-42 left eye, 43-51 left brow, 52-71
    mouth (ellipse around (0, 0.45), half-width 0.3, half-height 0.12), 72-86 nose,
    87-96 right eye, 97-105 right brow.
    """
    full = 2 * np.pi
    parts = [
        _ellipse(0.0, 0.0, 0.85, 0.9, 33, -0.05 * np.pi, 1.05 * np.pi, closed=False),  # 0-32 contour
        _ellipse(-0.35, -0.2, 0.15, 0.06, 10, 0.0, full),  # 33-42 left eye
        np.stack([np.linspace(-0.6, -0.15, 9), -0.4 - 0.05 * np.sin(np.linspace(0, np.pi, 9))], axis=1),
        _ellipse(0.0, 0.45, 0.3, 0.12, 20, 0.0, full),  # 52-71 mouth
        np.concatenate(
            [
                np.stack([np.zeros(9), np.linspace(-0.15, 0.2, 9)], axis=1),
                _ellipse(0.0, 0.2, 0.12, 0.06, 6, 0.0, np.pi, closed=False),
            ]
        ),  # 72-86 nose
        _ellipse(0.35, -0.2, 0.15, 0.06, 10, 0.0, full),  # 87-96 right eye
        np.stack([np.linspace(0.15, 0.6, 9), -0.4 - 0.05 * np.sin(np.linspace(0, np.pi, 9))], axis=1),
    ]
    points = np.concatenate(parts).astype(np.float32)
    assert points.shape == (106, 2)
    return points


def build_landmarks(path: str | Path, points: np.ndarray | None = None) -> LandmarkInfo:
    """2d106det stand-in: ``data`` float32 ``['n', 3, 192, 192]`` -> ``fc1`` float32 ``['n', 212]``.

    Every crop answers ``points`` (106 (x, y) pairs in [-1, 1] of the crop, flattened
    x0, y0, x1, y1, ...); default :func:`default_landmark_points`.
    """
    pts = (
        default_landmark_points() if points is None else np.asarray(points, dtype=np.float32).reshape(106, 2)
    )
    g = _Graph()
    per_item = g.op("Mul", g.op("ReduceSum", "data", g.i64([1, 2, 3]), keepdims=1), g.f32(0.0))  # [n,1,1,1]
    per_item = g.op("Reshape", per_item, g.i64([-1, 1]))
    g.op("Add", per_item, g.f32(pts.reshape(1, 212)), out="fc1")
    out_path = g.save(
        path, [_vi("data", _F32, ["n", 3, 192, 192])], [_vi("fc1", _F32, ["n", 212])], "landmark106_standin"
    )
    return LandmarkInfo(path=out_path, points=pts.copy())


# --------------------------------------------------------------------------- restorer


def build_restorer(
    path: str | Path, mode: str = "identity", value: Sequence[float] = (0.0, 0.0, 0.0)
) -> RestorerInfo:
    """GFPGAN v1.4 stand-in: ``input`` float32 [1,3,512,512] -> ``output`` same (RGB in [-1, 1]).

    ``identity`` returns the input; ``constant`` returns RGB ``value`` everywhere.
    """
    if mode not in ("identity", "constant"):
        raise ValueError(f"restorer mode must be 'identity' or 'constant', got {mode!r}")
    rgb = np.asarray(value, dtype=np.float32).reshape(3)
    g = _Graph()
    if mode == "identity":
        g.op("Identity", "input", out="output")
    else:
        g.op("Add", g.op("Mul", "input", g.f32(0.0)), g.f32(rgb.reshape(1, 3, 1, 1)), out="output")
    out_path = g.save(
        path,
        [_vi("input", _F32, [1, 3, 512, 512])],
        [_vi("output", _F32, [1, 3, 512, 512])],
        "gfpgan_standin",
    )
    return RestorerInfo(path=out_path, mode=mode, value=rgb)


# --------------------------------------------------------------------------- model set


def build_model_set(
    directory: str | Path,
    *,
    detector: Callable[[Path], DetectorInfo] | None = None,
    detector_faces: Sequence[tuple[Sequence[float], np.ndarray | None, float]] | None = None,
    key_colors: Sequence[Sequence[int]] | None = None,
    detector_form: int = 9,
    det_size: tuple[int, int] = (640, 640),
    swapper_mode: str = "identity",
    fp16: bool = False,
    with_landmarks: bool = True,
    with_restorer: bool = True,
    restorer_mode: str = "identity",
    restorer_value: Sequence[float] = (0.0, 0.0, 0.0),
    landmark_points: np.ndarray | None = None,
    seed: int = 0,
    recognizer_gain: float = 10.0,
    swapper_gain: float = 10.0,
    trust: bool = True,
) -> ModelSet:
    """Write a model directory with the real file names and return what each model does.

    Files: ``det_10g.onnx``, ``w600k_r50.onnx``, ``inswapper_128.onnx`` (or
    ``inswapper_128_fp16.onnx`` with ``fp16``), and optionally ``2d106det.onnx`` and
    ``GFPGANv1.4.onnx``. Detector, first match wins: ``detector`` (a callable given the
    target path), ``detector_faces`` (:func:`build_constant_detector` with ``det_size``),
    ``key_colors`` (:func:`build_color_key_detector`); with none of them, a colour-key
    detector for :data:`KEY_COLORS`.

    Stand-ins never match the published SHA-256 pins, so with ``trust`` (the default)
    their hashes are recorded as trusted through the store's own API, exactly as
    ``facedeck --headless models import NAME PATH --trust`` does; the settings directory
    is ``FACEDECK_CONFIG_DIR``, which tests/conftest.py points at a temporary folder.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    det_path = root / DETECTOR_FILE
    if detector is not None:
        det_info = detector(det_path)
    elif detector_faces is not None:
        det_info = build_constant_detector(det_path, detector_faces, det_size=det_size, form=detector_form)
    else:
        colors = KEY_COLORS if key_colors is None else key_colors
        det_info = build_color_key_detector(det_path, colors, form=detector_form)
    models = ModelSet(
        directory=root,
        detector=det_info,
        recognizer=build_recognizer(root / RECOGNIZER_FILE, seed=seed, gain=recognizer_gain),
        swapper=build_swapper(
            root / (SWAPPER_FP16_FILE if fp16 else SWAPPER_FILE),
            mode=swapper_mode,
            fp16=fp16,
            seed=seed,
            gain=swapper_gain,
        ),
        landmarks=build_landmarks(root / LANDMARKS_FILE, landmark_points) if with_landmarks else None,
        restorer=build_restorer(root / RESTORER_FILE, restorer_mode, restorer_value)
        if with_restorer
        else None,
    )
    if trust:
        trust_model_set(models)
    return models


def trust_model_set(models: ModelSet) -> None:
    """Record every file of ``models`` as trusted, through the product's own import path."""
    from facedeck.core.models.store import ModelStore

    store = ModelStore(models.directory)
    for path in models.paths.values():
        spec = store.manifest.by_file(path.name)
        store.import_file(spec.id, path, trust=True)
