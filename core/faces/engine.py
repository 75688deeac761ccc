"""The face-swap engine: load the models once, then process any number of frames.

Every front end (CLI, GUI, serverless worker, video pipeline) drives this one class.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ModelMissingError, NoFaceError
from ..models import files as model_files
from ..models.files import Role
from ..models.store import ModelStore
from ..runtime.onnx import ProviderSelection, create_session, select_provider
from .align import ARCFACE_TEMPLATE_112, warp_crop
from .detector import FaceDetector
from .face import Face
from .landmarks import LandmarkDetector
from .masks import mouth_mask, without_mouth
from .paste import feathered_mask, paste_roi
from .recognizer import FaceRecognizer
from .restorer import CROP_SIZE as RESTORE_CROP_SIZE
from .restorer import FaceRestorer
from .selection import DEFAULT_DISTANCE, Mapping, SelectionMode, SourceIdentity, assign, needs_embeddings
from .swapper import CROP_SIZE as SWAP_CROP_SIZE
from .swapper import FaceSwapper, read_emap

log = logging.getLogger(__name__)


@dataclass
class SwapSettings:
    """What the user chose; plain data so every front end can build and store it."""

    selection: SelectionMode = SelectionMode.ONE
    distance_threshold: float = DEFAULT_DISTANCE
    mouth_mask: bool = False
    enhance: bool = False
    enhance_strength: int = 80
    mask_padding: float = 0.1
    mask_blur: float = 0.15
    detector_size: int = 640
    detector_threshold: float = 0.5
    swapper_file: str | None = None

    def required_roles(self) -> list[Role]:
        roles = [Role.DETECTOR, Role.RECOGNIZER, Role.SWAPPER]
        if self.mouth_mask:
            roles.append(Role.LANDMARKS)
        if self.enhance:
            roles.append(Role.RESTORER)
        return roles


@dataclass
class FrameResult:
    frame: np.ndarray
    faces_found: int
    faces_swapped: int
    timings: dict[str, float] = field(default_factory=dict)
    # rectangles (x0, y0, x1, y1) the swap and enhancement wrote into; nothing else changed
    regions: list[tuple[int, int, int, int]] = field(default_factory=list)


def estimate_kps_from_box(bbox: np.ndarray) -> np.ndarray:
    """Five keypoints guessed from a box, for detector exports that give no keypoints."""
    size = np.array([bbox[2] - bbox[0], bbox[3] - bbox[1]], dtype=np.float32)
    return (bbox[:2] + ARCFACE_TEMPLATE_112 / 112.0 * size).astype(np.float32)


class ModelLibrary:
    """Loads each model on first use from one directory and keeps its session alive."""

    def __init__(
        self,
        directory: Path,
        provider: ProviderSelection | str = "auto",
        *,
        detector_size: int | tuple[int, int] = 640,
        detector_threshold: float = 0.5,
        swapper_file: str | None = None,
        session_factory: Callable = create_session,
        store: ModelStore | None = None,
    ) -> None:
        self.directory = Path(directory)
        # every file is checked against its pin or a trusted hash before it is loaded
        self.store = store or ModelStore(self.directory)
        self.provider = provider if isinstance(provider, ProviderSelection) else select_provider(provider)
        self.detector_size = detector_size
        self.detector_threshold = detector_threshold
        self.swapper_file = swapper_file or self._default_swapper_file()
        self._session_factory = session_factory
        self._loaded: dict[Role, object] = {}

    def _default_swapper_file(self) -> str | None:
        # fp16 pays off on GPUs; on the CPU its casts only cost time.
        return "inswapper_128_fp16.onnx" if self.provider.name in ("cuda", "tensorrt", "rocm") else None

    def require(self, roles: Sequence[Role]) -> None:
        """Raise one ModelMissingError that lists every missing file at once."""
        missing = model_files.missing_roles(self.directory, roles)
        if missing:
            hint = f"fetch them with: {model_files.fetch_command(self.directory, roles)}"
            raise ModelMissingError(missing, str(self.directory), hint)

    def _path(self, role: Role) -> Path:
        prefer = self.swapper_file if role is Role.SWAPPER else None
        path = model_files.find_role_file(self.directory, role, prefer)
        if path is None:
            self.require([role])
        self.store.verify_for_loading(path)
        return path

    def _load(self, role: Role, build: Callable[[Path], object]) -> object:
        model = self._loaded.get(role)
        if model is None:
            path = self._path(role)
            started = time.perf_counter()
            model = build(path)
            log.info("loaded %s from %s in %.2f s", role.value, path, time.perf_counter() - started)
            self._loaded[role] = model
        return model

    def _session(self, path: Path):
        return self._session_factory(path, self.provider)

    @property
    def detector(self) -> FaceDetector:
        size = self.detector_size
        if isinstance(size, int):
            size = (size, size)
        return self._load(
            Role.DETECTOR,
            lambda path: FaceDetector(
                self._session(path), path, input_size=size, score_threshold=self.detector_threshold
            ),
        )

    @property
    def recognizer(self) -> FaceRecognizer:
        return self._load(Role.RECOGNIZER, lambda path: FaceRecognizer(self._session(path), path))

    @property
    def swapper(self) -> FaceSwapper:
        return self._load(Role.SWAPPER, lambda path: FaceSwapper(self._session(path), path, read_emap(path)))

    @property
    def landmarks(self) -> LandmarkDetector:
        return self._load(Role.LANDMARKS, lambda path: LandmarkDetector(self._session(path), path))

    @property
    def restorer(self) -> FaceRestorer:
        return self._load(Role.RESTORER, lambda path: FaceRestorer(self._session(path), path))


class FaceSwapEngine:
    """Source identities and settings in, swapped frames out (BGR uint8, processed in place)."""

    def __init__(self, models: ModelLibrary, settings: SwapSettings | None = None) -> None:
        self.models = models
        self.settings = settings or SwapSettings()
        self.sources: list[SourceIdentity] = []
        self.mappings: list[Mapping] = []
        self.reference: np.ndarray | None = None
        self._latents: list[np.ndarray] = []

    @classmethod
    def from_directory(
        cls, directory: Path, provider: ProviderSelection | str = "auto", settings: SwapSettings | None = None
    ) -> FaceSwapEngine:
        """An engine over the models in ``directory``; models load on first use."""
        settings = settings or SwapSettings()
        library = ModelLibrary(
            directory,
            provider,
            detector_size=settings.detector_size,
            detector_threshold=settings.detector_threshold,
            swapper_file=settings.swapper_file,
        )
        return cls(library, settings)

    # ----- identities -------------------------------------------------------------------
    def largest_face(self, frame_bgr: np.ndarray, name: str) -> Face:
        """The biggest face in a photo, with its embedding; NoFaceError naming the photo."""
        faces = self.detect(frame_bgr)
        if not faces:
            raise NoFaceError(f"no face found in {name}")
        face = max(faces, key=lambda f: f.area)
        self.models.recognizer.embed(frame_bgr, [face])
        return face

    def identity_from_photos(
        self, photos: Sequence[tuple[str, np.ndarray]], name: str | None = None
    ) -> SourceIdentity:
        """One identity averaged over several photos of the same person."""
        embeddings = [self.largest_face(frame, photo_name).embedding for photo_name, frame in photos]
        return SourceIdentity.from_embeddings(name or photos[0][0], embeddings)

    def set_sources(
        self,
        sources: Sequence[SourceIdentity],
        *,
        mappings: Sequence[Mapping] = (),
        reference: np.ndarray | None = None,
    ) -> None:
        """Who goes where. With ``mappings`` the sources are the mappings' own identities."""
        self.mappings = list(mappings)
        self.sources = [mapping.source for mapping in self.mappings] if self.mappings else list(sources)
        if not self.sources:
            raise ValueError("at least one source identity is needed")
        if self.settings.selection is SelectionMode.REFERENCE and not self.mappings and reference is None:
            raise ValueError("reference selection needs a reference face")
        self.reference = reference
        swapper = self.models.swapper
        # The latent depends only on the identity: compute it once, not per frame.
        self._latents = [swapper.latent(source.embedding) for source in self.sources]

    # ----- per frame --------------------------------------------------------------------
    def detect(self, frame_bgr: np.ndarray) -> list[Face]:
        faces = self.models.detector.detect(frame_bgr)
        for face in faces:
            if face.kps is None:
                face.kps = estimate_kps_from_box(face.bbox)
        return faces

    def select(self, frame_bgr: np.ndarray, faces: list[Face]) -> list[tuple[Face, int]]:
        if faces and needs_embeddings(self.settings.selection, self.mappings):
            # the video tracker hands over faces that already carry their track's embedding
            unknown = [face for face in faces if face.embedding is None]
            if unknown:
                self.models.recognizer.embed(frame_bgr, unknown)
        return assign(
            faces,
            self.settings.selection,
            mappings=self.mappings,
            reference=self.reference,
            threshold=self.settings.distance_threshold,
        )

    def swap_face(self, frame_bgr: np.ndarray, face: Face, source_index: int) -> tuple[int, int, int, int]:
        """Swap one face in place; returns the rectangle it changed."""
        swapper = self.models.swapper
        settings = self.settings
        matrix = swapper.crop_matrix(face.kps)
        crop = warp_crop(frame_bgr, matrix, SWAP_CROP_SIZE)
        swapped = swapper.swap_crop(crop, self._latents[source_index])
        mask = feathered_mask(SWAP_CROP_SIZE, settings.mask_padding, settings.mask_blur)
        if settings.mouth_mask:
            landmarks = face.landmarks
            if landmarks is None:
                landmarks = self.models.landmarks.predict(frame_bgr, face)
            mask = without_mouth(mask, mouth_mask(landmarks, matrix, SWAP_CROP_SIZE))
        return paste_roi(frame_bgr, swapped, matrix, mask)

    def enhance_face(self, frame_bgr: np.ndarray, face: Face) -> tuple[int, int, int, int]:
        """Run the restorer on a (swapped) face and blend it in by the chosen strength."""
        strength = max(0, min(100, int(self.settings.enhance_strength))) / 100.0
        if strength <= 0:
            return (0, 0, 0, 0)
        restorer = self.models.restorer
        matrix = restorer.crop_matrix(face.kps)
        crop = warp_crop(frame_bgr, matrix, RESTORE_CROP_SIZE)
        restored = restorer.restore_crop(crop)
        mask = (
            feathered_mask(RESTORE_CROP_SIZE, self.settings.mask_padding, self.settings.mask_blur) * strength
        )
        return paste_roi(frame_bgr, restored, matrix, mask)

    def process(self, frame_bgr: np.ndarray, faces: list[Face] | None = None) -> FrameResult:
        """Swap the selected faces of ``frame_bgr`` in place and return it.

        ``faces`` lets a caller (the video tracker) pass faces it already has.
        """
        if not self.sources:
            raise ValueError("set_sources() must be called before process()")
        timings: dict[str, float] = {}
        started = time.perf_counter()
        if faces is None:
            faces = self.detect(frame_bgr)
        timings["detect"] = time.perf_counter() - started
        mark = time.perf_counter()
        chosen = self.select(frame_bgr, faces)
        if self.settings.mouth_mask:
            # Landmarks come from the untouched frame, before any face is pasted over.
            for face, _ in chosen:
                self.models.landmarks.predict(frame_bgr, face)
        timings["select"] = time.perf_counter() - mark
        mark = time.perf_counter()
        regions = [self.swap_face(frame_bgr, face, source_index) for face, source_index in chosen]
        timings["swap"] = time.perf_counter() - mark
        if self.settings.enhance:
            mark = time.perf_counter()
            regions += [self.enhance_face(frame_bgr, face) for face, _ in chosen]
            timings["enhance"] = time.perf_counter() - mark
        regions = [region for region in regions if region[2] > region[0] and region[3] > region[1]]
        return FrameResult(frame_bgr, len(faces), len(chosen), timings, regions)
