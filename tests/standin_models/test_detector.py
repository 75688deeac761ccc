"""The constant SCRFD stand-in loads with det_10g's contract and decodes to the requested faces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from tests.standin_models.checks import FORMS, decode_scrfd, io_signature, open_session
from tests.support.models.detector import DET_10G_OUTPUT_NAMES, build_constant_detector, template_kps


@pytest.mark.parametrize("batch_axis", [False, True])
@pytest.mark.parametrize("det_size", [(640, 640), (640, 384)])
@pytest.mark.parametrize("form", [6, 9, 10, 15])
def test_constant_detector_decodes_to_the_requested_faces(
    tmp_path: Path, form: int, det_size: tuple[int, int], batch_axis: bool
) -> None:
    width, height = det_size
    strides, anchors, use_kps = FORMS[form]
    kps0 = template_kps([100.0, 80.0, 220.0, 230.0]) + np.float32(1.5)
    faces = [
        ([100.0, 80.0, 220.0, 230.0], kps0, 0.91),
        ([400.3, 200.7, 452.9, 262.1], None, 0.77),  # keypoints from the template
        ([590.0, 330.0, 660.0, 420.0], None, 0.66),  # centre near/over the grid's edge: clamped
        ([402.0, 204.0, 450.0, 258.0], None, 0.88),  # same nearest cell as the second face
    ]
    info = build_constant_detector(
        tmp_path / "det.onnx",
        faces,
        det_size=det_size,
        form=form,
        batch_axis=batch_axis,
        background_score=0.02,
    )
    assert info.strides == strides and info.num_anchors == anchors and info.use_kps == use_kps
    assert info.det_size == det_size and len(info.faces) == len(faces)

    session = open_session(info.path)
    ins, outs = io_signature(session)
    assert ins == [("input.1", [1, 3, "h", "w"], "tensor(float)")]
    widths = [1, 4, 10] if use_kps else [1, 4]
    expected = [(height // s) * (width // s) * anchors for s in strides]
    want_shapes = [([1] if batch_axis else []) + [n, k] for k in widths for n in expected]
    assert [o[1] for o in outs] == want_shapes
    assert all(o[2] == "tensor(float)" for o in outs)
    if form == 9:
        assert [o[0] for o in outs] == list(DET_10G_OUTPUT_NAMES)
    assert any("input.1" in node.input for node in onnx.load(str(info.path)).graph.node)

    rng = np.random.default_rng(1)
    blob = rng.uniform(-1, 1, (1, 3, height, width)).astype(np.float32)
    results = session.run(None, {"input.1": blob})
    assert [list(r.shape) for r in results] == want_shapes
    assert all(r.dtype == np.float32 for r in results)
    again = session.run(None, {"input.1": np.zeros_like(blob)})
    for first, second in zip(results, again, strict=True):
        np.testing.assert_array_equal(first, second)

    found = decode_scrfd(results, width, height, form)
    assert len(found) == len(faces)
    by_score = {round(f["score"], 4): f for f in found}
    for (box, kps, score), spec in zip(faces, info.faces, strict=True):
        hit = by_score[round(score, 4)]
        np.testing.assert_allclose(hit["box"], np.asarray(box, np.float32), atol=1e-3)
        if use_kps:
            want_kps = template_kps(box) if kps is None else kps
            np.testing.assert_allclose(hit["kps"], want_kps, atol=1e-3)
            np.testing.assert_allclose(spec.kps, want_kps, atol=1e-6)
        else:
            assert hit["kps"] is None
    # Faces sit on the smallest stride, at their nearest cell's first free anchor.
    first = found[0]
    assert first["stride"] == 8
    col, row = round(160 / 8), round(155 / 8)
    assert first["index"] == (row * (width // 8) + col) * anchors
    assert info.anchor_slots[0] == (8, first["index"])
    if anchors == 2:
        assert info.anchor_slots[3] == (8, info.anchor_slots[1][1] + 1)
    else:
        assert info.anchor_slots[3][0] == 16
    # Everything else is background.
    n_scores = len(strides)
    all_scores = np.concatenate([r.reshape(-1) for r in results[:n_scores]])
    assert np.count_nonzero(all_scores != np.float32(0.02)) == len(faces)


def test_constant_detector_without_faces_is_background(tmp_path: Path) -> None:
    info = build_constant_detector(tmp_path / "det.onnx", [], background_score=0.05)
    results = open_session(info.path).run(None, {"input.1": np.zeros((1, 3, 640, 640), np.float32)})
    assert all(np.all(r == np.float32(0.05)) for r in results[:3])
    assert all(np.all(r == 0) for r in results[3:])
    assert decode_scrfd(results, 640, 640, 9) == []
