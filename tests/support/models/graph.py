"""The small ONNX graph builder every stand-in model is written with.

Not a model itself. :class:`Graph` appends ``onnx.helper`` nodes and initializers with
generated names and saves a checked model at opset 17 / IR 8, which onnxruntime 1.14+
loads, the way the product loads the real files. :func:`vi` declares a graph input or
output; :func:`zero_from` makes a graph consume an input its answer does not depend on.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # loads in onnxruntime 1.14+ (opset 17 needs IR >= 8)

# ONNX element types the stand-ins use.
F32 = TensorProto.FLOAT
F16 = TensorProto.FLOAT16
F64 = TensorProto.DOUBLE
I64 = TensorProto.INT64


class Graph:
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


def zero_from(g: Graph, tensor: str) -> str:
    """A float32 scalar 0 that depends on ``tensor`` (so the graph consumes it): 0 * ReduceSum(tensor)."""
    return g.op("Mul", g.op("ReduceSum", tensor, keepdims=0), g.f32(0.0))


def vi(name: str, elem_type: int, shape: Sequence[int | str | None]) -> onnx.ValueInfoProto:
    """A graph input or output: ``name``, ONNX element type and shape (strings are symbolic dims)."""
    return helper.make_tensor_value_info(name, elem_type, list(shape))
