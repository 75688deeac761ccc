"""What every model wrapper shares: a session checked against its manifest contract, and ``run``.

:class:`OnnxModel` compares the session's inputs and outputs with the contract of the
file's manifest entry when the wrapper is built (pinned or trusted, every file), and turns
any failure inside ``session.run`` into one sentence naming the file and the model id. The
outputs a run returns are checked too where the file leaves open a dim the contract fixes
(a file with fixed dims needs no check per run: onnxruntime holds it to them). onnxruntime's
own log line for a failed run is silenced: the exception says the same, once, in our words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import onnxruntime

from ..errors import ModelLoadError
from ..models.contract import TensorSpec, open_where_fixed, result_mismatch, signature_mismatch
from ..models.files import Role
from ..models.manifest import ModelSpec, load_manifest
from ..runtime.sessions import ort_errors, ort_reason

_RUN_ERRORS = ort_errors(onnxruntime)
_QUIET = 4  # onnxruntime's FATAL: a failed run is reported by the exception alone


def spec_for_file(path: Path, role: Role) -> ModelSpec:
    """The manifest entry of ``path`` by file name; for a file it does not know, the role's first."""
    manifest = load_manifest()
    spec = manifest.by_file(path.name)
    if spec is None:
        candidates = manifest.for_role(role.value)
        if not candidates:
            raise ModelLoadError(f"{path.name}: the model manifest has no {role.value} model", path=str(path))
        spec = candidates[0]
    return spec


def fixed_dim(value: object) -> int | None:
    """An ONNX dimension as an int, or None when it is symbolic."""
    return value if isinstance(value, int) and value > 0 else None


class OnnxModel:
    """One model file's session, checked against its contract; ``run`` fails in one line."""

    role: ClassVar[Role]

    def __init__(
        self, session: onnxruntime.InferenceSession, path: Path, spec: ModelSpec | None = None
    ) -> None:
        self.session = session
        self.path = Path(path)
        self.spec = spec or spec_for_file(self.path, self.role)
        self.label = f"{self.path.name} ({self.spec.id})"
        inputs, outputs = session.get_inputs(), session.get_outputs()
        problem = signature_mismatch(self.spec.contract, inputs, outputs)
        if problem is not None:
            raise self.fault(problem)
        layout = self.spec.contract.output_layout(len(outputs)) or ()
        self.output_names = [node.name for node in outputs]
        # results worth checking after a run: where the file leaves open a dim the contract fixes
        self._open_outputs: dict[str, TensorSpec] = {
            node.name: spec
            for node, spec in zip(outputs, layout, strict=True)
            if open_where_fixed(spec, list(node.shape))
        }
        self._run_options = onnxruntime.RunOptions()
        self._run_options.log_severity_level = _QUIET

    def fault(self, problem: str) -> ModelLoadError:
        """A ModelLoadError of one sentence: the file, the model id, then ``problem``."""
        return ModelLoadError(f"{self.label}: {problem}", path=str(self.path), model=self.spec.id)

    def run(self, names: Sequence[str], feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """``session.run`` whose failures and off-contract results are ModelLoadErrors naming the file."""
        try:
            results = self.session.run(list(names), dict(feeds), self._run_options)
        except _RUN_ERRORS as error:
            raise self.fault(f"inference failed: {ort_reason(error)}") from error
        for name, array in zip(names, results, strict=True):
            spec = self._open_outputs.get(name)
            problem = spec and result_mismatch(spec, name, str(array.dtype), array.shape)
            if problem:
                raise self.fault(problem)
        return results
