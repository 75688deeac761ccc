"""``facedeck --headless doctor`` as a user runs it: the report, the verdict and its exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import pytest

from tests.support.models.model_set import build_model_set


def doctor(*args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "FACEDECK_MODELS_DIR"}
    return subprocess.run(
        [sys.executable, "-m", "facedeck.desktop", "--headless", "doctor", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def json_report(result: subprocess.CompletedProcess) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def ready_models(tmp_path_factory) -> Path:
    # the stand-ins are trusted through the store, as 'models import --trust' would
    return build_model_set(tmp_path_factory.mktemp("doctor") / "models").directory


def test_ready_machine_says_ready_and_exits_0(ready_models):
    result = doctor("--models-dir", str(ready_models))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Verdict       READY" in result.stdout
    assert "NOT READY" not in result.stdout
    report = json_report(doctor("--models-dir", str(ready_models), "--json"))
    assert report["ready"] is True and report["not_ready_because"] == [] and report["missing_roles"] == []


def test_missing_models_say_not_ready_with_the_command_that_fixes_it(tmp_path):
    empty = tmp_path / "no models here"
    result = doctor("--models-dir", str(empty))
    assert result.returncode == 1
    verdict = result.stdout.split("Verdict", 1)[1]
    assert "NOT READY" in verdict
    assert "no usable detector, recognizer, swapper model" in verdict
    # the printed command names the folder the user asked about, quoted for the shell
    assert f"facedeck --headless models download --models-dir '{empty}'" in verdict
    report = json_report(doctor("--models-dir", str(empty), "--json"))
    assert report["ready"] is False
    assert report["missing_roles"] == ["detector", "recognizer", "swapper"]


def test_one_missing_role_is_named_alone(tmp_path):
    models = build_model_set(tmp_path / "models").directory
    (models / "w600k_r50.onnx").unlink()
    report = json_report(doctor("--models-dir", str(models), "--json"))
    assert report["ready"] is False and report["missing_roles"] == ["recognizer"]


def test_a_corrupt_model_is_not_ready_and_named(tmp_path):
    models = build_model_set(tmp_path / "models").directory
    swapper = models / "inswapper_128.onnx"
    swapper.write_bytes(swapper.read_bytes()[:-10] + b"0123456789")  # same size, other bytes
    # doctor reads remembered hashes only (it must stay quick): a changed file is "present",
    # to be verified before it is loaded; once 'models verify' has hashed it, it is corrupt
    assert "present  inswapper_128.onnx" in doctor("--models-dir", str(models)).stdout
    verify = subprocess.run(
        [
            sys.executable,
            "-m",
            "facedeck.desktop",
            "--headless",
            "models",
            "verify",
            "--models-dir",
            str(models),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verify.returncode != 0
    result = doctor("--models-dir", str(models))
    assert result.returncode == 1, result.stdout
    assert "NOT READY" in result.stdout
    assert "corrupt model file(s) inswapper_128" in result.stdout
    assert "models download inswapper_128" in result.stdout


def test_video_section_reports_pyav_ffmpeg_and_encoders(ready_models):
    report = json_report(doctor("--models-dir", str(ready_models), "--json"))
    video = report["video"]
    assert video["pyav"] == av.__version__
    assert video["ffmpeg"]
    encoders = {entry["name"]: entry for entry in video["encoders"]}
    # every PyAV wheel carries x264; FaceDeck's default codec must be reported usable
    assert encoders["libx264"]["usable"] is True and encoders["libx264"]["hardware"] is False
    if "h264_nvenc" in av.codecs_available:
        nvenc = encoders["h264_nvenc"]
        assert nvenc["hardware"] is True
        # unusable entries say why; usable ones need no note
        assert bool(nvenc["note"]) is (not nvenc["usable"])
    text = doctor("--models-dir", str(ready_models)).stdout
    assert f"PyAV          {av.__version__}" in text
    assert "libx264     software works" in text
