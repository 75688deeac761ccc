"""Shared checks for loading one ONNX model against the contract FaceDeck expects."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import onnxruntime

from ..errors import ModelLoadError


def check_inputs(
    session: onnxruntime.InferenceSession, path: Path, expected: Sequence[tuple[str, int]]
) -> None:
    """Check the session's inputs by name and rank; raise ModelLoadError naming the file."""
    found = {node.name: node for node in session.get_inputs()}
    for name, rank in expected:
        node = found.get(name)
        if node is None:
            raise ModelLoadError(
                f"{path.name} is not the expected model: it has no input '{name}' "
                f"(inputs: {', '.join(found) or 'none'})"
            )
        if len(node.shape) != rank:
            raise ModelLoadError(
                f"{path.name} is not the expected model: input '{name}' has shape {node.shape}, "
                f"expected {rank} dimensions"
            )


def fixed_dim(value: object) -> int | None:
    """An ONNX dimension as an int, or None when it is symbolic."""
    return value if isinstance(value, int) and value > 0 else None
