"""The model manifest (models/manifest.toml) as typed, read-only records.

One declarative registry for every model FaceDeck knows: file name, size, SHA-256, licence,
purpose, input contract and download URLs. Engine roles, downloads, verification and the
``models`` commands all read it from here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from ..errors import ManifestError, UsageError


@dataclass(frozen=True)
class License:
    id: str
    short: str
    name: str
    summary: str
    url: str


@dataclass(frozen=True)
class ModelSpec:
    id: str
    file: str
    role: str
    size: int
    sha256: str
    license: str
    purpose: str
    contract: str
    urls: tuple[str, ...] = ()
    pack: str | None = None
    default: bool = False


@dataclass(frozen=True)
class PackSpec:
    """A zip that holds several models (InsightFace's buffalo_l)."""

    id: str
    file: str
    size: int
    sha256: str
    license: str
    urls: tuple[str, ...]
    members: tuple[str, ...]


@dataclass(frozen=True)
class Manifest:
    models: dict[str, ModelSpec]
    packs: dict[str, PackSpec]
    licenses: dict[str, License]

    def by_file(self, file_name: str) -> ModelSpec | None:
        for spec in self.models.values():
            if spec.file == file_name:
                return spec
        return None

    def for_role(self, role: str) -> list[ModelSpec]:
        """Models that can fill ``role``, in manifest order (the first is preferred)."""
        return [spec for spec in self.models.values() if spec.role == role]

    def defaults(self) -> list[ModelSpec]:
        return [spec for spec in self.models.values() if spec.default]

    def resolve(self, names: Iterable[str]) -> list[ModelSpec]:
        """Model ids, file names or pack ids -> model specs (no duplicates, manifest order)."""
        wanted: set[str] = set()
        for name in names:
            if name in self.models:
                wanted.add(name)
            elif name in self.packs:
                wanted.update(self.packs[name].members)
            elif (spec := self.by_file(name)) is not None:
                wanted.add(spec.id)
            else:
                known = ", ".join([*self.models, *self.packs])
                raise UsageError(f"unknown model '{name}' (known: {known})")
        return [spec for spec in self.models.values() if spec.id in wanted]


def _parse(data: dict) -> Manifest:
    licenses = {
        license_id: License(license_id, entry["short"], entry["name"], entry["summary"], entry["url"])
        for license_id, entry in data.get("licenses", {}).items()
    }
    packs = {
        entry["id"]: PackSpec(
            id=entry["id"],
            file=entry["file"],
            size=int(entry["size"]),
            sha256=entry["sha256"].lower(),
            license=entry["license"],
            urls=tuple(entry["urls"]),
            members=tuple(entry["members"]),
        )
        for entry in data.get("packs", [])
    }
    models = {
        entry["id"]: ModelSpec(
            id=entry["id"],
            file=entry["file"],
            role=entry["role"],
            size=int(entry["size"]),
            sha256=entry["sha256"].lower(),
            license=entry["license"],
            purpose=entry["purpose"],
            contract=entry["contract"],
            urls=tuple(entry.get("urls", ())),
            pack=entry.get("pack"),
            default=bool(entry.get("default", False)),
        )
        for entry in data.get("models", [])
    }
    manifest = Manifest(models, packs, licenses)
    _check(manifest)
    return manifest


def _check(manifest: Manifest) -> None:
    """A broken manifest is a packaging bug: fail loudly and early."""
    for spec in manifest.models.values():
        if spec.license not in manifest.licenses:
            raise ValueError(f"manifest: model {spec.id} names unknown licence {spec.license}")
        if spec.pack is None and not spec.urls:
            raise ValueError(f"manifest: model {spec.id} has neither URLs nor a pack")
        if spec.pack is not None and spec.pack not in manifest.packs:
            raise ValueError(f"manifest: model {spec.id} names unknown pack {spec.pack}")
        if len(spec.sha256) != 64:
            raise ValueError(f"manifest: model {spec.id} has a malformed SHA-256")
    for pack in manifest.packs.values():
        for member in pack.members:
            if member not in manifest.models:
                raise ValueError(f"manifest: pack {pack.id} lists unknown model {member}")


def load_manifest_file(path: Path) -> Manifest:
    try:
        with open(path, "rb") as handle:
            return _parse(tomllib.load(handle))
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
        raise ManifestError(f"cannot use the model manifest {path}: {error}", path=str(path)) from error


MANIFEST_ENV = "FACEDECK_MANIFEST"


def load_manifest() -> Manifest:
    """The manifest shipped in ``facedeck.models``, or the file ``FACEDECK_MANIFEST`` names.

    The override serves private mirrors with their own pins, and the tests, which cannot
    produce files that hash to the real pins.
    """
    override = os.environ.get(MANIFEST_ENV)
    if override:
        return _load_file_cached(Path(override).expanduser().resolve())
    return _load_packaged()


@lru_cache(maxsize=1)
def _load_packaged() -> Manifest:
    text = resources.files("facedeck.models").joinpath("manifest.toml").read_bytes()
    return _parse(tomllib.loads(text.decode("utf-8")))


@lru_cache(maxsize=8)
def _load_file_cached(path: Path) -> Manifest:
    return load_manifest_file(path)
