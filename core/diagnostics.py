"""What this machine has and what is missing, as data any front end can show, with a verdict.

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

from .media.video_support import VideoSupport, describe_video_support
from .models import files as model_files
from .models.files import Role
from .models.store import ModelStatus, ModelStore
from .runtime.frozen import BundleInfo, describe_bundle
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

    @property
    def usable(self) -> bool:
        # "present": not hashed yet; the library verifies it before loading it
        return self.status not in (ModelStatus.MISSING.value, ModelStatus.CORRUPT.value)


# What a plain swap needs; the landmarks (mouth mask) and the restorer (--enhance) are optional.
REQUIRED_ROLES = (Role.DETECTOR, Role.RECOGNIZER, Role.SWAPPER)


@dataclass(frozen=True)
class Diagnostics:
    """The environment FaceDeck runs in.

    ``problems`` are what stops the engine from running at all (a missing or doubled
    onnxruntime, a PyAV that does not load, ...), one line each; model files have their
    own statuses in ``models``, because a missing model is normal before the first
    download. ``missing_roles`` are the roles a swap needs that no usable file fills.
    ``ready`` is the verdict: a swap can run here as things stand.
    """

    facedeck: str
    python_version: str
    python_executable: str
    platform: str
    onnxruntime: Mapping[str, Any]
    models_dir: str
    models: tuple[ModelReport, ...]
    problems: tuple[str, ...]
    video: VideoSupport
    missing_roles: tuple[str, ...]
    bundle: BundleInfo | None = None  # None: a Python install, not the PyInstaller bundle

    @property
    def ok(self) -> bool:
        """The software itself works (models aside)."""
        return not self.problems

    @property
    def ready(self) -> bool:
        return self.ok and not self.missing_roles

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
            "video": self.video.to_dict(),
            "missing_roles": list(self.missing_roles),
            "ready": self.ready,
            "bundle": self.bundle.to_dict() if self.bundle else None,
        }


def collect_diagnostics(
    models_dir: str | os.PathLike[str] | None = None,
    *,
    store: ModelStore | None = None,
    describe: Callable[[], Mapping[str, Any]] = describe_runtime,
    video: Callable[[], VideoSupport] = describe_video_support,
) -> Diagnostics:
    """Gather the report; quick, and never raises for a broken onnxruntime install.

    ``models_dir`` is resolved like every command's ``--models-dir`` (None: the
    environment variable, a RunPod volume or the per-user folder). Model statuses come
    from remembered hashes only; re-hashing half a gigabyte is ``ModelStore.states(rehash=True)``.
    ``store``, ``describe`` and ``video`` are for tests.
    """
    if store is None:
        store = ModelStore(model_files.resolve_models_dir(models_dir))
    runtime = describe()
    states = store.states()
    models = tuple(ModelReport(state.spec.id, state.spec.file, state.status.value) for state in states)
    usable_roles = {state.spec.role for state, model in zip(states, models, strict=True) if model.usable}
    video_support = video()
    return Diagnostics(
        facedeck=software_label(),
        python_version=platform.python_version(),
        python_executable=sys.executable,
        platform=platform.platform(),
        onnxruntime=runtime,
        models_dir=str(Path(store.directory)),
        models=models,
        problems=(
            *(str(problem) for problem in runtime.get("problems") or ()),
            *video_support.problems,
        ),
        video=video_support,
        missing_roles=tuple(role.value for role in REQUIRED_ROLES if role.value not in usable_roles),
        bundle=describe_bundle(),
    )
