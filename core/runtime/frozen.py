"""FaceDeck as a PyInstaller bundle: whether it is one, where its files are, what it holds.

build.spec writes ``facedeck_bundle.json`` (name, version, flavour, one-file or not) into the
bundle's folder; doctor reports it through :func:`describe_bundle`. The NVIDIA flavour keeps
the CUDA and cuDNN libraries of the ``nvidia-*`` wheels flat in the bundle's ``nvidia/``
folder, where :func:`cuda_library_dir` finds them for ``onnxruntime.preload_dlls()``.
Nothing here imports a heavy module: doctor and the session code call it.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ABOUT_FILE = "facedeck_bundle.json"
CUDA_FOLDER = "nvidia"
# the bundle's parts doctor names, by the folder PyInstaller gives each in the bundle
PARTS = {
    "onnxruntime": "onnxruntime",
    "PyAV (FFmpeg)": "av",
    "OpenCV": "cv2",
    "Qt (the window)": "PySide6",
    "CUDA/cuDNN libraries": CUDA_FOLDER,
}


def bundle_dir() -> Path | None:
    """The bundle's own folder (PyInstaller's ``sys._MEIPASS``), or None when not frozen."""
    if not getattr(sys, "frozen", False):
        return None
    folder = getattr(sys, "_MEIPASS", None)
    return Path(folder) if folder else None


def cuda_library_dir() -> Path | None:
    """The bundle's folder of CUDA and cuDNN libraries, or None (not frozen, or the CPU flavour)."""
    folder = bundle_dir()
    if folder is None:
        return None
    libraries = folder / CUDA_FOLDER
    return libraries if libraries.is_dir() else None


@dataclass(frozen=True)
class BundleInfo:
    """What doctor says about a bundle: where it runs from, its build and what it holds."""

    folder: str
    executable: str
    flavour: str
    onefile: bool
    parts: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "executable": self.executable,
            "flavour": self.flavour,
            "onefile": self.onefile,
            "parts": list(self.parts),
        }


def describe_bundle() -> BundleInfo | None:
    """The running bundle, or None when FaceDeck runs from a Python install."""
    folder = bundle_dir()
    if folder is None:
        return None
    about: dict[str, Any] = {}
    try:
        about = json.loads((folder / ABOUT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:  # a bundle built without build.spec
        log.debug("no bundle description: %s", error)
    parts = tuple(label for label, name in PARTS.items() if (folder / name).is_dir())
    return BundleInfo(
        folder=str(folder),
        executable=sys.executable,
        flavour=str(about.get("flavour", "unknown")),
        onefile=bool(about.get("onefile", False)),
        parts=parts,
    )
