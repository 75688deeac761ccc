"""Stand-ins that break a model's contract: the right names, the wrong shapes, dtypes or outputs.

:func:`build_signature_model` writes a model with exactly the inputs and outputs it is
given (it answers zeros); onnxruntime loads it, and FaceDeck must refuse it when its
signature differs from the manifest contract. :func:`drop_last_output` removes an output
from a built stand-in. :func:`build_swapper_failing_at_run` has a contract-conforming
signature whose open dims hide a fault that shows only when it runs: a Reshape that cannot
work, or an output of half the size. :func:`build_unloadable` is an ONNX file whose graph
onnxruntime refuses to load.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx

from tests.support.models.graph import F32, I64, Graph, vi
from tests.support.models.swapper import make_emap

Signature = Sequence[tuple[str, int, Sequence[int | str]]]


def build_signature_model(
    path: str | Path, inputs: Signature, outputs: Signature, *, emap: bool = False
) -> Path:
    """A model with these ``(name, ONNX element type, shape)`` inputs and outputs, answering zeros.

    Every output is ``zeros(shape) + 0 * sum(every input)`` cast to its type, so the graph
    consumes all its inputs; a symbolic output dim answers size 1 (and onnxruntime's shape
    inference then reports 1 there). ``emap`` appends a 512x512
    float32 initializer last, as inswapper stores its emap.
    """
    g = Graph()
    zero = g.f32(0.0)
    for name, _, _ in inputs:
        consumed = g.op("ReduceSum", g.op("Cast", name, to=F32), keepdims=0)
        zero = g.op("Add", zero, g.op("Mul", consumed, g.f32(0.0)))
    for name, elem_type, shape in outputs:
        dims = [dim if isinstance(dim, int) else 1 for dim in shape]
        g.op("Cast", g.op("Add", g.f32(np.zeros(dims, np.float32)), zero), to=elem_type, out=name)
    if emap:
        g.f32(make_emap(0))
    return g.save(
        path,
        [vi(name, elem_type, shape) for name, elem_type, shape in inputs],
        [vi(name, elem_type, shape) for name, elem_type, shape in outputs],
        "contract_fault",
    )


def drop_last_output(path: str | Path) -> Path:
    """Remove the last graph output of a built model (its node stays, unused)."""
    model = onnx.load(str(path))
    del model.graph.output[-1]
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return Path(path)


def build_swapper_failing_at_run(path: str | Path, fault: str) -> Path:
    """An inswapper look-alike with open dims: ``target`` [1,3,'h','w'], ``source`` [1,512].

    ``fault="reshape"``: reshapes the target to [1,3,100,100], which fails when it runs on a
    128x128 crop. ``fault="half_size"``: answers every second row and column, [1,3,64,64]
    for the 128 crop, where the contract says [1,3,128,128]. The emap is the last initializer.
    """
    g = Graph()
    ignored = g.op("Mul", g.op("ReduceSum", "source", keepdims=0), g.f32(0.0))
    if fault == "reshape":
        # the shape is computed from an input, so no shape inference can see the fault at load
        shape = g.op("Add", g.op("Cast", ignored, to=I64), g.i64([1, 3, 100, 100]))
        result = g.op("Reshape", "target", shape)
    elif fault == "half_size":
        result = g.op(
            "Slice", "target", g.i64([0, 0]), g.i64([1 << 30, 1 << 30]), g.i64([2, 3]), g.i64([2, 2])
        )
    else:
        raise ValueError(f"fault must be 'reshape' or 'half_size', not {fault!r}")
    g.op("Add", result, ignored, out="output")
    g.f32(make_emap(0))
    return g.save(
        path,
        [vi("target", F32, [1, 3, "h", "w"]), vi("source", F32, [1, 512])],
        [vi("output", F32, [1, 3, "oh", "ow"])],
        "failing_swapper",
    )


def build_unloadable(path: str | Path) -> Path:
    """A well-formed ONNX file whose graph onnxruntime refuses: its only node is an op no one defines."""
    g = Graph()
    g.op("NoSuchOperator", "target", out="output")
    graph = onnx.helper.make_graph(
        g.nodes,
        "unloadable",
        [vi("target", F32, [1, 3, 128, 128]), vi("source", F32, [1, 512])],
        [vi("output", F32, [1, 3, 128, 128])],
    )
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))  # not checked: the checker would refuse it as onnxruntime does
    return Path(path)
