"""Where model files live and which file each engine role loads."""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable
from pathlib import Path

import platformdirs

MODELS_DIR_ENV = "FACEDECK_MODELS_DIR"
APP_NAME = "FaceDeck"


class Role(str, enum.Enum):
    DETECTOR = "detector"
    RECOGNIZER = "recognizer"
    SWAPPER = "swapper"
    LANDMARKS = "landmarks"
    RESTORER = "restorer"


# Candidate file names per role, in order of preference when several are present.
ROLE_FILES: dict[Role, tuple[str, ...]] = {
    Role.DETECTOR: ("det_10g.onnx",),
    Role.RECOGNIZER: ("w600k_r50.onnx",),
    Role.SWAPPER: ("inswapper_128.onnx", "inswapper_128_fp16.onnx"),
    Role.LANDMARKS: ("2d106det.onnx",),
    Role.RESTORER: ("GFPGANv1.4.onnx",),
}

FETCH_HINT = "put the files there, or point --models-dir / FACEDECK_MODELS_DIR at a folder that has them"


def default_models_dir() -> Path:
    """The per-user data directory FaceDeck keeps models in."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "models"


def resolve_models_dir(explicit: str | os.PathLike | None = None) -> Path:
    """``--models-dir``, else ``FACEDECK_MODELS_DIR``, else the user data directory."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    from_env = os.environ.get(MODELS_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser().resolve()
    return default_models_dir()


def find_role_file(directory: Path, role: Role, prefer: str | None = None) -> Path | None:
    """The file for ``role`` in ``directory`` (``prefer`` names one of its candidates first)."""
    candidates = list(ROLE_FILES[role])
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
    missing = []
    for role in roles:
        if find_role_file(directory, role) is None:
            missing.append(" or ".join(ROLE_FILES[role]))
    return missing


def inventory(directory: Path) -> dict[str, bool]:
    """Every known model file name and whether it is present."""
    return {name: (directory / name).is_file() for names in ROLE_FILES.values() for name in names}
