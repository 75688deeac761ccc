"""``facedeck --headless live``: swap faces in real time from a camera, a stream or a clip.

The frames go to a recording (``--record``), a virtual camera (``--virtual-cam``), both or
neither (a dry run that only reports its figures). The face options are swap's own
definitions (``swap_args``), so both commands parse, check and explain them the same way.
This module is imported to build ``--help``: it must stay light; the engine is imported
in :func:`run`, when the loop really runs (``live_run``).
"""

from __future__ import annotations

import argparse

from ...core.errors import UsageError
from ...core.faces.options import SelectionMode
from ...core.jobs.spec import TrackerOptions
from ...core.jobs.timecode import TIME_FORMS
from . import swap_args
from .catalog import COMMANDS
from .common import add_model_options

DEFAULT_CAMERA = "0"
MAX_SIDE = 7680  # 8K: beyond any camera; a typo like 19200 is refused before a device is asked
MAX_FPS = 480

EPILOG = """\
sources (--camera):
  0, 1, ...           a camera by OpenCV's index (default 0)
  /dev/video2         a camera device (Linux)
  rtsp://... http://  a network stream
  FILE                a video file, played at its own frame rate (--loop: again and again)
  --width, --height and --fps are requests: a camera may deliver something else, and the
  first line says what it really gives.

outputs:
  --record OUT        an .mp4 .mov .mkv .avi or .webm file, marked as synthetic media; it is
                      written to a temporary file and renamed to OUT when the run ends, also
                      when it ends with Ctrl-C (the usual way to end a live recording)
  --virtual-cam       a virtual camera other programs can open (v4l2loopback on Linux, the
                      OBS Virtual Camera on Windows and macOS)
  With neither, frames are swapped and dropped: a dry run that reports its figures.

while it runs:
  A line on stderr once a second: frames per second delivered (and captured), latency from
  capture to output (median and 95th percentile), frames dropped because a newer one
  arrived first, frames that failed (they pass through unswapped). On a terminal the line
  updates in place. --json prints them as JSON lines on stdout instead ("started",
  "stats", "summary").

how it ends:
  The source ends (a clip without --loop), --duration or --max-frames is reached, or
  Ctrl-C / SIGTERM / SIGHUP: in every case the recording is finished and kept, and a
  summary says how many frames, how long, the average fps and where the recording is.

exit statuses: 0 the source ended, --duration or --max-frames reached; 130 stopped by
Ctrl-C (129 SIGHUP, 143 SIGTERM, as shells count signals), after a clean finish (the
recording is complete); 1 the camera, stream, recording or virtual camera failed; 2 bad
option, input or output (a --camera that names no file, index or device here); 3 no
face in a source photo; 4 models missing or unusable; 5 onnxruntime or provider."""


def duration(text: str) -> float:
    seconds = swap_args.time_value(text)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive duration")
    return seconds


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "live",
        help=COMMANDS["live"].help,
        description="Put the source face onto the faces of a camera, stream or clip in real time, "
        "into a recording, a virtual camera or both.",
        usage="%(prog)s (-s SRC [SRC ...] | --map SRC REFERENCE) [--camera SRC] "
        "[--record OUT] [--virtual-cam] [--duration TIME] [--max-frames N] [options]",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-s",
        "--source",
        nargs="+",
        action="extend",
        default=[],
        metavar="SRC",
        help="photo(s) of the source person (repeat -s or list several); several photos of one "
        "person are averaged",
    )
    camera = parser.add_argument_group("the source")
    camera.add_argument(
        "--camera",
        default=DEFAULT_CAMERA,
        metavar="SRC",
        help="camera index, device, stream URL or video file (default 0; see below)",
    )
    camera.add_argument(
        "--width", type=swap_args.bounded(16, MAX_SIDE), metavar="PX", help="ask the camera for this width"
    )
    camera.add_argument(
        "--height", type=swap_args.bounded(16, MAX_SIDE), metavar="PX", help="ask the camera for this height"
    )
    camera.add_argument(
        "--fps",
        type=swap_args.bounded(1, MAX_FPS, float),
        metavar="F",
        help="ask the camera for this frame rate",
    )
    camera.add_argument(
        "--mirror", action="store_true", help="flip the picture left to right (a selfie view)"
    )
    camera.add_argument("--loop", action="store_true", help="a video file starts over at its end")

    outputs = parser.add_argument_group("outputs and length")
    outputs.add_argument("--record", metavar="OUT", help="write the swapped frames to this video file")
    outputs.add_argument(
        "--virtual-cam", action="store_true", help="send the swapped frames to a virtual camera"
    )
    outputs.add_argument(
        "--duration",
        type=duration,
        metavar="TIME",
        help=f"stop after TIME ({TIME_FORMS}); default: until the source ends or Ctrl-C",
    )
    outputs.add_argument(
        "--max-frames",
        type=swap_args.bounded(1, 10**9),
        metavar="N",
        help="stop after N frames have been delivered (with --duration: whichever comes first)",
    )

    swap_args.add_selection_options(parser)
    swap_args.add_swap_options(parser)
    # a reference frame is taken from a video target, which live has not: hidden, and refused
    for action in parser._actions:
        if action.dest == "reference_frame":
            action.help = argparse.SUPPRESS
    tracking = parser.add_argument_group("tracking")
    tracking.add_argument(
        "--detect-every",
        type=swap_args.limited(TrackerOptions, "detect_every"),
        default=TrackerOptions().detect_every,
        metavar="N",
        help=swap_args._help(
            "run face detection every N frames and track faces in between", TrackerOptions, "detect_every"
        ),
    )
    tracking.add_argument(
        "--no-smoothing", action="store_true", help="do not smooth face keypoints over time"
    )
    parser.add_argument(
        "--json", action="store_true", help="print machine-readable lines (started, stats, summary)"
    )
    add_model_options(parser)
    parser.set_defaults(handler=run)


def selection_of(args: argparse.Namespace) -> SelectionMode:
    """The selection mode, after the checks the options need together (swap's, plus live's own)."""
    from .swap import selection_of as swap_selection  # the same rules as swap's, not a copy

    if args.reference_frame is not None:
        raise UsageError(
            "--reference-frame needs a video target; live takes its reference from --reference PHOTO"
        )
    # swap's checks read the trim options, which live has not
    return swap_selection(argparse.Namespace(**vars(args), start=None, end=None))


def run(args: argparse.Namespace) -> int:
    selection = selection_of(args)  # usage errors before anything is opened or loaded
    from .live_run import run_live  # the engine: imported only when the loop runs

    return run_live(args, selection)
