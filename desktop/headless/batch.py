"""Running ``swap`` over its targets: one job per target through one model library.

A single target behaves as it always has: its failure is the command's failure. In a
batch (several targets, a folder or a glob) a failed target is reported and the next one
runs; the summary lists every failure and the exit status is the first failure's.
What no other target could get past stops a batch at once: missing or unusable models,
the runtime, a bad source photo, an interruption.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from ...core.errors import FaceDeckError, InvalidJobError
from ...core.jobs.events import EventSink
from ...core.jobs.result import JobResult
from ...core.jobs.runner import run_job
from ...core.jobs.spec import JobKind, SwapJob
from ...core.media.formats import is_video_input
from ...core.models import files as model_files
from ...core.models.library import ModelLibrary
from ...core.runtime.install import check_onnxruntime
from ..errors import exit_code
from .swap_report import ProgressReporter, report_failure, report_result, report_stopped, report_summary
from .targets import Namer, Targets

JobBuilder = Callable[..., SwapJob]
Engine = Callable[[SwapJob, EventSink], JobResult]  # run_job on this machine, or a RemoteRunner
# Failures that every later target would meet too.
STOPS_THE_BATCH = frozenset(
    {
        "model_missing",
        "model_load",
        "model_verification",
        "manifest",
        "provider",
        "runtime_install",
        "cancelled",
        "remote",  # the endpoint, the key or the storage: the same for every target
    }
)


def run_swaps(args: argparse.Namespace, build_job: JobBuilder, targets: Targets, namer: Namer) -> int:
    engine = _engine(args)
    namer.make_folder()
    try:
        if not targets.batch:
            target = targets.paths[0]
            video = is_video_input(target)
            job = build_job(args, target, namer.output_for(target, 1, video), video=video)
            report_result(_run(engine, job, target, Path(target).name, args), target, as_json=args.json)
            return 0
        return _run_batch(args, build_job, engine, targets.paths, namer)
    finally:
        namer.remove_empty_folders()


def _engine(args: argparse.Namespace) -> Engine:
    """What runs each job: the local engine, or the endpoint ``--remote`` names."""
    if args.remote is not None:
        from .remote_args import runner_from_args  # the client: only for remote runs

        runner = runner_from_args(args)
        return lambda job, events: runner.run(job, events=events)
    check_onnxruntime()
    library = ModelLibrary(model_files.resolve_models_dir(args.models_dir), args.provider)
    return lambda job, events: run_job(library, job, events=events)


def _run(engine: Engine, job: SwapJob, target: str, label: str, args: argparse.Namespace) -> JobResult:
    video = job.kind is JobKind.VIDEO
    reporter = ProgressReporter(target, label, as_json=args.json, video=video, remote=args.remote is not None)
    try:
        return engine(job, reporter)
    finally:
        reporter.close()


def _run_batch(
    args: argparse.Namespace, build_job: JobBuilder, engine: Engine, paths: list[str], namer: Namer
) -> int:
    failures: list[tuple[str, FaceDeckError]] = []
    written: list[str] = []
    sources = _source_names(args)
    count = len(paths)
    for index, target in enumerate(paths, 1):
        label = f"[{index}/{count}] {Path(target).name}"
        if not args.json:
            print(label, file=sys.stderr, flush=True)
        try:
            video = is_video_input(target)
            job = build_job(args, target, namer.output_for(target, index, video), video=video, batch=True)
            result = _run(engine, job, target, label, args)
        except FaceDeckError as error:
            if error.code in STOPS_THE_BATCH or _about_sources(error, target, sources):
                raise
            failures.append((target, error))
            report_failure(target, error, as_json=args.json)
            continue
        except KeyboardInterrupt:
            # Ctrl-C or a stop signal: say what is done before the one-line error the CLI prints
            report_stopped(target, count, written, failures, as_json=args.json)
            raise
        written.append(target)
        report_result(result, target, as_json=args.json)
    status = exit_code(failures[0][1]) if failures else 0
    report_summary(count, failures, status, as_json=args.json)
    return status


def _source_names(args: argparse.Namespace) -> set[str]:
    photos = [*args.source, *(path for pair in args.map for path in pair)]
    if args.reference is not None:
        photos.append(args.reference)
    return {Path(photo).name for photo in photos}


def _about_sources(error: FaceDeckError, target: str, sources: set[str]) -> bool:
    """Whether ``error`` is about a source or reference photo (then every target would fail)."""
    if isinstance(error, InvalidJobError):
        # all about the photos: a problem with the target (or a frame of it) is the target's own
        fields = [problem.field for problem in error.problems]
        return bool(fields) and all(
            field.startswith("faces.") and not field.endswith(".time") for field in fields
        )
    if error.path is None:
        return False
    name = Path(error.path).name
    return name in sources and name != Path(target).name
