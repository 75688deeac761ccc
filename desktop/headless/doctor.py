"""``facedeck --headless doctor``: what this machine has, and what is missing."""

from __future__ import annotations

import argparse
import platform
import sys

from ...core.models import files as model_files
from ...core.models.store import ModelStatus, ModelStore
from ...core.runtime.onnx import describe_runtime
from ...core.version import software_label
from .common import emit_json, say


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "doctor", help="print the environment: Python, onnxruntime, providers, models"
    )
    parser.add_argument("--models-dir", metavar="DIR", help="folder with the model files")
    parser.add_argument("--json", action="store_true", help="print one machine-readable line")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    runtime = describe_runtime()
    directory = model_files.resolve_models_dir(args.models_dir)
    # remembered hashes only: doctor must stay quick, 'models verify' re-hashes
    states = ModelStore(directory).states()
    models = {state.spec.file: state.status is not ModelStatus.MISSING for state in states}
    statuses = {state.spec.file: state.status.value for state in states}
    report = {
        "facedeck": software_label(),
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "onnxruntime": runtime,
        "models_dir": str(directory),
        "models": models,
        "model_status": statuses,
    }
    if args.json:
        emit_json("doctor", **report)
    else:
        say(f"FaceDeck      {report['facedeck']}")
        say(f"Python        {report['python']}")
        say(f"Platform      {report['platform']}")
        distribution = runtime.get("distribution") or "not installed"
        say(f"onnxruntime   {distribution} {runtime.get('version') or ''}".rstrip())
        say(f"Providers     {', '.join(runtime.get('available_providers') or []) or 'none'}")
        say(f"Auto picks    {runtime.get('auto_choice') or '-'}")
        say(f"Models dir    {directory}")
        for name, status in statuses.items():
            say(f"  {status:8} {name}")
        for problem in runtime.get("problems") or []:
            say(f"PROBLEM: {problem}")
    return 1 if runtime.get("problems") else 0
