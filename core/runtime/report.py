"""What the doctor report shows about onnxruntime, as data; never raises for a broken install."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from ..errors import RuntimeInstallError
from .install import ImportModule, check_onnxruntime, import_onnxruntime, installed_distributions, one_line
from .providers import providers_from_module, select_provider
from .sessions import ort_errors


def describe_runtime(
    installed: Sequence[tuple[str, str]] | None = None,
    *,
    import_module: ImportModule = importlib.import_module,
) -> dict[str, Any]:
    """What the doctor report shows about onnxruntime; never raises for a broken install.

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
        module = import_onnxruntime(import_module)
    except RuntimeInstallError as error:
        if not any("'import onnxruntime' fails" in problem for problem in problems):
            problems.append(str(error))
        return report

    listing_errors: tuple[type[Exception], ...] = (AttributeError, *ort_errors(module))
    try:
        providers = providers_from_module(module)
    except listing_errors as error:
        problems.append(f"onnxruntime cannot list its execution providers: {one_line(str(error))}")
        return report
    report["available_providers"] = providers
    report["auto_choice"] = select_provider("auto", providers).name
    return report
