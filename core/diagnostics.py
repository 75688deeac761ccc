"""What this machine has and what is missing, as data any front end can show.

``facedeck --headless doctor`` prints it; the window can show it in an About box and the
worker can return it to a remote caller, so it is plain data here and formatting lives
in each front end.
"""

from __future__ import annotations

import copy
import os
import platform
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .models import files as model_files
from .models.store import ModelStatus, ModelStore
from .runtime.report import describe_runtime
from .version import software_label


@dataclass(frozen=True)
class ModelReport:
    """One manifest model: its id, its file name and its status (a ModelStatus value)."""

    id: str
    file: str
    status: str

    @property
    def present(self) -> bool:
        return self.status != ModelStatus.MISSING.value


@dataclass(frozen=True)
class Diagnostics:
    """The environment FaceDeck runs in.

    ``problems`` are what stops the engine from running at all (a missing or doubled
    onnxruntime, ...), one line each; model files have their own statuses in ``models``,
    because a missing model is normal before the first download.
    """

    facedeck: str
    python_version: str
    python_executable: str
    platform: str
    onnxruntime: Mapping[str, Any]
    models_dir: str
    models: tuple[ModelReport, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: strings, lists, dicts, booleans and None only."""
        return {
            "facedeck": self.facedeck,
            "python": {"version": self.python_version, "executable": self.python_executable},
            "platform": self.platform,
            # a copy, so a caller editing the dict cannot change this frozen report
            "onnxruntime": copy.deepcopy(dict(self.onnxruntime)),
            "models_dir": self.models_dir,
            "models": [{"id": m.id, "file": m.file, "status": m.status} for m in self.models],
            "problems": list(self.problems),
        }


def collect_diagnostics(
    models_dir: str | os.PathLike[str] | None = None,
    *,
    store: ModelStore | None = None,
    describe: Callable[[], Mapping[str, Any]] = describe_runtime,
) -> Diagnostics:
    """Gather the report; quick, and never raises for a broken onnxruntime install.

    ``models_dir`` is resolved like every command's ``--models-dir`` (None: the
    environment variable, a RunPod volume or the per-user folder). Model statuses come
    from remembered hashes only; re-hashing half a gigabyte is ``ModelStore.states(rehash=True)``.
    ``store`` and ``describe`` are for tests.
    """
    if store is None:
        store = ModelStore(model_files.resolve_models_dir(models_dir))
    runtime = describe()
    models = tuple(
        ModelReport(state.spec.id, state.spec.file, state.status.value) for state in store.states()
    )
    return Diagnostics(
        facedeck=software_label(),
        python_version=platform.python_version(),
        python_executable=sys.executable,
        platform=platform.platform(),
        onnxruntime=runtime,
        models_dir=str(Path(store.directory)),
        models=models,
        problems=tuple(str(problem) for problem in runtime.get("problems") or ()),
    )
