"""Faults as a user meets them: real ``facedeck --headless`` processes, real files, real signals.

Outputs: the umask's mode, a 240-character name, a read-only folder, a full file system, a
missing folder, a link to an input. Inputs: /dev/zero and a FIFO as target and source.
Signals: SIGTERM and SIGHUP mid-video and mid-download. Each failure is one line naming the
file at fault, a non-zero status, no leftovers, inputs unchanged.

Cases of one kind run as concurrent processes (each is mostly start-up), then each gets
its own test.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.support.http_fixtures import MisbehavingServer, Stall
from tests.support.manifest_fixtures import payload, write_manifest
from tests.support.media_fixtures import make_clip
from tests.support.models.drawing import KEY_COLORS, draw_square_face
from tests.support.models.model_set import build_model_set
from tests.support.tmpfs import mounted_tmpfs, read_only_folder

RED, YELLOW = KEY_COLORS[2], KEY_COLORS[3]
TIMEOUT = 120  # a read that blocks (a FIFO) fails the test here instead of hanging the run
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX files and signals")


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "facedeck.desktop", "--headless", *args]


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str

    def error_line(self) -> str:
        """The single stderr line of a failure (asserts there is exactly one)."""
        assert self.returncode != 0, self.stdout
        assert "Traceback" not in self.stderr, self.stderr
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, self.stderr
        assert lines[0].startswith("facedeck: error: "), lines[0]
        return lines[0]


def start(*args: str, umask: int | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,  # noqa: PLW1509 - no threads yet
    )


def finish(process: subprocess.Popen) -> Outcome:
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"facedeck did not finish in {TIMEOUT} s (a blocking read?): {process.args}")
    return Outcome(process.returncode, out, err)


def run_together(cases: dict[str, list[str]], umask: dict[str, int] | None = None) -> dict[str, Outcome]:
    """Run each case's ``facedeck --headless`` arguments as concurrent processes."""
    processes = {name: start(*args, umask=(umask or {}).get(name)) for name, args in cases.items()}
    return {name: finish(process) for name, process in processes.items()}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def moving_face(index: int, image: np.ndarray) -> None:
    image[...] = np.random.default_rng(index).integers(100, 157, image.shape, dtype=np.uint8)
    draw_square_face(image, RED, 10 + index % 200, 30, 60)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("faults")
    models = build_model_set(root / "models", swapper_mode="latent_color", with_restorer=False)
    source = np.full((200, 200, 3), 128, np.uint8)
    draw_square_face(source, YELLOW, 40, 40, 120)
    cv2.imwrite(str(root / "source.png"), source)
    target = np.full((360, 480, 3), 128, np.uint8)
    draw_square_face(target, RED, 40, 60, 160)
    cv2.imwrite(str(root / "target.png"), target)
    noisy = np.random.default_rng(1).integers(100, 157, (600, 800, 3), dtype=np.uint8)
    draw_square_face(noisy, RED, 40, 60, 160)
    cv2.imwrite(str(root / "noisy.png"), noisy)  # ~1.4 MB as PNG, whatever the swap changes
    return {
        "root": root,
        "models": models.directory,
        "source": root / "source.png",
        "target": root / "target.png",
        "noisy": root / "noisy.png",
        "clip": make_clip(root / "clip.mp4", frames=8, size=(320, 240), fps=30, draw=moving_face),
    }


def swap_args(workspace: dict[str, Path], target: Path | str, output: Path, *extra: str) -> list[str]:
    source = str(workspace["source"])
    models = str(workspace["models"])
    return ["swap", "-s", source, "-t", str(target), "-o", str(output), "--models-dir", models, *extra]


# --------------------------------------------------------------------------- outputs


@pytest.fixture(scope="module")
def output_runs(workspace, tmp_path_factory) -> dict[str, tuple[Path, Outcome]]:
    """Output cases that need no mount, run together: (output path, outcome) by case.

    The image and the video each get a 240-character name and run under umask 0o027.
    """
    root = tmp_path_factory.mktemp("outputs")
    folders = {name: root / name for name in ("image", "video", "missing", "links")}
    for folder in folders.values():
        folder.mkdir()
    clip, target = workspace["clip"], workspace["target"]
    links = folders["links"]
    (links / "symlink.mp4").symlink_to(clip)
    os.link(clip, links / "hardlink.mp4")
    outputs = {
        "image": (target, folders["image"] / ("i" * 236 + ".png")),
        "video": (clip, folders["video"] / ("v" * 236 + ".mp4")),
        "missing_folder": (clip, folders["missing"] / "not-there" / "out.mp4"),
        "symlink_to_input": (clip, links / "symlink.mp4"),
        "hard_link_to_input": (clip, links / "hardlink.mp4"),
    }
    cases = {name: swap_args(workspace, source, output) for name, (source, output) in outputs.items()}
    outcomes = run_together(cases, umask={"image": 0o027, "video": 0o027})
    return {name: (outputs[name][1], outcomes[name]) for name in cases}


def folder_holds_only(folder: Path, name: str) -> bool:
    """``name`` and nothing else (no temporary .facedeck-*.part file) is in ``folder``."""
    return [p.name for p in folder.iterdir()] == [name]


@pytest.mark.parametrize("case", ["image", "video"])
def test_a_240_character_output_name_is_written(output_runs, case):
    output, outcome = output_runs[case]
    assert outcome.returncode == 0, outcome.stderr
    assert len(output.name) == 240 and output.stat().st_size > 0
    assert folder_holds_only(output.parent, output.name)


@posix_only
@pytest.mark.parametrize("case", ["image", "video"])
def test_outputs_get_the_mode_the_umask_gives_any_new_file(output_runs, case):
    output, outcome = output_runs[case]
    assert outcome.returncode == 0, outcome.stderr
    assert stat.S_IMODE(output.stat().st_mode) == 0o640  # 0o666 under umask 0o027, not mkstemp's 0o600


def test_a_missing_output_folder_is_one_line_naming_the_output(output_runs):
    output, outcome = output_runs["missing_folder"]
    line = outcome.error_line()
    assert line == f"facedeck: error: {output}: the folder {output.parent} does not exist"
    assert outcome.returncode == 2 and list(output.parent.parent.iterdir()) == []


@pytest.mark.parametrize("case", ["symlink_to_input", "hard_link_to_input"])
def test_an_output_that_is_a_link_to_the_input_is_refused(output_runs, workspace, case):
    output, outcome = output_runs[case]
    line = outcome.error_line()
    assert f"{output}: would overwrite the input" in line
    assert outcome.returncode == 2
    clip = workspace["clip"]
    assert digest(output) == digest(clip)  # the link and the input are as they were
    assert output.is_symlink() == (case == "symlink_to_input")
    assert sorted(p.name for p in output.parent.iterdir()) == ["hardlink.mp4", "symlink.mp4"]


@posix_only
def test_a_read_only_folder_is_one_line_naming_the_output(workspace, tmp_path):
    with read_only_folder(tmp_path / "locked") as locked:
        outputs = {"image": locked / "out.png", "video": locked / "out.mp4"}
        sources = {"image": workspace["target"], "video": workspace["clip"]}
        runs = run_together({kind: swap_args(workspace, sources[kind], out) for kind, out in outputs.items()})
        for kind, output in outputs.items():
            line = runs[kind].error_line()
            assert line.startswith(f"facedeck: error: {output}: cannot write in {locked} ("), line
            assert runs[kind].returncode == 2
        assert list(locked.iterdir()) == []


@posix_only
def test_a_full_file_system_is_one_line_naming_the_output_not_the_temporary_file(workspace, tmp_path):
    with ExitStack() as mounts:
        folders = {
            kind: mounts.enter_context(mounted_tmpfs(tmp_path / kind, size="64k")) for kind in ("i", "v")
        }
        outputs = {"i": folders["i"] / "out.png", "v": folders["v"] / "out.mp4"}
        runs = run_together(
            {
                "i": swap_args(workspace, workspace["noisy"], outputs["i"]),
                "v": swap_args(workspace, workspace["clip"], outputs["v"], "--quality", "100", "--json"),
            }
        )
        for kind, output in outputs.items():
            line = runs[kind].error_line()
            assert line.startswith(f"facedeck: error: {output}: ") and "No space left on device" in line, line
            assert ".facedeck-" not in line and ".part" not in line
            assert runs[kind].returncode == 2
            assert list(folders[kind].iterdir()) == []


# --------------------------------------------------------------------------- inputs


@pytest.fixture(scope="module")
def input_runs(workspace, tmp_path_factory) -> dict[str, tuple[Path, Path, Outcome]]:
    """Special files as inputs, run together: (file at fault, output folder, outcome) by case."""
    root = tmp_path_factory.mktemp("inputs")
    pipes = root / "pipes"
    pipes.mkdir()
    zero, image_pipe, video_pipe = Path("/dev/zero"), pipes / "pipe.png", pipes / "pipe.mp4"
    os.mkfifo(image_pipe)
    os.mkfifo(video_pipe)
    source, target = workspace["source"], workspace["target"]
    cases = {  # name: (file at fault, source, target, output suffix)
        "dev_zero_target": (zero, source, zero, ".png"),
        "fifo_target": (video_pipe, source, video_pipe, ".mp4"),
        "dev_zero_source": (zero, zero, target, ".png"),
        "fifo_source": (image_pipe, image_pipe, target, ".png"),
    }
    arguments = {}
    for name, (_, photo, swap_target, suffix) in cases.items():
        (root / name).mkdir()
        arguments[name] = swap_args({**workspace, "source": photo}, swap_target, root / name / f"out{suffix}")
    outcomes = run_together(arguments)
    return {name: (case[0], root / name, outcomes[name]) for name, case in cases.items()}


@posix_only
@pytest.mark.parametrize("case", ["dev_zero_target", "fifo_target", "dev_zero_source", "fifo_source"])
def test_a_device_or_fifo_input_is_refused_unread_in_one_line(input_runs, case):
    fault, out_folder, outcome = input_runs[case]
    line = outcome.error_line()
    what = "a device" if fault == Path("/dev/zero") else "a named pipe (FIFO)"
    # refused by the job's own validation, before any input is read
    # (the readers refuse it too: tests/core/media/test_input_bounds.py)
    flag = "-t" if case.endswith("target") else "-s"
    assert line == f"facedeck: error: {flag}: {fault} is {what}, not a file"
    assert outcome.returncode == 2
    assert list(out_folder.iterdir()) == []
    assert fault.is_char_device() if fault == Path("/dev/zero") else fault.is_fifo()


# --------------------------------------------------------------------------- signals


@pytest.fixture(scope="module")
def long_clip(workspace) -> Path:
    return make_clip(workspace["root"] / "long.mp4", frames=300, size=(320, 240), fps=30, draw=moving_face)


@posix_only
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stop_signal_mid_video_removes_the_partial_output_and_exits_128_plus_n(
    workspace, long_clip, tmp_path, signum
):
    before = digest(long_clip)
    output = tmp_path / "out.mp4"
    process = start(*swap_args(workspace, long_clip, output, "--json", "--detect-every", "1"))
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and '"progress"' not in process.stdout.readline():
        pass  # frames are flowing once the first progress line is out
    partial = list(tmp_path.iterdir())  # the output exists only as its temporary file
    assert len(partial) == 1 and partial[0].name.startswith(".facedeck-"), partial
    signalled = time.monotonic()
    process.send_signal(signum)
    outcome = finish(process)
    seconds = time.monotonic() - signalled
    name = signal.Signals(signum).name
    assert outcome.error_line() == f"facedeck: error: stopped by {name}"
    assert outcome.returncode == 128 + signum
    assert json.loads(outcome.stdout.splitlines()[-1]) == {
        "event": "error",
        "message": f"stopped by {name}",
        "exit_code": 128 + signum,
    }
    assert seconds < 10, seconds  # a frame or two; generous for a loaded machine
    assert list(tmp_path.iterdir()) == []
    assert digest(long_clip) == before


@posix_only
def test_a_batch_stopped_by_sigterm_says_what_was_done(workspace, long_clip, tmp_path):
    output = tmp_path / "results"
    targets = [str(workspace["target"]), str(long_clip), str(workspace["noisy"])]
    models = str(workspace["models"])
    args = [
        "swap",
        "-s",
        str(workspace["source"]),
        "-t",
        *targets,
        "-o",
        f"{output}/",
        "--models-dir",
        models,
    ]
    process = start(*args, "--json", "--detect-every", "1")
    assert process.stdout is not None
    events: list[dict] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        events.append(json.loads(process.stdout.readline()))
        if events[-1]["event"] == "progress":  # the video, second in the batch, is under way
            break
    assert [event["event"] for event in events][:1] == ["result"]
    process.send_signal(signal.SIGTERM)
    outcome = finish(process)
    assert outcome.returncode == 143
    summary = json.loads(outcome.stdout.splitlines()[-2])
    assert summary == {
        "event": "summary",
        "targets": 3,
        "written": 1,
        "failed": [],
        "stopped_at": str(long_clip),
        "not_started": 1,
    }
    # the first result stands; the video in progress left nothing behind
    assert sorted(path.name for path in output.iterdir()) == ["target.facedeck.png"]


@posix_only
def test_sigterm_mid_download_keeps_the_resumable_part_and_the_next_run_resumes_it(tmp_path):
    swapper = payload("inswapper_128.onnx", 2_000_000, 5)
    manifest = write_manifest(tmp_path / "manifest.toml", "https://models.invalid/files", [swapper], None, [])
    env = {
        **os.environ,
        "FACEDECK_MANIFEST": str(manifest),
        "FACEDECK_CONFIG_DIR": str(tmp_path / "settings"),
    }
    models = tmp_path / "models"
    part = models / "inswapper_128.onnx.part"
    half = 1 << 20  # a whole number of the downloader's chunks, so they reach the file
    with MisbehavingServer() as server:
        server.add("/files/inswapper_128.onnx", swapper.data, script=[Stall(after=half, seconds=60)])
        args = ["models", "download", "inswapper_128", "--accept-terms", "--mirror", server.base_url]
        download = [*args, "--models-dir", str(models)]
        process = subprocess.Popen(
            command(*download), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (part.exists() and part.stat().st_size >= half):
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        outcome = finish(process)
        assert outcome.returncode == 143, outcome.stderr
        assert outcome.stderr.splitlines()[-1] == "facedeck: error: stopped by SIGTERM"
        assert "Traceback" not in outcome.stderr
        assert sorted(p.name for p in models.iterdir() if p.suffix != ".json") == [part.name]
        assert part.read_bytes() == swapper.data[:half]

        again = subprocess.run(command(*download), env=env, capture_output=True, text=True, timeout=TIMEOUT)
        assert again.returncode == 0, again.stderr
        assert (models / "inswapper_128.onnx").read_bytes() == swapper.data
        assert server.records_for("/files/inswapper_128.onnx")[-1].range == f"bytes={half}-"
