"""``swap`` options are checked where they are parsed, by the same limits a job file is checked by."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from facedeck.core.errors import InvalidJobError
from facedeck.core.faces.options import SwapOptions
from facedeck.core.jobs.spec import (
    FaceAssignment,
    FaceRef,
    JobKind,
    MediaRef,
    OutputSpec,
    SwapJob,
    TrackerOptions,
)
from facedeck.core.limits import field_limits
from facedeck.core.models.manifest import load_manifest
from facedeck.desktop.headless.swap_args import NAME_FIELDS, describe

PARSE_ERROR = "facedeck --headless swap: error: argument "


def facedeck(*args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "FACEDECK_MODELS_DIR"}
    return subprocess.run(
        [sys.executable, "-m", "facedeck.desktop", "--headless", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def swap_with(*extra: str) -> subprocess.CompletedProcess:
    # the files need not exist: a bad option is refused before anything is read
    return facedeck("swap", "-s", "face.png", "-t", "photo.jpg", *extra)


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in result.stderr
    return [line for line in result.stderr.splitlines() if "error:" in line]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--detector-size", "500", "500 is not a multiple of 32"),
        ("--detector-size", "64", "64 is out of range (160 to 2048)"),
        ("--detector-size", "4096", "4096 is out of range (160 to 2048)"),
        ("--detector-size", "six", "'six' is not a whole number"),
        ("--detector-threshold", "0", "0.0 is out of range (0.01 to 0.99)"),
        ("--distance", "2.5", "2.5 is out of range (0.0 to 2.0)"),
        ("--enhance-strength", "101", "101 is out of range (0 to 100)"),
        ("--quality", "-1", "-1 is out of range (0 to 100)"),
        ("--mask-blur", "nan", "nan is out of range (0.0 to 0.5)"),
        ("--mask-padding", "0.6", "0.6 is out of range (0.0 to 0.5)"),
        ("--detect-every", "0", "0 is out of range (1 to 300)"),
        ("--encoder-threads", "0", "0 is out of range (1 to 64)"),
        ("--reference-face", "0", "0 is out of range (1 to 256)"),
        ("--start", "1:75", "'1:75' is not a time: minutes and seconds after a colon must be under 60"),
        ("--end", "soon", "'soon' is not a time: give seconds (12.5), m:ss(.ff) or h:mm:ss(.ff)"),
        ("--reference-frame", "-3", "'-3' is not a time: it must be 0 or more"),
        ("--swapper", "simswap", "unknown swapper 'simswap' (known: inswapper_128, inswapper_128_fp16)"),
        ("--name-pattern", "{stem}{size}{ext}", "unknown field {size} (known: {stem} {ext} {name} {index})"),
        (
            "--name-pattern",
            "out/{name}",
            "'out/{name}' must make a file name, not a path (use -o DIR for the folder)",
        ),
    ],
)
def test_a_bad_value_is_one_line_naming_the_option_and_exit_2(option, value, message):
    result = swap_with(f"{option}={value}")
    assert result.returncode == 2
    assert error_lines(result) == [f"{PARSE_ERROR}{option}: {message}"]
    assert result.stderr.splitlines()[-1].startswith(PARSE_ERROR)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--start", "0:02", "--end", "1.5"], "--end 1.5 s is not after --start 2 s"),
        (["--reference", "r.png", "--reference-frame", "2"], "use either --reference or --reference-frame"),
        (["--reference-face", "2"], "--reference-face picks a face of --reference or --reference-frame"),
        (["--select", "many", "--reference-frame", "1"], "are for --select reference, not many"),
    ],
)
def test_options_that_do_not_go_together_are_refused_before_any_work(extra, message):
    result = swap_with(*extra)
    assert result.returncode == 2
    (line,) = error_lines(result)
    assert line.startswith("facedeck: error: ") and message in line


def test_a_job_file_is_refused_with_the_same_words(tmp_path):
    result = swap_with("--detector-size", "500")
    job = SwapJob(
        kind=JobKind.IMAGE,
        target=MediaRef.of(tmp_path / "photo.jpg"),
        faces=FaceAssignment(sources=[FaceRef(MediaRef.of(tmp_path / "face.png"))]),
        options=SwapOptions(detector_size=500),
    )
    with pytest.raises(InvalidJobError) as caught:
        job.validate(check_files=False)
    (problem,) = caught.value.problems
    assert (problem.field, problem.problem) == ("options.detector_size", "500 is not a multiple of 32")
    assert error_lines(result)[0].endswith(f"--detector-size: {problem.problem}")


def test_help_states_the_limits_defaults_and_choices_that_apply():
    result = facedeck("swap", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    limited = [
        (SwapOptions, "detector_size"),
        (SwapOptions, "detector_threshold"),
        (SwapOptions, "distance_threshold"),
        (SwapOptions, "enhance_strength"),
        (SwapOptions, "mask_blur"),
        (SwapOptions, "mask_padding"),
        (TrackerOptions, "detect_every"),
    ]
    for cls, name in limited:
        assert f"({describe(field_limits(cls, name))}; default {getattr(cls(), name)})" in text, name
    assert describe(field_limits(OutputSpec, "encoder_threads")) in text
    swappers = [spec.id for spec in load_manifest().for_role("swapper")]
    assert f"swapper model: {' or '.join(swappers)}" in text
    for field in NAME_FIELDS:
        assert f"{{{field}}}" in text
    for flag in ("--start", "--end", "--reference-frame", "--reference-face", "--name-pattern", "--swapper"):
        assert flag in text


def test_building_the_parser_imports_no_engine():
    # `facedeck --headless --help` imports swap to build its parser: it must stay light
    heavy = ["numpy", "cv2", "onnx", "onnxruntime", "av", "requests", "PIL"]
    code = (
        "import sys; from facedeck.desktop.headless import swap; "
        f"print([name for name in {heavy!r} if name in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
