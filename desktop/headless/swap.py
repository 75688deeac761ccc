"""``facedeck --headless swap``: swap faces in an image."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ...core.errors import UsageError
from ...core.faces.selection import DEFAULT_DISTANCE, SelectionMode
from ...core.faces.session import SwapOptions
from ...core.jobs.events import JobEvent, Progress
from ...core.jobs.result import JobResult
from ...core.jobs.runner import run_job
from ...core.jobs.spec import (
    FaceAssignment,
    FaceMapping,
    FaceRef,
    JobKind,
    MediaRef,
    OutputSpec,
    SwapJob,
    TrackerOptions,
)
from ...core.media.formats import is_video_input
from ...core.models import files as model_files
from ...core.models.library import ModelLibrary
from ...core.runtime.install import check_onnxruntime
from .common import add_model_options, emit_json, say
from .progress import ProgressBar, human_duration


def percent(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 100")
    return value


def fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 0.5:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 0.5")
    return value


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "swap",
        help="swap faces in an image or a video",
        description="Put the source face onto faces in the target image or video and write the result.",
    )
    parser.add_argument(
        "-s",
        "--source",
        nargs="+",
        default=[],
        metavar="SRC",
        help="photo(s) of the source person; several photos of one person are averaged",
    )
    parser.add_argument(
        "-t", "--target", required=True, metavar="TARGET", help="image or video to put the face into"
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="output file; its extension picks the format "
        "(.jpg .png .webp .tif; .mp4 .mov .mkv .avi .webm .gif .webp)",
    )
    parser.add_argument(
        "--select",
        choices=[mode.value for mode in SelectionMode],
        default=SelectionMode.ONE.value,
        help="one: the largest face (default); many: every face; reference: faces that look like --reference",
    )
    parser.add_argument(
        "--reference", metavar="PHOTO", help="photo of the person to replace (with --select reference)"
    )
    parser.add_argument(
        "--map",
        nargs=2,
        action="append",
        default=[],
        metavar=("SRC", "REFERENCE"),
        help="put SRC onto the person shown in REFERENCE; repeat for several people "
        "(several SRC photos with the same REFERENCE are averaged)",
    )
    parser.add_argument(
        "--distance",
        type=float,
        default=DEFAULT_DISTANCE,
        help=f"largest identity distance that counts as the same person (default {DEFAULT_DISTANCE})",
    )
    parser.add_argument("--enhance", action="store_true", help="restore the swapped face with GFPGAN")
    parser.add_argument(
        "--enhance-strength",
        type=percent,
        default=80,
        metavar="0-100",
        help="how much of the restored face to blend in (default 80)",
    )
    parser.add_argument("--mouth-mask", action="store_true", help="keep the target's own mouth")
    parser.add_argument(
        "--mask-blur",
        type=fraction,
        default=0.15,
        metavar="F",
        help="feather width as a fraction of the face crop (default 0.15)",
    )
    parser.add_argument(
        "--mask-padding",
        type=fraction,
        default=0.1,
        metavar="F",
        help="border left unswapped, as a fraction of the face crop (default 0.1)",
    )
    parser.add_argument(
        "--detector-size", type=int, default=640, help="detector input size in pixels (default 640)"
    )
    parser.add_argument(
        "--quality",
        type=percent,
        default=None,
        metavar="0-100",
        help="output quality (default: 95 for images, 82 for videos: near visually lossless; 100: lossless)",
    )
    video = parser.add_argument_group("video targets (.mp4 .mov .mkv .avi .webm, animated .gif .webp)")
    video.add_argument(
        "--codec", choices=["h264", "hevc", "vp9", "av1"], default="h264", help="video codec (default h264)"
    )
    video.add_argument("--preset", help="encoder preset in the codec's own names (e.g. medium, fast)")
    video.add_argument(
        "--hw-encoder",
        choices=["auto", "off", "nvenc"],
        default="auto",
        help="auto: a hardware encoder when one works, else software (default)",
    )
    video.add_argument(
        "--encoder-threads",
        type=int,
        default=None,
        metavar="N",
        help="threads for a software encoder (default: its own choice; 1 can be faster with a fast preset, "
        "since the pipeline already runs decoding and inference beside it)",
    )
    video.add_argument("--no-audio", action="store_true", help="drop the audio streams")
    video.add_argument(
        "--detect-every",
        type=int,
        default=3,
        metavar="N",
        help="run face detection every N frames and track faces in between (default 3)",
    )
    video.add_argument("--no-smoothing", action="store_true", help="do not smooth face keypoints over time")
    parser.add_argument("--json", action="store_true", help="print a machine-readable result line")
    add_model_options(parser)
    parser.set_defaults(handler=run)


def build_job(args: argparse.Namespace) -> SwapJob:
    """The SwapJob these arguments describe; the CLI's only knowledge of the engine."""
    selection = SelectionMode(args.select)
    if not args.source and not args.map:
        raise UsageError("give source photos with -s or pairs with --map")
    if args.source and args.map:
        raise UsageError("use either -s or --map, not both")
    if selection is SelectionMode.REFERENCE and not args.map and not args.reference:
        raise UsageError("--select reference needs --reference PHOTO")
    if args.detect_every < 1:
        raise UsageError("--detect-every must be 1 or more")
    if args.encoder_threads is not None and args.encoder_threads < 1:
        raise UsageError("--encoder-threads must be 1 or more")

    def face(path: str) -> FaceRef:
        return FaceRef(MediaRef.of(path))

    # several SRC photos with the same REFERENCE are one person, averaged
    grouped: dict[str, list[str]] = {}
    for source, reference in args.map:
        grouped.setdefault(reference, []).append(source)
    faces = FaceAssignment(
        sources=[face(path) for path in args.source],
        reference=face(args.reference) if args.reference else None,
        mappings=[
            FaceMapping(sources=[face(path) for path in photos], reference=face(reference))
            for reference, photos in grouped.items()
        ],
    )
    options = SwapOptions(
        selection=selection,
        distance_threshold=args.distance,
        mouth_mask=args.mouth_mask,
        enhance=args.enhance,
        enhance_strength=args.enhance_strength,
        mask_blur=args.mask_blur,
        mask_padding=args.mask_padding,
        detector_size=args.detector_size,
    )
    output = OutputSpec(
        path=args.output,
        quality=args.quality,
        codec=args.codec,
        preset=args.preset,
        hardware=args.hw_encoder,
        audio=not args.no_audio,
        encoder_threads=args.encoder_threads,
    )
    return SwapJob(
        kind=JobKind.VIDEO if is_video_input(args.target) else JobKind.IMAGE,
        target=MediaRef.of(args.target),
        faces=faces,
        options=options,
        output=output,
        tracker=TrackerOptions(detect_every=args.detect_every, smoothing=not args.no_smoothing),
    )


def run(args: argparse.Namespace) -> int:
    job = build_job(args)
    check_onnxruntime()
    library = ModelLibrary(model_files.resolve_models_dir(args.models_dir), args.provider)
    reporter = ProgressReporter(Path(args.target).name, as_json=args.json, video=job.kind is JobKind.VIDEO)
    try:
        result = run_job(library, job, events=reporter)
    finally:
        reporter.close()
    report_result(result, as_json=args.json)
    return 0


class ProgressReporter:
    """Job events as a progress bar (people) or progress lines once a second (--json)."""

    def __init__(self, name: str, *, as_json: bool, video: bool) -> None:
        # images finish in a moment: no bar for them, as before
        self.bar = ProgressBar(name) if video and not as_json else None
        self.as_json = as_json and video
        self.last_json = 0.0

    def __call__(self, event: JobEvent) -> None:
        if not isinstance(event, Progress) or event.stage != "frames":
            return
        if self.bar is not None:
            total = f"/{event.total}" if event.total else ""
            self.bar.update(
                event.done,
                event.total,
                f"{event.done}{total} frames {event.frames_per_second:.1f} fps "
                f"ETA {human_duration(event.eta_seconds)}",
            )
        elif self.as_json and time.monotonic() - self.last_json >= 1.0:
            self.last_json = time.monotonic()
            emit_json(
                "progress",
                frames_done=event.done,
                frames_total=event.total,
                fps=round(event.frames_per_second, 2),
                eta_seconds=event.eta_seconds,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def report_result(result: JobResult, *, as_json: bool) -> None:
    if result.kind == JobKind.VIDEO.value:
        if as_json:
            emit_json(
                "result",
                output=result.output_path,
                frames=result.frames,
                frames_with_swaps=result.frames_with_swaps,
                skipped_frames=result.skipped_frames,
                seconds=round(result.seconds, 3),
                encoder=result.encoder,
                provider=result.provider,
            )
        else:
            say(
                f"wrote {result.output_path} ({result.frames} frames, {result.frames_with_swaps} with swaps, "
                f"{result.seconds:.1f} s, {result.encoder} on {result.provider})"
            )
        return
    if as_json:
        emit_json(
            "result",
            output=result.output_path,
            faces_found=result.faces_found,
            faces_swapped=result.faces_swapped,
            seconds=round(result.seconds, 3),
            provider=result.provider,
        )
    else:
        say(
            f"wrote {result.output_path} ({result.faces_swapped} of {result.faces_found} face(s) swapped, "
            f"{result.seconds:.2f} s on {result.provider})"
        )
