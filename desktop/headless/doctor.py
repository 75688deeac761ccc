"""``facedeck --headless doctor``: what this machine has, and what is missing."""

from __future__ import annotations

import argparse

from ...core.diagnostics import Diagnostics, collect_diagnostics
from .common import emit_json, say


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "doctor", help="print the environment: Python, onnxruntime, providers, models"
    )
    parser.add_argument("--models-dir", metavar="DIR", help="folder with the model files")
    parser.add_argument("--json", action="store_true", help="print one machine-readable line")
    parser.set_defaults(handler=run)


def doctor_json(report: Diagnostics) -> dict:
    """The ``doctor --json`` line; its keys are what scripts already read, so they stay."""
    return {
        "facedeck": report.facedeck,
        "python": f"{report.python_version} ({report.python_executable})",
        "platform": report.platform,
        "onnxruntime": dict(report.onnxruntime),
        "models_dir": report.models_dir,
        "models": {model.file: model.present for model in report.models},
        "model_status": {model.file: model.status for model in report.models},
    }


def print_report(report: Diagnostics) -> None:
    runtime = report.onnxruntime
    say(f"FaceDeck      {report.facedeck}")
    say(f"Python        {report.python_version} ({report.python_executable})")
    say(f"Platform      {report.platform}")
    distribution = runtime.get("distribution") or "not installed"
    say(f"onnxruntime   {distribution} {runtime.get('version') or ''}".rstrip())
    say(f"Providers     {', '.join(runtime.get('available_providers') or []) or 'none'}")
    say(f"Auto picks    {runtime.get('auto_choice') or '-'}")
    say(f"Models dir    {report.models_dir}")
    for model in report.models:
        say(f"  {model.status:8} {model.file}")
    for problem in report.problems:
        say(f"PROBLEM: {problem}")


def run(args: argparse.Namespace) -> int:
    # remembered hashes only: doctor must stay quick, 'models verify' re-hashes
    report = collect_diagnostics(args.models_dir)
    if args.json:
        emit_json("doctor", **doctor_json(report))
    else:
        print_report(report)
    return 0 if report.ok else 1
