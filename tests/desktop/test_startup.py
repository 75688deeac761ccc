"""The front door starts fast: building the argument parser imports nothing heavy.

Start-up time itself is measured by bench/bench_startup.py (timings do not belong in
tests); what a test can pin down without a clock is *why* start-up is fast: which
modules a command loads. Each heavy module below costs 60-1100 ms to import here.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

HEAVY = ("numpy", "cv2", "onnx", "onnxruntime", "av", "requests", "PySide6", "runpod")


def imported_modules(*args: str, full: bool = False) -> set[str]:
    """Top-level packages (or with ``full`` whole module names) a real ``facedeck`` process
    imports, from ``python -X importtime``."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "facedeck.desktop", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            names.add(name if full else name.split(".")[0])
    assert any(name.startswith("facedeck") for name in names)  # parsed: an empty set would pass all below
    return names


@pytest.mark.parametrize(
    "args",
    [
        ("--version",),
        ("--help",),
        ("--headless", "--help"),
        ("--headless", "--version"),
        ("--headless", "swap", "--help"),
        ("--headless", "models", "--help"),
        ("--headless", "models", "download", "--help"),
        ("--headless", "live", "--help"),
    ],
    ids=" ".join,
)
def test_help_and_version_import_nothing_heavy(args):
    assert imported_modules(*args).isdisjoint(HEAVY)


def test_doctor_imports_only_what_it_reports_on(tmp_path):
    # doctor reports onnxruntime (which needs numpy) and PyAV; nothing else heavy
    names = imported_modules("--headless", "doctor", "--models-dir", str(tmp_path))
    assert names.isdisjoint({"cv2", "onnx", "requests", "PySide6", "runpod"})
    assert {"onnxruntime", "av"} <= names


@pytest.mark.parametrize(
    ("args", "command_module"),
    [
        (("--headless", "--help"), None),
        (("--headless", "doctor", "--help"), "doctor"),
        (("--headless", "models", "--help"), "models_cmd"),
        (("--headless", "swap", "--help"), "swap"),
        (("--headless", "live", "--help"), "live_cmd"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else str(value),
)
def test_only_the_command_that_runs_is_imported(args, command_module):
    names = imported_modules(*args, full=True)
    commands = {"facedeck.desktop.headless." + name for name in ("swap", "doctor", "models_cmd", "live_cmd")}
    expected = {f"facedeck.desktop.headless.{command_module}"} if command_module else set()
    assert names & commands == expected


def test_an_image_swap_imports_neither_pyav_nor_qt_nor_runpod(tmp_path):
    # the bundle's start-up rule (issue 13): a command loads only what it needs; an image
    # swap needs onnxruntime and OpenCV, not PyAV (videos), Qt (the window) or the RunPod SDK
    import cv2

    from tests.support.models.drawing import KEY_COLORS, draw_square_face
    from tests.support.models.model_set import build_model_set

    models = build_model_set(tmp_path / "models", swapper_mode="latent_color")
    photos = []
    for name, color in (("source.png", KEY_COLORS[3]), ("target.png", KEY_COLORS[2])):
        image = draw_square_face(np.full((240, 320, 3), 128, np.uint8), color, 60, 40, 120)
        assert cv2.imwrite(str(tmp_path / name), image)
        photos.append(str(tmp_path / name))
    output = tmp_path / "out.png"
    names = imported_modules(
        "--headless", "swap", "-s", photos[0], "-t", photos[1], "-o", str(output),
        "--models-dir", str(models.directory),
    )  # fmt: skip
    assert output.is_file()  # the swap ran: the import list is that of a real swap
    assert {"onnxruntime", "cv2"} <= names
    assert names.isdisjoint({"av", "PySide6", "runpod"})
