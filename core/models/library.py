"""The model library: one models folder opened once, shared by every job and thread of a process.

Sessions are created on first use (or ahead of time with ``preload``), verified against
their pin or a trusted hash before they load, checked against their manifest contract by
the wrapper as they load (pinned or trusted alike; core/faces/onnx_model.py), and kept until
``close``. A file that fails any of this is one ModelLoadError naming it and its model id.
onnxruntime's
``InferenceSession.run`` is safe to call from several threads; the wrappers keep no
per-call state on themselves (the detector letterboxes into per-thread buffers), so one
library serves the window's preview, a running video and a live stream at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from ..errors import ModelLoadError, ModelMissingError
from ..faces.detector import FaceDetector
from ..faces.identities import IdentityCache
from ..faces.landmarks import LandmarkDetector
from ..faces.recognizer import FaceRecognizer
from ..faces.restorer import FaceRestorer
from ..faces.swapper import FaceSwapper
from ..runtime.providers import ProviderSelection, select_provider
from ..runtime.sessions import ModelFileError, create_session
from .files import Role, find_role_file, missing_roles, role_files
from .manifest import ModelSpec, load_manifest
from .store import ModelStore

log = logging.getLogger(__name__)

Model = TypeVar("Model")
SessionFactory = Callable[[Path, ProviderSelection], object]
# a wrapper class: (session, path, manifest entry) -> the model
ModelBuilder = Callable[[Any, Path, ModelSpec], Model]

# fp16 pays off on GPUs; on the CPU its casts only cost time.
_FP16_PROVIDERS = frozenset({"cuda", "tensorrt", "rocm"})


def default_swapper_file(provider: str) -> str:
    """The swapper file a job without ``swapper_file`` uses on ``provider`` ("cpu", "cuda"...)."""
    files = role_files(Role.SWAPPER)
    return files[1] if provider in _FP16_PROVIDERS and len(files) > 1 else files[0]


class ModelLibrary:
    """Loads each model once from one directory and keeps its session alive; thread-safe."""

    def __init__(
        self,
        directory: Path,
        provider: ProviderSelection | str = "auto",
        *,
        session_factory: SessionFactory = create_session,
        store: ModelStore | None = None,
    ) -> None:
        self.directory = Path(directory)
        # every file is checked against its pin or a trusted hash before it is loaded
        self.store = store or ModelStore(self.directory)
        self.provider = provider if isinstance(provider, ProviderSelection) else select_provider(provider)
        self._session_factory = session_factory
        self._loaded: dict[tuple[Role, str], object] = {}
        # One lock for loading: two threads asking for the same model build it once.
        self._lock = threading.RLock()
        # source embeddings by photo content: a new session for a changed option re-embeds nothing
        self.identities = IdentityCache()

    @property
    def default_swapper_file(self) -> str:
        return default_swapper_file(self.provider.name)

    # ----- what is there ----------------------------------------------------------------
    def require(self, roles: Iterable[Role]) -> None:
        """Raise one ModelMissingError that lists every missing file at once."""
        roles = list(roles)
        missing = missing_roles(self.directory, roles)
        if missing:
            manifest = load_manifest()
            ids = [
                manifest.for_role(role.value)[0].id
                for role in roles
                if find_role_file(self.directory, role) is None and manifest.for_role(role.value)
            ]
            raise ModelMissingError(missing, str(self.directory), ids=ids)

    def require_swapper(self, file: str) -> None:
        """ModelMissingError unless the swapper file ``file`` is in the models folder."""
        if (self.directory / file).is_file():
            return
        spec = load_manifest().by_file(file)
        raise ModelMissingError([file], str(self.directory), ids=[spec.id] if spec else [])

    def preload(self, roles: Iterable[Role], *, swapper_file: str | None = None) -> None:
        """Load ``roles`` now, so that the first frame never waits for a model to load."""
        roles = list(roles)
        self.require(roles)
        for role in roles:
            if role is Role.DETECTOR:
                self.detector()
            elif role is Role.RECOGNIZER:
                self.recognizer()
            elif role is Role.SWAPPER:
                self.swapper(swapper_file)
            elif role is Role.LANDMARKS:
                self.landmarks()
            elif role is Role.RESTORER:
                self.restorer()

    def loaded(self) -> list[str]:
        """File names of the models loaded so far."""
        with self._lock:
            return sorted({model.path.name for model in self._loaded.values()})  # type: ignore[attr-defined]

    def close(self) -> None:
        """Drop every session (their memory, GPU memory included, goes with them)."""
        with self._lock:
            self._loaded.clear()

    # ----- the models -------------------------------------------------------------------
    # Each wrapper checks its session against the manifest contract of the file's entry.
    def detector(self) -> FaceDetector:
        return self._load(Role.DETECTOR, None, FaceDetector)

    def recognizer(self) -> FaceRecognizer:
        return self._load(Role.RECOGNIZER, None, FaceRecognizer)

    def swapper(self, file: str | None = None) -> FaceSwapper:
        """The swapper from ``file`` (one of the swapper role's files, which must be there), else
        the provider's default (or the other swapper file when only that one is there)."""
        if file is not None:
            # a chosen swapper is never swapped for another quietly: a preview made with
            # the fp32 file while fp16 was chosen would show what the job refuses to do
            self.require_swapper(file)
        return self._load(Role.SWAPPER, file or self.default_swapper_file, FaceSwapper)

    def landmarks(self) -> LandmarkDetector:
        return self._load(Role.LANDMARKS, None, LandmarkDetector)

    def restorer(self) -> FaceRestorer:
        return self._load(Role.RESTORER, None, FaceRestorer)

    # ----- loading ----------------------------------------------------------------------
    def _path(self, role: Role, prefer: str | None) -> Path:
        path = find_role_file(self.directory, role, prefer)
        if path is None:
            self.require([role])
            raise AssertionError("require() raises for a missing role")  # pragma: no cover
        self.store.verify_for_loading(path)
        return path

    def _load(self, role: Role, prefer: str | None, build: ModelBuilder[Model]) -> Model:
        key = (role, prefer or "")
        model = self._loaded.get(key)
        if model is not None:
            return model  # type: ignore[return-value]
        with self._lock:
            model = self._loaded.get(key)
            if model is None:
                path = self._path(role, prefer)
                spec = load_manifest().by_file(path.name)
                assert spec is not None  # find_role_file only finds the manifest's file names
                started = time.perf_counter()
                model = build(self._session(path, spec), path, spec)
                log.info("loaded %s from %s in %.2f s", role.value, path, time.perf_counter() - started)
                self._loaded[key] = model
        return model  # type: ignore[return-value]

    def _session(self, path: Path, spec: ModelSpec):  # noqa: ANN202 - an onnxruntime session or a stand-in
        try:
            return self._session_factory(path, self.provider)
        except ModelFileError as error:
            # one sentence in the wrappers' form: the file, the model id, what is wrong
            raise ModelLoadError(
                f"{path.name} ({spec.id}): {error.reason}", path=str(path), model=spec.id
            ) from error
