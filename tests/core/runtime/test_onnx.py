"""Tests for facedeck.core.runtime.onnx: install check, provider choice, sessions, doctor."""

from __future__ import annotations

import importlib.metadata
import logging
import os
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper

from facedeck.core.errors import ModelLoadError, ProviderError, RuntimeInstallError
from facedeck.core.runtime import onnx as runtime
from facedeck.core.runtime.onnx import (
    AUTO_ORDER,
    KNOWN_DISTRIBUTIONS,
    PROVIDER_NAMES,
    ProviderSelection,
    available_providers,
    check_onnxruntime,
    create_session,
    describe_runtime,
    installed_distributions,
    select_provider,
)

CPU = "CPUExecutionProvider"


def _importer_ok(name: str) -> ModuleType:
    assert name == "onnxruntime"
    return onnxruntime


def _importer_failing(error: BaseException):
    def importer(name: str) -> ModuleType:
        assert name == "onnxruntime"
        raise error

    return importer


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
        check_onnxruntime([], import_module=_importer_failing(ModuleNotFoundError("onnxruntime")))
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
            [("onnxruntime", "1.32.0"), ("onnxruntime-gpu", "1.31.0")], import_module=_importer_ok
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
        check_onnxruntime(installed, import_module=_importer_ok)


def test_check_import_failure_reports_the_error_text() -> None:
    error = ImportError("libcudart.so.13: cannot open shared object file:\n No such file or directory")
    with pytest.raises(RuntimeInstallError) as caught:
        check_onnxruntime([("onnxruntime-gpu", "1.31.0")], import_module=_importer_failing(error))
    message = str(caught.value)
    assert "\n" not in message
    assert "onnxruntime-gpu 1.31.0" in message
    assert "libcudart.so.13: cannot open shared object file: No such file or directory" in message
    assert '"facedeck[gpu]"' in message
    assert caught.value.__cause__ is error


def test_check_import_oserror_is_reported_too() -> None:
    with pytest.raises(RuntimeInstallError, match="DLL load failed"):
        check_onnxruntime(
            [("onnxruntime", "1.32.0")], import_module=_importer_failing(OSError("DLL load failed"))
        )


def test_check_frozen_app_without_metadata_trusts_the_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    fake_module = ModuleType("onnxruntime")
    fake_module.package_name = "onnxruntime_gpu"  # type: ignore[attr-defined]
    fake_module.__version__ = "1.31.0"  # type: ignore[attr-defined]
    assert check_onnxruntime([], import_module=lambda name: fake_module) == ("onnxruntime-gpu", "1.31.0")
    with pytest.raises(RuntimeInstallError, match="not installed"):
        check_onnxruntime([], import_module=_importer_failing(ModuleNotFoundError("onnxruntime")))


def test_check_real_environment() -> None:
    assert check_onnxruntime() == ("onnxruntime", importlib.metadata.version("onnxruntime"))


# --------------------------------------------------------------------------------------
# select_provider


@pytest.mark.parametrize(
    ("available", "expected"),
    [
        (["CUDAExecutionProvider", "CPUExecutionProvider"], "cuda"),
        (["CPUExecutionProvider", "CUDAExecutionProvider"], "cuda"),  # our order, not ORT's
        (["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"], "cuda"),
        (["CoreMLExecutionProvider", "AzureExecutionProvider", "CPUExecutionProvider"], "coreml"),
        (["coreml", "cpu"], "coreml"),
        (["OpenVINOExecutionProvider", "DmlExecutionProvider", "CPUExecutionProvider"], "directml"),
        (["openvino", "cpu"], "openvino"),
        (["TensorrtExecutionProvider", "CPUExecutionProvider"], "cpu"),  # TensorRT only on request
        (["ROCMExecutionProvider", "CPUExecutionProvider"], "cpu"),
        (["CPUExecutionProvider"], "cpu"),
        (["AzureExecutionProvider", "CPUExecutionProvider"], "cpu"),
        ([], "cpu"),
    ],
)
def test_auto_picks_the_first_available_in_auto_order(available: list[str], expected: str) -> None:
    selection = select_provider("auto", available)
    assert selection.name == expected
    assert selection.providers[0] == PROVIDER_NAMES[expected]
    assert selection.providers[-1] == CPU


def test_auto_order_is_as_designed() -> None:
    assert AUTO_ORDER == ("cuda", "coreml", "directml", "openvino", "cpu")
    assert "tensorrt" not in AUTO_ORDER


def test_auto_reason_and_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="facedeck.core.runtime.onnx"):
        selection = select_provider("auto", ["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert selection == ProviderSelection(
        name="cuda",
        providers=("CUDAExecutionProvider", CPU),
        reason="auto: picked cuda (available: cuda, cpu)",
    )
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any("auto: picked cuda (available: cuda, cpu)" in message for message in infos)


def test_default_choice_is_auto() -> None:
    assert select_provider(available=["DmlExecutionProvider", "CPUExecutionProvider"]).name == "directml"


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("cuda", '"facedeck[gpu]"'),
        ("tensorrt", "TensorRT"),
        ("coreml", "macOS"),
        ("directml", "onnxruntime-directml"),
        ("openvino", "onnxruntime-openvino"),
        ("rocm", "onnxruntime-rocm"),
    ],
)
def test_explicit_unavailable_provider_raises_with_hint(name: str, hint: str) -> None:
    with pytest.raises(ProviderError) as caught:
        select_provider(name, ["CPUExecutionProvider"])
    message = str(caught.value)
    assert message.startswith(f"execution provider '{name}' is not available here (available: cpu); ")
    assert hint in message
    assert "\n" not in message


def test_cuda_hint_says_to_remove_the_cpu_build() -> None:
    with pytest.raises(ProviderError) as caught:
        select_provider("cuda", ["CPUExecutionProvider"])
    message = str(caught.value)
    assert "pip uninstall -y onnxruntime" in message
    assert 'pip install "facedeck[gpu]"' in message


def test_unknown_provider_lists_the_valid_names() -> None:
    with pytest.raises(ProviderError) as caught:
        select_provider("vulkan", ["CPUExecutionProvider"])
    message = str(caught.value)
    assert "'vulkan'" in message
    for name in ("auto", *PROVIDER_NAMES):
        assert name in message


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("CUDAExecutionProvider", "cuda"),
        ("cudaexecutionprovider", "cuda"),
        (" CUDA ", "cuda"),
        ("DmlExecutionProvider", "directml"),
        ("DirectML", "directml"),
        ("CoreMLExecutionProvider", "coreml"),
        ("OpenVINOExecutionProvider", "openvino"),
        ("ROCMExecutionProvider", "rocm"),
        ("TensorrtExecutionProvider", "tensorrt"),
        ("CPUExecutionProvider", "cpu"),
        ("Auto", "cuda"),
    ],
)
def test_long_and_mixed_case_names(choice: str, expected: str) -> None:
    everything = list(PROVIDER_NAMES.values())
    assert select_provider(choice, everything).name == expected


def test_available_list_accepts_short_names() -> None:
    assert select_provider("openvino", ["openvino", "cpu"]).providers == ("OpenVINOExecutionProvider", CPU)


@pytest.mark.parametrize("name", list(PROVIDER_NAMES))
def test_providers_tuple_starts_with_choice_and_ends_with_cpu(name: str) -> None:
    selection = select_provider(name, list(PROVIDER_NAMES.values()))
    assert selection.providers[0] == PROVIDER_NAMES[name]
    assert selection.providers[-1] == CPU
    assert selection.providers.count(CPU) == 1
    assert selection.reason == f"requested {name} (available: {', '.join(PROVIDER_NAMES)})"


def test_tensorrt_falls_back_through_cuda_when_cuda_is_there() -> None:
    with_cuda = select_provider("tensorrt", ["TensorrtExecutionProvider", "CUDAExecutionProvider", CPU])
    assert with_cuda.providers == ("TensorrtExecutionProvider", "CUDAExecutionProvider", CPU)
    without_cuda = select_provider("tensorrt", ["TensorrtExecutionProvider", CPU])
    assert without_cuda.providers == ("TensorrtExecutionProvider", CPU)


def test_explicit_cpu_is_always_available() -> None:
    assert select_provider("cpu", []).providers == (CPU,)


def test_selection_is_frozen() -> None:
    selection = select_provider("cpu", [CPU])
    with pytest.raises(AttributeError):
        selection.name = "cuda"  # type: ignore[misc]


def test_available_providers_on_this_machine() -> None:
    expected = [runtime._short_name(p) for p in onnxruntime.get_available_providers()]
    expected = [p for p in expected if p is not None]
    found = available_providers()
    assert found == expected
    assert "cpu" in found
    assert all(name in PROVIDER_NAMES for name in found)  # AzureExecutionProvider left out


def test_select_provider_defaults_to_this_machine() -> None:
    assert select_provider().name == select_provider("auto", onnxruntime.get_available_providers()).name


# --------------------------------------------------------------------------------------
# create_session


@pytest.fixture(scope="module")
def identity_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    node = helper.make_node("Identity", ["x"], ["y"])
    graph = helper.make_graph(
        [node],
        "identity",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = tmp_path_factory.mktemp("models") / "identity.onnx"
    onnx.save(model, str(path))
    return path


CPU_SELECTION = ProviderSelection(name="cpu", providers=(CPU,), reason="test")
CUDA_SELECTION = ProviderSelection(name="cuda", providers=("CUDAExecutionProvider", CPU), reason="test")


@pytest.fixture
def preload_counter(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Replace onnxruntime.preload_dlls with a counter and forget any earlier preload."""
    calls: list[int] = []
    monkeypatch.setattr(onnxruntime, "preload_dlls", lambda: calls.append(1), raising=False)
    monkeypatch.setattr(runtime, "_dlls_preloaded", False)
    return calls


def test_create_session_loads_and_runs_on_cpu(identity_model: Path) -> None:
    session = create_session(identity_model, CPU_SELECTION)
    x = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    (y,) = session.run(None, {"x": x})
    np.testing.assert_array_equal(y, x)
    assert session.get_providers() == [CPU]


def test_create_session_accepts_str_paths(identity_model: Path) -> None:
    session = create_session(str(identity_model), CPU_SELECTION)
    assert [i.name for i in session.get_inputs()] == ["x"]


def test_create_session_options(identity_model: Path) -> None:
    session = create_session(identity_model, CPU_SELECTION, intra_op_threads=1)
    options = session.get_session_options()
    assert options.graph_optimization_level == onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    assert options.log_severity_level == 3
    assert options.intra_op_num_threads == 1


def test_create_session_rejects_negative_threads(identity_model: Path) -> None:
    with pytest.raises(ValueError, match="intra_op_threads"):
        create_session(identity_model, CPU_SELECTION, intra_op_threads=-1)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (os.urandom(64) + b"\x00\xff" * 64, "corrupt"),
        (b"this is a text file, not a model\n", "not an ONNX model"),
        (b"", "No graph"),
    ],
    ids=["corrupt", "text", "empty"],
)
def test_create_session_bad_file_names_it(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad_model.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError) as caught:
        create_session(path, CPU_SELECTION)
    message = str(caught.value)
    assert str(path) in message
    assert reason in message
    assert "\n" not in message


def test_create_session_truncated_model(tmp_path: Path, identity_model: Path) -> None:
    path = tmp_path / "truncated.onnx"
    path.write_bytes(identity_model.read_bytes()[:40])
    with pytest.raises(ModelLoadError, match="truncated.onnx"):
        create_session(path, CPU_SELECTION)


def test_create_session_missing_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "inswapper_128.onnx"
    with pytest.raises(ModelLoadError) as caught:
        create_session(path, CPU_SELECTION)
    assert str(path) in str(caught.value)
    assert "not found" in str(caught.value)


def test_create_session_directory_names_it(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="directory"):
        create_session(tmp_path, CPU_SELECTION)


def test_preload_once_for_cuda_and_fallback_warning(
    identity_model: Path, preload_counter: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="facedeck.core.runtime.onnx"):
        first = create_session(identity_model, CUDA_SELECTION)
        second = create_session(identity_model, CUDA_SELECTION)
    assert preload_counter == [1]
    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        assert first.get_providers() == [CPU]
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        fallbacks = [m for m in warnings if "execution provider cuda is not in use, fell back to cpu" in m]
        assert len(fallbacks) == 2
        assert all("identity.onnx" in m for m in fallbacks)
    x = np.ones((1, 3), dtype=np.float32)
    np.testing.assert_array_equal(second.run(None, {"x": x})[0], x)


def test_preload_for_tensorrt_selection(identity_model: Path, preload_counter: list[int]) -> None:
    selection = ProviderSelection(
        name="tensorrt", providers=("TensorrtExecutionProvider", "CUDAExecutionProvider", CPU), reason="t"
    )
    create_session(identity_model, selection)
    assert preload_counter == [1]


def test_no_preload_for_cpu(identity_model: Path, preload_counter: list[int]) -> None:
    create_session(identity_model, CPU_SELECTION)
    create_session(identity_model, CPU_SELECTION)
    assert preload_counter == []


def test_no_fallback_warning_for_cpu(identity_model: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="facedeck.core.runtime.onnx"):
        create_session(identity_model, CPU_SELECTION)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_preload_failure_is_logged_not_raised(
    identity_model: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_preload() -> None:
        raise OSError("libcudnn.so.9: cannot open shared object file")

    monkeypatch.setattr(onnxruntime, "preload_dlls", broken_preload, raising=False)
    monkeypatch.setattr(runtime, "_dlls_preloaded", False)
    with caplog.at_level(logging.WARNING, logger="facedeck.core.runtime.onnx"):
        session = create_session(identity_model, CUDA_SELECTION)
    assert session.get_providers()[-1] == CPU
    assert any(r.levelno == logging.WARNING and "libcudnn.so.9" in r.getMessage() for r in caplog.records)


def test_preload_output_goes_to_the_log_not_stdout(
    identity_model: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def noisy_preload() -> None:
        print("\033[33mFailed to load libcublasLt.so.13: not found\033[0m")

    monkeypatch.setattr(onnxruntime, "preload_dlls", noisy_preload, raising=False)
    monkeypatch.setattr(runtime, "_dlls_preloaded", False)
    with caplog.at_level(logging.WARNING, logger="facedeck.core.runtime.onnx"):
        create_session(identity_model, CUDA_SELECTION)
    assert capsys.readouterr().out == ""
    assert any(
        r.getMessage() == "onnxruntime.preload_dlls: Failed to load libcublasLt.so.13: not found"
        for r in caplog.records
    )


def test_missing_preload_dlls_is_fine(identity_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(onnxruntime, "preload_dlls", raising=False)
    monkeypatch.setattr(runtime, "_dlls_preloaded", False)
    assert create_session(identity_model, CUDA_SELECTION).get_providers()[-1] == CPU


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
    report = describe_runtime([("onnxruntime", "1.32.0")], import_module=_importer_failing(error))
    assert report["distribution"] is None
    assert report["available_providers"] == []
    assert report["auto_choice"] is None
    assert len(report["problems"]) == 1
    assert "DLL load failed" in report["problems"][0]


def test_describe_runtime_nothing_installed_does_not_raise() -> None:
    missing = _importer_failing(ModuleNotFoundError("No module named 'onnxruntime'"))
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
