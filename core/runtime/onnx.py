"""onnxruntime: install check, execution-provider choice and session creation.

Exactly one onnxruntime distribution may be installed (DESIGN.md section 3). The CPU
``onnxruntime`` and ``onnxruntime-gpu`` (and the DirectML, OpenVINO, ... builds) all
install the same ``onnxruntime`` package, so two of them silently overwrite each other's
files; :func:`check_onnxruntime` detects that, and a missing or unimportable install, and
says in one line how to fix it.

onnxruntime itself is imported lazily, so this module imports (and :func:`describe_runtime`
reports) even when the install is broken.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import io
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..errors import ModelLoadError, ProviderError, RuntimeInstallError

if TYPE_CHECKING:
    import onnxruntime

logger = logging.getLogger(__name__)

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

# Short name -> onnxruntime execution provider name.
PROVIDER_NAMES: dict[str, str] = {
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "directml": "DmlExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "rocm": "ROCMExecutionProvider",
    "cpu": "CPUExecutionProvider",
}

# What "auto" tries, best first. TensorRT only when asked for: its engine builds take minutes.
AUTO_ORDER: tuple[str, ...] = ("cuda", "coreml", "directml", "openvino", "cpu")

CPU_PROVIDER = PROVIDER_NAMES["cpu"]

_LONG_TO_SHORT: dict[str, str] = {long.lower(): short for short, long in PROVIDER_NAMES.items()}

_FIX_CPU = 'pip install "facedeck[cpu]"'
_FIX_GPU = 'pip install "facedeck[gpu]"'

# What to do when an explicitly requested provider is not in this onnxruntime build.
_PROVIDER_HINTS: dict[str, str] = {
    "cuda": (
        f"it needs an NVIDIA GPU and the onnxruntime-gpu build: pip uninstall -y onnxruntime, then {_FIX_GPU}"
    ),
    "tensorrt": (
        "it needs the onnxruntime-gpu build and NVIDIA's TensorRT libraries: "
        f"pip uninstall -y onnxruntime, then {_FIX_GPU} and install TensorRT"
    ),
    "coreml": "CoreML is only in the macOS onnxruntime wheels (onnxruntime on macOS)",
    "directml": (
        "it needs Windows and the onnxruntime-directml build: "
        "pip uninstall -y onnxruntime onnxruntime-gpu, then pip install onnxruntime-directml"
    ),
    "openvino": (
        "it needs the onnxruntime-openvino build: "
        "pip uninstall -y onnxruntime onnxruntime-gpu, then pip install onnxruntime-openvino"
    ),
    "rocm": "it needs Linux, an AMD GPU and AMD's onnxruntime-rocm build in place of onnxruntime",
    "cpu": "",
}

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")

_preload_lock = threading.Lock()
_dlls_preloaded = False  # onnxruntime.preload_dlls() has been tried in this process

ImportModule = Callable[[str], ModuleType]


# --------------------------------------------------------------------------------------
# Install check


def normalize_distribution_name(name: str) -> str:
    """PEP 503 normalisation: ``ONNXRuntime_GPU`` -> ``onnxruntime-gpu``."""
    return re.sub(r"[-_.]+", "-", name).lower().strip()


def _one_line(text: str) -> str:
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
        distributions = importlib.metadata.distributions()
    found: dict[str, str] = {}
    for name, version in _entries(distributions):
        if not name:
            continue
        normalised = normalize_distribution_name(str(name))
        if normalised in KNOWN_DISTRIBUTIONS and normalised not in found:
            found[normalised] = version
    return [(name, found[name]) for name in KNOWN_DISTRIBUTIONS if name in found]


def _import_failure_message(name: str, version: str, error: BaseException) -> str:
    detail = _one_line(f"{type(error).__name__}: {error}")
    if name == "onnxruntime-gpu":
        fix = (
            f"install the CUDA and cuDNN runtime wheels with {_FIX_GPU}, or switch to the CPU build: "
            f"pip uninstall -y onnxruntime-gpu, then {_FIX_CPU}"
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
            f"then {_FIX_GPU} (NVIDIA GPU) or {_FIX_CPU}"
        )

    if not installed:
        # A frozen (PyInstaller) build may carry onnxruntime without its dist-info.
        if getattr(sys, "frozen", False):
            with contextlib.suppress(ImportError, OSError):
                module = import_module("onnxruntime")
                name = str(getattr(module, "package_name", "onnxruntime"))
                return normalize_distribution_name(name), str(getattr(module, "__version__", ""))
        raise RuntimeInstallError(
            f"onnxruntime is not installed. Fix: {_FIX_CPU}, or {_FIX_GPU} for an NVIDIA GPU"
        )

    name, version = installed[0]
    try:
        import_module("onnxruntime")
    except (ImportError, OSError) as error:
        raise RuntimeInstallError(_import_failure_message(name, version, error)) from error
    return name, version


def _import_onnxruntime(import_module: ImportModule = importlib.import_module) -> ModuleType:
    """Import onnxruntime, turning a failure into :class:`RuntimeInstallError`."""
    try:
        return import_module("onnxruntime")
    except (ImportError, OSError) as error:
        detail = _one_line(f"{type(error).__name__}: {error}")
        raise RuntimeInstallError(
            f"'import onnxruntime' fails ({detail}). Fix: run 'facedeck doctor', or reinstall with "
            f"{_FIX_CPU} (or {_FIX_GPU} for an NVIDIA GPU)"
        ) from error


# --------------------------------------------------------------------------------------
# Execution providers


def _short_name(name: str) -> str | None:
    """Short provider name for a short or long name, any case; None when unknown."""
    key = name.strip().lower()
    if key in PROVIDER_NAMES:
        return key
    return _LONG_TO_SHORT.get(key)


def _providers_from_module(module: ModuleType) -> list[str]:
    result: list[str] = []
    for long_name in module.get_available_providers():
        short = _short_name(long_name)
        if short is None:
            if long_name != "AzureExecutionProvider":
                logger.debug("ignoring execution provider %s: FaceDeck does not use it", long_name)
            continue
        if short not in result:
            result.append(short)
    return result


def available_providers() -> list[str]:
    """Short names of the execution providers this onnxruntime build offers, in its order.

    Raises :class:`RuntimeInstallError` when onnxruntime cannot be imported.
    """
    return _providers_from_module(_import_onnxruntime())


@dataclass(frozen=True)
class ProviderSelection:
    """The execution provider chosen for a run.

    ``providers`` is what to pass to ``InferenceSession``; it always ends with
    ``CPUExecutionProvider`` so nodes the accelerator cannot run still run.
    """

    name: str
    providers: tuple[str, ...]
    reason: str


def _normalise_available(available: Sequence[str]) -> list[str]:
    result: list[str] = []
    for entry in available:
        short = _short_name(entry)
        if short is not None and short not in result:
            result.append(short)
    if "cpu" not in result:  # onnxruntime always has the CPU provider
        result.append("cpu")
    return result


def _providers_for(name: str, available: Sequence[str]) -> tuple[str, ...]:
    providers = [PROVIDER_NAMES[name]]
    if name == "tensorrt" and "cuda" in available:
        # nodes TensorRT cannot take go to CUDA before CPU
        providers.append(PROVIDER_NAMES["cuda"])
    if CPU_PROVIDER not in providers:
        providers.append(CPU_PROVIDER)
    return tuple(providers)


def select_provider(choice: str = "auto", available: Sequence[str] | None = None) -> ProviderSelection:
    """Choose the execution provider for ``choice`` among ``available``.

    ``choice`` is ``"auto"``, a short name (``"cuda"``) or an onnxruntime name
    (``"CUDAExecutionProvider"``), any case. ``auto`` picks the first of
    :data:`AUTO_ORDER` that is available. ``available`` (short or long names) defaults to
    :func:`available_providers`. Raises :class:`ProviderError` for an unknown name or an
    explicitly requested provider this onnxruntime build does not have.
    """
    if available is None:
        available = available_providers()
    usable = _normalise_available(available)
    listed = ", ".join(usable)

    key = choice.strip().lower()
    if key == "auto":
        name = next(candidate for candidate in AUTO_ORDER if candidate in usable)
        reason = f"auto: picked {name} (available: {listed})"
        logger.info("execution provider %s", reason)
        return ProviderSelection(name=name, providers=_providers_for(name, usable), reason=reason)

    name = _short_name(key)
    if name is None:
        valid = ", ".join(("auto", *PROVIDER_NAMES))
        raise ProviderError(f"unknown execution provider {choice.strip()!r}; valid names: {valid}")
    if name not in usable:
        message = f"execution provider {name!r} is not available here (available: {listed})"
        if _PROVIDER_HINTS.get(name):
            message += f"; {_PROVIDER_HINTS[name]}"
        raise ProviderError(message)

    reason = f"requested {name} (available: {listed})"
    logger.info("execution provider %s", reason)
    return ProviderSelection(name=name, providers=_providers_for(name, usable), reason=reason)


# --------------------------------------------------------------------------------------
# Sessions


def _ort_errors(ort: ModuleType) -> tuple[type[BaseException], ...]:
    """The exceptions onnxruntime raises for a model it cannot load.

    Its own (``onnxruntime_pybind11_state``, not RuntimeError subclasses), plus OSError and
    the RuntimeError its Python wrapper re-raises when a provider fallback fails too.
    """
    errors: list[type[BaseException]] = [OSError, RuntimeError]
    state = getattr(getattr(ort, "capi", None), "onnxruntime_pybind11_state", None)
    for name in (
        "Fail",
        "InvalidArgument",
        "NoSuchFile",
        "NoModel",
        "InvalidProtobuf",
        "InvalidGraph",
        "RuntimeException",
        "NotImplemented",
        "EPFail",
        "ModelRequiresCompilation",
    ):
        error = getattr(state, name, None)
        if isinstance(error, type) and issubclass(error, BaseException):
            errors.append(error)
    return tuple(errors)


def _load_failure_reason(error: BaseException) -> str:
    kind = type(error).__name__
    if kind == "InvalidProtobuf":
        return "not an ONNX model, or the file is corrupt or truncated"
    if kind == "NoSuchFile":
        return "file not found"
    text = _one_line(str(error))
    # "[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Load model from X failed:No graph ..."
    text = re.sub(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ", "", text)
    text = re.sub(r"^Load model from .*? failed:\s*", "", text)
    return text or kind


def _uses_cuda(selection: ProviderSelection) -> bool:
    return any(p in (PROVIDER_NAMES["cuda"], PROVIDER_NAMES["tensorrt"]) for p in selection.providers)


def _preload_cuda_dlls(ort: ModuleType) -> None:
    """Call ``onnxruntime.preload_dlls()`` once per process (a no-op where it is missing).

    It loads the CUDA and cuDNN libraries that the ``onnxruntime-gpu[cuda,cudnn]`` wheels
    ship. It reports problems with print(); that output is captured and logged instead.
    A failure is logged, not raised: onnxruntime then falls back to CPU and
    :func:`create_session` reports what it actually uses.
    """
    global _dlls_preloaded
    with _preload_lock:
        if _dlls_preloaded:
            return
        _dlls_preloaded = True
        preload = getattr(ort, "preload_dlls", None)
        if preload is None:
            logger.debug("onnxruntime %s has no preload_dlls()", getattr(ort, "__version__", "?"))
            return
        captured = io.StringIO()
        try:
            with contextlib.redirect_stdout(captured):
                preload()
        except (OSError, RuntimeError, ValueError) as error:
            logger.warning("onnxruntime.preload_dlls() failed: %s", _one_line(str(error)))
        else:
            logger.debug("onnxruntime.preload_dlls() done")
        for line in captured.getvalue().splitlines():
            line = _ANSI_ESCAPE.sub("", line).strip()
            if line:
                logger.warning("onnxruntime.preload_dlls: %s", line)


def create_session(
    model_path: str | os.PathLike[str],
    selection: ProviderSelection,
    *,
    intra_op_threads: int | None = None,
) -> onnxruntime.InferenceSession:
    """Load ``model_path`` into an ``InferenceSession`` on ``selection``'s providers.

    Graph optimisation is ALL; the session's log severity is 3 (errors), set on its
    options only. ``intra_op_threads`` (None: onnxruntime's default) caps the threads one
    operator may use. A CUDA or TensorRT selection first calls
    ``onnxruntime.preload_dlls()`` (once per process). Providers this build lacks are
    left out, and when the selected accelerator is not among the providers the session
    ends up using, a WARNING says it fell back.

    Raises :class:`ModelLoadError` (naming the file) for a missing, corrupt or non-ONNX
    file, and :class:`RuntimeInstallError` when onnxruntime cannot be imported.
    """
    if intra_op_threads is not None and intra_op_threads < 0:
        raise ValueError(f"intra_op_threads must be >= 0 (0: onnxruntime's default), not {intra_op_threads}")
    ort = _import_onnxruntime()
    path = os.fspath(model_path)
    if not Path(path).is_file():
        reason = "is a directory, not a model file" if Path(path).is_dir() else "file not found"
        raise ModelLoadError(f"cannot load model {path}: {reason}")

    if _uses_cuda(selection):
        _preload_cuda_dlls(ort)

    offered = set(ort.get_available_providers())
    providers = [p for p in selection.providers if p in offered]
    missing = [p for p in selection.providers if p not in offered]
    if missing:
        logger.debug("leaving out providers this onnxruntime build lacks: %s", ", ".join(missing))
    if CPU_PROVIDER not in providers:
        providers.append(CPU_PROVIDER)

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if intra_op_threads is not None:
        options.intra_op_num_threads = intra_op_threads
    # onnxruntime's worker threads otherwise spin after each run, taking the CPU away from
    # the engine's own OpenCV work and from the video pipeline's decode/encode threads.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")

    try:
        session = ort.InferenceSession(path, sess_options=options, providers=providers)
    except _ort_errors(ort) as error:
        raise ModelLoadError(f"cannot load model {path}: {_load_failure_reason(error)}") from error

    used = list(session.get_providers())
    wanted = PROVIDER_NAMES.get(selection.name)
    if selection.name != "cpu" and wanted not in used:
        fallback = (_short_name(used[0]) or used[0]) if used else "cpu"
        logger.warning(
            "%s: execution provider %s is not in use, fell back to %s (onnxruntime %s offers: %s)",
            Path(path).name,
            selection.name,
            fallback,
            getattr(ort, "__version__", "?"),
            ", ".join(_providers_from_module(ort)),
        )
    else:
        logger.debug("%s: session on %s", Path(path).name, ", ".join(used))
    return session


# --------------------------------------------------------------------------------------
# Doctor


def describe_runtime(
    installed: Sequence[tuple[str, str]] | None = None,
    *,
    import_module: ImportModule = importlib.import_module,
) -> dict[str, Any]:
    """What ``facedeck doctor`` shows about onnxruntime; never raises for a broken install.

    Returns ``{"distribution", "version", "installed", "available_providers",
    "auto_choice", "problems"}``: the single distribution (None when there is not exactly
    one that imports), every onnxruntime distribution found as ``"name version"``, the
    short provider names, what ``auto`` would pick, and one-line problem messages.
    ``installed`` and ``import_module`` are for tests, as in :func:`check_onnxruntime`.
    """
    if installed is None:
        installed = installed_distributions()
    installed = list(installed)
    problems: list[str] = []
    report: dict[str, Any] = {
        "distribution": None,
        "version": None,
        "installed": [f"{name} {version}" for name, version in installed],
        "available_providers": [],
        "auto_choice": None,
        "problems": problems,
    }
    try:
        report["distribution"], report["version"] = check_onnxruntime(installed, import_module=import_module)
    except RuntimeInstallError as error:
        problems.append(str(error))

    try:
        module = _import_onnxruntime(import_module)
    except RuntimeInstallError as error:
        if not any("'import onnxruntime' fails" in problem for problem in problems):
            problems.append(str(error))
        return report

    try:
        providers = _providers_from_module(module)
    except (AttributeError, *_ort_errors(module)) as error:
        problems.append(f"onnxruntime cannot list its execution providers: {_one_line(str(error))}")
        return report
    report["available_providers"] = providers
    report["auto_choice"] = select_provider("auto", providers).name
    return report
