"""``facedeck --headless worker`` as RunPod's local test runs it: a real process, the real SDK.

``--test_input JSON`` (or ./test_input.json) runs one job and exits 0 or 1; the SDK prints
the result as a Python literal on an ``INFO   | Job result: {...}`` line, cut in the middle
past 4096 characters, so the image job's pictures are small enough to come back whole.
"""

from __future__ import annotations

import ast
import base64
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime
import pytest

from facedeck.core.version import software_version
from facedeck.desktop.cli import main
from facedeck.remote import worker as worker_module
from tests.support import remote_jobs
from tests.support.models.drawing import KEY_COLORS, draw_square_face

BLUE, GREEN, RED, YELLOW, MAGENTA, CYAN = KEY_COLORS
REPO = Path(__file__).resolve().parents[2]
SIGNATURE = "X-Amz-Signature=0123456789abcdef"
RESULT_PREFIX = "INFO   | Job result: "
TARGET_SIZE = (80, 48)
RED_FACE, GREEN_FACE = (4, 6, 32), (44, 10, 28)  # x0, y0, side


def worker(*args: str, models_dir: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    ours = ("RUNPOD_", "FACEDECK_MODELS")  # what a developer's shell may set
    env = {key: value for key, value in os.environ.items() if not key.startswith(ours)}
    env["FACEDECK_MODELS_DIR"] = str(models_dir)  # FACEDECK_CONFIG_DIR (trusted hashes) is inherited
    return subprocess.run(
        [sys.executable, "-m", "facedeck.desktop", "--headless", "worker", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or REPO,
        timeout=120,
    )


def printed_result(stdout: str) -> dict[str, Any]:
    assert "TRUNCATED" not in stdout  # the SDK cuts long lines with a note on lines of its own
    lines = [line for line in stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    assert len(lines) == 1, stdout
    return ast.literal_eval(lines[0][len(RESULT_PREFIX) :])


def png(faces: list[tuple[tuple[int, int, int], tuple[int, int, int]]], size: tuple[int, int]) -> np.ndarray:
    image = np.full((size[1], size[0], 3), 128, np.uint8)
    for color, (x0, y0, side) in faces:
        draw_square_face(image, color, x0, y0, side)
    return image


def encoded(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image)
    assert ok
    return data.tobytes()


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stdout + result.stderr


def test_image_job_by_base64_answers_field_by_field_and_exits_0(remote_models):
    source = png([(YELLOW, (8, 8, 48))], (64, 64))
    target = png([(RED, RED_FACE), (GREEN, GREEN_FACE)], TARGET_SIZE)
    job_input = remote_jobs.image_input(
        remote_jobs.media(data=encoded(source), name="source.png"),
        remote_jobs.media(data=encoded(target), name="target.png"),
        output={"format": "jpg", "quality": 60},  # small enough for the printed line
    )
    result = worker("--test_input", json.dumps({"input": job_input}), models_dir=remote_models.directory)
    assert result.returncode == 0, result.stdout + result.stderr
    no_traceback(result)
    printed = printed_result(result.stdout)
    assert set(printed) == {"output"}
    answer = printed["output"]
    assert list(answer) == [
        "kind", "faces_found", "faces_swapped", "output", "provider", "timings", "warnings", "version"
    ]  # fmt: skip
    assert (answer["kind"], answer["faces_found"], answer["faces_swapped"]) == ("image", 2, 1)
    assert (answer["provider"], answer["warnings"], answer["version"]) == ("cpu", [], software_version())
    assert set(answer["timings"]) == {"fetch", "engine", "upload", "total"}
    assert 0 < answer["timings"]["engine"] <= answer["timings"]["total"]
    output = answer["output"]
    assert set(output) == {"format", "data", "bytes"} and output["format"] == "jpg"
    data = base64.b64decode(output["data"], validate=True)
    assert output["bytes"] == len(data) and data[:3] == b"\xff\xd8\xff"
    swapped = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert swapped.shape == (TARGET_SIZE[1], TARGET_SIZE[0], 3)

    def centre(face: tuple[int, int, int]) -> tuple[int, int]:
        x0, y0, side = face
        return y0 + side // 2, x0 + side // 2

    changed = np.abs(swapped[centre(RED_FACE)].astype(int) - target[centre(RED_FACE)].astype(int)).max()
    kept = np.abs(swapped[centre(GREEN_FACE)].astype(int) - target[centre(GREEN_FACE)].astype(int)).max()
    assert changed > 30 and kept <= 12  # the larger (red) face swapped, the green one left (JPEG aside)
    # FaceDeck's own log keeps the CLI's format after the SDK's import (which would have set up
    # the root logger its way): the models loaded once at start-up, then the job
    prefix = "INFO facedeck.remote.worker: "
    ours = [line[len(prefix) :] for line in result.stderr.splitlines() if line.startswith(prefix)]
    assert len(ours) == 2, result.stderr
    assert ours[0].startswith("FaceDeck ") and "worker: ok; provider cpu" in ours[0]
    assert ours[1].startswith("job local_test done in ")


def test_bad_job_exits_1_with_one_clear_error_and_no_secret(tmp_path):
    job_input = remote_jobs.image_input(
        remote_jobs.media(url=f"http://127.0.0.1:9/source.png?{SIGNATURE}"),
        remote_jobs.media(url=f"http://127.0.0.1:9/target.png?{SIGNATURE}"),
        colour="red",
    )
    empty = tmp_path / "no-models"
    empty.mkdir()
    result = worker("--test_input", json.dumps({"input": job_input}), models_dir=empty)
    assert result.returncode == 1, result.stdout + result.stderr
    no_traceback(result)
    errors = [line for line in result.stdout.splitlines() if line.startswith("ERROR")]
    assert errors == [
        "ERROR  | Job local_test failed with error: invalid job (1 problem): job.colour: unknown key"
    ]
    # the SDK logs no job input at the worker's default level, so the URLs' signatures stay out
    assert SIGNATURE not in result.stdout + result.stderr


def test_health_from_test_input_json_with_models_missing_answers(tmp_path):
    # the repository's test_input.json (the image's smoke test) is a health job
    assert json.loads((REPO / "test_input.json").read_text()) == {"input": {"health": True}}
    empty = tmp_path / "no-models"
    empty.mkdir()
    result = worker(models_dir=empty, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    no_traceback(result)
    assert "Using test_input.json as job input." in result.stdout
    answer = printed_result(result.stdout)["output"]
    models = answer.pop("models")
    message = answer.pop("message")
    assert answer == {
        "status": "degraded",
        "modules_imported": True,
        "models_directory": str(empty),
        "version": software_version(),
        "onnxruntime": onnxruntime.__version__,
        "provider": "cpu",
    }
    assert message.startswith("missing model file(s) ") and str(empty) in message
    assert {"det_10g", "w600k_r50", "inswapper_128"} <= set(models) and set(models.values()) == {"missing"}
    # the worker started anyway, saying what is missing
    started = f"worker: degraded; provider cpu, onnxruntime {onnxruntime.__version__}, models in {empty}"
    assert started in result.stderr


# ----- usage errors: one line, exit 2, before any model is loaded (in-process) --------------
@pytest.fixture
def quiet_sdk_env(monkeypatch):
    """The SDK's variables as the worker would set them, and the log level the worker command
    sets for FaceDeck's logger, all restored after the test."""
    monkeypatch.setenv("RUNPOD_SKIP_AUTO_SYSTEM_CHECKS", "true")
    monkeypatch.setenv("RUNPOD_LOG_LEVEL", "INFO")
    monkeypatch.delenv("RUNPOD_WEBHOOK_GET_JOB", raising=False)
    monkeypatch.delenv("RUNPOD_REALTIME_PORT", raising=False)
    facedeck_logger = logging.getLogger("facedeck")
    level = facedeck_logger.level
    yield
    facedeck_logger.setLevel(level)  # setLevel, not the attribute: loggers cache their answers


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--test_input", "{not json"],
            "--test_input is not valid JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)",
        ),
        (
            ["--test_input", '{"health": true}'],
            '--test_input must be a JSON object with an "input", e.g. \'{"input": {"health": true}}\'',
        ),
        (
            ["--test_input", '{"input": {"health": true}}', "--rp_serve_apii"],
            "unrecognized arguments: --rp_serve_apii (see 'facedeck --headless worker --help')",
        ),
        (
            [],
            "not on RunPod (RUNPOD_WEBHOOK_GET_JOB is not set) and no job to run: pass --test_input JSON, "
            "put a test_input.json in the working folder, or serve the SDK's test API with --rp_serve_api",
        ),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(quiet_sdk_env, tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)  # no test_input.json here
    assert main(["--headless", "worker", *args]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"facedeck: error: {message}"]


def test_worker_defaults_keep_what_the_user_set(caplog):
    environ: dict[str, str] = {}
    worker_module.prepare_environment(environ)
    assert environ == {"RUNPOD_SKIP_AUTO_SYSTEM_CHECKS": "true", "RUNPOD_LOG_LEVEL": "INFO"}
    chosen = {"RUNPOD_SKIP_AUTO_SYSTEM_CHECKS": "false", "RUNPOD_DEBUG_LEVEL": "WARN"}
    environ = dict(chosen)
    worker_module.prepare_environment(environ)
    assert environ == chosen  # the SDK reads RUNPOD_DEBUG_LEVEL when RUNPOD_LOG_LEVEL is unset
    assert caplog.records == []
    worker_module.prepare_environment({"RUNPOD_LOG_LEVEL": "debug"})
    assert [record.getMessage() for record in caplog.records] == [
        "the RunPod SDK logs at DEBUG: it prints every job's input and output, presigned URLs included"
    ]
