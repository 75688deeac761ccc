"""The ``swap`` command's options.

Numbers are checked as they are parsed, by the limits the job fields declare
(``core.limits``): ``--detector-size 500`` fails with "argument --detector-size: 500 is not
a multiple of 32", exactly as a job file with ``"detector_size": 500`` does, and the help
quotes the same limits. This module is imported to build ``--help``: it must stay light
(no numpy, onnx, av: the engine is imported when a swap runs).
"""

from __future__ import annotations

import argparse
import string
from collections.abc import Callable, Mapping
from typing import Any

from ...core.errors import ManifestError
from ...core.faces.options import SelectionMode, SwapOptions
from ...core.jobs.spec import HARDWARE_ENCODERS, VIDEO_CODECS, FaceRef, OutputSpec, TrackerOptions
from ...core.jobs.timecode import TIME_FORMS, parse_time
from ...core.limits import field_limits, limit_problem
from ...core.models.manifest import load_manifest
from .catalog import COMMANDS
from .common import add_model_options, checked_number
from .remote_args import REMOTE_EPILOG, add_remote_options

DEFAULT_NAME_PATTERN = "{stem}.facedeck{ext}"
NAME_FIELDS = {
    "stem": "the target's name without its extension",
    "ext": "the output's extension with its dot: the target's own, or .png / .mp4\n"
    "            where that kind cannot be written (.bmp)",
    "name": "the target's whole file name",
    "index": "the target's position in the batch, from 1",
}

EPILOG = f"""\
where the results go:
  -o FILE     with one target: exactly FILE (an existing FILE is replaced; an input never is)
  -o DIR      into DIR (an existing folder, a name ending in /, or any batch; created if
              missing), each result named by --name-pattern
  no -o       next to each target, named by --name-pattern (default "{DEFAULT_NAME_PATTERN}":
              photo.jpg -> photo.facedeck.jpg)
  A name that is already taken gets a number (photo.facedeck-2.jpg, -3, ...): a batch run
  twice keeps both results. Only an explicit -o FILE is ever replaced.

--name-pattern fields:
{chr(10).join(f"  {{{name}}}{' ' * (8 - len(name))}{text}" for name, text in NAME_FIELDS.items())}

batches:
  Several targets (-t a.jpg b.mp4), a folder (its images and videos, not its subfolders)
  or a quoted glob (-t 'shots/*.jpg', expanded by facedeck). Files named like results
  (*.facedeck.*, *.facedeck-N.*) are left out of folders and globs. A target that fails
  does not stop the others; a summary lists each failure with its reason, and the exit
  status is that of the first failure (0 when every target was written). --start and
  --end trim the videos (images are swapped whole); --reference-frame needs video targets.

exit statuses: 0 done; 2 bad option, input or output; 3 no face; 4 models missing or
unusable; 5 onnxruntime or provider; 130 interrupted (128+N for a signal N)."""


def describe(rules: Mapping[str, Any]) -> str:
    """The limits as the help states them: "160 to 2048, a multiple of 32"."""
    low, high = rules["range"]
    text = f"{low} to {high}"
    if rules.get("multiple_of"):
        text += f", a multiple of {rules['multiple_of']}"
    return text


def limited(cls: type, name: str, parse: Callable[[str], Any] = int) -> Callable[[str], Any]:
    """An argparse ``type`` for field ``name`` of ``cls``: parses, then checks the field's own limits."""
    rules = field_limits(cls, name)
    return checked_number(parse, lambda value: limit_problem(rules, value), name)


def bounded(low: float, high: float, parse: Callable[[str], Any] = int) -> Callable[[str], Any]:
    """An argparse ``type``: a number from ``low`` to ``high``."""

    def problem_of(value: float) -> str | None:
        shown = f"{value:g}" if isinstance(value, float) else str(value)  # "0", not "0.0"
        return None if low <= value <= high else f"{shown} is out of range ({low:g} to {high:g})"

    return checked_number(parse, problem_of)


def swap_options_of(args: argparse.Namespace, selection: SelectionMode) -> SwapOptions:
    """The SwapOptions the face options added by :func:`add_swap_options` and
    :func:`add_selection_options` give (swap and live take the same ones)."""
    return SwapOptions(
        selection=selection,
        distance_threshold=args.distance,
        mouth_mask=args.mouth_mask,
        enhance=args.enhance,
        enhance_strength=args.enhance_strength,
        mask_blur=args.mask_blur,
        mask_padding=args.mask_padding,
        detector_size=args.detector_size,
        detector_threshold=args.detector_threshold,
        swapper_file=args.swapper,
    )


def time_value(text: str) -> float:
    try:
        return parse_time(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def face_number(text: str) -> int:
    """``--reference-face N``: N counts from 1 (the largest face); the job counts from 0."""
    high = field_limits(FaceRef, "face")["range"][1] + 1
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= number <= high:
        raise argparse.ArgumentTypeError(f"{number} is out of range (1 to {high})")
    return number


def swapper_file(text: str) -> str:
    """``--swapper ID``: a swapper model of the manifest (its id or file name) -> its file name."""
    try:
        manifest = load_manifest()
    except ManifestError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    swappers = manifest.for_role("swapper")
    for spec in swappers:
        if text in (spec.id, spec.file):
            return spec.file
    known = ", ".join(spec.id for spec in swappers)
    raise argparse.ArgumentTypeError(f"unknown swapper {text!r} (known: {known})")


def name_pattern(text: str) -> str:
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a name pattern ({error})") from None
    unknown = [name for name in fields if name not in NAME_FIELDS]
    if unknown:
        known = " ".join(f"{{{name}}}" for name in NAME_FIELDS)
        raise argparse.ArgumentTypeError(f"unknown field {{{unknown[0]}}} (known: {known})")
    sample = text.format(stem="photo", ext=".jpg", name="photo.jpg", index=1)
    if "/" in sample or "\\" in sample or sample in ("", ".", ".."):
        raise argparse.ArgumentTypeError(
            f"{text!r} must make a file name, not a path (use -o DIR for the folder)"
        )
    return text


def _swapper_help() -> str:
    try:
        ids = [spec.id for spec in load_manifest().for_role("swapper")]
    except ManifestError:
        return "swapper model id (see 'facedeck --headless models list')"
    return f"swapper model: {' or '.join(ids)} (default: the first of these in the models folder)"


def _help(text: str, cls: type, name: str) -> str:
    default = getattr(cls(), name)
    return f"{text} ({describe(field_limits(cls, name))}; default {default})"


def add_parser(commands: argparse._SubParsersAction, handler: Callable[[argparse.Namespace], int]) -> None:
    parser = commands.add_parser(
        "swap",
        help=COMMANDS["swap"].help,
        description="Put the source face onto faces in the target images or videos and write the results.",
        usage="%(prog)s (-s SRC [SRC ...] | --map SRC REFERENCE) -t TARGET [TARGET ...] [-o OUT] [options]",
        epilog=f"{EPILOG}\n\n{REMOTE_EPILOG}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
        "-t",
        "--target",
        nargs="+",
        required=True,
        metavar="TARGET",
        help="image(s) or video(s) to put the face into, a folder of them, or a quoted glob",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output file (one target) or folder; default: next to each target (see below). A file's "
        "extension picks the format (.jpg .png .webp .tif; .mp4 .mov .mkv .avi .webm .gif .webp)",
    )
    parser.add_argument(
        "--name-pattern",
        type=name_pattern,
        default=DEFAULT_NAME_PATTERN,
        metavar="PATTERN",
        help=f'result names when -o is a folder or not given (default "{DEFAULT_NAME_PATTERN}")',
    )
    add_selection_options(parser)
    add_swap_options(parser)
    add_video_options(parser)
    parser.add_argument(
        "--json", action="store_true", help="print machine-readable lines (one result per target)"
    )
    add_model_options(parser)
    add_remote_options(parser, segments=True)
    parser.set_defaults(handler=handler)


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--select",
        choices=[mode.value for mode in SelectionMode],
        default=None,
        help="one: the largest face; many: every face; reference: faces that look like the reference "
        "(default: reference when --reference or --reference-frame is given, else one)",
    )
    parser.add_argument("--reference", metavar="PHOTO", help="photo of the person to replace")
    parser.add_argument(
        "--reference-frame",
        type=time_value,
        metavar="TIME",
        help=f"videos: take the person to replace from the target's frame at TIME ({TIME_FORMS})",
    )
    parser.add_argument(
        "--reference-face",
        type=face_number,
        default=1,
        metavar="N",
        help="the N-th largest face of the reference photo or frame is the person to replace (default 1)",
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
        type=limited(SwapOptions, "distance_threshold", float),
        default=SwapOptions().distance_threshold,
        metavar="D",
        help=_help(
            "largest identity distance that counts as the same person", SwapOptions, "distance_threshold"
        ),
    )


def add_swap_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--enhance", action="store_true", help="restore the swapped face with GFPGAN")
    parser.add_argument(
        "--enhance-strength",
        type=limited(SwapOptions, "enhance_strength"),
        default=SwapOptions().enhance_strength,
        metavar="0-100",
        help=_help("how much of the restored face to blend in", SwapOptions, "enhance_strength"),
    )
    parser.add_argument("--mouth-mask", action="store_true", help="keep the target's own mouth")
    parser.add_argument(
        "--mask-blur",
        type=limited(SwapOptions, "mask_blur", float),
        default=SwapOptions().mask_blur,
        metavar="F",
        help=_help("feather width as a fraction of the face crop", SwapOptions, "mask_blur"),
    )
    parser.add_argument(
        "--mask-padding",
        type=limited(SwapOptions, "mask_padding", float),
        default=SwapOptions().mask_padding,
        metavar="F",
        help=_help("border left unswapped, as a fraction of the face crop", SwapOptions, "mask_padding"),
    )
    parser.add_argument(
        "--detector-size",
        type=limited(SwapOptions, "detector_size"),
        default=SwapOptions().detector_size,
        metavar="N",
        help=_help("detector input size in pixels", SwapOptions, "detector_size"),
    )
    parser.add_argument(
        "--detector-threshold",
        type=limited(SwapOptions, "detector_threshold", float),
        default=SwapOptions().detector_threshold,
        metavar="S",
        help=_help("lowest detector score that counts as a face", SwapOptions, "detector_threshold"),
    )
    parser.add_argument("--swapper", type=swapper_file, metavar="ID", help=_swapper_help())
    parser.add_argument(
        "--quality",
        type=limited(OutputSpec, "quality"),
        default=None,
        metavar="0-100",
        help="output quality (default: 95 for images, 82 for videos: near visually lossless; 100: lossless)",
    )


def add_video_options(parser: argparse.ArgumentParser) -> None:
    video = parser.add_argument_group("video targets (.mp4 .mov .mkv .avi .webm, animated .gif .webp)")
    video.add_argument(
        "--start", type=time_value, metavar="TIME", help=f"begin the output at TIME ({TIME_FORMS})"
    )
    video.add_argument(
        "--end", type=time_value, metavar="TIME", help="end the output at TIME (audio is cut to match)"
    )
    video.add_argument("--codec", choices=VIDEO_CODECS, default="h264", help="video codec (default h264)")
    video.add_argument("--preset", help="encoder preset in the codec's own names (e.g. medium, fast)")
    video.add_argument(
        "--hw-encoder",
        choices=HARDWARE_ENCODERS,
        default="auto",
        help="auto: a hardware encoder when one works, else software (default)",
    )
    video.add_argument(
        "--encoder-threads",
        type=limited(OutputSpec, "encoder_threads"),
        default=None,
        metavar="N",
        help=f"threads for a software encoder ({describe(field_limits(OutputSpec, 'encoder_threads'))}; "
        "default: its own choice; 1 can be faster with a fast preset, "
        "since the pipeline already runs decoding and inference beside it)",
    )
    video.add_argument("--no-audio", action="store_true", help="drop the audio streams")
    video.add_argument(
        "--detect-every",
        type=limited(TrackerOptions, "detect_every"),
        default=TrackerOptions().detect_every,
        metavar="N",
        help=_help(
            "run face detection every N frames and track faces in between", TrackerOptions, "detect_every"
        ),
    )
    video.add_argument("--no-smoothing", action="store_true", help="do not smooth face keypoints over time")
