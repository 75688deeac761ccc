"""The model manifest (models/manifest.toml) as typed, read-only records.

One declarative registry for every model FaceDeck knows: file name, size, SHA-256, licence,
purpose, contract (inputs and outputs, checked when a model loads: contract.py) and download
URLs. Engine roles, downloads, verification and the ``models`` commands all read it from here.

The manifest is read strictly (manifest_schema.py): a missing or misspelt key, a wrong type,
an unknown licence or pack, a malformed SHA-256 or contract, a duplicate id: each is a
ManifestError of one sentence naming the manifest file and the entry ("manifest.toml:
models[3] 'inswapper_128': contract input 'target': no 'dtype'").
"""

from __future__ import annotations

import os
import re
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
from .contract import Contract
from .manifest_schema import ManifestFault, Table, kind_of, parse_contract


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
    contract: Contract
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


# the engine's roles (files.Role, which imports this module): the manifest may name no other
ROLES = ("detector", "recognizer", "swapper", "landmarks", "restorer")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TOP_KEYS = ("licenses", "packs", "models")


def _file_name(table: Table) -> str:
    name = table.text("file")
    # downloads write to the models folder under this name: nothing may point elsewhere
    if name != Path(name).name or name in (".", "..") or "\\" in name:
        raise table.fault(f"'file' must be a plain file name, not '{name}'")
    return name


def _sha256(table: Table) -> str:
    value = table.text("sha256").lower()
    if not _SHA256.match(value):
        raise table.fault(f"'sha256' must be 64 hexadecimal digits, not '{value}'")
    return value


def _urls(table: Table, *, required: bool) -> tuple[str, ...]:
    urls = table.texts("urls", required=required)
    for url in urls:
        if not url.startswith(("https://", "http://")):
            raise table.fault(f"URL '{url}' is not an http(s) URL")
    return urls


def _where(kind: str, index: int, entry: object) -> str:
    entry_id = entry.get("id") if isinstance(entry, dict) else None
    return f"{kind}[{index}] '{entry_id}'" if isinstance(entry_id, str) else f"{kind}[{index}]"


def _license(license_id: str, value: object) -> License:
    table = Table(value, f"licenses '{license_id}'", ("short", "name", "summary", "url"))
    texts = (table.text(key) for key in ("short", "name", "summary", "url"))
    return License(license_id, *texts)


def _pack(index: int, value: object) -> PackSpec:
    keys = ("id", "file", "size", "sha256", "license", "urls", "members")
    table = Table(value, _where("packs", index, value), keys)
    return PackSpec(
        id=table.text("id"),
        file=_file_name(table),
        size=table.positive("size"),
        sha256=_sha256(table),
        license=table.text("license"),
        urls=_urls(table, required=True),
        members=table.texts("members"),
    )


def _model(index: int, value: object) -> ModelSpec:
    keys = "id file role size sha256 license purpose contract urls pack default".split()
    table = Table(value, _where("models", index, value), keys)
    model_id, file = table.text("id"), _file_name(table)
    role = table.text("role")
    if role not in ROLES:
        raise table.fault(f"role '{role}' is not one of {', '.join(ROLES)}")
    if "contract" not in table.data:
        raise table.fault("no 'contract'")
    return ModelSpec(
        id=model_id,
        file=file,
        role=role,
        size=table.positive("size"),
        sha256=_sha256(table),
        license=table.text("license"),
        purpose=table.text("purpose"),
        contract=parse_contract(table.data["contract"], f"{table.where}: contract"),
        urls=_urls(table, required=False),
        pack=table.optional_text("pack"),
        default=table.flag("default", False),
    )


def _unique(kind: str, ids: list[str], values: list[str], what: str) -> None:
    for index, value in enumerate(values):
        first = values.index(value)
        if first != index:
            raise ManifestFault(f"{kind}[{index}] '{ids[index]}': {what} '{value}' is also {kind}[{first}]'s")


def _parse(data: dict) -> Manifest:
    top = Table(data, "the manifest", _TOP_KEYS)
    licenses_table = top.data.get("licenses", {})
    if not isinstance(licenses_table, dict):
        raise ManifestFault(f"[licenses] must be a table, not {kind_of(licenses_table)}")
    licenses = {license_id: _license(license_id, entry) for license_id, entry in licenses_table.items()}
    pack_list = [_pack(index, entry) for index, entry in enumerate(top.tables("packs", required=False))]
    model_list = [_model(index, entry) for index, entry in enumerate(top.tables("models"))]
    model_ids, pack_ids = [spec.id for spec in model_list], [pack.id for pack in pack_list]
    _unique("models", model_ids, model_ids, "id")
    _unique("models", model_ids, [spec.file for spec in model_list], "file")
    _unique("packs", pack_ids, pack_ids, "id")
    manifest = Manifest(
        {spec.id: spec for spec in model_list}, {pack.id: pack for pack in pack_list}, licenses
    )
    _check_references(manifest)
    return manifest


def _check_references(manifest: Manifest) -> None:
    """Every licence, pack and member a manifest names exists, and nothing is named twice."""
    known = ", ".join(manifest.licenses) or "none"
    for index, spec in enumerate(manifest.models.values()):
        where = f"models[{index}] '{spec.id}'"
        if spec.license not in manifest.licenses:
            raise ManifestFault(f"{where}: license '{spec.license}' is not under [licenses] ({known})")
        if spec.pack is None and not spec.urls:
            raise ManifestFault(f"{where}: has neither 'urls' nor a 'pack'")
        if spec.pack is not None and spec.pack not in manifest.packs:
            raise ManifestFault(f"{where}: pack '{spec.pack}' is not one of the [[packs]]")
    for index, pack in enumerate(manifest.packs.values()):
        where = f"packs[{index}] '{pack.id}'"
        if pack.id in manifest.models:
            raise ManifestFault(f"{where}: id '{pack.id}' is also a model's id")
        if pack.license not in manifest.licenses:
            raise ManifestFault(f"{where}: license '{pack.license}' is not under [licenses] ({known})")
        for member in pack.members:
            member_spec = manifest.models.get(member)
            if member_spec is None:
                raise ManifestFault(f"{where}: member '{member}' is not one of the [[models]]")
            if member_spec.pack != pack.id:
                raise ManifestFault(f"{where}: member '{member}' does not name this pack as its 'pack'")


def load_manifest_file(path: Path) -> Manifest:
    try:
        with open(path, "rb") as handle:
            return _parse(tomllib.load(handle))
    except OSError as error:
        reason = error.strerror or str(error)
        raise ManifestError(f"cannot read the model manifest {path}: {reason}", path=str(path)) from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ManifestError(f"{path}: not valid TOML: {error}", path=str(path)) from error
    except ManifestFault as error:
        raise ManifestError(f"{path}: {error}", path=str(path)) from error


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
    resource = resources.files("facedeck.models").joinpath("manifest.toml")
    try:
        return _parse(tomllib.loads(resource.read_bytes().decode("utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ManifestFault) as error:
        # a packaging bug, but still one line naming the file
        raise ManifestError(f"{resource}: {' '.join(str(error).split())}", path=str(resource)) from error


@lru_cache(maxsize=8)
def _load_file_cached(path: Path) -> Manifest:
    return load_manifest_file(path)
