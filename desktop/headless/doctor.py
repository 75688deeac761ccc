"""``facedeck --headless doctor``: what this machine has, and what is missing."""

from __future__ import annotations

import argparse
import platform
import sys

from ...core import model_files
from ...core.runtime import describe_runtime
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
    models = model_files.inventory(directory)
    report = {
        "facedeck": software_label(),
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "onnxruntime": runtime,
        "models_dir": str(directory),
        "models": models,
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
        for name, present in models.items():
            say(f"  {'present' if present else 'missing':8} {name}")
        for problem in runtime.get("problems") or []:
            say(f"PROBLEM: {problem}")
    return 1 if runtime.get("problems") else 0
