"""Execution providers: which ones this onnxruntime build offers, and which one a run uses."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

from ..errors import ProviderError
from .install import FIX_GPU, import_onnxruntime

logger = logging.getLogger(__name__)

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
# providers whose options take a "device_id": the GPU a session runs on
DEVICE_PROVIDERS = frozenset(
    {
        "CUDAExecutionProvider",
        "TensorrtExecutionProvider",
        "ROCMExecutionProvider",
        "MIGraphXExecutionProvider",
        "DmlExecutionProvider",
    }
)

_LONG_TO_SHORT: dict[str, str] = {long.lower(): short for short, long in PROVIDER_NAMES.items()}

# What to do when an explicitly requested provider is not in this onnxruntime build.
_PROVIDER_HINTS: dict[str, str] = {
    "cuda": (
        f"it needs an NVIDIA GPU and the onnxruntime-gpu build: pip uninstall -y onnxruntime, then {FIX_GPU}"
    ),
    "tensorrt": (
        "it needs the onnxruntime-gpu build and NVIDIA's TensorRT libraries: "
        f"pip uninstall -y onnxruntime, then {FIX_GPU} and install TensorRT"
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


def short_name(name: str) -> str | None:
    """Short provider name for a short or long name, any case; None when unknown."""
    key = name.strip().lower()
    if key in PROVIDER_NAMES:
        return key
    return _LONG_TO_SHORT.get(key)


def providers_from_module(module: ModuleType) -> list[str]:
    result: list[str] = []
    for long_name in module.get_available_providers():
        short = short_name(long_name)
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
    return providers_from_module(import_onnxruntime())


@dataclass(frozen=True)
class ProviderSelection:
    """The execution provider chosen for a run.

    ``providers`` is what to pass to ``InferenceSession``; it always ends with
    ``CPUExecutionProvider`` so nodes the accelerator cannot run still run.
    """

    name: str
    providers: tuple[str, ...]
    reason: str
    device: int | None = None  # the GPU to run on (its index); None: the provider's default, GPU 0

    def on_device(self, device: int | None) -> ProviderSelection:
        """The same providers pinned to GPU ``device`` (a server runs one engine per GPU)."""
        if device is not None and device < 0:
            raise ValueError(f"a GPU index is 0 or more, not {device}")
        return dataclasses.replace(self, device=device)

    def provider_options(self) -> list[dict[str, str]]:
        """Options for each of ``providers``, in order: the device for those that take one."""
        return [
            {"device_id": str(self.device)} if self.device is not None and name in DEVICE_PROVIDERS else {}
            for name in self.providers
        ]


def _normalise_available(available: Sequence[str]) -> list[str]:
    result: list[str] = []
    for entry in available:
        short = short_name(entry)
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
        picked = next(candidate for candidate in AUTO_ORDER if candidate in usable)
        reason = f"auto: picked {picked} (available: {listed})"
        logger.info("execution provider %s", reason)
        return ProviderSelection(name=picked, providers=_providers_for(picked, usable), reason=reason)

    name = short_name(key)
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
