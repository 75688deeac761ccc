"""Stand-in for GFPGAN v1.4, ``GFPGANv1.4.onnx``, the face restorer.

Contract (DESIGN.md section 4): ``input`` float32 [1,3,512,512] -> ``output`` of the same
shape, RGB in [-1, 1]. The stand-in returns its input, or one constant colour everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.support.models.graph import F32, Graph, vi

# The real file name (DESIGN.md section 4).
RESTORER_FILE = "GFPGANv1.4.onnx"


@dataclass
class RestorerInfo:
    """GFPGAN stand-in: identity, or a constant RGB ``value`` in [-1, 1] everywhere."""

    path: Path
    mode: str
    value: np.ndarray
    input_name: str = "input"
    output_name: str = "output"


def build_restorer(
    path: str | Path, mode: str = "identity", value: Sequence[float] = (0.0, 0.0, 0.0)
) -> RestorerInfo:
    """GFPGAN v1.4 stand-in: ``input`` float32 [1,3,512,512] -> ``output`` same (RGB in [-1, 1]).

    ``identity`` returns the input; ``constant`` returns RGB ``value`` everywhere.
    """
    if mode not in ("identity", "constant"):
        raise ValueError(f"restorer mode must be 'identity' or 'constant', got {mode!r}")
    rgb = np.asarray(value, dtype=np.float32).reshape(3)
    g = Graph()
    if mode == "identity":
        g.op("Identity", "input", out="output")
    else:
        g.op("Add", g.op("Mul", "input", g.f32(0.0)), g.f32(rgb.reshape(1, 3, 1, 1)), out="output")
    out_path = g.save(
        path,
        [vi("input", F32, [1, 3, 512, 512])],
        [vi("output", F32, [1, 3, 512, 512])],
        "gfpgan_standin",
    )
    return RestorerInfo(path=out_path, mode=mode, value=rgb)
