"""Start-up time of the front door: ``--version``, ``--headless --help`` and ``doctor``.

Each command runs as a fresh process (what a user waits for), several times, after one
warm-up run so the file cache is hot for every interpreter alike; the median is printed.
With ``--baseline-python`` the same commands run under another install (an older checkout
in its own venv) in the same sitting, interleaved, so both see the same machine load.

    python bench/bench_startup.py [--runs 15] [--baseline-python /path/to/old/venv/bin/python]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = {
    "facedeck --version": ["--version"],
    "facedeck --headless --help": ["--headless", "--help"],
    "facedeck --headless --version": ["--headless", "--version"],
    "facedeck --headless doctor": ["--headless", "doctor"],
}


def run_once(python: str, args: list[str], models_dir: str) -> float:
    command = [python, "-m", "facedeck.desktop", *args]
    if "doctor" in args:
        command += ["--models-dir", models_dir]
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--baseline-python", help="interpreter of the install to compare against")
    args = parser.parse_args()
    pythons = {"this checkout": sys.executable}
    if args.baseline_python:
        pythons = {"baseline": args.baseline_python, **pythons}
    with tempfile.TemporaryDirectory() as models_dir:
        print(f"{'command':32} " + " ".join(f"{label:>15}" for label in pythons) + "   (median seconds)")
        for label, command in COMMANDS.items():
            times: dict[str, list[float]] = {name: [] for name in pythons}
            for python in pythons.values():
                run_once(python, command, models_dir)  # warm-up
            for _ in range(args.runs):
                for name, python in pythons.items():  # interleaved: same load for both
                    times[name].append(run_once(python, command, models_dir))
            print(f"{label:32} " + " ".join(f"{statistics.median(t):15.3f}" for t in times.values()))


if __name__ == "__main__":
    main()
