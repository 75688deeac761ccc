"""Stand-in for inswapper, ``inswapper_128.onnx`` and ``inswapper_128_fp16.onnx``.

Contract (DESIGN.md section 4): ``target`` float32 [1,3,128,128] (RGB in [0, 1]) and
``source`` float32 [1,512] (the latent: normalised embedding @ emap, normalised again) ->
``output`` float32 [1,3,128,128]. The emap is the graph's last initializer, which the
product reads and the computation leaves unused; the fp16 file stores every initializer as
float16. Modes make the output the target, a flat colour taken from the latent, or a tint,
so tests can tell which source went where.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from onnx import numpy_helper

from tests.support.models.graph import F16, F32, Graph, vi

# The real file names (DESIGN.md section 4).
SWAPPER_FILE = "inswapper_128.onnx"
SWAPPER_FP16_FILE = "inswapper_128_fp16.onnx"


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
    g = Graph()
    store = np.float16 if fp16 else np.float32

    def constant(value: float | np.ndarray) -> str:
        name = g.const(value, store)
        return g.op("Cast", name, to=F32) if fp16 else name

    def through_fp16(tensor: str) -> str:
        return g.op("Cast", g.op("Cast", tensor, to=F16), to=F32) if fp16 else tensor

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
        [vi("target", F32, [1, 3, 128, 128]), vi("source", F32, [1, 512])],
        [vi("output", F32, [1, 3, 128, 128])],
        "inswapper_standin",
    )
    return SwapperInfo(
        path=out_path, mode=mode, fp16=fp16, gain=float(gain), emap=emap.astype(store).astype(np.float32)
    )
