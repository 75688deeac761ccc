"""onnxruntime sessions: create_session, the CUDA library preload, and why a model failed to load."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import threading
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from ..errors import ModelLoadError
from .frozen import cuda_library_dir
from .install import import_onnxruntime, one_line
from .providers import CPU_PROVIDER, PROVIDER_NAMES, ProviderSelection, providers_from_module, short_name

if TYPE_CHECKING:
    import onnxruntime

logger = logging.getLogger(__name__)

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")

_preload_lock = threading.Lock()
_dlls_preloaded = False  # onnxruntime.preload_dlls() has been tried in this process


def ort_errors(ort: ModuleType) -> tuple[type[Exception], ...]:
    """The exceptions onnxruntime raises for a model it cannot load.

    Its own (``onnxruntime_pybind11_state``, not RuntimeError subclasses), plus OSError and
    the RuntimeError its Python wrapper re-raises when a provider fallback fails too.
    """
    errors: list[type[Exception]] = [OSError, RuntimeError]
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
        if isinstance(error, type) and issubclass(error, Exception):
            errors.append(error)
    return tuple(errors)


class ModelFileError(ModelLoadError):
    """onnxruntime cannot load a model file; ``reason`` says why in a few words.

    The model library puts the file name and model id in front of ``reason``; alone, the
    message names the file's path.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot load model {path}: {reason}", path=path)
        self.reason = reason


# "/onnxruntime_src/.../model.cc:256 onnxruntime::Model::Model(...) " and the like: where in
# onnxruntime's C++ source a check failed, which tells a user nothing
_SOURCE_LOCATION = re.compile(r"(?:[A-Za-z]:)?[/\\][^\s:]+\.(?:cc|cpp|h|hpp|cu):\d+\s+")
_MAX_REASON = 300
_NODE_FAILED = re.compile(
    r"Non-zero status code returned while running (\w+) node\. Name:'([^']*)' Status Message: "
)


def _drop_signature(text: str) -> str:
    """Drop a C++ function signature ("ns::Class::f(const T&, ...) ") at the start of ``text``."""
    if not re.match(r"[\w:~<>]+\(", text):
        return text
    depth = 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return text[index + 1 :].lstrip()
    return text


def ort_reason(error: BaseException) -> str:
    """onnxruntime's message for ``error`` in one line a user can read.

    Without the "[ONNXRuntimeError] : 2 : INVALID_ARGUMENT :" prefix, C++ source locations
    and signatures, and onnxruntime's generic advice; at most ~300 characters.
    """
    text = one_line(str(error))
    text = re.sub(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ", "", text)
    text = re.sub(r"^Load model from .*? failed:\s*", "", text)
    while (match := _SOURCE_LOCATION.search(text)) is not None:
        text = text[: match.start()] + _drop_signature(text[match.end() :])
    text = text.replace(" Please fix either the inputs/outputs or the model.", "")
    # "Non-zero status code returned while running Reshape node. Name:'x' Status Message: c was false. why"
    node = _NODE_FAILED.match(text)
    if node is not None:
        reason = text[node.end() :]
        reason = reason.split(" was false. ", 1)[-1]
        label = f"{node.group(1)} node '{node.group(2)}'" if node.group(2) else f"a {node.group(1)} node"
        text = f"{label} failed: {reason}"
    text = re.sub(r"\x1b\[[0-9;]*m", "", text).strip()
    if len(text) > _MAX_REASON:
        text = text[: _MAX_REASON - 3].rstrip() + "..."
    return text or type(error).__name__


def _load_failure_reason(error: BaseException) -> str:
    kind = type(error).__name__
    if kind == "InvalidProtobuf":
        return "not an ONNX model, or the file is corrupt or truncated"
    if kind == "NoSuchFile":
        return "file not found"
    text = ort_reason(error)
    if text.startswith("No graph was found in the protobuf"):
        return "the file is empty or not an ONNX model"
    return f"onnxruntime cannot load it: {text}"


def _uses_cuda(selection: ProviderSelection) -> bool:
    return any(p in (PROVIDER_NAMES["cuda"], PROVIDER_NAMES["tensorrt"]) for p in selection.providers)


def _preload_cuda_dlls(ort: ModuleType) -> None:
    """Call ``onnxruntime.preload_dlls()`` once per process (a no-op where it is missing).

    It loads the CUDA and cuDNN libraries that the ``onnxruntime-gpu[cuda,cudnn]`` wheels
    ship; in the NVIDIA bundle it is pointed at the bundle's own copy of them (frozen.py).
    It reports problems with print(); that output is captured and logged instead.
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
        bundled = cuda_library_dir()
        try:
            with contextlib.redirect_stdout(captured):
                if bundled is not None:
                    preload(directory=str(bundled))
                else:
                    preload()
        except (OSError, RuntimeError, ValueError) as error:
            logger.warning("onnxruntime.preload_dlls() failed: %s", one_line(str(error)))
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

    Raises :class:`ModelFileError` (naming the file) for a missing, corrupt or non-ONNX
    file, and :class:`RuntimeInstallError` when onnxruntime cannot be imported.
    """
    if intra_op_threads is not None and intra_op_threads < 0:
        raise ValueError(f"intra_op_threads must be >= 0 (0: onnxruntime's default), not {intra_op_threads}")
    ort = import_onnxruntime()
    path = os.fspath(model_path)
    if not Path(path).is_file():
        reason = "is a directory, not a model file" if Path(path).is_dir() else "file not found"
        raise ModelFileError(path, reason)

    if _uses_cuda(selection):
        _preload_cuda_dlls(ort)

    offered = set(ort.get_available_providers())
    chosen = [
        (name, options)
        for name, options in zip(selection.providers, selection.provider_options(), strict=True)
        if name in offered
    ]
    missing = [p for p in selection.providers if p not in offered]
    if missing:
        logger.debug("leaving out providers this onnxruntime build lacks: %s", ", ".join(missing))
    if CPU_PROVIDER not in (name for name, _ in chosen):
        chosen.append((CPU_PROVIDER, {}))
    providers = [name for name, _ in chosen]

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if intra_op_threads is not None:
        options.intra_op_num_threads = intra_op_threads
    # onnxruntime's worker threads otherwise spin after each run, taking the CPU away from
    # the engine's own OpenCV work and from the video pipeline's decode/encode threads.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")

    try:
        session = ort.InferenceSession(
            path, sess_options=options, providers=providers, provider_options=[opts for _, opts in chosen]
        )
    except ort_errors(ort) as error:
        raise ModelFileError(path, _load_failure_reason(error)) from error

    used = list(session.get_providers())
    wanted = PROVIDER_NAMES.get(selection.name)
    if selection.name != "cpu" and wanted not in used:
        fallback = (short_name(used[0]) or used[0]) if used else "cpu"
        logger.warning(
            "%s: execution provider %s is not in use, fell back to %s (onnxruntime %s offers: %s)",
            Path(path).name,
            selection.name,
            fallback,
            getattr(ort, "__version__", "?"),
            ", ".join(providers_from_module(ort)),
        )
    else:
        logger.debug("%s: session on %s", Path(path).name, ", ".join(used))
    return session
