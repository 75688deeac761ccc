"""Execution providers: what this onnxruntime offers and what select_provider picks."""

from __future__ import annotations

import logging

import onnxruntime
import pytest

from facedeck.core.errors import ProviderError
from facedeck.core.runtime.providers import (
    AUTO_ORDER,
    PROVIDER_NAMES,
    ProviderSelection,
    available_providers,
    select_provider,
    short_name,
)

CPU = "CPUExecutionProvider"


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
    with caplog.at_level(logging.INFO, logger="facedeck.core.runtime.providers"):
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
    expected = [short_name(p) for p in onnxruntime.get_available_providers()]
    expected = [p for p in expected if p is not None]
    found = available_providers()
    assert found == expected
    assert "cpu" in found
    assert all(name in PROVIDER_NAMES for name in found)  # AzureExecutionProvider left out


def test_select_provider_defaults_to_this_machine() -> None:
    assert select_provider().name == select_provider("auto", onnxruntime.get_available_providers()).name
