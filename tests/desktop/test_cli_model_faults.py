"""Model files that break their contract, and manifests of the wrong structure, as a user meets them.

Each faulty file is imported the way a user would (``facedeck --headless models import ID
FILE --trust``) into a copy of a good stand-in model folder, then a real ``facedeck
--headless swap`` runs: one line naming the file and the model id, exit status 4, no output,
the inputs unchanged.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from facedeck.core.models.manifest import MANIFEST_ENV
from tests.core.models.test_manifest import packaged, swapper_input, write
from tests.support.media_fixtures import make_clip
from tests.support.models.detector import build_constant_detector
from tests.support.models.drawing import KEY_COLORS, draw_square_face
from tests.support.models.faulty import (
    build_signature_model,
    build_swapper_failing_at_run,
    build_unloadable,
    drop_last_output,
)
from tests.support.models.graph import F16, F32
from tests.support.models.model_set import build_model_set
from tests.support.models.swapper import build_swapper

BLUE, GREEN, RED, YELLOW, MAGENTA, CYAN = KEY_COLORS
EXIT_MODEL = 4


def facedeck(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {key: value for key, value in os.environ.items() if key != "FACEDECK_MODELS_DIR"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "facedeck.desktop", "--headless", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


def face_image(path: Path, color: tuple[int, int, int]) -> Path:
    image = np.full((240, 320, 3), 128, np.uint8)
    draw_square_face(image, color, 80, 50, 130)
    assert cv2.imwrite(str(path), image)
    return path


def moving_face(index: int, image: np.ndarray) -> None:
    image[...] = 128
    draw_square_face(image, RED, 20 + 4 * index, 40, 90)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("model-faults")
    models = build_model_set(
        root / "models", swapper_mode="latent_color", with_landmarks=False, with_restorer=False
    )
    return {
        "models": models.directory,
        "good_swapper": models.swapper.path,
        "source": face_image(root / "source.png", YELLOW),
        "target": face_image(root / "target.png", RED),
        "clip": make_clip(root / "clip.mp4", frames=4, size=(320, 240), fps=25, draw=moving_face),
    }


def swapper_half_target(path: Path) -> Path:
    inputs = [("target", F16, [1, 3, 128, 128]), ("source", F32, [1, 512])]
    return build_signature_model(path, inputs, [("output", F32, [1, 3, 128, 128])], emap=True)


def recognizer_128(path: Path) -> Path:
    return build_signature_model(path, [("input.1", F32, ["n", 3, 112, 112])], [("683", F32, ["n", 128])])


def detector_8_outputs(path: Path) -> Path:
    return drop_last_output(build_constant_detector(path, [], form=9).path)


def truncated_swapper(path: Path) -> Path:
    whole = build_swapper(path.with_name("whole.onnx")).path.read_bytes()
    path.write_bytes(whole[: len(whole) // 3])
    return path


# name: (model id, builder of the faulty file, the message after "facedeck: error: ")
FAULTS: dict[str, tuple[str, Callable[[Path], Path], str]] = {
    "float16 input": (
        "inswapper_128",
        swapper_half_target,
        "inswapper_128.onnx (inswapper_128): input 'target' expects float32 [1,3,128,128], "
        "this file takes float16 [1,3,128,128]",
    ),
    "wrong output shape": (
        "w600k_r50",
        recognizer_128,
        "w600k_r50.onnx (w600k_r50): output 1 ('683') expects float32 [N,512], "
        "this file gives float32 [1,128]",
    ),
    "missing output": (
        "det_10g",
        detector_8_outputs,
        "det_10g.onnx (det_10g): expects 6, 9, 10 or 15 outputs, this file gives 8",
    ),
    "truncated file": (
        "inswapper_128",
        truncated_swapper,
        "inswapper_128.onnx (inswapper_128): not an ONNX model, or the file is corrupt or truncated",
    ),
    "graph onnxruntime refuses": (
        "inswapper_128",
        build_unloadable,
        "inswapper_128.onnx (inswapper_128): onnxruntime cannot load it: ",
    ),
    "fails when run": (
        "inswapper_128",
        lambda path: build_swapper_failing_at_run(path, "reshape"),
        "inswapper_128.onnx (inswapper_128): inference failed: a Reshape node failed: The input tensor "
        "cannot be reshaped to the requested shape.",
    ),
}


def models_with(
    workspace: dict[str, Path], tmp_path: Path, model_id: str, build: Callable[[Path], Path]
) -> Path:
    """A copy of the good models with ``model_id`` replaced by a faulty file, through the real CLI."""
    directory = tmp_path / "models"
    shutil.copytree(workspace["models"], directory)
    faulty = build(tmp_path / "faulty.onnx")
    imported = facedeck("models", "import", model_id, str(faulty), "--trust", "--models-dir", str(directory))
    assert imported.returncode == 0, imported.stderr
    return directory


def assert_one_line_refusal(result: subprocess.CompletedProcess, expected: str) -> None:
    assert result.returncode == EXIT_MODEL, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"facedeck: error: {expected}"), lines[0]


def swap_fails_cleanly(
    workspace: dict[str, Path], models: Path, target: Path, tmp_path: Path, expected: str
) -> None:
    inputs = {path: path.read_bytes() for path in (workspace["source"], target)}
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    output = out_dir / f"swapped{target.suffix}"
    result = facedeck(
        "swap",
        "-s",
        str(workspace["source"]),
        "-t",
        str(target),
        "-o",
        str(output),
        "--models-dir",
        str(models),
    )
    assert_one_line_refusal(result, expected)
    assert list(out_dir.iterdir()) == []  # no output, no temporary file
    assert all(path.read_bytes() == data for path, data in inputs.items())


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_faulty_model_file_is_one_line_naming_file_and_model(
    workspace: dict[str, Path], tmp_path: Path, fault: str
) -> None:
    model_id, build, expected = FAULTS[fault]
    models = models_with(workspace, tmp_path, model_id, build)
    swap_fails_cleanly(workspace, models, workspace["target"], tmp_path, expected)


def test_a_video_frame_failing_in_the_model_fails_the_job_in_one_line(
    workspace: dict[str, Path], tmp_path: Path
) -> None:
    """Open dims that hide a wrong output size: found on the first frame, reported once."""
    models = models_with(
        workspace, tmp_path, "inswapper_128", lambda path: build_swapper_failing_at_run(path, "half_size")
    )
    expected = (
        "inswapper_128.onnx (inswapper_128): output 'output' came back as float32 [1,3,64,64], "
        "expected float32 [1,3,128,128]"
    )
    swap_fails_cleanly(workspace, models, workspace["clip"], tmp_path, expected)


def test_a_manifest_of_the_wrong_structure_is_named_with_its_bad_entry(tmp_path: Path) -> None:
    data = packaged()
    swapper_input(data).pop("dtype")
    manifest = write(tmp_path / "manifest.toml", data)
    result = facedeck("models", "list", env={MANIFEST_ENV: str(manifest)})
    assert_one_line_refusal(
        result, f"{manifest}: models[3] 'inswapper_128': contract input 'target': no 'dtype'"
    )
