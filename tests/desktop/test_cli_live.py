"""``facedeck --headless live`` as a user runs it: a clip played as the camera, stand-in models.

Most runs are in-process (``main``), which is quick; what needs a real process (a signal,
Qt made unimportable, what ``--help`` imports, every line a user sees on stderr) starts one.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import av
import cv2
import numpy as np
import pytest

from facedeck.core.media.metadata import DIGITAL_SOURCE_TYPE
from facedeck.desktop.cli import main
from tests.desktop.test_startup import HEAVY, imported_modules
from tests.support.media_fixtures import decode_frames, make_clip
from tests.support.models.drawing import KEY_COLORS, draw_square_face
from tests.support.models.model_set import build_model_set
from tests.test_layering import run_without_qt

BLUE, GREEN, RED, YELLOW, MAGENTA, CYAN = KEY_COLORS
FACE_X, FACE_Y, SIDE = 100, 60, 80
STATS_LINE = "fps (source"
WAIT = 60.0  # seconds a test waits for a process that needs a second or two: only a hang reaches it


def still_red_face(index, image):
    """A slightly noisy grey picture with one red face that stays put (key colours only there)."""
    image[...] = np.random.default_rng(index).integers(100, 157, image.shape, dtype=np.uint8)
    draw_square_face(image, RED, FACE_X, FACE_Y, SIDE)


def face_centre(image):
    return image[FACE_Y + SIDE // 2, FACE_X + SIDE // 2].astype(int)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("live-cli")
    models = build_model_set(root / "models", swapper_mode="latent_color", with_restorer=False)
    source = root / "source.png"
    photo = np.full((200, 200, 3), 128, np.uint8)
    cv2.imwrite(str(source), draw_square_face(photo, YELLOW, 40, 40, 120))
    clip = make_clip(
        root / "camera.mp4", frames=45, size=(320, 240), fps=30, draw=still_red_face, audio=False
    )
    return {"models": str(models.directory), "source": str(source), "clip": str(clip)}


def live_args(workspace, *extra: str, camera: str | None = None) -> list[str]:
    return [
        "--headless",
        "live",
        "-s",
        workspace["source"],
        "--camera",
        camera or workspace["clip"],
        "--models-dir",
        workspace["models"],
        *extra,
    ]


def run_live(capsys, workspace, *extra: str, camera: str | None = None) -> tuple[int, str, str]:
    status = main(live_args(workspace, *extra, camera=camera))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


def assert_valid_recording(path, most: int) -> list[np.ndarray]:
    frames = decode_frames(path)
    assert 0 < len(frames) <= most
    with av.open(str(path)) as container:
        tags = {key.lower(): value for key, value in container.metadata.items()}
    assert tags["digitalsourcetype"] == DIGITAL_SOURCE_TYPE  # marked as synthetic media
    # swapped, not copied: the red face's centre is painted with the source's colour
    assert all(np.abs(face_centre(frame) - RED).max() > 40 for frame in frames)
    return frames


def leftovers(folder) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith(".facedeck-"))


def test_max_frames_records_a_valid_swapped_marked_video_and_reports(capsys, workspace, tmp_path):
    output = tmp_path / "out.mp4"
    # --loop: on a loaded machine the loop drops frames (as it should), and the 45-frame clip
    # could end before 20 were delivered; looping, --max-frames is what ends the run
    status, out, err = run_live(capsys, workspace, "--max-frames", "20", "--loop", "--record", str(output))
    assert status == 0, err
    frames = assert_valid_recording(output, most=20)
    assert STATS_LINE in err and "latency" in err and "dropped" in err  # one line a second, and the last one
    assert "camera.mp4, 320x240 @ 30 fps -> recording out.mp4" in err
    assert "20 frames in" in out and f"recorded {output} ({len(frames)} frames)" in out
    assert "Traceback" not in err and leftovers(tmp_path) == []


def test_duration_and_json_lines(capsys, workspace, tmp_path):
    output = tmp_path / "out.mkv"
    status, out, err = run_live(capsys, workspace, "--duration", "0.5", "--record", str(output), "--json")
    assert status == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    kinds = [event["event"] for event in events]
    assert kinds[0] == "started" and kinds[-1] == "summary" and "stats" in kinds
    assert events[0]["width"] == 320 and events[0]["outputs"] == ["recording out.mkv"]
    stats = next(event for event in events if event["event"] == "stats")
    assert {"fps", "latency_median_ms", "latency_p95_ms", "dropped", "errors"} <= stats.keys()
    summary = events[-1]
    assert summary["recording"] == str(output) and summary["stopped_by"] is None
    # half a second of a 30 fps clip, give or take the first frame's wait
    assert 0 < summary["frames"] < 45 and len(decode_frames(output)) == summary["recorded_frames"]
    assert err == ""  # with --json nothing goes to stderr unless something fails


def test_a_clip_that_ends_ends_the_run_with_status_0(capsys, workspace):
    status, out, err = run_live(capsys, workspace, "--detect-every", "1", "--no-smoothing")
    assert status == 0, err
    assert "no output (a dry run" in err
    frames = int(out.split("live: ", 1)[1].split(" frames")[0])
    assert 0 < frames <= 45


def facedeck(*args: str) -> subprocess.CompletedProcess:
    """A real process: what a user sees on stderr, log records included (an in-process run's
    logging may still write to an earlier test's captured stream)."""
    command = [sys.executable, "-m", "facedeck.desktop", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=WAIT)


@pytest.mark.parametrize(
    ("camera", "words"),
    [("missing.mp4", "missing.mp4: no such video file"), ("7", "no camera 7")],
    ids=["missing-file", "no-such-index"],
)
def test_a_camera_that_is_not_there_is_one_line_and_status_2(workspace, tmp_path, camera, words):
    if camera.endswith(".mp4"):
        camera = str(tmp_path / camera)
    result = facedeck(*live_args(workspace, "--record", str(tmp_path / "out.mp4"), camera=camera))
    lines = error_lines(result.stderr)
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith("facedeck: error: ") and words in lines[0]
    assert list(tmp_path.iterdir()) == []  # no recording, no temporary file


def test_no_virtual_camera_device_says_what_to_install(workspace, tmp_path):
    output = tmp_path / "out.mp4"
    result = facedeck(*live_args(workspace, "--virtual-cam", "--record", str(output), "--max-frames", "5"))
    lines = error_lines(result.stderr)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert (
        lines[-1].startswith("facedeck: error: no virtual camera device found")
        and "v4l2loopback" in lines[-1]
    )
    assert list(tmp_path.iterdir()) == []  # the recording, started first, was aborted with nothing left
    assert len(lines) == 1, result.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--reference-frame", "1"), "--reference-frame needs a video target"),
        (("--width", "0"), "argument --width: 0 is out of range"),
        (("--duration", "0"), "argument --duration: '0' is not a positive duration"),
        (("--record", "out.gif"), "a recording is a video"),
        (("--select", "reference"), "--select reference needs --reference PHOTO"),
    ],
    ids=["reference-frame", "width", "duration", "gif", "reference"],
)
def test_bad_options_are_refused_before_anything_loads(capsys, workspace, tmp_path, extra, message):
    args = live_args(workspace, *extra)
    args[args.index("--models-dir") + 1] = str(tmp_path / "no-models")  # never reached
    try:
        status = main(args)
    except SystemExit as exited:  # argparse's own refusals
        status = exited.code
    err = capsys.readouterr().err
    assert status == 2 and message in err, err


def test_missing_photo_and_missing_models_name_their_fix(capsys, workspace, tmp_path):
    args = live_args(workspace)
    args[args.index("-s") + 1] = str(tmp_path / "nobody.png")
    status = main(args)
    assert status == 2 and "-s: no such file" in capsys.readouterr().err
    status, _, err = run_live(capsys, {**workspace, "models": str(tmp_path)})
    assert status == 4 and "facedeck --headless models download" in err


def test_ctrl_c_finishes_the_recording_and_exits_130(workspace, tmp_path):
    output = tmp_path / "out.mp4"
    process = subprocess.Popen(
        [sys.executable, "-m", "facedeck.desktop", *live_args(workspace, "--loop", "--record", str(output))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + WAIT
    seen = []
    while time.monotonic() < deadline:  # frames are flowing once the first stats line is out
        line = process.stderr.readline()
        seen.append(line)
        if STATS_LINE in line or not line:
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=WAIT)
    err = "".join(seen) + err
    assert process.returncode == 130, err
    assert "Traceback" not in err and "facedeck: error" not in err
    assert "stopped by SIGINT" in out and f"recorded {output}" in out
    assert_valid_recording(output, most=10_000)
    assert leftovers(tmp_path) == []


def test_live_runs_with_qt_blocked(workspace, tmp_path):
    code = f"""
    import sys
    from facedeck.desktop.cli import main
    status = main({live_args(workspace, "--max-frames", "3", "--record", str(tmp_path / "out.mp4"))!r})
    leaked = [m for m in sys.modules if m.startswith(("PySide6", "shiboken6"))]
    assert not leaked, leaked
    print("exit", status)
    """
    result = run_without_qt(code, tmp_path)
    assert result.returncode == 0 and "exit 0" in result.stdout, result.stdout + result.stderr


def test_help_imports_only_the_live_command_and_nothing_heavy():
    names = imported_modules("--headless", "live", "--help", full=True)
    assert {name.split(".")[0] for name in names}.isdisjoint(HEAVY)
    commands = {
        f"facedeck.desktop.headless.{name}"
        for name in ("swap", "doctor", "models_cmd", "live_cmd", "live_run")
    }
    assert names & commands == {"facedeck.desktop.headless.live_cmd"}
