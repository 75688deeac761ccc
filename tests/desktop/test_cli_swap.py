"""``facedeck --headless swap`` and ``doctor`` as a user runs them: a real process, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedeck.core.media.metadata import DIGITAL_SOURCE_TYPE
from tests.support.bad_files import write_bad_inputs
from tests.support.models.drawing import KEY_COLORS, draw_square_face
from tests.support.models.model_set import build_model_set

BLUE, GREEN, RED, YELLOW, MAGENTA, CYAN = KEY_COLORS


def facedeck(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    # the caller's own models directory must not leak into a test
    full_env = {key: value for key, value in os.environ.items() if key != "FACEDECK_MODELS_DIR"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "facedeck.desktop", "--headless", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
    )


def swap(source, target, output, models_dir, *extra: str) -> subprocess.CompletedProcess:
    """``facedeck --headless swap -s SOURCE -t TARGET -o OUTPUT --models-dir DIR [extra...]``."""
    args = ["-s", str(source), "-t", str(target), "-o", str(output), "--models-dir", str(models_dir)]
    return facedeck("swap", *args, *extra)


def write_face_image(
    path: Path, faces: list[tuple[tuple[int, int, int], int, int, int]], size=(480, 360)
) -> Path:
    frame = np.full((size[1], size[0], 3), 128, np.uint8)
    for color, x0, y0, side in faces:
        draw_square_face(frame, color, x0, y0, side)
    assert cv2.imwrite(str(path), frame)
    return path


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    models = build_model_set(root / "models", swapper_mode="latent_color")
    return {
        "root": root,
        "models": models,
        "source": write_face_image(root / "source.png", [(YELLOW, 140, 80, 200)]),
        "target": write_face_image(root / "target.png", [(RED, 40, 60, 160), (GREEN, 300, 100, 120)]),
        "blank": write_face_image(root / "blank.png", []),
        "bad": write_bad_inputs(root / "bad"),
    }


def assert_clean_failure(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("facedeck: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_swap_writes_a_marked_output_and_json_result(workspace, tmp_path):
    output = tmp_path / "out.jpg"
    models = workspace["models"].directory
    result = swap(str(workspace["source"]), str(workspace["target"]), str(output), str(models), "--json")
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["event"] == "result" and line["faces_found"] == 2 and line["faces_swapped"] == 1
    assert Path(line["output"]) == output
    assert DIGITAL_SOURCE_TYPE.encode() in output.read_bytes()
    swapped = cv2.imread(str(output))
    original = cv2.imread(str(workspace["target"]))
    assert (
        np.abs(swapped[140, 120].astype(int) - original[140, 120].astype(int)).max() > 30
    )  # red face changed
    assert (
        np.abs(swapped[160, 360].astype(int) - original[160, 360].astype(int)).max() <= 3
    )  # green face kept


def test_models_dir_from_environment(workspace, tmp_path):
    output = tmp_path / "out.png"
    env = {"FACEDECK_MODELS_DIR": str(workspace["models"].directory)}
    result = facedeck(
        "swap", "-s", str(workspace["source"]), "-t", str(workspace["target"]), "-o", str(output), env=env
    )
    assert result.returncode == 0, result.stderr
    assert output.is_file()


@pytest.mark.parametrize("kind", ["svg", "truncated jpeg", "text named png", "zero bytes", "pixel bomb"])
@pytest.mark.parametrize("role", ["source", "target"])
def test_bad_input_is_one_line_and_leaves_no_output(workspace, tmp_path, kind, role):
    bad = workspace["bad"][kind]
    source = bad if role == "source" else workspace["source"]
    target = bad if role == "target" else workspace["target"]
    output = tmp_path / "out.png"
    result = swap(source, target, output, workspace["models"].directory)
    assert_clean_failure(result, bad.name)
    assert result.returncode == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("role", ["source", "target"])
def test_no_face_names_the_image(workspace, tmp_path, role):
    source = workspace["blank"] if role == "source" else workspace["source"]
    target = workspace["blank"] if role == "target" else workspace["target"]
    output = tmp_path / "out.png"
    result = swap(source, target, output, workspace["models"].directory)
    assert_clean_failure(result, "no face found in blank.png")
    assert result.returncode == 3
    assert not output.exists()


def test_missing_models_name_files_and_directory(workspace, tmp_path):
    empty = tmp_path / "no-models"
    empty.mkdir()
    output = tmp_path / "out.png"
    result = swap(str(workspace["source"]), str(workspace["target"]), str(output), str(empty), "--enhance")
    assert_clean_failure(
        result, "det_10g.onnx", "w600k_r50.onnx", "inswapper_128.onnx", "GFPGANv1.4.onnx", str(empty)
    )
    assert result.returncode == 4
    assert not output.exists()


def test_unavailable_provider_is_a_clear_error(workspace, tmp_path):
    output = tmp_path / "out.png"
    result = swap(
        str(workspace["source"]),
        str(workspace["target"]),
        str(output),
        str(workspace["models"].directory),
        "--provider",
        "cuda",
    )
    assert_clean_failure(result, "cuda", "not available")
    assert result.returncode == 5
    assert not output.exists()


def test_output_never_overwrites_an_input(workspace):
    before = workspace["target"].read_bytes()
    result = swap(
        str(workspace["source"]),
        str(workspace["target"]),
        str(workspace["target"]),
        str(workspace["models"].directory),
    )
    assert_clean_failure(result, "overwrite")
    assert workspace["target"].read_bytes() == before


def test_reference_selection_and_mapping_from_the_command_line(workspace, tmp_path):
    root = workspace["root"]
    ref_green = write_face_image(root / "ref_green.png", [(GREEN, 100, 100, 150)])
    ref_red = write_face_image(root / "ref_red.png", [(RED, 100, 100, 150)])
    cyan = write_face_image(root / "cyan.png", [(CYAN, 100, 100, 150)])
    models = str(workspace["models"].directory)
    original = cv2.imread(str(workspace["target"]))

    referenced = tmp_path / "referenced.png"
    result = facedeck(
        "swap",
        "-s",
        str(workspace["source"]),
        "-t",
        str(workspace["target"]),
        "-o",
        str(referenced),
        "--select",
        "reference",
        "--reference",
        str(ref_green),
        "--models-dir",
        models,
    )
    assert result.returncode == 0, result.stderr
    out = cv2.imread(str(referenced))
    assert np.array_equal(out[140, 120], original[140, 120])  # red untouched
    assert not np.array_equal(out[160, 360], original[160, 360])  # green swapped

    mapped = tmp_path / "mapped.png"
    result = facedeck(
        "swap",
        "-t",
        str(workspace["target"]),
        "-o",
        str(mapped),
        "--models-dir",
        models,
        "--map",
        str(workspace["source"]),
        str(ref_red),
        "--map",
        str(cyan),
        str(ref_green),
    )
    assert result.returncode == 0, result.stderr
    out = cv2.imread(str(mapped))
    assert not np.array_equal(out[140, 120], original[140, 120])
    assert not np.array_equal(out[160, 360], original[160, 360])
    assert np.abs(out[140, 120].astype(int) - out[160, 360].astype(int)).max() > 10  # different sources


def test_usage_errors_exit_2_without_traceback(workspace, tmp_path):
    result = facedeck("swap", "-t", str(workspace["target"]), "-o", str(tmp_path / "o.png"))
    assert_clean_failure(result, "-s")
    assert result.returncode == 2


def test_debug_shows_the_traceback(workspace, tmp_path):
    result = facedeck(
        "--debug",
        "swap",
        "-s",
        str(workspace["blank"]),
        "-t",
        str(workspace["target"]),
        "-o",
        str(tmp_path / "o.png"),
        "--models-dir",
        str(workspace["models"].directory),
    )
    assert result.returncode == 3
    assert "Traceback" in result.stderr


def test_doctor_reports_runtime_and_models(workspace):
    result = facedeck("doctor", "--models-dir", str(workspace["models"].directory), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["onnxruntime"]["distribution"] == "onnxruntime"
    assert "cpu" in report["onnxruntime"]["available_providers"]
    assert report["models"]["det_10g.onnx"] is True
    assert report["models"]["GFPGANv1.4.onnx"] is True
    assert report["models"]["inswapper_128_fp16.onnx"] is False
    text = facedeck("doctor", "--models-dir", str(workspace["models"].directory))
    # the stand-ins were imported with --trust by the model factory
    assert report["model_status"]["det_10g.onnx"] == "trusted"
    assert "trusted  det_10g.onnx" in text.stdout and "missing  inswapper_128_fp16.onnx" in text.stdout
