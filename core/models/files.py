"""Where model files live and which file each engine role loads (from the manifest)."""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable
from pathlib import Path

import platformdirs

from ..errors import UsageError
from .manifest import load_manifest

MODELS_DIR_ENV = "FACEDECK_MODELS_DIR"
APP_NAME = "FaceDeck"
# A RunPod network volume, when the serverless worker has one attached.
RUNPOD_VOLUME_MODELS = Path("/runpod-volume/facedeck/models")


class Role(str, enum.Enum):
    DETECTOR = "detector"
    RECOGNIZER = "recognizer"
    SWAPPER = "swapper"
    LANDMARKS = "landmarks"
    RESTORER = "restorer"


def role_files(role: Role) -> tuple[str, ...]:
    """Candidate file names for ``role``, preferred first (manifest order)."""
    return tuple(spec.file for spec in load_manifest().for_role(role.value))


def default_models_dir() -> Path:
    """The per-user data directory FaceDeck keeps models in."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "models"


def resolve_models_dir(
    explicit: str | os.PathLike | None = None,
    *,
    runpod_volume: Path = RUNPOD_VOLUME_MODELS,
    check: bool = True,
) -> Path:
    """``--models-dir``, else ``FACEDECK_MODELS_DIR``, else a RunPod volume, else the user data dir.

    With ``check``, a chosen folder that is a file (or lies under one) is a UsageError naming
    the option or variable it came from, before anything tries to create or read it.
    """
    if explicit:
        return _folder(Path(explicit).expanduser().resolve(), "--models-dir", check)
    from_env = os.environ.get(MODELS_DIR_ENV)
    if from_env:
        return _folder(Path(from_env).expanduser().resolve(), MODELS_DIR_ENV, check)
    if runpod_volume.is_dir():
        return runpod_volume
    return default_models_dir()


def _folder(path: Path, origin: str, check: bool) -> Path:
    """``path`` unless it, or the nearest part of it that exists, is not a folder."""
    if not check:
        return path
    for existing in (path, *path.parents):
        if not existing.exists():
            continue
        if existing.is_dir():
            return path
        if existing == path:
            raise UsageError(f"{origin} {path} is a file, not a folder", path=str(path))
        raise UsageError(f"{origin} {path} cannot be a folder: {existing} is a file", path=str(existing))
    return path


def find_role_file(directory: Path, role: Role, prefer: str | None = None) -> Path | None:
    """The file for ``role`` in ``directory`` (``prefer`` names one of its candidates first)."""
    candidates = list(role_files(role))
    if prefer in candidates:
        candidates.remove(prefer)
        candidates.insert(0, prefer)
    for name in candidates:
        path = directory / name
        if path.is_file():
            return path
    return None


def missing_roles(directory: Path, roles: Iterable[Role]) -> list[str]:
    """File names (one per missing role; alternatives joined by ' or ') not in ``directory``."""
    return [" or ".join(role_files(role)) for role in roles if find_role_file(directory, role) is None]
