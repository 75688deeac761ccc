"""The PyInstaller bundle seen from inside: bundle_dir, the CUDA folder for preload_dlls, doctor's report.

A bundle sets ``sys.frozen`` and ``sys._MEIPASS``; here they are set on a folder laid out as
build.spec lays a bundle out. scripts/smoke_bundle.py checks the real bundle.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import onnxruntime
import pytest

from facedeck.core.diagnostics import collect_diagnostics
from facedeck.core.runtime import frozen, sessions
from facedeck.core.runtime.providers import ProviderSelection
from facedeck.core.runtime.sessions import create_session
from tests.support.models.recognizer import build_recognizer

CUDA_SELECTION = ProviderSelection(
    name="cuda", providers=("CUDAExecutionProvider", "CPUExecutionProvider"), reason="test"
)


def fake_bundle(monkeypatch: pytest.MonkeyPatch, folder: Path, *, cuda: bool, about: dict | None) -> Path:
    """``folder`` laid out as a bundle (onnxruntime/, av/, optional nvidia/) and made the running one."""
    for part in ("onnxruntime", "av", *(["nvidia"] if cuda else [])):
        (folder / part).mkdir(parents=True)
    if about is not None:
        (folder / frozen.ABOUT_FILE).write_text(json.dumps(about), encoding="utf-8")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(folder), raising=False)
    return folder


def test_not_frozen_is_no_bundle():
    assert frozen.bundle_dir() is None
    assert frozen.cuda_library_dir() is None
    assert frozen.describe_bundle() is None


def test_the_bundle_describes_itself(monkeypatch, tmp_path):
    folder = fake_bundle(monkeypatch, tmp_path, cuda=True, about={"flavour": "gpu", "onefile": True})
    info = frozen.describe_bundle()
    assert info is not None
    assert (info.folder, info.flavour, info.onefile) == (str(folder), "gpu", True)
    assert info.parts == ("onnxruntime", "PyAV (FFmpeg)", "CUDA/cuDNN libraries")


def test_a_bundle_without_its_description_still_reports(monkeypatch, tmp_path):
    fake_bundle(monkeypatch, tmp_path, cuda=False, about=None)
    info = frozen.describe_bundle()
    assert info is not None and info.flavour == "unknown" and not info.onefile


def test_doctor_report_carries_the_bundle(monkeypatch, tmp_path):
    fake_bundle(monkeypatch, tmp_path / "bundle", cuda=False, about={"flavour": "cpu", "onefile": False})
    report = collect_diagnostics(tmp_path / "models")
    assert report.to_dict()["bundle"]["flavour"] == "cpu"


@pytest.fixture
def preload_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    calls: list[dict] = []
    monkeypatch.setattr(onnxruntime, "preload_dlls", lambda **kwargs: calls.append(kwargs), raising=False)
    monkeypatch.setattr(sessions, "_dlls_preloaded", False)
    return calls


def test_the_nvidia_bundle_points_preload_at_its_own_libraries(monkeypatch, tmp_path, preload_calls):
    folder = fake_bundle(monkeypatch, tmp_path / "bundle", cuda=True, about={"flavour": "gpu"})
    model = build_recognizer(tmp_path / "w600k_r50.onnx").path
    create_session(model, CUDA_SELECTION)
    assert preload_calls == [{"directory": str(folder / "nvidia")}]


def test_outside_a_bundle_preload_searches_the_installed_wheels(tmp_path, preload_calls):
    create_session(build_recognizer(tmp_path / "w600k_r50.onnx").path, CUDA_SELECTION)
    assert preload_calls == [{}]


@pytest.mark.skipif(
    importlib.util.find_spec("nvidia") is None
    or "CUDAExecutionProvider" not in onnxruntime.get_available_providers(),
    reason="onnxruntime-gpu with its CUDA wheels is not installed here",
)
def test_real_preload_accepts_a_folder_of_the_cuda_libraries(tmp_path):
    # the real onnxruntime-gpu, given a folder as build.spec's gpu flavour makes one
    nvidia = importlib.util.find_spec("nvidia")
    assert nvidia is not None and nvidia.submodule_search_locations
    flat = tmp_path / "nvidia"
    flat.mkdir()
    for folder in nvidia.submodule_search_locations:
        for library in Path(folder).glob("*/lib/*.so*"):
            (flat / library.name).symlink_to(library)
    onnxruntime.preload_dlls(directory=str(flat))
