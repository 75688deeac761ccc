"""A swap session: one job's identities and options over a shared model library.

A session is immutable once built: it holds who goes where (source identities, their
latents, mappings or a reference) and how (``SwapOptions``), and nothing that changes
per frame, so several threads may process frames through one session, and a live stream
switches sources by switching sessions. Changing an option builds a new session with
``with_options``; the identities (the costly part) carry over.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import UsageError
from .align import ARCFACE_TEMPLATE_112, warp_crop
from .face import Face
from .masks import mouth_mask, without_mouth
from .options import SwapOptions  # plain data, light to import; also importable from here
from .paste import feathered_mask, paste_roi
from .restorer import CROP_SIZE as RESTORE_CROP_SIZE
from .selection import Mapping, SelectionMode, SourceIdentity, assign, needs_embeddings
from .swapper import CROP_SIZE as SWAP_CROP_SIZE

if TYPE_CHECKING:  # the library imports the face wrappers; only its type is needed here
    from ..models.library import ModelLibrary

Region = tuple[int, int, int, int]


@dataclass
class FrameResult:
    """One processed frame. ``frame`` is the output (the input itself when nothing changed).

    ``error`` is set, and ``frame`` is the untouched input, when a frame stream caught a
    failure in this frame instead of raising it.
    """

    frame: np.ndarray
    faces_found: int
    faces_swapped: int
    timings: dict[str, float] = field(default_factory=dict)
    # rectangles (x0, y0, x1, y1) the swap and enhancement wrote into; nothing else changed
    regions: list[Region] = field(default_factory=list)
    faces: list[Face] = field(default_factory=list)
    error: Exception | None = None


def estimate_kps_from_box(bbox: np.ndarray) -> np.ndarray:
    """Five keypoints guessed from a box, for detector exports that give no keypoints."""
    size = np.array([bbox[2] - bbox[0], bbox[3] - bbox[1]], dtype=np.float32)
    return (bbox[:2] + ARCFACE_TEMPLATE_112 / 112.0 * size).astype(np.float32)


def detect_faces(library: ModelLibrary, frame_bgr: np.ndarray, options: SwapOptions) -> list[Face]:
    """Faces in a frame with the session's detector size and threshold, keypoints always set."""
    faces = library.detector().detect(
        frame_bgr, input_size=options.detector_size, score_threshold=options.detector_threshold
    )
    for face in faces:
        if face.kps is None:
            face.kps = estimate_kps_from_box(face.bbox)
    return faces


class SwapSession:
    """Source identities and options in, swapped frames out (BGR uint8)."""

    def __init__(
        self,
        library: ModelLibrary,
        options: SwapOptions,
        sources: Sequence[SourceIdentity] = (),
        *,
        mappings: Sequence[Mapping] = (),
        reference: np.ndarray | None = None,
        latents: Sequence[np.ndarray] | None = None,
    ) -> None:
        """With ``mappings`` the sources are the mappings' own identities."""
        self.library = library
        self.options = options
        self.mappings: tuple[Mapping, ...] = tuple(mappings)
        self.sources: tuple[SourceIdentity, ...] = (
            tuple(mapping.source for mapping in self.mappings) if self.mappings else tuple(sources)
        )
        if not self.sources:
            raise UsageError("a swap needs at least one source face", field="faces.sources")
        if options.selection is SelectionMode.REFERENCE and not self.mappings and reference is None:
            raise UsageError("reference selection needs a reference face", field="faces.reference")
        self.reference = reference
        # The latent depends only on the identity and the swapper file: once per session.
        if latents is None:
            swapper = library.swapper(options.swapper_file)
            latents = [swapper.latent(source.embedding) for source in self.sources]
        self._latents: tuple[np.ndarray, ...] = tuple(latents)

    def with_options(self, options: SwapOptions) -> SwapSession:
        """The same people with other options; latents are reused unless the swapper changed."""
        same_swapper = options.swapper_file == self.options.swapper_file
        return SwapSession(
            self.library,
            options,
            self.sources,
            mappings=self.mappings,
            reference=self.reference,
            latents=self._latents if same_swapper else None,
        )

    # ----- per frame --------------------------------------------------------------------
    def detect(self, frame_bgr: np.ndarray) -> list[Face]:
        return detect_faces(self.library, frame_bgr, self.options)

    def embed(self, frame_bgr: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        return self.library.recognizer().embed(frame_bgr, faces)

    def select(self, frame_bgr: np.ndarray, faces: list[Face]) -> list[tuple[Face, int]]:
        if faces and needs_embeddings(self.options.selection, self.mappings):
            # the video tracker hands over faces that already carry their track's embedding
            unknown = [face for face in faces if face.embedding is None]
            if unknown:
                self.embed(frame_bgr, unknown)
        return assign(
            faces,
            self.options.selection,
            mappings=self.mappings,
            reference=self.reference,
            threshold=self.options.distance_threshold,
        )

    def swap_face(self, frame_bgr: np.ndarray, face: Face, source_index: int) -> Region:
        """Swap one face in place; returns the rectangle it changed."""
        options = self.options
        swapper = self.library.swapper(options.swapper_file)
        assert face.kps is not None  # detect_faces and the tracker fill in missing keypoints
        matrix = swapper.crop_matrix(face.kps)
        crop = warp_crop(frame_bgr, matrix, SWAP_CROP_SIZE)
        swapped = swapper.swap_crop(crop, self._latents[source_index])
        mask = feathered_mask(SWAP_CROP_SIZE, options.mask_padding, options.mask_blur)
        if options.mouth_mask:
            landmarks = face.landmarks
            if landmarks is None:
                landmarks = self.library.landmarks().predict(frame_bgr, face)
            mask = without_mouth(mask, mouth_mask(landmarks, matrix, SWAP_CROP_SIZE))
        return paste_roi(frame_bgr, swapped, matrix, mask)

    def enhance_face(self, frame_bgr: np.ndarray, face: Face) -> Region:
        """Run the restorer on a (swapped) face and blend it in by the chosen strength."""
        strength = max(0, min(100, int(self.options.enhance_strength))) / 100.0
        if strength <= 0:
            return (0, 0, 0, 0)
        restorer = self.library.restorer()
        assert face.kps is not None  # detect_faces and the tracker fill in missing keypoints
        matrix = restorer.crop_matrix(face.kps)
        crop = warp_crop(frame_bgr, matrix, RESTORE_CROP_SIZE)
        restored = restorer.restore_crop(crop)
        mask = feathered_mask(RESTORE_CROP_SIZE, self.options.mask_padding, self.options.mask_blur) * strength
        return paste_roi(frame_bgr, restored, matrix, mask)

    def process(self, frame_bgr: np.ndarray, faces: list[Face] | None = None) -> FrameResult:
        """Swap the selected faces of ``frame_bgr`` in place and return it.

        ``faces`` lets a caller (the video tracker) pass faces it already has.
        """
        timings: dict[str, float] = {}
        started = time.perf_counter()
        if faces is None:
            faces = self.detect(frame_bgr)
        timings["detect"] = time.perf_counter() - started
        mark = time.perf_counter()
        chosen = self.select(frame_bgr, faces)
        if self.options.mouth_mask:
            # Landmarks come from the untouched frame, before any face is pasted over.
            landmarks = self.library.landmarks()
            for face, _ in chosen:
                landmarks.predict(frame_bgr, face)
        timings["select"] = time.perf_counter() - mark
        mark = time.perf_counter()
        regions = [self.swap_face(frame_bgr, face, source_index) for face, source_index in chosen]
        timings["swap"] = time.perf_counter() - mark
        if self.options.enhance:
            mark = time.perf_counter()
            regions += [self.enhance_face(frame_bgr, face) for face, _ in chosen]
            timings["enhance"] = time.perf_counter() - mark
        regions = [region for region in regions if region[2] > region[0] and region[3] > region[1]]
        return FrameResult(frame_bgr, len(faces), len(chosen), timings, regions, faces=list(faces))
