"""``facedeck --headless swap`` on videos, as a user runs it: real processes, real clips."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.support.media_fixtures import audio_info, decode_frames, frame_times, make_clip, write_bad_videos
from tests.support.models.drawing import KEY_COLORS, draw_square_face
from tests.support.models.model_set import build_model_set

BLUE, GREEN, RED, YELLOW, MAGENTA, CYAN = KEY_COLORS


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "facedeck.desktop", "--headless", *args]


def facedeck(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(command(*args), capture_output=True, text=True, timeout=180)


def swap(workspace, target, output, *extra: str) -> subprocess.CompletedProcess:
    """``facedeck --headless swap`` with the workspace's source photo and models."""
    args = [
        "-s",
        workspace["source"],
        "-t",
        str(target),
        "-o",
        str(output),
        "--models-dir",
        workspace["models"],
    ]
    return facedeck("swap", *args, *extra)


def moving_face(index, image):
    image[...] = np.random.default_rng(index).integers(100, 157, image.shape, dtype=np.uint8)
    draw_square_face(image, RED, 10 + 3 * index, 30, 60)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("video-cli")
    models = build_model_set(root / "models", swapper_mode="latent_color", with_restorer=False)
    source = root / "source.png"
    photo = np.full((200, 200, 3), 128, np.uint8)
    draw_square_face(photo, YELLOW, 40, 40, 120)
    cv2.imwrite(str(source), photo)
    clip = make_clip(root / "clip.mp4", frames=30, size=(320, 240), fps=30, draw=moving_face)
    return {
        "root": root,
        "models": str(models.directory),
        "source": str(source),
        "clip": clip,
        "bad": write_bad_videos(root / "bad"),
    }


def test_video_swap_with_json_progress_and_result(workspace, tmp_path):
    output = tmp_path / "out.mov"
    result = swap(workspace, str(workspace["clip"]), str(output), "--json", "--detect-every", "2")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    final = events[-1]
    assert final["event"] == "result" and final["frames"] == 30 and final["frames_with_swaps"] == 30
    assert final["encoder"] == "libx264"
    assert len(decode_frames(output)) == 30
    assert [codec for codec, _ in audio_info(output)] == ["aac"]


def test_no_audio_flag_and_progress_bar_text(workspace, tmp_path):
    output = tmp_path / "out.mkv"
    result = swap(
        workspace,
        str(workspace["clip"]),
        str(output),
        "--no-audio",
        "--codec",
        "vp9",
        "--encoder-threads",
        "1",
    )
    assert result.returncode == 0, result.stderr
    assert audio_info(output) == []
    assert "100%" in result.stderr and "fps" in result.stderr  # progress lines when not on a terminal
    assert "wrote" in result.stdout


@pytest.mark.parametrize("kind", ["empty", "text", "truncated", "no_video", "unsupported_codec"])
def test_bad_videos_fail_in_one_line_with_nothing_written(workspace, tmp_path, kind):
    bad = workspace["bad"][kind]
    output = tmp_path / "out.mp4"
    result = swap(workspace, str(bad), str(output))
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("facedeck: error: ") and bad.name in lines[0]
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_encoder_threads_must_be_positive(workspace, tmp_path):
    result = swap(workspace, str(workspace["clip"]), str(tmp_path / "o.mp4"), "--encoder-threads", "0")
    assert (
        result.returncode == 2 and "argument --encoder-threads: 0 is out of range (1 to 64)" in result.stderr
    )


def test_image_output_for_a_video_is_refused(workspace, tmp_path):
    result = swap(workspace, str(workspace["clip"]), str(tmp_path / "out.png"))
    assert result.returncode == 2 and "needs a video output" in result.stderr


def test_ctrl_c_stops_removes_the_partial_output_and_exits_130(workspace, tmp_path):
    clip = make_clip(tmp_path / "long.mp4", frames=400, size=(320, 240), fps=30, draw=moving_face)
    output = tmp_path / "out.mp4"
    process = subprocess.Popen(
        command(
            "swap",
            "-s",
            workspace["source"],
            "-t",
            str(clip),
            "-o",
            str(output),
            "--models-dir",
            workspace["models"],
            "--json",
            "--detect-every",
            "1",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until frames are flowing
        line = process.stdout.readline()
        if '"progress"' in line:
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.mp4"]


def test_start_and_end_trim_the_videos_of_a_batch_with_audio_to_match(workspace, tmp_path):
    photo = tmp_path / "photo.png"
    image = np.full((240, 320, 3), 128, np.uint8)
    cv2.imwrite(str(photo), draw_square_face(image, RED, 40, 40, 100))
    out = tmp_path / "out"
    result = facedeck(
        "swap",
        "-s",
        workspace["source"],
        "-t",
        str(workspace["clip"]),
        str(photo),
        "-o",
        str(out),
        "--models-dir",
        workspace["models"],
        "--start",
        "0:00.25",
        "--end",
        "0.75",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    results = {Path(event["target"]).name: event for event in events if event["event"] == "result"}
    assert results["clip.mp4"]["frames"] == 15  # frames 8-22 of 30 at 30 fps: 0.25 s up to 0.75 s
    clip_out = out / "clip.facedeck.mp4"
    times = frame_times(clip_out)
    assert len(times) == 15 and times[0] == 0.0 and times[-1] == pytest.approx(14 / 30, abs=1e-3)
    ((codec, seconds),) = audio_info(clip_out)
    assert codec == "aac" and seconds == pytest.approx(0.5, abs=0.05)
    assert cv2.imread(str(out / "photo.facedeck.png")) is not None  # the image is swapped whole


def red_side(index):
    return 110 - 2 * index


def green_side(index):
    return 50 + 2 * index


def two_people(index, image):
    """Red shrinks and green grows: red is the larger face first, green from frame 15 on."""
    image[...] = 128
    draw_square_face(image, RED, 20, 40, red_side(index))
    draw_square_face(image, GREEN, 190, 60, green_side(index))


def test_reference_frame_takes_the_largest_face_shown_at_that_time(workspace, tmp_path):
    clip = make_clip(tmp_path / "two.mp4", frames=30, size=(320, 240), fps=30, draw=two_people, audio=False)
    output = tmp_path / "out.mp4"
    # at 0.8 s green is the larger face: green is the person to replace, in every frame
    result = swap(workspace, str(clip), str(output), "--reference-frame", "0.8", "--quality", "100")
    assert result.returncode == 0, result.stderr
    source, frames = decode_frames(clip), decode_frames(output)
    for index in (3, 25):
        changed = np.abs(frames[index].astype(int) - source[index].astype(int))
        red, green = 20 + red_side(index) // 2, green_side(index) // 2
        assert changed[40 + red - 20, red].max() <= 3, index  # red left alone
        assert changed[60 + green, 190 + green].max() > 40, index  # green swapped

    past = swap(workspace, str(clip), str(tmp_path / "late.mp4"), "--reference-frame", "9")
    assert past.returncode == 2
    assert past.stderr.splitlines() == [
        "facedeck: error: --reference-frame: 9 s is past the end (two.mp4 is 1 s long)"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "two.mp4"]
