"""The job the window edits: one ``SwapJob`` in the making, with change notifications.

Qt-free on purpose (the napari pattern): the window's views show this document and its
controllers edit it, the preview and the Start button turn it into a ``SwapJob`` with
:meth:`JobDocument.job`, and nothing else in the window holds swap state. The job it
builds is the one the CLI would build for the same choices (``--map`` included), so the
window and ``facedeck --headless swap`` cannot drift apart, and the same job can be sent
to a remote worker unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import UsageError
from ..core.faces.options import SelectionMode, SwapOptions
from ..core.jobs.spec import (
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
from ..core.media.formats import is_video_input
from .headless.swap_args import DEFAULT_NAME_PATTERN
from .headless.targets import Namer

Listener = Callable[[str], None]

# What changed, for listeners that redraw only their part.
SOURCES = "sources"
TARGET = "target"
SELECTION = "selection"  # selection mode, mappings, the reference face
OPTIONS = "options"  # SwapOptions, the swapper included: the preview shows them
# What the job writes and how a video job runs (output spec, path, trim, tracker): no
# preview frame shows any of it, so the preview does not recompute for it.
OUTPUT = "output"
FRAME = "frame"  # the video time shown in the preview
LIVE = "live"  # the camera and how it is opened: only live mode reads it


@dataclass(frozen=True)
class LiveSetup:
    """What live mode opens: a camera ("0", "/dev/video2"), a video file or a stream URL.

    ``width``/``height``/``fps`` are requests to a camera (None: its own default); ``repeat``
    plays a file source again from the start when it ends; ``record_folder`` is where
    recordings go (None: the user's Videos folder).
    """

    source: str = "0"
    width: int | None = None
    height: int | None = None
    fps: int | None = None
    mirror: bool = False
    repeat: bool = False
    record_folder: str | None = None


@dataclass(frozen=True)
class SourcePhoto:
    """A source photo and which of its faces is the source (0: the largest, as ``face`` counts)."""

    path: str
    face: int = 0


class JobDocument:
    """Sources, target, selection, mappings, options and output of the job being edited."""

    def __init__(self) -> None:
        self.sources: list[SourcePhoto] = []
        self.target: str | None = None
        self.options = SwapOptions()
        self.output = OutputSpec()
        self.output_path: str | None = None  # chosen by the user; None: the default name
        self.tracker = TrackerOptions()  # videos: detect every N frames, smoothing
        self.trim: Trim | None = None  # videos: a part of the target; None: all of it
        # mapping editor: target face number (0: largest) -> index into ``sources``
        self.mappings: dict[int, int] = {}
        self.reference_face = 0  # reference selection without mappings: this target face
        self.frame_time = 0.0  # videos: the time the preview shows (and mappings refer to)
        self.live = LiveSetup()
        self._listeners: list[Listener] = []

    # ----- notifications ------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _changed(self, what: str) -> None:
        for listener in list(self._listeners):
            listener(what)

    # ----- edits ----------------------------------------------------------------------------
    def add_sources(self, paths: list[str]) -> None:
        known = {photo.path for photo in self.sources}
        new = [SourcePhoto(path) for path in paths if path not in known]
        if new:
            self.sources.extend(new)
            self._changed(SOURCES)

    def remove_source(self, index: int) -> None:
        del self.sources[index]
        # mappings point at source positions: drop the removed one, shift the later ones
        self.mappings = {
            face: source - (source > index) for face, source in self.mappings.items() if source != index
        }
        self._changed(SOURCES)

    def set_source_face(self, index: int, face: int) -> None:
        if self.sources[index].face != face:
            self.sources[index] = dataclasses.replace(self.sources[index], face=face)
            self._changed(SOURCES)

    def set_target(self, path: str | None) -> None:
        if path == self.target:
            return
        self.target = path
        self.mappings = {}  # face numbers belong to the old target
        self.reference_face = 0
        self.frame_time = 0.0
        self.output_path = None
        self.trim = None  # times belong to the old target, like its face numbers
        self._changed(TARGET)

    def set_options(self, **changes: object) -> None:
        """Change swap options by field name (``enhance=True``); ranges are checked at ``job()``."""
        updated = dataclasses.replace(self.options, **changes)  # type: ignore[arg-type]
        if updated != self.options:
            self.options = updated
            self._changed(SELECTION if "selection" in changes else OPTIONS)

    def set_output_options(self, **changes: object) -> None:
        updated = dataclasses.replace(self.output, **changes)  # type: ignore[arg-type]
        if updated != self.output:
            self.output = updated
            self._changed(OUTPUT)

    def set_tracker(self, **changes: object) -> None:
        """Change tracker options by field name (``detect_every=5``); ranges are checked at ``job()``."""
        updated = dataclasses.replace(self.tracker, **changes)  # type: ignore[arg-type]
        if updated != self.tracker:
            self.tracker = updated
            self._changed(OUTPUT)

    def set_trim(self, start: float = 0.0, end: float | None = None) -> None:
        """Keep ``start`` to ``end`` seconds of a video target (end None: to its end).

        The whole video (0 to the end) is no trim at all, as when the CLI gets neither
        --start nor --end. Whether end comes after start is checked at ``job()``, and
        whether both lie within the video when the job opens it (as for the CLI).
        """
        trim = None if start == 0.0 and end is None else Trim(start=start, end=end)
        if trim != self.trim:
            self.trim = trim
            self._changed(OUTPUT)

    def trim_problem(self) -> str | None:
        """What is wrong with the trim on its own (end not after start), in the job's words."""
        if self.trim is None or self.kind is not JobKind.VIDEO:
            return None
        problems = self.trim.problems()
        return f"trim end: {problems[0].problem}" if problems else None

    def set_output_path(self, path: str | None) -> None:
        if path != self.output_path:
            self.output_path = path or None
            self._changed(OUTPUT)

    def map_face(self, target_face: int, source: int | None) -> None:
        """Put source photo ``source`` on target face ``target_face`` (None: leave it alone)."""
        if source is None:
            changed = self.mappings.pop(target_face, None) is not None
        else:
            changed = self.mappings.get(target_face) != source
            self.mappings[target_face] = source
        if changed:
            self._changed(SELECTION)

    def set_reference_face(self, face: int) -> None:
        if face != self.reference_face:
            self.reference_face = face
            self._changed(SELECTION)

    def set_live(self, **changes: object) -> None:
        """Change the live setup by field name (``mirror=True``); it applies at the next start."""
        updated = dataclasses.replace(self.live, **changes)  # type: ignore[arg-type]
        if updated != self.live:
            self.live = updated
            self._changed(LIVE)

    def set_frame_time(self, seconds: float) -> None:
        if seconds != self.frame_time:
            self.frame_time = max(0.0, seconds)
            self._changed(FRAME)

    # ----- reading --------------------------------------------------------------------------
    @property
    def kind(self) -> JobKind:
        return JobKind.VIDEO if self.target and is_video_input(self.target) else JobKind.IMAGE

    def default_output(self) -> str | None:
        """Next to the target, named as the CLI names it (photo.jpg -> photo.facedeck.jpg), a free name."""
        if self.target is None:
            return None
        namer = Namer(None, DEFAULT_NAME_PATTERN, batch=False)
        return namer.output_for(self.target, 1, self.kind is JobKind.VIDEO)

    def effective_output(self) -> str | None:
        return self.output_path or self.default_output()

    def ready(self) -> bool:
        return bool(self.sources) and self.target is not None

    def job(self, *, output: bool = True) -> SwapJob:
        """The ``SwapJob`` of the current choices; UsageError when sources or target are missing,
        or when the trim ends before it starts (as the CLI refuses --end before --start).

        ``output=False``: the job of a preview, which writes nothing: no output path and no
        trim (the preview shows the frame chosen, kept or not), so a trim being edited never
        stops the preview.
        """
        if self.target is None:
            raise UsageError("choose a target image or video", field="target")
        if not self.sources:
            raise UsageError("add a source photo", field="faces.sources")
        problem = self.trim_problem() if output else None
        if problem is not None:
            raise UsageError(problem, field="trim.end")
        target = MediaRef.of(self.target)
        video = self.kind is JobKind.VIDEO
        time = self.frame_time if video else None
        options = self.options
        if self.mappings:
            faces = FaceAssignment(mappings=self._mappings(target, time))
        else:
            reference = None
            if options.selection is SelectionMode.REFERENCE:
                reference = FaceRef(target, face=self.reference_face, time=time)
            faces = FaceAssignment(sources=[self._ref(photo) for photo in self.sources], reference=reference)
        out = dataclasses.replace(self.output, path=self.effective_output() if output else None)
        return SwapJob(
            kind=self.kind,
            target=target,
            faces=faces,
            options=options,
            output=out,
            tracker=self.tracker,
            # an image is swapped whole, as in a CLI batch (the video options are disabled then)
            trim=self.trim if video and output else None,
        )

    def live_faces(self) -> FaceAssignment:
        """Who is swapped in live mode: the source photos as one person.

        Mappings name faces of the file target, which a camera does not show, so live mode
        leaves them out; reference selection uses the face picked on the file target, when
        one was chosen (without it the session says a reference face is needed).
        """
        if not self.sources:
            raise UsageError("add a source photo", field="faces.sources")
        reference = None
        if self.options.selection is SelectionMode.REFERENCE and self.target is not None:
            target = MediaRef.of(self.target)
            time = self.frame_time if self.kind is JobKind.VIDEO else None
            reference = FaceRef(target, face=self.reference_face, time=time)
        return FaceAssignment(sources=[self._ref(photo) for photo in self.sources], reference=reference)

    def _mappings(self, target: MediaRef, time: float | None) -> list[FaceMapping]:
        # As --map SRC REFERENCE: one mapping per target face, the reference being that face
        # of the target itself (in the frame shown, for a video).
        return [
            FaceMapping(sources=[self._ref(self.sources[source])], reference=FaceRef(target, face, time))
            for face, source in sorted(self.mappings.items())
            if source < len(self.sources)
        ]

    @staticmethod
    def _ref(photo: SourcePhoto) -> FaceRef:
        return FaceRef(MediaRef.of(photo.path), face=photo.face)

    def source_label(self, index: int) -> str:
        return Path(self.sources[index].path).name
