"""The answer to ``{"health": true}``: what the worker runs and whether it can swap now.

The old worker's keys (``status``, ``message``, ``modules_imported``,
``models_directory``) are kept for its callers; the rest says which FaceDeck and
onnxruntime run, on which execution provider, and each model file's status. Cheap: file
checks and remembered hashes only, so a caller may poll it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.diagnostics import REQUIRED_ROLES
from ..core.models.files import missing_roles
from ..core.models.library import ModelLibrary
from ..core.version import software_version


def health_answer(library: ModelLibrary, runtime: Mapping[str, Any]) -> dict[str, Any]:
    """``runtime``: core.runtime.report.describe_runtime()'s report (gathered once at start-up)."""
    directory = library.directory
    models = {state.spec.id: state.status.value for state in library.store.states()}
    missing = missing_roles(directory, REQUIRED_ROLES)
    problems = [str(problem) for problem in runtime.get("problems") or ()]
    if missing:
        message = f"missing model file(s) {', '.join(missing)} in {directory}"
    elif problems:
        message = problems[0]
    else:
        message = "ready"
    return {
        "status": "degraded" if missing or problems else "ok",
        "message": message,
        "modules_imported": runtime.get("version") is not None,
        "models_directory": str(directory),
        "version": software_version(),
        "onnxruntime": runtime.get("version") or "not importable",
        "provider": library.provider.name,
        "models": models,
    }
