"""The onnxruntime install check: installed distributions, check_onnxruntime, import failures."""

from __future__ import annotations

import importlib.metadata
import sys
from types import ModuleType

import onnxruntime
import pytest

from facedeck.core.errors import RuntimeInstallError
from facedeck.core.runtime.install import (
    KNOWN_DISTRIBUTIONS,
    check_onnxruntime,
    import_onnxruntime,
    installed_distributions,
)
from tests.support.onnxruntime_importers import importer_failing, importer_ok


class FakeDist:
    """Just enough of importlib.metadata.Distribution."""

    def __init__(self, name: str | None, version: str) -> None:
        self.metadata = {"Name": name}
        self.version = version


# --------------------------------------------------------------------------------------
# installed_distributions


def test_installed_distributions_from_mapping_normalises_and_filters() -> None:
    fake = {"numpy": "2.1.0", "ONNXRuntime_GPU": "1.20.1", "onnxruntime": "1.32.0", "onnx": "1.17"}
    assert installed_distributions(fake) == [("onnxruntime", "1.32.0"), ("onnxruntime-gpu", "1.20.1")]


def test_installed_distributions_from_metadata_objects() -> None:
    fake = [
        FakeDist("requests", "2.32"),
        FakeDist(None, "0"),  # a broken dist-info without a name
        FakeDist("onnxruntime.directml", "1.21.0"),
        FakeDist("onnxruntime-directml", "1.19.0"),  # second copy further down sys.path
        FakeDist("onnxruntime-openvino", "1.22.0"),
    ]
    assert installed_distributions(fake) == [
        ("onnxruntime-directml", "1.21.0"),
        ("onnxruntime-openvino", "1.22.0"),
    ]


def test_installed_distributions_knows_every_variant() -> None:
    fake = {name.upper().replace("-", "_"): "1.0" for name in KNOWN_DISTRIBUTIONS}
    assert [name for name, _ in installed_distributions(fake)] == list(KNOWN_DISTRIBUTIONS)
    assert set(KNOWN_DISTRIBUTIONS) >= {
        "onnxruntime",
        "onnxruntime-gpu",
        "onnxruntime-directml",
        "onnxruntime-openvino",
        "onnxruntime-silicon",
        "onnxruntime-qnn",
        "onnxruntime-rocm",
        "onnxruntime-training",
    }


def test_installed_distributions_reads_this_environment() -> None:
    assert installed_distributions() == [("onnxruntime", importlib.metadata.version("onnxruntime"))]


# --------------------------------------------------------------------------------------
# check_onnxruntime


def test_check_none_installed_says_how_to_install() -> None:
    with pytest.raises(RuntimeInstallError) as caught:
        check_onnxruntime([], import_module=importer_failing(ModuleNotFoundError("onnxruntime")))
    message = str(caught.value)
    assert "\n" not in message
    assert "not installed" in message
    assert 'pip install "facedeck[cpu]"' in message
    assert '"facedeck[gpu]"' in message


def test_check_one_installed_returns_it_and_tries_the_import() -> None:
    calls: list[str] = []

    def importer(name: str) -> ModuleType:
        calls.append(name)
        return onnxruntime

    assert check_onnxruntime([("onnxruntime-gpu", "1.31.0")], import_module=importer) == (
        "onnxruntime-gpu",
        "1.31.0",
    )
    assert calls == ["onnxruntime"]


def test_check_two_installed_names_them_and_the_fix() -> None:
    with pytest.raises(RuntimeInstallError) as caught:
        check_onnxruntime(
            [("onnxruntime", "1.32.0"), ("onnxruntime-gpu", "1.31.0")], import_module=importer_ok
        )
    message = str(caught.value)
    assert "\n" not in message
    assert "onnxruntime 1.32.0" in message and "onnxruntime-gpu 1.31.0" in message
    assert "pip uninstall -y onnxruntime onnxruntime-gpu" in message
    assert 'pip install "facedeck[gpu]"' in message and '"facedeck[cpu]"' in message


def test_check_three_installed_uninstalls_all_of_them() -> None:
    installed = installed_distributions(
        {"onnxruntime": "1.32", "onnxruntime-gpu": "1.31", "onnxruntime-directml": "1.20"}
    )
    with pytest.raises(
        RuntimeInstallError, match="pip uninstall -y onnxruntime onnxruntime-gpu onnxruntime-directml"
    ):
        check_onnxruntime(installed, import_module=importer_ok)


def test_check_import_failure_reports_the_error_text() -> None:
    error = ImportError("libcudart.so.13: cannot open shared object file:\n No such file or directory")
    with pytest.raises(RuntimeInstallError) as caught:
        check_onnxruntime([("onnxruntime-gpu", "1.31.0")], import_module=importer_failing(error))
    message = str(caught.value)
    assert "\n" not in message
    assert "onnxruntime-gpu 1.31.0" in message
    assert "libcudart.so.13: cannot open shared object file: No such file or directory" in message
    assert '"facedeck[gpu]"' in message
    assert caught.value.__cause__ is error


def test_check_import_oserror_is_reported_too() -> None:
    with pytest.raises(RuntimeInstallError, match="DLL load failed"):
        check_onnxruntime(
            [("onnxruntime", "1.32.0")], import_module=importer_failing(OSError("DLL load failed"))
        )


def test_check_frozen_app_without_metadata_trusts_the_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    fake_module = ModuleType("onnxruntime")
    fake_module.package_name = "onnxruntime_gpu"  # type: ignore[attr-defined]
    fake_module.__version__ = "1.31.0"  # type: ignore[attr-defined]
    assert check_onnxruntime([], import_module=lambda name: fake_module) == ("onnxruntime-gpu", "1.31.0")
    with pytest.raises(RuntimeInstallError, match="not installed"):
        check_onnxruntime([], import_module=importer_failing(ModuleNotFoundError("onnxruntime")))


def test_check_real_environment() -> None:
    assert check_onnxruntime() == ("onnxruntime", importlib.metadata.version("onnxruntime"))


# --------------------------------------------------------------------------------------
# import_onnxruntime


def test_import_failure_says_how_to_reinstall_and_names_no_facedeck_command() -> None:
    error = ImportError("DLL load failed while importing onnxruntime_pybind11_state")
    with pytest.raises(RuntimeInstallError) as caught:
        import_onnxruntime(importer_failing(error))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("'import onnxruntime' fails (ImportError: DLL load failed")
    assert message.endswith(
        'Fix: reinstall with pip install "facedeck[cpu]" (or pip install "facedeck[gpu]" for an NVIDIA GPU)'
    )
    # command-line hints are the front end's to add, not the core's
    assert "facedeck doctor" not in message and "--headless" not in message
    assert caught.value.__cause__ is error
