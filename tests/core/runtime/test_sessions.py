"""create_session: loading models, session options, the CUDA preload and provider fallback."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper

from facedeck.core.errors import ModelLoadError
from facedeck.core.runtime import sessions
from facedeck.core.runtime.providers import ProviderSelection
from facedeck.core.runtime.sessions import create_session

CPU = "CPUExecutionProvider"


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
    monkeypatch.setattr(sessions, "_dlls_preloaded", False)
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
        (b"", "empty"),
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
    with caplog.at_level(logging.WARNING, logger="facedeck.core.runtime.sessions"):
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
    with caplog.at_level(logging.WARNING, logger="facedeck.core.runtime.sessions"):
        create_session(identity_model, CPU_SELECTION)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_preload_failure_is_logged_not_raised(
    identity_model: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_preload() -> None:
        raise OSError("libcudnn.so.9: cannot open shared object file")

    monkeypatch.setattr(onnxruntime, "preload_dlls", broken_preload, raising=False)
    monkeypatch.setattr(sessions, "_dlls_preloaded", False)
    with caplog.at_level(logging.WARNING, logger="facedeck.core.runtime.sessions"):
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
    monkeypatch.setattr(sessions, "_dlls_preloaded", False)
    with caplog.at_level(logging.WARNING, logger="facedeck.core.runtime.sessions"):
        create_session(identity_model, CUDA_SELECTION)
    assert capsys.readouterr().out == ""
    assert any(
        r.getMessage() == "onnxruntime.preload_dlls: Failed to load libcublasLt.so.13: not found"
        for r in caplog.records
    )


def test_missing_preload_dlls_is_fine(identity_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(onnxruntime, "preload_dlls", raising=False)
    monkeypatch.setattr(sessions, "_dlls_preloaded", False)
    assert create_session(identity_model, CUDA_SELECTION).get_providers()[-1] == CPU


def test_a_device_goes_to_the_providers_that_take_one() -> None:
    cuda = ProviderSelection("cuda", ("CUDAExecutionProvider", CPU), "requested").on_device(1)
    assert cuda.provider_options() == [{"device_id": "1"}, {}]
    assert cuda.on_device(None).provider_options() == [{}, {}]  # the provider's default GPU
    with pytest.raises(ValueError, match="0 or more"):
        cuda.on_device(-1)


def test_create_session_hands_the_device_to_onnxruntime(
    identity_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What onnxruntime receives: the device in the options of the provider that takes it,
    # paired name by name with the providers (this build has no CUDA, so it falls back).
    received: list[dict[str, object]] = []
    real = onnxruntime.InferenceSession

    def recording(*args: object, **kwargs: object) -> onnxruntime.InferenceSession:
        received.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(onnxruntime, "InferenceSession", recording)
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CUDAExecutionProvider", CPU])
    monkeypatch.setattr(sessions, "_dlls_preloaded", True)
    selection = ProviderSelection("cuda", ("CUDAExecutionProvider", CPU), "requested").on_device(2)
    session = create_session(identity_model, selection)  # no CUDA here: onnxruntime falls back
    assert session.get_providers() == [CPU]
    assert received[-1]["providers"] == ["CUDAExecutionProvider", CPU]
    assert received[-1]["provider_options"] == [{"device_id": "2"}, {}]
