"""``swap`` over several targets, folders and globs, and results named without -o: real processes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.support.bad_files import truncated_jpeg
from tests.support.models.drawing import KEY_COLORS, draw_square_face
from tests.support.models.model_set import build_model_set

BLUE, GREEN, RED, YELLOW, MAGENTA, CYAN = KEY_COLORS


def facedeck(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "FACEDECK_MODELS_DIR"}
    return subprocess.run(
        [sys.executable, "-m", "facedeck.desktop", "--headless", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def photo(path: Path, color=None) -> Path:
    frame = np.full((240, 320, 3), 128, np.uint8)
    if color is not None:
        draw_square_face(frame, color, 60, 40, 140)
    assert cv2.imwrite(str(path), frame)
    return path


def digests(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative name -> SHA-256): what a run left and changed."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    models = build_model_set(root / "models", swapper_mode="latent_color", with_restorer=False)
    return {"models": str(models.directory), "source": str(photo(root / "source.png", YELLOW))}


def swap(workspace, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return facedeck("swap", "-s", workspace["source"], "--models-dir", workspace["models"], *args, cwd=cwd)


def test_a_bad_target_does_not_stop_the_batch_and_the_summary_names_it(workspace, tmp_path):
    shots = tmp_path / "shots"
    shots.mkdir()
    photo(shots / "a.jpg", RED)
    photo(shots / "b.png", GREEN)
    (shots / "bad.jpg").write_bytes(truncated_jpeg())
    photo(shots / "blank.png")  # no face
    photo(shots / "a.facedeck.jpg", RED)  # an earlier result: not a target
    (shots / "notes.txt").write_text("not media")
    (shots / "sub").mkdir()
    photo(shots / "sub" / "c.png", RED)  # folders are not entered
    before = digests(shots)

    result = swap(workspace, "-t", str(shots), "-o", str(tmp_path / "out"), "--json")

    assert result.returncode == 2, result.stderr  # the first failure's status: a bad input
    events = [json.loads(line) for line in result.stdout.splitlines()]
    outcome = {Path(event["target"]).name: event for event in events if event["event"] in ("result", "error")}
    assert list(outcome) == ["a.jpg", "b.png", "bad.jpg", "blank.png"]
    assert outcome["a.jpg"]["event"] == outcome["b.png"]["event"] == "result"
    assert (outcome["bad.jpg"]["code"], outcome["bad.jpg"]["exit_code"]) == ("input", 2)
    assert (outcome["blank.png"]["code"], outcome["blank.png"]["exit_code"]) == ("no_face", 3)
    assert "bad.jpg" in outcome["bad.jpg"]["message"] and "\n" not in outcome["bad.jpg"]["message"]
    summary = events[-1]
    assert summary["event"] == "summary" and summary["written"] == 2 and summary["exit_code"] == 2
    assert [Path(item["target"]).name for item in summary["failed"]] == ["bad.jpg", "blank.png"]
    last = result.stderr.splitlines()[-1]
    assert (
        last.startswith("facedeck: error: 2 of 4 targets failed")
        and "bad.jpg" in last
        and "blank.png" in last
    )
    assert "Traceback" not in result.stderr
    assert sorted(os.listdir(tmp_path / "out")) == ["a.facedeck.jpg", "b.facedeck.png"]
    assert digests(shots) == before  # inputs unchanged, nothing written beside them


def test_glob_results_go_next_to_the_targets_and_a_second_run_keeps_the_first(workspace, tmp_path):
    photo(tmp_path / "x.png", RED)
    photo(tmp_path / "y.jpg", GREEN)
    pattern = str(tmp_path / "*")  # quoted: facedeck expands it

    first = swap(workspace, "-t", pattern)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[-1] == "all 2 targets written"
    assert [line.split(" (")[0] for line in first.stderr.splitlines() if line.startswith("[")] == [
        "[1/2] x.png",
        "[2/2] y.jpg",
    ]
    results = digests(tmp_path)
    assert set(results) == {"x.png", "y.jpg", "x.facedeck.png", "y.facedeck.jpg"}

    second = swap(workspace, "-t", pattern)  # the first run's results are not targets now
    assert second.returncode == 0, second.stderr
    after = digests(tmp_path)
    assert set(after) == set(results) | {"x.facedeck-2.png", "y.facedeck-2.jpg"}
    assert all(after[name] == digest for name, digest in results.items())  # nothing overwritten


def test_one_target_without_o_gets_a_free_name_and_a_pattern_names_results_in_a_folder(workspace, tmp_path):
    target = photo(tmp_path / "photo.jpg", RED)
    taken = tmp_path / "photo.facedeck.jpg"
    taken.write_bytes(b"someone else's file")
    before = target.read_bytes()

    result = swap(workspace, "-t", "photo.jpg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote photo.facedeck-2.jpg")
    assert taken.read_bytes() == b"someone else's file" and target.read_bytes() == before
    assert cv2.imread(str(tmp_path / "photo.facedeck-2.jpg")) is not None

    named = swap(
        workspace, "-t", str(target), "-o", f"{tmp_path / 'new'}/", "--name-pattern", "{index}-{stem}_sw{ext}"
    )
    assert named.returncode == 0, named.stderr
    assert os.listdir(tmp_path / "new") == ["1-photo_sw.jpg"]


def test_batch_usage_errors_and_a_batch_that_wrote_nothing_leaves_nothing(workspace, tmp_path):
    photo(tmp_path / "a.png", RED)
    file_out = photo(tmp_path / "b.png", GREEN)
    result = swap(workspace, "-t", str(tmp_path / "a.png"), str(file_out), "-o", str(file_out))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"facedeck: error: -o {file_out} is a file; with several targets -o names a folder"
    ]

    result = swap(workspace, "-t", str(tmp_path / "*.webm"))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"facedeck: error: no file matches {tmp_path / '*.webm'}"]

    (tmp_path / "bad.jpg").write_bytes(truncated_jpeg())
    photo(tmp_path / "blank.png")
    before = digests(tmp_path)
    result = swap(
        workspace, "-t", str(tmp_path / "bad.jpg"), str(tmp_path / "blank.png"), "-o", str(tmp_path / "o/p")
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith("facedeck: error: 2 of 2 targets failed")
    assert digests(tmp_path) == before and not (tmp_path / "o").exists()  # the folders it made are gone
