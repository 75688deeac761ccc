"""describe_runtime: the doctor's view of onnxruntime, which never raises for a broken install."""

from __future__ import annotations

import importlib.metadata
from types import SimpleNamespace

from facedeck.core.runtime.providers import available_providers, select_provider
from facedeck.core.runtime.report import describe_runtime
from tests.support.onnxruntime_importers import importer_failing

# --------------------------------------------------------------------------------------
# describe_runtime


def test_describe_runtime_on_this_machine() -> None:
    report = describe_runtime()
    assert report["distribution"] == "onnxruntime"
    assert report["version"] == importlib.metadata.version("onnxruntime")
    assert report["installed"] == [f"onnxruntime {report['version']}"]
    assert report["available_providers"] == available_providers()
    assert report["auto_choice"] == select_provider("auto").name
    assert report["problems"] == []


def test_describe_runtime_doubled_install_does_not_raise() -> None:
    report = describe_runtime([("onnxruntime", "1.32.0"), ("onnxruntime-gpu", "1.31.0")])
    assert report["distribution"] is None
    assert report["installed"] == ["onnxruntime 1.32.0", "onnxruntime-gpu 1.31.0"]
    assert len(report["problems"]) == 1
    assert "pip uninstall -y onnxruntime onnxruntime-gpu" in report["problems"][0]
    assert "cpu" in report["available_providers"]  # the import itself still works here


def test_describe_runtime_unimportable_does_not_raise() -> None:
    error = ImportError("DLL load failed while importing onnxruntime_pybind11_state")
    report = describe_runtime([("onnxruntime", "1.32.0")], import_module=importer_failing(error))
    assert report["distribution"] is None
    assert report["available_providers"] == []
    assert report["auto_choice"] is None
    assert len(report["problems"]) == 1
    assert "DLL load failed" in report["problems"][0]


def test_describe_runtime_nothing_installed_does_not_raise() -> None:
    missing = importer_failing(ModuleNotFoundError("No module named 'onnxruntime'"))
    report = describe_runtime([], import_module=missing)
    assert report["distribution"] is None
    assert any('pip install "facedeck[cpu]"' in problem for problem in report["problems"])
    assert report["auto_choice"] is None


def test_describe_runtime_provider_listing_failure_does_not_raise() -> None:
    broken = SimpleNamespace(__version__="1.32.0")  # no get_available_providers
    report = describe_runtime([("onnxruntime", "1.32.0")], import_module=lambda name: broken)
    assert report["distribution"] == "onnxruntime"
    assert report["available_providers"] == []
    assert any("cannot list" in problem for problem in report["problems"])
