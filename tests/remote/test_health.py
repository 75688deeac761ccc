"""Health answers, and missing models: every job names them until they appear, without a restart."""

from __future__ import annotations

import asyncio
import shutil

import onnxruntime
import pytest

from facedeck.core.models.library import ModelLibrary
from facedeck.core.runtime.providers import select_provider
from facedeck.core.version import software_version
from facedeck.remote.handler import RemoteHandler
from facedeck.remote.storage import BucketStorage
from tests.support.remote_jobs import image_input, media

REQUIRED_FILES = ("det_10g.onnx", "w600k_r50.onnx", "inswapper_128.onnx")


def ask(handler, payload):
    return asyncio.run(handler.handle({"id": "h", "input": payload}))


def expected_models(statuses: dict[str, str]) -> dict[str, str]:
    every = ("det_10g", "w600k_r50", "2d106det", "inswapper_128", "inswapper_128_fp16", "gfpgan_1.4")
    return {model: statuses.get(model, "missing") for model in every}


def test_health_with_the_models_present(handler, remote_models):
    answer = ask(handler, {"health": True})
    assert answer == {
        "status": "ok",
        "message": "ready",
        "modules_imported": True,
        "models_directory": str(remote_models.directory),
        "version": software_version(),
        "onnxruntime": onnxruntime.__version__,
        "provider": "cpu",
        "models": expected_models(
            {"det_10g": "trusted", "w600k_r50": "trusted", "2d106det": "trusted", "inswapper_128": "trusted"}
        ),
    }
    assert ask(handler, {"health_check": True}) == answer  # the old worker's request
    assert handler.health() == answer


def test_missing_models_are_named_by_every_job_until_they_appear(
    make_handler, remote_models, remote_media, tmp_path
):
    folder = tmp_path / "models"
    folder.mkdir()
    handler = make_handler(library=ModelLibrary(folder, select_provider("cpu")))
    assert handler.warm() is False  # never raises
    files = "det_10g.onnx, w600k_r50.onnx, inswapper_128.onnx or inswapper_128_fp16.onnx"
    missing = f"missing model file(s) {files} in {folder}"
    health = ask(handler, {"health": True})
    assert health["status"] == "degraded" and health["message"] == missing
    assert health["modules_imported"] is True and health["models"] == expected_models({})
    job = image_input(media(data=remote_media.bytes("source")), media(data=remote_media.bytes("target")))
    for _ in range(2):  # the worker lives on; each job says the same
        answer = ask(handler, job)
        assert answer == {"error": missing, "code": "model_missing"}
        assert "download" not in answer["error"]  # a CLI hint is not the worker's to give
    for name in REQUIRED_FILES:
        shutil.copy(remote_models.directory / name, folder / name)  # trusted by hash already
    answer = ask(handler, job)
    assert "error" not in answer and answer["faces_swapped"] == 1
    health = ask(handler, {"health": True})
    assert health["status"] == "ok" and health["message"] == "ready"
    assert health["models"]["det_10g"] == "trusted"


def test_from_environment_loads_models_and_reads_the_bucket(remote_models, s3_server):
    environ = {
        "FACEDECK_MODELS_DIR": str(remote_models.directory),
        "FACEDECK_PROVIDER": "cpu",
        **s3_server.environment(prefix="env-results/"),
    }
    handler = RemoteHandler.from_environment(environ)
    assert handler.library.directory == remote_models.directory
    assert handler.library.provider.name == "cpu"
    assert set(handler.library.loaded()) == set(REQUIRED_FILES)  # warmed at start-up
    assert isinstance(handler.storage, BucketStorage)
    assert handler.storage.bucket == s3_server.bucket and handler.storage.prefix == "env-results/"
    assert handler.storage.endpoint_url == s3_server.endpoint_url
    assert handler.health()["status"] == "ok"


def test_from_environment_never_raises_for_missing_models(tmp_path):
    empty = tmp_path / "none"
    handler = RemoteHandler.from_environment({"FACEDECK_MODELS_DIR": str(empty)}, provider="cpu")
    assert handler.storage is None
    assert handler.library.loaded() == []
    assert handler.health()["status"] == "degraded"


@pytest.mark.parametrize("value", ["", "  "])
def test_no_bucket_without_a_bucket_name(value):
    assert BucketStorage.from_environment({"FACEDECK_S3_BUCKET": value, "AWS_ACCESS_KEY_ID": "x"}) is None
