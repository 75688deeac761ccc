"""``SwapJob``: one swap described as data, the same for the CLI, the window and a remote worker.

A job round-trips through JSON (``to_dict`` / ``from_dict``), so a window can hand the
very job it previews to a cloud worker, and ``validate`` reports every bad field at once
with its dotted path ("options.enhance_strength: 140 is out of range (0 to 100)").
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlparse

from ..errors import FieldProblem, InvalidJobError
from ..faces.options import SelectionMode, SwapOptions
from ..limits import limits
from ..models.manifest import load_manifest
from ..regular_files import special_file_kind
from .fields import check_ranges, from_plain, to_plain
from .timecode import format_time

SCHEMA_VERSION = 1
IMAGE_OUTPUT_FORMATS = ("jpg", "jpeg", "png", "webp", "tif", "tiff")
VIDEO_OUTPUT_FORMATS = ("mp4", "mov", "mkv", "avi", "webm", "gif", "webp")
MAX_SECONDS = 100 * 3600.0  # a time in a video: far beyond any clip, short of float trouble
# What a front end offers for OutputSpec.codec and .hardware (the CLI's choices, the window's
# combos and the checks on its stored settings); the encoder (media/encoding.py) decides
# what each means and refuses anything else when the video is written.
VIDEO_CODECS = ("h264", "hevc", "vp9", "av1")
HARDWARE_ENCODERS = ("auto", "off", "nvenc")  # auto: NVENC when it works, else software


class JobKind(str, enum.Enum):
    IMAGE = "image"
    VIDEO = "video"
    LIVE = "live"  # the live camera runs a FrameStream, not run_job; reserved on the wire


@dataclass(frozen=True)
class MediaRef:
    """A file the job reads: exactly one of a local path, an http(s) URL or inline bytes."""

    path: str | None = None
    url: str | None = None
    data: bytes | None = None
    name: str | None = None  # for inline bytes and URLs: a name for messages and format hints

    _omit_none = True  # on the wire only the fields that are set

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> MediaRef:
        return cls(path=os.fspath(path))

    @property
    def label(self) -> str:
        """What messages call this input."""
        if self.path is not None:
            return Path(self.path).name
        if self.name:
            return self.name
        if self.url is not None:
            return PurePosixPath(urlparse(self.url).path).name or self.url
        return "inline data"

    def problems(self, where: str, check_files: bool) -> list[FieldProblem]:
        given = [key for key in ("path", "url", "data") if getattr(self, key) is not None]
        if len(given) != 1:
            return [FieldProblem(where, "give exactly one of path, url or data")]
        if self.url is not None and urlparse(self.url).scheme not in ("http", "https"):
            return [FieldProblem(f"{where}.url", "only http and https URLs are accepted")]
        if self.data is not None and not self.data:
            return [FieldProblem(f"{where}.data", "is empty")]
        if self.path is not None and check_files:
            path = Path(self.path)
            if not path.exists():
                return [FieldProblem(f"{where}.path", f"no such file: {self.path}")]
            if path.is_dir():
                return [FieldProblem(f"{where}.path", f"{self.path} is a folder, not a file")]
            if not path.is_file():
                # a device or a pipe never ends or blocks when read: refused before any reading
                kind = special_file_kind(path.stat().st_mode)
                return [FieldProblem(f"{where}.path", f"{self.path} is {kind}, not a file")]
        return []


@dataclass(frozen=True)
class FaceRef:
    """A face in a photo, or in a frame of a video: the ``face``-th largest (0: the largest).

    ``time`` (seconds) takes the face from the frame a player shows at that time, e.g. a
    reference face picked in the target video itself; None: ``media`` is a photo.
    """

    media: MediaRef
    face: int = field(default=0, metadata=limits(0, 255))
    time: float | None = field(default=None, metadata=limits(0.0, MAX_SECONDS))

    _omit_none = True  # a photo's reference has no time on the wire

    def problems(self, where: str) -> list[FieldProblem]:
        suffix = PurePosixPath(self.media.label).suffix.lower().lstrip(".")
        if self.time is not None and suffix and suffix not in VIDEO_OUTPUT_FORMATS:
            problem = f"a frame time needs a video, and {self.media.label} is not one"
            return [FieldProblem(f"{where}.time", problem)]
        return []


@dataclass(frozen=True)
class FaceMapping:
    """Put the person in ``sources`` (photos averaged) onto faces that look like ``reference``."""

    sources: list[FaceRef]
    reference: FaceRef


@dataclass(frozen=True)
class FaceAssignment:
    """Who goes where: source photos of one person, or source -> reference mappings."""

    sources: list[FaceRef] = field(default_factory=list)
    reference: FaceRef | None = None
    mappings: list[FaceMapping] = field(default_factory=list)

    def refs(self) -> list[tuple[str, FaceRef]]:
        """Every face reference with its dotted path."""
        found = [(f"faces.sources[{i}]", ref) for i, ref in enumerate(self.sources)]
        if self.reference is not None:
            found.append(("faces.reference", self.reference))
        for i, mapping in enumerate(self.mappings):
            found += [(f"faces.mappings[{i}].sources[{j}]", ref) for j, ref in enumerate(mapping.sources)]
            found.append((f"faces.mappings[{i}].reference", mapping.reference))
        return found

    def media(self) -> list[tuple[str, MediaRef]]:
        return [(f"{where}.media", ref.media) for where, ref in self.refs()]

    def with_refs(self, change: Callable[[FaceRef], FaceRef]) -> FaceAssignment:
        """The same assignment with ``change`` applied to every face reference (e.g. local
        files replaced by URLs for a remote run)."""
        return FaceAssignment(
            sources=[change(ref) for ref in self.sources],
            reference=None if self.reference is None else change(self.reference),
            mappings=[
                FaceMapping(
                    sources=[change(ref) for ref in mapping.sources], reference=change(mapping.reference)
                )
                for mapping in self.mappings
            ],
        )


@dataclass(frozen=True)
class OutputSpec:
    """Where and how to write. ``path`` None: return the encoded bytes in the result."""

    path: str | None = None
    format: str | None = None  # file extension without the dot; from ``path`` when not given
    quality: int | None = field(default=None, metadata=limits(0, 100))  # None: 95 images, 82 video
    codec: str = "h264"
    preset: str | None = None
    hardware: str = "auto"
    audio: bool = True
    encoder_threads: int | None = field(default=None, metadata=limits(1, 64))

    def resolved_format(self, kind: JobKind) -> str:
        if self.format:
            return self.format.lower().lstrip(".")
        if self.path is not None and Path(self.path).suffix:
            return Path(self.path).suffix.lower().lstrip(".")
        return "png" if kind is JobKind.IMAGE else "mp4"


@dataclass(frozen=True)
class TrackerOptions:
    """Video: detect every N frames and track in between; smooth keypoints over time."""

    detect_every: int = field(default=3, metadata=limits(1, 300))
    smoothing: bool = True


@dataclass(frozen=True)
class Trim:
    """Videos: only the part from ``start`` to ``end`` seconds (None: to the end).

    Times are those a player shows (the first frame at 0). The output starts at its first
    kept frame, and its audio is cut to the same span.
    """

    start: float = field(default=0.0, metadata=limits(0.0, MAX_SECONDS))
    end: float | None = field(default=None, metadata=limits(0.0, MAX_SECONDS))

    def problems(self) -> list[FieldProblem]:
        if self.end is not None and self.end <= self.start:
            return [
                FieldProblem(
                    "trim.end", f"{format_time(self.end)} is not after the start ({format_time(self.start)})"
                )
            ]
        return []


@dataclass(frozen=True)
class PartOf:
    """Videos: this job is part ``index`` (from 0) of ``count`` parts of one longer video.

    A remote fan-out sends each part as its own job; a part in which no frame has a face
    is written unchanged instead of failing (the whole video fails only if no part had one).
    """

    index: int = field(default=0, metadata=limits(0, 999))
    count: int = field(default=1, metadata=limits(1, 1000))


@dataclass(frozen=True)
class SwapJob:
    """One swap: what to read, who goes where, how, and what to write."""

    kind: JobKind
    target: MediaRef
    faces: FaceAssignment
    options: SwapOptions = field(default_factory=SwapOptions)
    output: OutputSpec = field(default_factory=OutputSpec)
    tracker: TrackerOptions = field(default_factory=TrackerOptions)
    preview_every: float | None = field(default=None, metadata=limits(0.0, 3600.0))  # seconds
    trim: Trim | None = None  # videos: a part of the target only
    part: PartOf | None = None  # videos: one part of a fanned-out video (remote/fanout.py)
    version: int = SCHEMA_VERSION

    _omit_none = True  # unset optional parts stay off the wire (readers without them still agree)

    # ----- JSON ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: enums as values, inline bytes as base64."""
        return to_plain(self)

    @classmethod
    def from_dict(cls, data: Any) -> SwapJob:
        """Parse a job; InvalidJobError lists every unknown key, wrong type and bad version."""
        problems: list[FieldProblem] = []
        if isinstance(data, dict):
            version = data.get("version", SCHEMA_VERSION)
            if version != SCHEMA_VERSION:
                raise InvalidJobError(
                    [
                        FieldProblem(
                            "version", f"{version!r} is not supported (this FaceDeck reads {SCHEMA_VERSION})"
                        )
                    ]
                )
        job = from_plain(cls, data, "", problems)
        if problems or job is None:
            raise InvalidJobError(problems or [FieldProblem("job", "expected an object")])
        return job

    # ----- checks -------------------------------------------------------------------------
    def problems(self, *, check_files: bool = True) -> list[FieldProblem]:
        """Every bad field: ranges, media references, the face assignment, the output."""
        found: list[FieldProblem] = []
        if self.version != SCHEMA_VERSION:
            found.append(FieldProblem("version", f"{self.version!r} is not supported"))
        check_ranges(self, "", found)
        if self.kind is JobKind.LIVE:
            found.append(FieldProblem("kind", "live jobs run through a frame stream, not run_job"))
        found += self.target.problems("target", check_files)
        for where, ref in self.faces.media():
            found += ref.problems(where, check_files)
        for where, face in self.faces.refs():
            found += face.problems(where)
        found += self._assignment_problems()
        found += self._trim_problems()
        found += _swapper_problems(self.options.swapper_file)
        found += self._output_problems()
        return found

    def validate(self, *, check_files: bool = True) -> None:
        problems = self.problems(check_files=check_files)
        if problems:
            raise InvalidJobError(problems)

    def _assignment_problems(self) -> list[FieldProblem]:
        faces = self.faces
        if faces.sources and faces.mappings:
            return [FieldProblem("faces", "give either sources or mappings, not both")]
        if not faces.sources and not faces.mappings:
            return [FieldProblem("faces.sources", "give at least one source photo (or mappings)")]
        if any(not mapping.sources for mapping in faces.mappings):
            return [FieldProblem("faces.mappings", "every mapping needs at least one source photo")]
        if (
            self.options.selection is SelectionMode.REFERENCE
            and not faces.mappings
            and faces.reference is None
        ):
            return [FieldProblem("faces.reference", "reference selection needs a reference photo")]
        return []

    def _trim_problems(self) -> list[FieldProblem]:
        found: list[FieldProblem] = []
        if self.part is not None and self.kind is not JobKind.VIDEO:
            found.append(FieldProblem("part", "only a video job can be a part of a video"))
        elif self.part is not None and self.part.index >= self.part.count:
            found.append(FieldProblem("part.index", f"{self.part.index} is not below part.count"))
        if self.trim is None:
            return found
        if self.kind is JobKind.IMAGE:
            return [FieldProblem("trim", f"only a video can be trimmed, and {self.target.label} is an image")]
        return found + self.trim.problems()

    def _output_problems(self) -> list[FieldProblem]:
        video = self.kind is not JobKind.IMAGE
        allowed = VIDEO_OUTPUT_FORMATS if video else IMAGE_OUTPUT_FORMATS
        fmt = self.output.resolved_format(self.kind)
        where = "output.format" if self.output.format else "output.path"
        if fmt == "bmp":
            return [FieldProblem(where, "BMP cannot carry the synthetic-media marking; use .png instead")]
        if fmt not in allowed:
            what = "a video needs a video output" if video else "an image needs an image output"
            return [FieldProblem(where, f"{what} (.{' .'.join(allowed)}), not .{fmt}")]
        return []

    def media(self) -> list[tuple[str, MediaRef]]:
        return [("target", self.target), *self.faces.media()]

    def local_paths(self) -> list[str]:
        """The local files the job reads: an output must never be one of them."""
        return [ref.path for _, ref in self.media() if ref.path is not None]


def _swapper_problems(file: str | None) -> list[FieldProblem]:
    if file is None:
        return []
    known = [spec.file for spec in load_manifest().for_role("swapper")]
    if file in known:
        return []
    return [
        FieldProblem("options.swapper_file", f"{file!r} is not a swapper model (known: {', '.join(known)})")
    ]
