"""The worker image's Dockerfile, read for what the image needs (no docker here to build it).

Each check names a way the image would break: a package folder not copied, a copied path
that .dockerignore drops, the wrong extras, a CMD that is not the worker, a models step
that runs without the terms accepted, or a FaceDeck command line the CLI does not accept.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from facedeck.desktop.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        found.append((keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return found


def of(keyword: str) -> list[str]:
    return [arguments for name, arguments in instructions() if name == keyword]


def pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def env_values() -> dict[str, str]:
    values: dict[str, str] = {}
    for arguments in of("ENV"):
        for word in shlex.split(arguments):
            key, _, value = word.partition("=")
            values[key] = value
    return values


def copies() -> list[tuple[list[str], str]]:
    return [(words[:-1], words[-1]) for words in (arguments.split() for arguments in of("COPY"))]


def test_base_image_and_gpu_runtime_settings():
    [base] = of("FROM")
    assert base.startswith("python:3.11-slim"), base  # the CUDA libraries come as wheels
    assert pyproject()["project"]["requires-python"] == ">=3.10"
    env = env_values()
    # without these the NVIDIA runtime hands a non-CUDA base image no GPU and no libcuda
    assert env["NVIDIA_VISIBLE_DEVICES"] == "all"
    assert "compute" in env["NVIDIA_DRIVER_CAPABILITIES"].split(",")
    assert env["FACEDECK_MODELS_DIR"].startswith("/")


def test_installs_the_gpu_and_worker_extras_and_never_qt():
    installs = [run for run in of("RUN") if "pip install" in run]
    assert len(installs) == 1
    assert 'pip install ".[gpu,worker]"' in installs[0]
    extras = pyproject()["project"]["optional-dependencies"]
    assert any(dep.startswith("onnxruntime-gpu") for dep in extras["gpu"])
    assert any(dep.startswith("runpod") for dep in extras["worker"])
    assert "gui" not in installs[0]


def test_copies_every_package_folder_and_nothing_dockerignore_drops():
    sources = {source for sources, _ in copies() for source in sources}
    config = pyproject()
    needed = set(config["tool"]["setuptools"]["package-dir"].values())
    needed |= {"pyproject.toml", config["project"]["readme"], "test_input.json"}
    assert needed <= sources, f"not copied into the image: {sorted(needed - sources)}"
    for source in sources:
        assert (REPO / source).exists(), source
    ignored = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for path in sorted(installed_files(config)):
        relative = path.relative_to(REPO).as_posix()
        dropped = [pattern for pattern in ignored if dockerignore_matches(pattern, relative)]
        assert not dropped, f"{relative} goes into the wheel but .dockerignore drops it ({dropped})"


def installed_files(config: dict) -> set[Path]:
    """What ``pip install .`` builds the package from: the sources, pyproject's package data."""
    folders = config["tool"]["setuptools"]["package-dir"]
    files = {REPO / "pyproject.toml", REPO / config["project"]["readme"], REPO / "test_input.json"}
    for folder in folders.values():
        files |= {path for path in (REPO / folder).rglob("*.py") if "__pycache__" not in path.parts}
    for package, patterns in config["tool"]["setuptools"]["package-data"].items():
        for pattern in patterns:
            files |= set((REPO / folders[package]).glob(pattern))
    assert any(path.suffix == ".toml" for path in files)  # the model manifest is among them
    return files


def dockerignore_matches(pattern: str, relative: str) -> bool:
    """Docker's rule, near enough: the pattern matches the path or one of its parent folders."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    if pattern.startswith("**/"):
        return any(fnmatch.fnmatch(part, pattern[3:]) for part in parts)
    return any(fnmatch.fnmatch(candidate, pattern) for candidate in candidates)


def test_dockerignore_keeps_weights_and_tests_out():
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for path in ("models/inswapper_128.onnx", "tests/conftest.py", ".git/HEAD", "core/__pycache__/x.pyc"):
        assert any(dockerignore_matches(pattern, path) for pattern in patterns), path


def test_runs_the_worker_with_test_input_json_beside_it():
    [cmd] = of("CMD")
    argv = json.loads(cmd)  # exec form: the worker is PID 1 and gets RunPod's SIGTERM itself
    assert argv == ["facedeck", "--headless", "worker"]
    assert build_parser(argv[2:]).parse_known_args(argv[2:])[0].command == "worker"
    # off RunPod the SDK reads ./test_input.json: it must sit in the folder the worker starts in
    steps = instructions()
    last_workdir = max(index for index, (name, _) in enumerate(steps) if name == "WORKDIR")
    assert ("COPY", "test_input.json ./") in steps[last_workdir:]
    assert steps[last_workdir][1].startswith("/")


def models_step() -> str:
    [step] = [run for run in of("RUN") if "models download" in run]
    return step


@pytest.mark.parametrize(
    ("accept", "status", "said"),
    [
        ("", 0, "no models baked in: the worker reads them from the network volume"),
        ("no", 1, "ACCEPT_MODEL_TERMS must be 'yes' (accept the models' non-commercial terms) or empty"),
    ],
)
def test_models_are_baked_in_only_with_the_terms_accepted(tmp_path, accept, status, said):
    [argument] = [arguments for arguments in of("ARG") if arguments.startswith("ACCEPT_MODEL_TERMS")]
    assert argument == 'ACCEPT_MODEL_TERMS=""'  # nothing is downloaded unless the builder says yes
    # the step's shell code, run as docker would (sh -c), in the two cases that download nothing
    env = {"PATH": os.environ["PATH"], "ACCEPT_MODEL_TERMS": accept, "HOME": str(tmp_path)}
    command = ["sh", "-c", models_step()]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=30)
    assert result.returncode == status
    assert said in result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_download_commands_are_ones_the_cli_accepts():
    step = models_step()
    yes_branch = re.split(r";\s*else", step.split('= "yes" ]; then', 1)[1], maxsplit=1)[0]
    commands = [shlex.split(part) for part in yes_branch.split("&&")]
    assert [words[:3] for words in commands] == [["facedeck", "--headless", "models"]] * 2
    download, verify = (words[2:] for words in commands)
    assert download == ["models", "download", "--all", "--accept-terms"]
    args = build_parser(download).parse_args(download)
    assert args.all and args.accept_terms and args.models_dir is None  # into $FACEDECK_MODELS_DIR
    assert build_parser(verify).parse_args(verify).models_command == "verify"
