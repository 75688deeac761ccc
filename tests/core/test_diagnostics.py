"""The environment report behind ``doctor``: plain data, remembered hashes only."""

from __future__ import annotations

import json
import platform
import sys

import pytest

from facedeck.core import diagnostics
from facedeck.core.diagnostics import Diagnostics, collect_diagnostics
from facedeck.core.media.video_support import EncoderReport, VideoSupport
from facedeck.core.models import store as model_store
from facedeck.core.models.manifest import load_manifest_file
from facedeck.core.models.store import ModelStore
from tests.support.manifest_fixtures import payload, write_manifest


@pytest.fixture
def store(tmp_path):
    files = [payload("inswapper_128.onnx", 3000, 1), payload("GFPGANv1.4.onnx", 2000, 2)]
    manifest = load_manifest_file(
        write_manifest(tmp_path / "manifest.toml", "http://127.0.0.1:9", files, None, [])
    )
    store = ModelStore(tmp_path / "models", manifest=manifest, settings_dir=tmp_path / "settings")
    store.directory.mkdir()
    swapper = store.directory / "inswapper_128.onnx"
    swapper.write_bytes(files[0].data)
    store.remember(swapper, files[0].sha256)
    return store


def healthy_runtime() -> dict:
    return {
        "distribution": "onnxruntime",
        "version": "1.32.0",
        "installed": ["onnxruntime 1.32.0"],
        "available_providers": ["cpu"],
        "auto_choice": "cpu",
        "problems": [],
    }


def test_report_is_json_safe_and_complete(store):
    report = collect_diagnostics(store=store, describe=healthy_runtime)
    assert report.ok and report.problems == ()
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data  # nothing that needs default=str
    assert data["facedeck"].startswith("FaceDeck ")
    assert data["python"] == {"version": platform.python_version(), "executable": sys.executable}
    assert data["platform"] == platform.platform()
    assert data["onnxruntime"]["auto_choice"] == "cpu"
    assert data["models_dir"] == str(store.directory)
    assert data["models"] == [
        {"id": "inswapper_128", "file": "inswapper_128.onnx", "status": "verified"},
        {"id": "GFPGANv1.4", "file": "GFPGANv1.4.onnx", "status": "missing"},
    ]
    assert [model.present for model in report.models] == [True, False]
    assert data["problems"] == []


def test_runtime_problems_make_the_report_not_ok(store):
    def doubled() -> dict:
        return {**healthy_runtime(), "problems": ["two onnxruntime distributions are installed"]}

    report = collect_diagnostics(store=store, describe=doubled)
    assert not report.ok
    assert report.problems == ("two onnxruntime distributions are installed",)


def test_report_never_rehashes_model_files(store, monkeypatch):
    def no_hashing(*args, **kwargs):
        raise AssertionError("diagnostics must use remembered hashes only")

    monkeypatch.setattr(model_store, "sha256_file", no_hashing)
    (store.directory / "GFPGANv1.4.onnx").write_bytes(b"g" * 2000)  # present, never hashed
    statuses = {m.id: m.status for m in collect_diagnostics(store=store, describe=healthy_runtime).models}
    assert statuses == {"inswapper_128": "verified", "GFPGANv1.4": "present"}


def test_report_is_frozen_and_to_dict_is_a_copy(store):
    report = collect_diagnostics(store=store, describe=healthy_runtime)
    with pytest.raises(AttributeError):
        report.problems = ("x",)  # type: ignore[misc]
    report.to_dict()["onnxruntime"]["available_providers"].append("cuda")
    assert report.onnxruntime["available_providers"] == ["cpu"]


def test_models_dir_is_resolved_like_the_commands(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEDECK_MODELS_DIR", str(tmp_path / "from-env"))
    report = collect_diagnostics(describe=healthy_runtime)
    assert isinstance(report, Diagnostics)
    assert report.models_dir == str((tmp_path / "from-env").resolve())
    explicit = collect_diagnostics(tmp_path / "explicit", describe=healthy_runtime)
    assert explicit.models_dir == str((tmp_path / "explicit").resolve())


def test_default_runtime_report_comes_from_the_runtime_package():
    # the real describe_runtime, wherever the runtime package keeps it
    report = collect_diagnostics(store=None, describe=diagnostics.describe_runtime)
    assert "problems" in report.onnxruntime and isinstance(report.problems, tuple)


def no_video_problems() -> VideoSupport:
    encoder = EncoderReport("h264", "libx264", hardware=False, usable=True)
    return VideoSupport("18.0", "8.0", (encoder,), (), ())


def test_verdict_names_the_roles_no_usable_file_fills(store):
    # the fixture's manifest has a swapper (verified on disk) and a restorer (missing):
    # detector and recognizer have no model at all, the restorer is optional
    report = collect_diagnostics(store=store, describe=healthy_runtime, video=no_video_problems)
    assert report.missing_roles == ("detector", "recognizer")
    assert report.ok and not report.ready
    assert report.to_dict()["ready"] is False


def test_a_corrupt_file_does_not_fill_its_role(store):
    swapper = store.directory / "inswapper_128.onnx"
    swapper.write_bytes(b"x" * swapper.stat().st_size)
    store.states(rehash=True)  # what 'models verify' does: the store now knows it is corrupt
    report = collect_diagnostics(store=store, describe=healthy_runtime, video=no_video_problems)
    assert "swapper" in report.missing_roles


def test_video_problems_make_the_report_not_ok(store):
    def broken_video() -> VideoSupport:
        return VideoSupport(None, None, (), (), ("PyAV (video) does not import: libavcodec.so.62",))

    report = collect_diagnostics(store=store, describe=healthy_runtime, video=broken_video)
    assert not report.ok and not report.ready
    assert report.problems == ("PyAV (video) does not import: libavcodec.so.62",)
    assert report.to_dict()["video"]["problems"] == ["PyAV (video) does not import: libavcodec.so.62"]
