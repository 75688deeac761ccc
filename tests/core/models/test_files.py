"""Where models are looked for, in order: --models-dir, FACEDECK_MODELS_DIR, the user data dir."""

from __future__ import annotations

import pytest

from facedeck.core.errors import UsageError
from facedeck.core.models import files as model_files
from facedeck.core.models.files import Role


def test_explicit_directory_wins_over_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(model_files.MODELS_DIR_ENV, str(tmp_path / "env"))
    assert model_files.resolve_models_dir(tmp_path / "cli") == (tmp_path / "cli").resolve()


def test_environment_wins_over_default(tmp_path, monkeypatch):
    monkeypatch.setenv(model_files.MODELS_DIR_ENV, str(tmp_path / "env"))
    assert model_files.resolve_models_dir(None) == (tmp_path / "env").resolve()


def test_runpod_volume_comes_before_the_user_directory(tmp_path, monkeypatch):
    monkeypatch.delenv(model_files.MODELS_DIR_ENV, raising=False)
    volume = tmp_path / "runpod-volume" / "facedeck" / "models"
    assert model_files.resolve_models_dir(None, runpod_volume=volume) == model_files.default_models_dir()
    volume.mkdir(parents=True)
    assert model_files.resolve_models_dir(None, runpod_volume=volume) == volume
    assert (
        model_files.resolve_models_dir(tmp_path / "cli", runpod_volume=volume) == (tmp_path / "cli").resolve()
    )


def test_default_is_the_user_data_directory(tmp_path, monkeypatch):
    monkeypatch.delenv(model_files.MODELS_DIR_ENV, raising=False)
    resolved = model_files.resolve_models_dir(None, runpod_volume=tmp_path / "absent")
    assert resolved == model_files.default_models_dir()
    assert resolved.name == "models" and "FaceDeck" in str(resolved)


def test_swapper_prefers_the_requested_precision(tmp_path):
    for name in ("inswapper_128.onnx", "inswapper_128_fp16.onnx"):
        (tmp_path / name).write_bytes(b"x")
    assert model_files.find_role_file(tmp_path, Role.SWAPPER).name == "inswapper_128.onnx"
    assert model_files.find_role_file(tmp_path, Role.SWAPPER, "inswapper_128_fp16.onnx").name == (
        "inswapper_128_fp16.onnx"
    )
    (tmp_path / "inswapper_128.onnx").unlink()
    assert model_files.find_role_file(tmp_path, Role.SWAPPER).name == "inswapper_128_fp16.onnx"
    assert model_files.missing_roles(tmp_path, [Role.SWAPPER, Role.DETECTOR]) == ["det_10g.onnx"]


def test_a_models_dir_that_is_a_file_is_named_with_its_origin(tmp_path, monkeypatch):
    afile = tmp_path / "models.txt"
    afile.write_text("not a folder")
    with pytest.raises(UsageError, match=r"^--models-dir .*models\.txt is a file, not a folder$"):
        model_files.resolve_models_dir(afile)
    with pytest.raises(UsageError, match=r"cannot be a folder: .*models\.txt is a file$"):
        model_files.resolve_models_dir(afile / "sub")
    monkeypatch.setenv(model_files.MODELS_DIR_ENV, str(afile))
    with pytest.raises(UsageError, match=rf"^{model_files.MODELS_DIR_ENV} .* is a file, not a folder$"):
        model_files.resolve_models_dir(None)
    assert model_files.resolve_models_dir(None, check=False) == afile  # for hints, never raises
    assert model_files.resolve_models_dir(tmp_path / "new" / "folder") == tmp_path / "new" / "folder"
