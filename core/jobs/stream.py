"""A stream of frames through one session and a tracker: the heart of video and live jobs.

``push`` never raises for a failure inside one frame: the result carries the error and
the untouched frame, so a live loop shows the camera and goes on. ``use`` switches the
session (other sources, other options) from the next frame on, keeping the tracks.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import onnxruntime

from ..errors import FaceDeckError
from ..faces.face import Face
from ..faces.selection import SelectionMode
from ..faces.session import FrameResult, SwapSession
from ..runtime.sessions import ort_errors
from ..tracking.tracker import FaceTracker, TrackerSettings

log = logging.getLogger(__name__)

# What one frame can fail with: our own errors, onnxruntime's, OpenCV's, and numpy's for a
# frame of the wrong shape. Anything else is a bug and propagates.
FRAME_ERRORS: tuple[type[Exception], ...] = (
    FaceDeckError,
    cv2.error,
    ValueError,
    IndexError,
    ArithmeticError,
    *ort_errors(onnxruntime),
)


class OneFaceChoice:
    """``one`` mode over time: stay with the chosen person instead of flickering between faces."""

    def __init__(self) -> None:
        self.identity: int | None = None

    def pick(self, faces: list[Face]) -> list[Face]:
        if not faces:
            return []
        for face in faces:
            if face.extra.get("identity") == self.identity:
                return [face]
        largest = max(faces, key=lambda face: face.area)
        self.identity = largest.extra.get("identity")
        return [largest]


class FrameStream:
    """Frames in, swapped frames out, faces followed between detections."""

    def __init__(self, session: SwapSession, tracker: TrackerSettings | None = None) -> None:
        self._session = session
        # the tracker always asks the current session, so use() takes effect on the next frame
        self._tracker = FaceTracker(
            lambda frame: self._session.detect(frame),
            lambda frame, faces: self._session.embed(frame, faces),
            tracker or TrackerSettings(),
        )
        self._one = OneFaceChoice()
        self.errors = 0

    @property
    def session(self) -> SwapSession:
        return self._session

    def use(self, session: SwapSession) -> None:
        """Swap with ``session`` from the next frame on (tracks and identities are kept)."""
        self._session = session

    def reset(self) -> None:
        """Forget every track (a cut, a seek, a new camera)."""
        self._tracker.reset()
        self._one = OneFaceChoice()

    def push(self, frame_bgr: np.ndarray, timestamp: float) -> FrameResult:
        """Process one frame; ``frame_bgr`` itself is never modified."""
        session = self._session
        try:
            faces = self._tracker.update(frame_bgr, timestamp)
            if not faces:
                return FrameResult(frame_bgr, 0, 0)
            sticky = session.options.selection is SelectionMode.ONE and not session.mappings
            chosen = self._one.pick(faces) if sticky else faces
            result = session.process(np.array(frame_bgr, copy=True), faces=chosen)
        except FRAME_ERRORS as error:
            self.errors += 1
            # not a warning: the caller reports result.error (a video fails with it, a live view
            # shows it), and a second copy on stderr would break the CLI's one-line errors
            log.debug("frame at %.3f s failed: %s", timestamp, error)
            return FrameResult(frame_bgr, 0, 0, error=error)
        if not result.faces_swapped:
            return FrameResult(frame_bgr, len(faces), 0, result.timings, faces=faces)
        result.faces_found = len(faces)
        result.faces = faces
        return result
