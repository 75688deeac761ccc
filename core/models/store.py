"""The model store: verified files in one directory, a hash cache, trusted hashes.

- Every file is checked against its manifest SHA-256, or against a hash the user chose to
  trust on this machine (``models import --trust``), before the engine loads it; never
  against nothing.
- Hashes are remembered as (file, size, mtime) -> sha256 in the models directory, so
  start-up does not re-read half a gigabyte each time; ``verify`` re-hashes on demand.
- Trusted hashes live in the per-user config directory (or ``FACEDECK_CONFIG_DIR``), next
  to the user's acceptance of the licences and the responsible-use rule (``consent.py``).
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from ..errors import FaceDeckError, UsageError
from .files import APP_NAME
from .manifest import Manifest, ModelSpec, load_manifest

if TYPE_CHECKING:
    from .fetch import DownloadOutcome

log = logging.getLogger(__name__)

CONFIG_DIR_ENV = "FACEDECK_CONFIG_DIR"
HASH_CACHE_FILE = ".facedeck-hashes.json"
TRUST_FILE = "trusted-models.json"
HASH_CHUNK = 1 << 20


class ModelVerificationError(FaceDeckError):
    """A model file is present but is not the file FaceDeck expects.

    ``model`` is set when the file is one the manifest knows; how to fix it (download it
    again, or trust this file) is each front end's to say, in its own words.
    """

    code = "model_verification"


class ImportMismatchError(ModelVerificationError):
    """A file offered for import is not the published model; ``trust=True`` accepts it.

    ``sha256`` is the file's hash, so a front end can show what it would trust (None when the
    size alone told the file apart, before any reading).
    """

    def __init__(self, message: str, *, path: str, model: str, sha256: str | None) -> None:
        super().__init__(message, path=path, model=model)
        self.sha256 = sha256


class ModelStatus(str, enum.Enum):
    PRESENT = "present"  # on disk, not hashed yet
    VERIFIED = "verified"  # matches the manifest pin
    TRUSTED = "trusted"  # matches a hash the user trusted on this machine
    MISSING = "missing"
    CORRUPT = "corrupt"  # matches neither


def config_dir() -> Path:
    """Per-user settings: trusted hashes and consent (``FACEDECK_CONFIG_DIR`` overrides)."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def sha256_file(path: Path, cancel: threading.Event | None = None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            if cancel is not None and cancel.is_set():
                raise FaceDeckError("cancelled")
            digest.update(chunk)
    return digest.hexdigest()


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        log.warning("ignoring unreadable %s: %s", path, error)
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict) -> None:
    """Atomic write; a read-only location is logged, not fatal (the data is only a cache or a record)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2, sort_keys=True)
        os.replace(temporary, path)
    except OSError as error:
        log.warning("could not write %s: %s", path, error)


@dataclass(frozen=True)
class ModelState:
    spec: ModelSpec
    status: ModelStatus
    path: Path
    size: int | None
    sha256: str | None


class ModelStore:
    """The models in one directory, checked against the manifest."""

    def __init__(
        self, directory: Path, *, manifest: Manifest | None = None, settings_dir: Path | None = None
    ) -> None:
        self.directory = Path(directory)
        self.manifest = manifest or load_manifest()
        self.settings_dir = settings_dir or config_dir()
        self._lock = threading.Lock()

    # ----- hashing with memory --------------------------------------------------------
    @property
    def _cache_path(self) -> Path:
        return self.directory / HASH_CACHE_FILE

    def cached_sha256(self, path: Path) -> str | None:
        """The remembered hash of ``path`` if its size and mtime are unchanged."""
        try:
            stat = path.stat()
        except OSError:
            return None
        entry = _read_json(self._cache_path).get(path.name)
        if (
            isinstance(entry, dict)
            and entry.get("size") == stat.st_size
            and entry.get("mtime_ns") == stat.st_mtime_ns
        ):
            return entry.get("sha256")
        return None

    def remember(self, path: Path, sha256: str) -> None:
        stat = path.stat()
        with self._lock:
            cache = _read_json(self._cache_path)
            cache[path.name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256}
            _write_json(self._cache_path, cache)

    def forget(self, name: str) -> None:
        with self._lock:
            cache = _read_json(self._cache_path)
            if cache.pop(name, None) is not None:
                _write_json(self._cache_path, cache)

    def sha256(self, path: Path, *, rehash: bool = False) -> str:
        """Hash ``path`` once; later calls use the cache until the file changes."""
        if not rehash:
            cached = self.cached_sha256(path)
            if cached:
                return cached
        log.info("hashing %s", path)
        digest = sha256_file(path)
        self.remember(path, digest)
        return digest

    # ----- trust ------------------------------------------------------------------------
    @property
    def _trust_path(self) -> Path:
        return self.settings_dir / TRUST_FILE

    def trusted_hashes(self, model_id: str) -> set[str]:
        return set(_read_json(self._trust_path).get(model_id, []))

    def trust(self, model_id: str, sha256: str) -> None:
        """Record ``sha256`` as acceptable for ``model_id`` on this machine."""
        with self._lock:
            registry = _read_json(self._trust_path)
            hashes = set(registry.get(model_id, []))
            hashes.add(sha256)
            registry[model_id] = sorted(hashes)
            _write_json(self._trust_path, registry)

    # ----- status -----------------------------------------------------------------------
    def judge(self, spec: ModelSpec, sha256: str) -> ModelStatus:
        if sha256 == spec.sha256:
            return ModelStatus.VERIFIED
        if sha256 in self.trusted_hashes(spec.id):
            return ModelStatus.TRUSTED
        return ModelStatus.CORRUPT

    def state(self, spec: ModelSpec, *, hash_files: bool = False, rehash: bool = False) -> ModelState:
        """Status of one model. Without ``hash_files`` only remembered hashes are used."""
        path = self.directory / spec.file
        try:
            size = path.stat().st_size
        except OSError:
            return ModelState(spec, ModelStatus.MISSING, path, None, None)
        digest = self.sha256(path, rehash=rehash) if (hash_files or rehash) else self.cached_sha256(path)
        if digest is None:
            if size != spec.size and not self.trusted_hashes(spec.id):
                return ModelState(spec, ModelStatus.CORRUPT, path, size, None)
            return ModelState(spec, ModelStatus.PRESENT, path, size, None)
        return ModelState(spec, self.judge(spec, digest), path, size, digest)

    def states(self, *, hash_files: bool = False, rehash: bool = False) -> list[ModelState]:
        return [
            self.state(spec, hash_files=hash_files, rehash=rehash) for spec in self.manifest.models.values()
        ]

    def verify_for_loading(self, path: Path) -> ModelStatus:
        """Raise unless ``path`` matches its pin or a trusted hash (hashing at most once)."""
        spec = self.manifest.by_file(path.name)
        if spec is None:
            raise ModelVerificationError(
                f"{path.name} is not a model FaceDeck knows; refusing to load it", path=str(path)
            )
        status = self.judge(spec, self.sha256(path))
        if status is ModelStatus.CORRUPT:
            raise ModelVerificationError(
                f"{path} does not match the published SHA-256 of {spec.id}", path=str(path), model=spec.id
            )
        return status

    # ----- import and remove --------------------------------------------------------------
    def import_file(self, model_id: str, source: Path, *, trust: bool = False) -> ModelState:
        """Copy a file the user already has into the store, hashing it during the copy
        (folders and packs: ``importer.import_path``)."""
        from .importer import import_file  # the importer builds on this module

        return import_file(self, self._spec(model_id), Path(source), trust=trust)

    def remove(self, model_id: str) -> bool:
        spec = self._spec(model_id)
        path = self.directory / spec.file
        self.forget(spec.file)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def _spec(self, name: str) -> ModelSpec:
        specs = self.manifest.resolve([name])
        if len(specs) != 1:
            raise UsageError(f"'{name}' names a pack; give one model id")
        return specs[0]

    # ----- downloads ----------------------------------------------------------------------
    def download(
        self,
        specs: Sequence[ModelSpec],
        *,
        progress: Callable | None = None,
        mirror: str | None = None,
        cancel: threading.Event | None = None,
        download_file: Callable | None = None,
        on_outcome: Callable[[DownloadOutcome], None] | None = None,
    ) -> list[DownloadOutcome]:
        """Fetch and verify ``specs``: one outcome per model, a failed one not stopping the rest
        (``fetch.download_models``)."""
        from .fetch import download_models  # imports requests: only when downloading

        return download_models(
            self,
            specs,
            progress=progress,
            mirror=mirror,
            cancel=cancel,
            download_file=download_file,
            on_outcome=on_outcome,
        )
