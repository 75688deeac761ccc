"""``facedeck --headless doctor``: what this machine has, what is missing, and a verdict.

The parser is built on every ``--headless`` start, so this module imports nothing heavy
at the top: the report's modules (onnxruntime, PyAV) load only when doctor runs.
"""

from __future__ import annotations

import argparse
import shlex
from typing import TYPE_CHECKING

from .catalog import COMMANDS
from .common import emit_json, say

if TYPE_CHECKING:
    from ...core.diagnostics import Diagnostics

EXIT_NOT_READY = 1


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "doctor",
        help=COMMANDS["doctor"].help,
        description="Report the environment and end with a verdict: exit 0 when FaceDeck is ready "
        "to swap here, 1 when it is not (each reason comes with what to do).",
    )
    parser.add_argument("--models-dir", metavar="DIR", help="folder with the model files")
    parser.add_argument("--json", action="store_true", help="print one machine-readable line")
    parser.set_defaults(handler=run)


def doctor_json(report: Diagnostics, reasons: list[str]) -> dict:
    """The ``doctor --json`` line. Its first keys are what scripts already read, so they stay."""
    return {
        "facedeck": report.facedeck,
        "python": f"{report.python_version} ({report.python_executable})",
        "platform": report.platform,
        "onnxruntime": dict(report.onnxruntime),
        "models_dir": report.models_dir,
        "models": {model.file: model.present for model in report.models},
        "model_status": {model.file: model.status for model in report.models},
        "video": report.video.to_dict(),
        "problems": list(report.problems),
        "missing_roles": list(report.missing_roles),
        "ready": report.ready,
        "not_ready_because": reasons,
        "bundle": report.bundle.to_dict() if report.bundle else None,
    }


def not_ready_reasons(report: Diagnostics, models_dir: str | None) -> list[str]:
    """Why FaceDeck cannot swap here, one line each with what to do; empty when ready."""
    reasons = list(report.problems)
    dir_option = f" --models-dir {shlex.quote(models_dir)}" if models_dir else ""
    if report.missing_roles:
        reasons.append(
            f"no usable {', '.join(report.missing_roles)} model in {report.models_dir}: run "
            f"'facedeck --headless models download{dir_option}', or 'facedeck --headless models "
            f"import PATH{dir_option}' for files you already have"
        )
    corrupt = [model.id for model in report.models if model.status == "corrupt"]
    if corrupt:
        reasons.append(
            f"corrupt model file(s) {', '.join(corrupt)}: run "
            f"'facedeck --headless models download {' '.join(corrupt)}{dir_option}'"
        )
    return reasons


def print_report(report: Diagnostics, reasons: list[str]) -> None:
    runtime = report.onnxruntime
    video = report.video
    say(f"FaceDeck      {report.facedeck}")
    say(f"Python        {report.python_version} ({report.python_executable})")
    say(f"Platform      {report.platform}")
    bundle = report.bundle
    if bundle is None:
        say("Bundle        no (a Python install)")
    else:
        kind = "one file" if bundle.onefile else "one folder"
        say(f"Bundle        frozen: PyInstaller, {kind}, {bundle.flavour} flavour, in {bundle.folder}")
        say(f"  holds       {', '.join(bundle.parts) or 'none of its usual parts'}; no model weights")
    distribution = runtime.get("distribution") or "not installed"
    say(f"onnxruntime   {distribution} {runtime.get('version') or ''}".rstrip())
    say(f"Providers     {', '.join(runtime.get('available_providers') or []) or 'none'}")
    say(f"Auto picks    {runtime.get('auto_choice') or '-'}")
    say(f"PyAV          {video.pyav or 'not available'} (FFmpeg {video.ffmpeg or '?'})")
    say("Encoders")
    for encoder in video.encoders:
        kind = "hardware" if encoder.hardware else "software"
        state = "works" if encoder.usable else f"unusable: {encoder.note}"
        say(f"  {encoder.codec:5} {encoder.name:11} {kind:8} {state}")
    if video.other_hardware:
        say(f"  also in this FFmpeg build (not used by FaceDeck): {' '.join(video.other_hardware)}")
    say(f"Models dir    {report.models_dir}")
    for model in report.models:
        say(f"  {model.status:8} {model.file}")
    if reasons:
        say("Verdict       NOT READY")
        for reason in reasons:
            say(f"  - {reason}")
    else:
        provider = runtime.get("auto_choice") or "cpu"
        say(f"Verdict       READY: images and videos can be swapped here (on {provider})")


def run(args: argparse.Namespace) -> int:
    from ...core.diagnostics import collect_diagnostics

    # remembered hashes only: doctor must stay quick, 'models verify' re-hashes
    report = collect_diagnostics(args.models_dir)
    reasons = not_ready_reasons(report, args.models_dir)
    if args.json:
        emit_json("doctor", **doctor_json(report, reasons))
    else:
        print_report(report, reasons)
    return EXIT_NOT_READY if reasons else 0
