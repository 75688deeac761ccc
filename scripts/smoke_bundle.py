"""Smoke-test a built FaceDeck bundle and print its size and start-up times.

    python scripts/smoke_bundle.py BUNDLE --source SRC --pip-python VENV/bin/python [--work DIR]

BUNDLE is the one-folder bundle (or the one-file executable). The inputs (stand-in models,
photos, a clip) are written by ``tests.support.bundle_inputs`` run with ``--pip-python`` in
SRC; the bundle then runs with a bare environment (no PYTHONPATH, no virtual environment),
its working directory and user folders in WORK, far from the source tree. Checks: no test
files and no .onnx weights in the bundle; ``--version``; models import and list; doctor
says it is frozen; an image swap and a video swap with their outputs checked; the window
opening offscreen and closing itself; all of it again from a read-only copy of the bundle.
Then the figures: size (total and the five biggest parts) and start-up of ``--headless
--version`` and of the window, first run and median of warm runs, next to the pip install
of the same venv. Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SMOKE_LINE = "facedeck: smoke test: window shown"
DIGITAL_SOURCE_TYPE = b"compositeWithTrainedAlgorithmicMedia"
WARM_RUNS = 5
TIMEOUT = 300


class SmokeFailure(Exception):
    """A check failed: the message says which and what the bundle printed."""


def bare_env(home: Path) -> dict[str, str]:
    """A user's environment with nothing of Python or the source tree in it."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_STATE_HOME": str(home / "state"),
        "FACEDECK_CONFIG_DIR": str(home / "facedeck-config"),
        "FACEDECK_LOG_DIR": str(home / "logs"),
        "QT_QPA_PLATFORM": "offscreen",
    }
    return env


class Runner:
    """Runs one facedeck command line in the bare environment and checks its exit status."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path) -> None:
        self.command, self.env, self.cwd = command, env, cwd

    def __call__(self, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*self.command, *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.cwd,
            timeout=TIMEOUT,
        )
        if result.returncode != expect:
            raise SmokeFailure(
                f"{' '.join(args)}: exit {result.returncode}, expected {expect}\n"
                f"{result.stdout[-1500:]}\n{result.stderr[-3000:]}"
            )
        return result

    def timed(self, *args: str, until: str | None = None) -> float:
        """Seconds from launch to exit, or to the first stdout line containing ``until``."""
        started = time.perf_counter()
        process = subprocess.Popen(
            [*self.command, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=self.env,
            cwd=self.cwd,
        )
        assert process.stdout is not None
        seen = None
        for line in process.stdout:
            if until is not None and until in line and seen is None:
                seen = time.perf_counter() - started
        process.wait(timeout=TIMEOUT)
        ended = time.perf_counter() - started
        if process.returncode != 0 or (until is not None and seen is None):
            raise SmokeFailure(
                f"{' '.join(args)}: exit {process.returncode}, saw {until!r}: {seen is not None}"
            )
        return seen if seen is not None else ended


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def check_contents(folder: Path) -> None:
    weights = [str(p.relative_to(folder)) for p in folder.rglob("*.onnx")]
    check(not weights, f"model weights in the bundle: {weights}")
    tests = [
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.name in ("tests", "test")
        and p.is_dir()
        or p.name.startswith("test_")
        and p.suffix in (".py", ".pyc")
    ]
    check(not tests, f"test files in the bundle: {tests[:10]}")
    internal = folder / "_internal"
    for resource in ("facedeck/models/manifest.toml", "facedeck/resources/translations/facedeck_zh_CN.qm"):
        check((internal / resource).is_file(), f"{resource} is not in the bundle")
    print(f"smoke: contents ok (no .onnx weights, no test files) in {folder}")


def prepare_inputs(python: str, source: Path, folder: Path) -> dict:
    result = subprocess.run(
        [python, "-m", "tests.support.bundle_inputs", str(folder)],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def check_image(output: Path, target: Path, probe: list[int]) -> None:
    import cv2  # the build venv's, to read back what the bundle wrote

    check(output.is_file() and DIGITAL_SOURCE_TYPE in output.read_bytes(), f"{output}: missing or unmarked")
    swapped, original = cv2.imread(str(output)), cv2.imread(str(target))
    check(swapped is not None and swapped.shape == original.shape, f"{output}: not the target's size")
    row, column = probe
    changed = int(abs(swapped[row, column].astype(int) - original[row, column].astype(int)).max())
    check(changed > 30, f"{output}: the face was not swapped (pixel moved by {changed})")


def check_video(output: Path, frames: int) -> None:
    import av

    with av.open(str(output)) as container:
        check(len(container.streams.audio) == 1, f"{output}: the audio track is gone")
        decoded = sum(1 for _ in container.decode(video=0))
    check(decoded == frames, f"{output}: {decoded} frames, the input has {frames}")


def exercise(run: Runner, inputs: dict, out: Path, models: Path, *, first: bool) -> None:
    """Every command of the smoke test, with ``run``; ``first`` also imports the models."""
    out.mkdir(parents=True, exist_ok=True)
    version = run("--headless", "--version").stdout.strip()
    check(version.startswith("FaceDeck "), f"--version printed {version!r}")
    if first:
        for model_id, path in inputs["models"].items():
            run("--headless", "models", "import", model_id, path, "--trust", "--models-dir", str(models))
    listed = run("--headless", "models", "list", "--models-dir", str(models)).stdout
    check("inswapper_128" in listed, f"models list does not list the swapper:\n{listed}")
    doctor = json.loads(
        run("--headless", "doctor", "--json", "--models-dir", str(models)).stdout.splitlines()[-1]
    )
    bundle = doctor.get("bundle") or {}
    check(bool(bundle) and doctor["ready"], f"doctor: not frozen or not ready: {doctor}")
    image = out / "swapped.png"
    swap = ["--headless", "swap", "-s", inputs["source"], "--models-dir", str(models), "--json"]
    run(*swap, "-t", inputs["target"], "-o", str(image))
    check_image(image, Path(inputs["target"]), inputs["probe"])
    video = out / "swapped.mp4"
    run(*swap, "-t", inputs["clip"], "-o", str(video))
    check_video(video, inputs["clip_frames"])
    recording = out / "live.mp4"
    run("--headless", "live", "-s", inputs["source"], "--camera", inputs["clip"], "--record", str(recording),
        "--max-frames", "6", "--models-dir", str(models))  # fmt: skip
    check(recording.is_file() and recording.stat().st_size > 0, f"live wrote no recording {recording}")
    check_serve(run, models)
    window = run("--smoke-test", "--models-dir", str(models)).stdout
    check(SMOKE_LINE in window, f"the window did not report itself shown: {window!r}")
    print(
        f"smoke: {version}, {bundle.get('flavour')} flavour: version, models, doctor, image, video, live, "
        "serve, window ok"
    )


def check_serve(run: Runner, models: Path) -> None:
    """``serve`` starts, answers its health route, and stops on SIGTERM."""
    import urllib.request

    args = ["--headless", "serve", "--port", "0", "--json", "--models-dir", str(models)]
    process = subprocess.Popen(
        [*run.command, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=run.env,
        cwd=run.cwd,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if not first.startswith("{"):  # stderr is read only then: reading it waits for the end
            raise SmokeFailure(f"serve printed {first!r}: {process.stderr.read() if process.stderr else ''}")
        url = json.loads(first)["url"]
        with urllib.request.urlopen(f"{url}/v2/smoke/health", timeout=30) as answer:
            health = json.loads(answer.read())
        check("jobs" in health or "workers" in health, f"serve's health answer: {health}")
    finally:
        process.terminate()
        process.communicate(timeout=60)


def read_only_copy(bundle: Path, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    copy = into / bundle.name
    if bundle.is_dir():
        shutil.copytree(bundle, copy, symlinks=True)
    else:
        shutil.copy2(bundle, copy)
    for path in [copy, *copy.rglob("*")] if copy.is_dir() else [copy]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return copy


def make_writable(path: Path) -> None:
    for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
        if not item.is_symlink():
            item.chmod(item.stat().st_mode | stat.S_IWUSR)


def sizes(bundle: Path) -> tuple[int, list[tuple[int, str]]]:
    """Total bytes, and the biggest parts: top-level entries of the bundle's _internal folder."""
    if bundle.is_file():
        return bundle.stat().st_size, []
    internal = bundle / "_internal" if (bundle / "_internal").is_dir() else bundle
    parts = []
    for entry in internal.iterdir():
        if entry.is_symlink():  # PyInstaller links a library to its copy in a package folder
            continue
        files = (
            [entry]
            if entry.is_file()
            else [p for p in entry.rglob("*") if p.is_file() and not p.is_symlink()]
        )
        parts.append((sum(p.stat().st_size for p in files), entry.name))
    total = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file() and not p.is_symlink())
    return total, sorted(parts, reverse=True)[:5]


def startup(run: Runner, models: Path) -> dict[str, tuple[float, float]]:
    """(first run, median of warm runs) for --headless --version and the window."""
    figures = {}
    for label, args, until in (
        ("--headless --version", ("--headless", "--version"), None),
        ("window (shown)", ("--smoke-test", "--models-dir", str(models)), SMOKE_LINE),
    ):
        first = run.timed(*args, until=until)
        warm = [run.timed(*args, until=until) for _ in range(WARM_RUNS)]
        figures[label] = (first, statistics.median(warm))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--source", type=Path, required=True, help="the source tree (for the test helpers)")
    parser.add_argument("--pip-python", required=True, help="the build venv's python (the pip install)")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    args = parser.parse_args()
    bundle = args.bundle.resolve()
    work = (args.work or Path(tempfile.mkdtemp(prefix="facedeck-smoke-"))).resolve()
    if work.exists():
        make_writable(work)
        shutil.rmtree(work)
    work.mkdir(parents=True)
    executable = bundle / "facedeck" if bundle.is_dir() else bundle
    pip_facedeck = str(Path(args.pip_python).parent / "facedeck")
    try:
        if bundle.is_dir():
            check_contents(bundle)
        inputs = prepare_inputs(args.pip_python, args.source.resolve(), work / "inputs")
        cwd = work / "cwd"
        cwd.mkdir()
        models = work / "models"
        # the first runs of each are the figures' "first run": the bundle's files not read yet
        bundle_run = Runner([str(executable)], bare_env(work / "home"), cwd)
        pip_run = Runner([pip_facedeck], bare_env(work / "home-pip"), cwd)
        times = {"bundle": startup(bundle_run, models), "pip install": startup(pip_run, models)}
        exercise(bundle_run, inputs, work / "out", models, first=True)
        copy = read_only_copy(bundle, work / "read-only")
        copied = copy / "facedeck" if copy.is_dir() else copy
        # the same user (whose settings trust the imported models), another copy of the bundle
        exercise(
            Runner([str(copied)], bare_env(work / "home"), cwd), inputs, work / "out-ro", models, first=False
        )
        print(f"smoke: a read-only copy in {copy.parent} works too")
    except (SmokeFailure, subprocess.SubprocessError, OSError) as error:
        print(f"smoke: FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        make_writable(work)
    total, biggest = sizes(bundle)
    print(f"bundle size: {total / 1e6:.0f} MB ({bundle.name})")
    for size, name in biggest:
        print(f"  {size / 1e6:7.1f} MB  {name}")
    print(f"start-up, seconds (first run / median of {WARM_RUNS} warm runs):")
    print(f"  {'':24} {'bundle':>15} {'pip install':>15}")
    for label in times["bundle"]:
        cells = [f"{times[kind][label][0]:.2f} / {times[kind][label][1]:.2f}" for kind in times]
        print(f"  {label:24} " + " ".join(f"{cell:>15}" for cell in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
