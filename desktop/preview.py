"""The window's live preview as plain engine work: a job in, original and swapped frames out.

Qt-free, so it is tested without a window and the preview worker only moves it to a
thread. The swap goes through ``build_session`` and ``SwapSession.process``, the very
code ``run_job`` runs, on the window's one shared ``ModelLibrary`` (its identity cache
makes an option change cost one swap, not a re-embedding of every source photo).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import FaceDeckError
from ..core.faces.identities import Photo, faces_in_photo
from ..core.faces.options import SwapOptions
from ..core.faces.session import detect_faces
from ..core.jobs.assignment import build_session
from ..core.jobs.inputs import JobInputs
from ..core.jobs.spec import MediaRef, SwapJob
from ..core.media.image_reader import read_image
from ..core.media.seek import read_frame_at
from ..core.media.video_reader import VideoReader
from ..core.models.files import Role
from ..core.models.library import ModelLibrary
from .errors import cli_message

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class PreviewRequest:
    """What to preview: ``job`` (None: only show the target with its faces), at ``time`` for a video."""

    serial: int
    target: str
    video: bool
    time: float
    options: SwapOptions
    job: SwapJob | None = None


@dataclass
class PreviewResult:
    """The frame before and after the swap, the target's faces (largest first) and any error.

    ``swapped`` is None when nothing was swapped (no sources yet, or an error: ``error``
    holds the CLI's one-line message).
    """

    serial: int
    original: np.ndarray | None
    swapped: np.ndarray | None = None
    faces: list[Box] = field(default_factory=list)
    error: str | None = None
    duration: float | None = None  # videos: the clip's length, for the slider
    time: float = 0.0  # videos: the time of the frame shown
    rate: float | None = None  # videos: frames per second, for frame stepping


class TargetFrames:
    """Decoded target frames, last one kept: scrubbing options re-decodes nothing."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._frame: tuple[np.ndarray, float, float | None, float | None] | None = None
        self._lock = threading.Lock()

    def get(
        self, path: str, video: bool, time: float
    ) -> tuple[np.ndarray, float, float | None, float | None]:
        """(BGR frame, its time, the video's duration, its frame rate)."""
        key = (path, video, time)
        with self._lock:
            if self._key == key and self._frame is not None:
                return self._frame
        if video:
            with VideoReader(path) as reader:
                duration, rate = reader.info.duration, reader.info.average_rate
            frame = read_frame_at(path, time)
            found = (frame.image, frame.time, duration, float(rate) if rate else None)
        else:
            found = (read_image(path).bgr, 0.0, None, None)
        with self._lock:
            self._key, self._frame = key, found
        return found


def compute_preview(library: ModelLibrary, request: PreviewRequest, frames: TargetFrames) -> PreviewResult:
    """The preview for ``request``; engine failures come back as the CLI's message, never raised."""
    result = PreviewResult(request.serial, None)
    try:
        original, result.time, result.duration, result.rate = frames.get(
            request.target, request.video, request.time
        )
        result.original = original
        if request.job is None:
            library.require([Role.DETECTOR])
            faces = detect_faces(library, original, request.options)
        else:
            library.require(request.job.options.required_roles())
            with JobInputs() as inputs:
                session = build_session(library, request.job.faces, request.job.options, inputs)
            processed = session.process(original.copy())
            faces = processed.faces
            result.swapped = processed.frame
        result.faces = [_box(face.bbox) for face in sorted(faces, key=lambda face: -face.area)]
    except FaceDeckError as error:
        result.error = cli_message(error)
    return result


def _box(bbox: np.ndarray) -> Box:
    x0, y0, x1, y1 = (float(value) for value in bbox[:4])
    return (x0, y0, x1, y1)


@dataclass(frozen=True)
class SourceFacesRequest:
    serial: int
    path: str
    options: SwapOptions


@dataclass
class SourceFacesResult:
    """The faces of one source photo as crops to pick from (largest first), or an error."""

    serial: int
    path: str
    crops: list[np.ndarray] = field(default_factory=list)
    error: str | None = None


def compute_source_faces(library: ModelLibrary, request: SourceFacesRequest) -> SourceFacesResult:
    result = SourceFacesResult(request.serial, request.path)
    try:
        library.require([Role.DETECTOR])
        with JobInputs() as inputs:
            image = inputs.image(MediaRef.of(request.path))
        photo = Photo(MediaRef.of(request.path).label, image.bgr)
        result.crops = [face.crop for face in faces_in_photo(library, photo, request.options)]
    except FaceDeckError as error:
        result.error = cli_message(error)
    return result


@dataclass(frozen=True)
class OutputFrameRequest:
    """A finished result to show: the image, or the video's frame at ``time``."""

    serial: int
    path: str
    video: bool
    time: float = 0.0


@dataclass
class OutputFrame:
    serial: int
    path: str
    image: np.ndarray | None = None
    error: str | None = None


def compute_output_frame(request: OutputFrameRequest) -> OutputFrame:
    """Decode the result file (seconds for a long video: never on the GUI thread)."""
    result = OutputFrame(request.serial, request.path)
    try:
        if request.video:
            result.image = read_frame_at(request.path, request.time).image
        else:
            result.image = read_image(request.path).bgr
    except FaceDeckError as error:
        result.error = cli_message(error)
    return result
