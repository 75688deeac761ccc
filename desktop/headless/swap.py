"""``facedeck --headless swap``: swap faces in images and videos, one or a batch.

The command's only knowledge of the engine is the SwapJob it builds per target. This
module is imported to build ``--help``: the engine (numpy, onnxruntime, PyAV) is imported
in :func:`run`, when a swap really runs.
"""

from __future__ import annotations

import argparse

from ...core.errors import UsageError
from ...core.faces.options import SelectionMode
from ...core.jobs.spec import (
    FaceAssignment,
    FaceMapping,
    FaceRef,
    JobKind,
    MediaRef,
    OutputSpec,
    SwapJob,
    TrackerOptions,
    Trim,
)
from ...core.jobs.timecode import format_time
from . import swap_args


def add_parser(commands: argparse._SubParsersAction) -> None:
    swap_args.add_parser(commands, run)


def selection_of(args: argparse.Namespace) -> SelectionMode:
    """The selection mode, after the checks that concern several options together."""
    if not args.source and not args.map:
        raise UsageError("give source photos with -s or pairs with --map")
    if args.source and args.map:
        raise UsageError("use either -s or --map, not both")
    reference_given = args.reference is not None or args.reference_frame is not None
    if args.reference is not None and args.reference_frame is not None:
        raise UsageError("use either --reference or --reference-frame, not both")
    if args.map and reference_given:
        raise UsageError("--map names its own references; drop --reference and --reference-frame")
    if args.reference_face != 1 and not reference_given:
        raise UsageError("--reference-face picks a face of --reference or --reference-frame; give one")
    if args.start is not None and args.end is not None and args.end <= args.start:
        raise UsageError(f"--end {format_time(args.end)} is not after --start {format_time(args.start)}")
    if args.select is None:
        return SelectionMode.REFERENCE if reference_given else SelectionMode.ONE
    selection = SelectionMode(args.select)
    if selection is SelectionMode.REFERENCE and not args.map and not reference_given:
        raise UsageError("--select reference needs --reference PHOTO or --reference-frame TIME")
    if selection is not SelectionMode.REFERENCE and reference_given:
        raise UsageError(
            f"--reference and --reference-frame are for --select reference, not {selection.value}"
        )
    return selection


def build_job(
    args: argparse.Namespace, target: str, output: str | None, *, video: bool, batch: bool = False
) -> SwapJob:
    """The SwapJob these arguments describe for one target (``video``: the target is a video).

    In a batch, --start and --end apply to the videos and the images are swapped whole;
    for a single image they are refused by name.
    """
    selection = selection_of(args)

    def face(path: str) -> FaceRef:
        return FaceRef(MediaRef.of(path))

    reference = None
    if args.reference is not None:
        reference = FaceRef(MediaRef.of(args.reference), face=args.reference_face - 1)
    elif args.reference_frame is not None:
        # the job refuses a frame time on an image target, naming --reference-frame
        reference = FaceRef(MediaRef.of(target), face=args.reference_face - 1, time=args.reference_frame)
    # several SRC photos with the same REFERENCE are one person, averaged
    grouped: dict[str, list[str]] = {}
    for source, reference_photo in args.map:
        grouped.setdefault(reference_photo, []).append(source)
    faces = FaceAssignment(
        sources=[face(path) for path in args.source],
        reference=reference,
        mappings=[
            FaceMapping(sources=[face(path) for path in photos], reference=face(reference_photo))
            for reference_photo, photos in grouped.items()
        ],
    )
    options = swap_args.swap_options_of(args, selection)
    output_spec = OutputSpec(
        path=output,
        quality=args.quality,
        codec=args.codec,
        preset=args.preset,
        hardware=args.hw_encoder,
        audio=not args.no_audio,
        encoder_threads=args.encoder_threads,
    )
    trimmed = (args.start is not None or args.end is not None) and (video or not batch)
    return SwapJob(
        kind=JobKind.VIDEO if video else JobKind.IMAGE,
        target=MediaRef.of(target),
        faces=faces,
        options=options,
        output=output_spec,
        tracker=TrackerOptions(detect_every=args.detect_every, smoothing=not args.no_smoothing),
        trim=Trim(start=args.start or 0.0, end=args.end) if trimmed else None,
    )


def run(args: argparse.Namespace) -> int:
    from .remote_args import check_remote_options
    from .targets import Namer, expand_targets  # reads files and knows formats: not for --help

    # usage errors before anything is read or loaded
    selection_of(args)
    check_remote_options(args)
    targets = expand_targets(args.target)
    namer = Namer(args.output, args.name_pattern, targets.batch)
    from .batch import run_swaps  # the engine: imported only when a swap runs

    return run_swaps(args, build_job, targets, namer)
