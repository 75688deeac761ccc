"""What the stand-in model tests check models with, independent of the builders.

An onnxruntime CPU session, its input/output signature, and a reference SCRFD decoder
(insightface's scheme) with its own table of the detector forms.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

# SCRFD form (number of outputs) -> (strides, anchors per cell, has keypoints), kept apart
# from the builders' own table so a mistake there cannot hide itself.
FORMS = {
    6: ((8, 16, 32), 2, False),
    9: ((8, 16, 32), 2, True),
    10: ((8, 16, 32, 64, 128), 1, False),
    15: ((8, 16, 32, 64, 128), 1, True),
}


def open_session(path: Path) -> ort.InferenceSession:
    """A CPU onnxruntime session for a built stand-in."""
    options = ort.SessionOptions()
    options.log_severity_level = 3  # the swapper's unused emap is reported, as with the real file
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def io_signature(session: ort.InferenceSession) -> tuple[list[tuple], list[tuple]]:
    """``(name, shape, type)`` of the session's inputs and of its outputs."""
    ins = [(i.name, list(i.shape), i.type) for i in session.get_inputs()]
    outs = [(o.name, list(o.shape), o.type) for o in session.get_outputs()]
    return ins, outs


def decode_scrfd(
    outputs: list[np.ndarray], width: int, height: int, form: int, threshold: float = 0.5
) -> list[dict]:
    """Reference SCRFD decoder (insightface's scheme), independent of the factory."""
    strides, anchors, use_kps = FORMS[form]
    fmc = len(strides)
    found = []
    for level, stride in enumerate(strides):
        scores = outputs[level].reshape(-1)
        dists = outputs[level + fmc].reshape(-1, 4).astype(np.float32) * stride
        grid_h, grid_w = height // stride, width // stride
        centers = np.stack(np.mgrid[:grid_h, :grid_w][::-1], axis=-1).astype(np.float32)
        centers = (centers * stride).reshape(-1, 2)
        if anchors > 1:
            centers = np.stack([centers] * anchors, axis=1).reshape(-1, 2)
        assert len(centers) == len(scores)
        for index in np.where(scores >= threshold)[0]:
            c = centers[index]
            d = dists[index]
            box = np.array([c[0] - d[0], c[1] - d[1], c[0] + d[2], c[1] + d[3]], np.float32)
            kps = None
            if use_kps:
                k = outputs[level + 2 * fmc].reshape(-1, 10)[index].astype(np.float32) * stride
                kps = (k.reshape(5, 2) + c).astype(np.float32)
            found.append(
                {"stride": stride, "index": int(index), "score": float(scores[index]), "box": box, "kps": kps}
            )
    return found
