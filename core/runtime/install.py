"""The onnxruntime install check: exactly one distribution installed, and one that imports."""

# Exactly one onnxruntime distribution may be installed (DESIGN.md section 3). The CPU
# ``onnxruntime`` and ``onnxruntime-gpu`` (and the DirectML, OpenVINO, ... builds) all
# install the same ``onnxruntime`` package, so two of them silently overwrite each other's
# files; :func:`check_onnxruntime` detects that, and a missing or unimportable install, and
# says in one line how to fix it.
#
# onnxruntime itself is imported lazily, so the runtime modules import (and
# :func:`~facedeck.core.runtime.report.describe_runtime` reports) even when the install is broken.

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import ModuleType
from typing import Any

from ..errors import RuntimeInstallError

# Every distribution that installs the ``onnxruntime`` import package (normalised names).
KNOWN_DISTRIBUTIONS: tuple[str, ...] = (
    "onnxruntime",
    "onnxruntime-gpu",
    "onnxruntime-directml",
    "onnxruntime-openvino",
    "onnxruntime-silicon",
    "onnxruntime-qnn",
    "onnxruntime-rocm",
    "onnxruntime-training",
)

FIX_CPU = 'pip install "facedeck[cpu]"'
FIX_GPU = 'pip install "facedeck[gpu]"'

ImportModule = Callable[[str], ModuleType]


def normalize_distribution_name(name: str) -> str:
    """PEP 503 normalisation: ``ONNXRuntime_GPU`` -> ``onnxruntime-gpu``."""
    return re.sub(r"[-_.]+", "-", name).lower().strip()


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def _entries(distributions: Iterable[Any] | Mapping[str, str]) -> Iterable[tuple[str | None, str]]:
    """(name, version) from a mapping, from pairs or from importlib.metadata-like objects."""
    if isinstance(distributions, Mapping):
        for name, version in distributions.items():
            yield name, str(version)
        return
    for dist in distributions:
        if isinstance(dist, tuple) and len(dist) == 2:
            yield dist[0], str(dist[1])
            continue
        metadata = getattr(dist, "metadata", None)
        name = metadata["Name"] if metadata is not None else None
        if not name:
            name = getattr(dist, "name", None)
        yield name, str(getattr(dist, "version", "") or "")


def installed_distributions(
    distributions: Iterable[Any] | Mapping[str, str] | None = None,
) -> list[tuple[str, str]]:
    """The onnxruntime distributions installed, as ``(normalised name, version)``.

    ``distributions`` defaults to ``importlib.metadata.distributions()``; it may also be
    any iterable of metadata-like objects (``.metadata["Name"]`` or ``.name``, and
    ``.version``), of ``(name, version)`` pairs, or a mapping name -> version. Other
    packages are ignored; a distribution found twice on ``sys.path`` counts once (the
    first, the one Python uses). The result follows :data:`KNOWN_DISTRIBUTIONS` order.
    """
    if distributions is None:
        # Looked up by name: reading the metadata of every installed distribution costs
        # ~25 ms, a tenth of doctor's start-up budget.
        distributions = [
            dist for name in KNOWN_DISTRIBUTIONS for dist in importlib.metadata.distributions(name=name)
        ]
    found: dict[str, str] = {}
    for name, version in _entries(distributions):
        if not name:
            continue
        normalised = normalize_distribution_name(str(name))
        if normalised in KNOWN_DISTRIBUTIONS and normalised not in found:
            found[normalised] = version
    return [(name, found[name]) for name in KNOWN_DISTRIBUTIONS if name in found]


def _import_failure_message(name: str, version: str, error: BaseException) -> str:
    detail = one_line(f"{type(error).__name__}: {error}")
    if name == "onnxruntime-gpu":
        fix = (
            f"install the CUDA and cuDNN runtime wheels with {FIX_GPU}, or switch to the CPU build: "
            f"pip uninstall -y onnxruntime-gpu, then {FIX_CPU}"
        )
    else:
        fix = f"reinstall it: pip install --force-reinstall --no-deps {name}=={version}"
    return f"{name} {version} is installed but 'import onnxruntime' fails ({detail}); {fix}"


def check_onnxruntime(
    installed: Sequence[tuple[str, str]] | None = None,
    *,
    import_module: ImportModule = importlib.import_module,
) -> tuple[str, str]:
    """Return the single installed onnxruntime distribution as ``(name, version)``.

    Raises :class:`RuntimeInstallError` with a one-line fix when none is installed, when
    two or more are (they share the ``onnxruntime`` package and break each other), or when
    the one installed cannot be imported (a missing CUDA library, a half-removed install).
    ``installed`` defaults to :func:`installed_distributions`; ``import_module`` is how
    the import is tried (tests inject failures).
    """
    if installed is None:
        installed = installed_distributions()
    installed = list(installed)

    if len(installed) > 1:
        names = [name for name, _ in installed]
        listed = ", ".join(f"{name} {version}" for name, version in installed)
        raise RuntimeInstallError(
            f"more than one onnxruntime distribution is installed ({listed}); they share the "
            f"'onnxruntime' package and break each other. Fix: pip uninstall -y {' '.join(names)}, "
            f"then {FIX_GPU} (NVIDIA GPU) or {FIX_CPU}"
        )

    if not installed:
        # A frozen (PyInstaller) build may carry onnxruntime without its dist-info.
        if getattr(sys, "frozen", False):
            with contextlib.suppress(ImportError, OSError):
                module = import_module("onnxruntime")
                name = str(getattr(module, "package_name", "onnxruntime"))
                return normalize_distribution_name(name), str(getattr(module, "__version__", ""))
        raise RuntimeInstallError(
            f"onnxruntime is not installed. Fix: {FIX_CPU}, or {FIX_GPU} for an NVIDIA GPU"
        )

    name, version = installed[0]
    try:
        import_module("onnxruntime")
    except (ImportError, OSError) as error:
        raise RuntimeInstallError(_import_failure_message(name, version, error)) from error
    return name, version


def import_onnxruntime(import_module: ImportModule = importlib.import_module) -> ModuleType:
    """Import onnxruntime, turning a failure into :class:`RuntimeInstallError`."""
    try:
        return import_module("onnxruntime")
    except (ImportError, OSError) as error:
        detail = one_line(f"{type(error).__name__}: {error}")
        raise RuntimeInstallError(
            f"'import onnxruntime' fails ({detail}). Fix: reinstall with {FIX_CPU} "
            f"(or {FIX_GPU} for an NVIDIA GPU)"
        ) from error
