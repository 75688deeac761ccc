"""Running ``live``: the session a job would build, a source, the sinks asked for, the loop.

The session is built exactly as a video job builds its own (``build_session`` over a
FaceAssignment, a FrameStream with the tracker options), so a face that swaps in
``swap`` swaps the same way live. The main thread only waits: for the loop to end by
itself (the source ended or died, ``--max-frames``), for ``--duration``, for a failed
output, or for Ctrl-C / SIGTERM / SIGHUP; every way out stops the loop, which finishes the
recording and renames it into place.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from ...core.errors import FieldProblem, InputError, InvalidJobError, OutputError
from ...core.faces.options import SelectionMode
from ...core.jobs.assignment import build_session
from ...core.jobs.inputs import JobInputs
from ...core.jobs.spec import FaceAssignment, FaceMapping, FaceRef, MediaRef
from ...core.jobs.stream import FrameStream
from ...core.live.loop import LiveLoop, sink_name
from ...core.live.recording import RecordingSink, live_encoder_settings
from ...core.live.sources import open_source
from ...core.live.types import FrameSink, LiveError
from ...core.media.formats import VIDEO_EXTENSIONS, container_format_for, listed
from ...core.media.output import check_output_location
from ...core.models import files as model_files
from ...core.models.library import ModelLibrary
from ...core.runtime.install import check_onnxruntime
from ...core.tracking.tracker import TrackerSettings
from . import swap_args
from .live_report import LiveReporter, Summary
from .signals import STOP_SIGNALS, signal_number

WAIT_SLICE = 0.25  # seconds between the main thread's looks at the clock and the outputs
FINISH_TIMEOUT = 120.0  # seconds a stopping loop may take to finish its outputs


def face_assignment(args: argparse.Namespace) -> FaceAssignment:
    """Who goes where, as swap's jobs say it: source photos, a reference photo, or mappings."""

    def face(path: str) -> FaceRef:
        return FaceRef(MediaRef.of(path))

    reference = None
    if args.reference is not None:
        reference = FaceRef(MediaRef.of(args.reference), face=args.reference_face - 1)
    grouped: dict[str, list[str]] = {}  # several SRC photos with one REFERENCE are one person
    for source, reference_photo in args.map:
        grouped.setdefault(reference_photo, []).append(source)
    return FaceAssignment(
        sources=[face(path) for path in args.source],
        reference=reference,
        mappings=[
            FaceMapping(sources=[face(path) for path in photos], reference=face(reference_photo))
            for reference_photo, photos in grouped.items()
        ],
    )


def check_photos(faces: FaceAssignment) -> None:
    """Every photo named exists and is a file: InvalidJobError with each one's field, as jobs report."""
    problems: list[FieldProblem] = []
    for where, media in faces.media():
        problems += media.problems(where, check_files=True)
    if problems:
        raise InvalidJobError(problems)


def recording_path(text: str, inputs: list[str]) -> Path:
    """``--record OUT`` checked before any model loads: a video extension, an existing folder, no input."""
    path = Path(text)
    if path.suffix.lower() not in VIDEO_EXTENSIONS:
        suffix = path.suffix or "no extension"
        raise OutputError(
            f"{path}: a recording is a video ({listed(VIDEO_EXTENSIONS)}), not {suffix}", path=str(path)
        )
    return check_output_location(path, inputs)


def run_live(args: argparse.Namespace, selection: SelectionMode) -> int:
    check_onnxruntime()
    photos = [*args.source, *(path for pair in args.map for path in pair)]
    if args.reference is not None:
        photos.append(args.reference)
    # a clip played as the camera, and the photos, are inputs a recording must never replace
    inputs = [*photos, *([args.camera] if os.path.isfile(args.camera) else [])]
    record = recording_path(args.record, inputs) if args.record is not None else None
    try:
        source = open_source(
            args.camera,
            width=args.width,
            height=args.height,
            fps=args.fps,
            mirror=args.mirror,
            loop=args.loop,
        )
    except LiveError as error:
        # --camera names nothing there (no such file, index or device): a bad input, status 2
        # like swap's; a camera that exists but fails once opened stays a LiveError (status 1)
        raise InputError(error.message, path=error.path) from None
    faces = face_assignment(args)
    check_photos(faces)
    options = swap_args.swap_options_of(args, selection)
    library = ModelLibrary(model_files.resolve_models_dir(args.models_dir), args.provider)
    try:
        library.require(options.required_roles())
        if options.swapper_file is not None:
            library.require_swapper(options.swapper_file)
        # every model now: the first frames must not wait for a model to load
        library.preload(options.required_roles(), swapper_file=options.swapper_file)
        with JobInputs() as job_inputs:
            session = build_session(library, faces, options, job_inputs)
        stream = FrameStream(
            session, TrackerSettings(detect_every=args.detect_every, smoothing=not args.no_smoothing)
        )
        sinks: list[FrameSink] = []
        if record is not None:
            settings = live_encoder_settings(container_format_for(record))
            if args.quality is not None:
                settings.quality = args.quality
            sinks.append(RecordingSink(record, settings, inputs=inputs))
        if args.virtual_cam:
            from ...core.live.virtual_camera import VirtualCameraSink  # pyvirtualcam: only when asked

            sinks.append(VirtualCameraSink())
        reporter = LiveReporter(as_json=args.json)
        loop = LiveLoop(source, stream, sinks, on_stats=reporter.stats, max_frames=args.max_frames)
        return drive(loop, reporter, sinks, record, args.duration)
    finally:
        library.close()


def drive(
    loop: LiveLoop,
    reporter: LiveReporter,
    sinks: list[FrameSink],
    record: Path | None,
    duration: float | None,
) -> int:
    """Start the loop, wait for its end, stop it cleanly whatever happens; the exit status."""
    stopped_by: KeyboardInterrupt | None = None
    started: float | None = None
    try:
        info = loop.start()  # LiveError: no such camera, no virtual camera, a bad output
        started = time.monotonic()
        reporter.started(info, [sink_name(sink) for sink in sinks])
        deadline = None if duration is None else started + duration
        while not loop.wait(WAIT_SLICE):
            if deadline is not None and time.monotonic() >= deadline:
                break
            if loop.stats().sink_errors:  # an output the user asked for is gone: nothing left to do
                break
    except KeyboardInterrupt as interrupt:  # Ctrl-C, SIGTERM, SIGHUP: the normal way to end
        stopped_by = interrupt
    finally:
        with holding_signals():  # a second Ctrl-C must not cut the recording's finish short
            loop.stop()
            if started is not None:  # (a loop that failed to start has nothing to finish)
                loop.wait(FINISH_TIMEOUT)
            reporter.close()
    if started is None:  # interrupted while the source opened: nothing ran, nothing to sum up
        assert stopped_by is not None
        raise stopped_by
    ended = time.monotonic()
    stats = loop.stats()
    recording = next((sink for sink in sinks if isinstance(sink, RecordingSink)), None)
    kept = recording is not None and sink_name(recording) not in stats.sink_errors
    reporter.summary(
        Summary(
            frames=stats.processed,
            seconds=max(ended - started, 1e-9),
            dropped=stats.dropped,
            errors=stats.errors,
            recording=str(record) if kept else None,
            recorded_frames=recording.frames if recording is not None and kept else None,
            stopped_by=_signal_name(stopped_by),
        )
    )
    if stats.sink_errors:
        name, reason = next(iter(stats.sink_errors.items()))
        raise LiveError(f"{name} failed: {reason}")
    if loop.ended_reason is not None:
        raise LiveError(loop.ended_reason)
    if stopped_by is not None:
        return 128 + signal_number(stopped_by)  # as the shell counts a signal; the help says so
    return 0


def _signal_name(interrupt: KeyboardInterrupt | None) -> str | None:
    if interrupt is None:
        return None
    return signal.Signals(signal_number(interrupt)).name


@contextmanager
def holding_signals() -> Iterator[None]:
    """Within the block, Ctrl-C, SIGTERM and SIGHUP are noted, not raised: the loop finishes.

    The recording is renamed into place at the end of ``stop()``; an exception raised in
    the middle would leave it as a temporary file. The block is bounded (the loop's own
    timeouts), so a user who presses Ctrl-C again waits seconds at most.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def note(_signum: int, _frame: FrameType | None) -> None:
        return None

    previous = {}
    for signum in (signal.SIGINT, *STOP_SIGNALS):
        if signal.getsignal(signum) is signal.SIG_IGN:
            continue
        previous[signum] = signal.signal(signum, note)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
