"""Stand-in for SCRFD ``det_10g.onnx`` that sees the image: the colour-key detector.

Same contract as the constant detector (:mod:`tests.support.models.detector`): input
``input.1`` float32 ``[1, 3, 'h', 'w']`` (RGB, ``(x - 127.5) / 128``), SCRFD outputs per
stride, det_10g's output names for form 9. Unlike it, this one accepts any input size and
reports every filled square of a key colour (drawn with
:func:`tests.support.models.drawing.draw_square_face`) as one face, with box
:func:`key_color_box` and keypoints :func:`key_color_kps`, so faces can move between frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from onnx import numpy_helper

from facedeck.core.faces.align import ARCFACE_TEMPLATE_112
from tests.support.models.detector import DetectorInfo, detector_form, detector_output_names
from tests.support.models.graph import F32, F64, I64, Graph, vi


def key_color_kps(x0: float, y0: float, side: float) -> np.ndarray:
    """The five keypoints the colour-key detector reports for a square: origin + side * template / 112.

    With them, the 112 ArcFace alignment maps the square exactly onto the crop.
    """
    unit = ARCFACE_TEMPLATE_112.astype(np.float64) / 112.0
    return (np.array([x0, y0], dtype=np.float64) + float(side) * unit).astype(np.float32)


def key_color_box(x0: float, y0: float, side: float) -> np.ndarray:
    """The box the colour-key detector reports for a square drawn by ``drawing.draw_square_face``."""
    return np.array([x0, y0, x0 + side, y0 + side], dtype=np.float32)


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
    strides, num_anchors, use_kps = detector_form(form)
    if score_stride not in strides:
        raise ValueError(f"score_stride {score_stride} is not among the strides {strides} of form {form}")
    if not colors:
        raise ValueError("at least one key colour is needed")
    key_bgr = np.asarray(colors, dtype=np.float64).reshape(-1, 3)
    keys = ((key_bgr[:, ::-1] - 127.5) / 128.0).astype(np.float32)  # normalised RGB
    num_keys = len(keys)

    g = Graph()
    x = "input.1"
    shape = g.op("Shape", x)
    in_h = g.op("Gather", shape, g.i64(2), axis=0)
    in_w = g.op("Gather", shape, g.i64(3), axis=0)

    # Per-key masks [K, H, W] and their moments (float64 after the integer-valued sums).
    diff = g.op("Abs", g.op("Sub", x, g.f32(keys.reshape(num_keys, 3, 1, 1))))
    within = g.op("Cast", g.op("Less", diff, g.f32(float(tolerance))), to=F32)
    mask = g.op("ReduceMin", within, axes=[1], keepdims=0)
    col_sum = g.op("Cast", g.op("ReduceSum", mask, g.i64([1]), keepdims=0), to=F64)  # [K, W]
    row_sum = g.op("Cast", g.op("ReduceSum", mask, g.i64([2]), keepdims=0), to=F64)  # [K, H]
    area = g.op("ReduceSum", col_sum, g.i64([1]), keepdims=0)  # [K]
    zero_d, one_d, half_d = g.f64(0.0), g.f64(1.0), g.f64(0.5)
    xs = g.op("Range", zero_d, g.op("Cast", in_w, to=F64), one_d)
    ys = g.op("Range", zero_d, g.op("Cast", in_h, to=F64), one_d)
    safe_area = g.op("Max", area, one_d)
    cx = g.op("Add", g.op("Div", g.op("MatMul", col_sum, xs), safe_area), half_d)
    cy = g.op("Add", g.op("Div", g.op("MatMul", row_sum, ys), safe_area), half_d)
    side = g.op("Sqrt", area)
    half_side = g.op("Mul", side, half_d)
    x1, y1 = g.op("Sub", cx, half_side), g.op("Sub", cy, half_side)
    x2, y2 = g.op("Add", cx, half_side), g.op("Add", cy, half_side)
    valid = g.op("Cast", g.op("GreaterOrEqual", area, g.f64(float(min_area))), to=F64)

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

    names = detector_output_names(form)
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
        grid_w_d = g.op("Cast", grid_w, to=F64)
        grid_h_d = g.op("Cast", grid_h, to=F64)
        col = g.op("Floor", g.op("Add", g.op("Div", cx, s_d), half_d))
        row = g.op("Floor", g.op("Add", g.op("Div", cy, s_d), half_d))
        col = g.op("Clip", col, zero_d, g.op("Sub", grid_w_d, one_d))
        row = g.op("Clip", row, zero_d, g.op("Sub", grid_h_d, one_d))
        face_cell = g.op("Cast", g.op("Add", g.op("Mul", row, grid_w_d), col), to=I64)  # [K]
        cell_ids = g.op("Range", g.i64(0), cells, g.i64(1))  # [N]
        onehot = g.op(
            "Cast",
            g.op("Equal", g.op("Unsqueeze", face_cell, axis1), g.op("Unsqueeze", cell_ids, axis0)),
            to=F64,
        )
        onehot = g.op("Mul", onehot, g.op("Unsqueeze", valid, axis1))  # [K, N]
        claim = g.op("Unsqueeze", g.op("ReduceMax", onehot, axes=[0], keepdims=0), axis1)  # [N, 1]
        count = g.op("ReduceSum", onehot, axis0, keepdims=0)
        weights = g.op("Transpose", g.op("Div", onehot, g.op("Max", count, one_d)), perm=[1, 0])  # [N, K]
        anchor_x = g.op("Mul", g.op("Cast", g.op("Mod", cell_ids, grid_w), to=F64), s_d)
        anchor_y = g.op("Mul", g.op("Cast", g.op("Div", cell_ids, grid_w), to=F64), s_d)
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
            table32 = g.op("Cast", table, to=F32)
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
        outputs.append(vi(name, F32, dims))
    out_path = g.save(path, [vi("input.1", F32, [1, 3, "h", "w"])], outputs, "color_key_scrfd")
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
