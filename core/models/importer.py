"""Importing model files the user already has: one file, a folder of them, or a zipped pack.

Files are recognised by name: FaceDeck's own (which Deep-Live-Cam's ``models/`` and
InsightFace's ``~/.insightface/models/buffalo_l`` share) and the names FaceFusion's
``.assets/models`` gives the same models (``ALIASES``). A name only says which pin to check:
every file is hashed while it is copied (never moved) into the store and kept only when it
matches the pin, or when the caller trusts files that differ (``trust``). A pack zip such as
``buffalo_l.zip`` is read member by member, each member checked against its own pin.

Nothing is read before ``os.stat`` says it is a regular file, and no copy grows past
``MAX_MODEL_BYTES``, so a FIFO, a device or a huge file cannot hang or fill anything.
"""

from __future__ import annotations

import enum
import os
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, UsageError
from .archive import unsafe_member_name
from .import_copy import (
    copy_into_store,
    judge_import,
    make_store_folder,
    mismatch_detail,
    open_model_file,
    regular_file_size,
    size_mismatch,
)
from .manifest import Manifest, ModelSpec
from .store import ImportMismatchError, ModelState, ModelStatus, ModelStore

MAX_DEPTH = 4
"""Folders scanned below the one given: ``~/.insightface`` -> models -> buffalo_l is depth 2,
a FaceFusion checkout -> .assets -> models is depth 2."""
MAX_ENTRIES = 20_000  # directory entries looked at in one scan (someone may point at ~)

ALIASES = {
    # FaceFusion's .assets/models names for files FaceDeck knows by another name; the pin
    # decides whether the bytes are the same model (a re-export is reported, not imported).
    "gfpgan_1.4.onnx": "GFPGANv1.4.onnx",
    "arcface_w600k_r50.onnx": "w600k_r50.onnx",
}
MODEL_SUFFIXES = frozenset({".onnx", ".pth", ".pt", ".ckpt", ".safetensors", ".zip"})
"""Unknown files with these suffixes are listed as skipped; other unknown files are only counted."""


class ImportStatus(str, enum.Enum):
    VERIFIED = "verified"  # copied; matches the published SHA-256
    TRUSTED = "trusted"  # copied; differs from the pin, accepted because the caller trusts it
    PRESENT = "present"  # the store already holds the verified file; nothing read
    MISMATCH = "mismatch"  # differs from the pin; not imported
    FAILED = "failed"  # not a regular file, unreadable, too big, a corrupt or unsafe zip
    SKIPPED = "skipped"  # not a file FaceDeck uses


@dataclass(frozen=True)
class ImportOutcome:
    """What happened to one file (``source`` is a path, or ``archive.zip:member``)."""

    source: str
    status: ImportStatus
    model: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class ImportReport:
    outcomes: list[ImportOutcome]
    ignored: int = 0  # files that are neither known nor look like models


def identify(manifest: Manifest, file_name: str) -> ModelSpec | None:
    """The model a file of this name would be, by FaceDeck's name or a known alias."""
    return manifest.by_file(file_name) or manifest.by_file(ALIASES.get(file_name, ""))


def import_file(store: ModelStore, spec: ModelSpec, source: Path, *, trust: bool = False) -> ModelState:
    """Copy one file into the store as ``spec``; raise ImportMismatchError unless it matches
    the pin or ``trust`` (then its hash is trusted on this machine)."""
    size = regular_file_size(source)
    make_store_folder(store)
    destination = store.directory / spec.file
    if destination.exists() and os.path.samefile(source, destination):
        digest = store.sha256(destination, rehash=True)
        return ModelState(
            spec, judge_import(store, spec, digest, trust, str(source)), destination, size, digest
        )
    if not trust and size != spec.size:
        raise size_mismatch(spec, str(source), size)
    with open_model_file(source) as origin:
        return copy_into_store(store, spec, origin, str(source), trust)


def import_path(store: ModelStore, path: Path, *, trust: bool = False) -> ImportReport:
    """Import what ``path`` holds: a folder (scanned), a zip (member by member) or a known file."""
    path = Path(path).expanduser()
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}", path=str(path)) from error
    if stat.S_ISDIR(mode):
        make_store_folder(store)
        return _import_folder(store, path, trust)
    regular_file_size(path)  # refuses FIFOs, devices and sockets before anything opens them
    make_store_folder(store)
    if path.suffix.lower() == ".zip":
        return ImportReport(_import_zip(store, path, trust))
    spec = identify(store.manifest, path.name)
    if spec is None:
        known = ", ".join(store.manifest.models)
        raise UsageError(
            f"cannot tell which model {path} is from its name; give the model id with it (known: {known})",
            path=str(path),
        )
    return ImportReport([_import_one(store, spec, path, trust)])


# --- internals ----------------------------------------------------------------------------------


def _import_folder(store: ModelStore, root: Path, trust: bool) -> ImportReport:
    outcomes: list[ImportOutcome] = []
    ignored = 0
    packs = {pack.file for pack in store.manifest.packs.values()}
    for path, problem in _walk(root):
        if problem is not None:
            outcomes.append(ImportOutcome(str(path), ImportStatus.FAILED, detail=problem))
            continue
        spec = identify(store.manifest, path.name)
        if spec is not None:
            outcomes.append(_import_one(store, spec, path, trust))
        elif path.name in packs:
            outcomes.extend(_import_zip(store, path, trust))
        elif path.suffix.lower() in MODEL_SUFFIXES:
            outcomes.append(ImportOutcome(str(path), ImportStatus.SKIPPED, detail="not a file FaceDeck uses"))
        else:
            ignored += 1
    return ImportReport(outcomes, ignored)


def _walk(root: Path) -> Iterator[tuple[Path, str | None]]:
    """Files under ``root``, breadth first and sorted, at most MAX_DEPTH folders down; symlinked
    folders are not followed (no loops). Yields (path, None), or (folder, problem) for a folder
    that cannot be read or a scan cut short."""
    level = [root]
    seen = 0
    for depth in range(MAX_DEPTH + 1):
        below: list[Path] = []
        for folder in level:
            try:
                with os.scandir(folder) as listing:
                    entries = sorted(listing, key=lambda entry: entry.name)
            except OSError as error:
                yield folder, f"cannot list this folder: {error.strerror or error}"
                continue
            for entry in entries:
                seen += 1
                if seen > MAX_ENTRIES:
                    yield (
                        root,
                        f"stopped after {MAX_ENTRIES} entries; point at the folder that holds the models",
                    )
                    return
                if entry.is_dir(follow_symlinks=False):
                    if depth < MAX_DEPTH:
                        below.append(Path(entry.path))
                elif not entry.is_dir():  # a symlink to a folder is neither walked nor a file
                    yield Path(entry.path), None
        level = below


def _import_one(store: ModelStore, spec: ModelSpec, path: Path, trust: bool) -> ImportOutcome:
    try:
        regular_file_size(path)  # a FIFO or device named like a model is refused, never skipped
        if _already_verified(store, spec):
            return ImportOutcome(str(path), ImportStatus.PRESENT, spec.id, "already in the store")
        state = import_file(store, spec, path, trust=trust)
    except ImportMismatchError as error:
        return ImportOutcome(str(path), ImportStatus.MISMATCH, spec.id, mismatch_detail(spec, error))
    except InputError as error:
        return ImportOutcome(str(path), ImportStatus.FAILED, spec.id, _reason(error, str(path)))
    return _imported(str(path), state)


def _import_zip(store: ModelStore, archive: Path, trust: bool) -> list[ImportOutcome]:
    try:
        bundle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        return [
            ImportOutcome(str(archive), ImportStatus.FAILED, detail=f"not a readable zip archive: {error}")
        ]
    with bundle:
        infos = bundle.infolist()
        unsafe = next((info.filename for info in infos if unsafe_member_name(info.filename)), None)
        if unsafe is not None:  # a hostile archive is refused as a whole
            return [
                ImportOutcome(
                    str(archive), ImportStatus.FAILED, detail=f"member {unsafe!r} points outside the archive"
                )
            ]
        outcomes: list[ImportOutcome] = []
        for info in infos:
            if info.is_dir():
                continue
            label = f"{archive}:{info.filename}"
            spec = identify(store.manifest, info.filename.replace("\\", "/").rsplit("/", 1)[-1])
            if spec is None:
                if Path(info.filename).suffix.lower() in MODEL_SUFFIXES:
                    outcomes.append(
                        ImportOutcome(label, ImportStatus.SKIPPED, detail="not a file FaceDeck uses")
                    )
                continue
            outcomes.append(_import_member(store, bundle, info, spec, label, trust))
    return outcomes


def _import_member(
    store: ModelStore,
    bundle: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    spec: ModelSpec,
    label: str,
    trust: bool,
) -> ImportOutcome:
    if _already_verified(store, spec):
        return ImportOutcome(label, ImportStatus.PRESENT, spec.id, "already in the store")
    if info.flag_bits & 0x1:
        return ImportOutcome(label, ImportStatus.FAILED, spec.id, "encrypted")
    if not trust and info.file_size != spec.size:
        return ImportOutcome(
            label,
            ImportStatus.MISMATCH,
            spec.id,
            mismatch_detail(spec, size_mismatch(spec, label, info.file_size)),
        )
    try:
        with bundle.open(info) as member:
            state = copy_into_store(store, spec, member, label, trust)
    except ImportMismatchError as error:
        return ImportOutcome(label, ImportStatus.MISMATCH, spec.id, mismatch_detail(spec, error))
    except InputError as error:
        return ImportOutcome(label, ImportStatus.FAILED, spec.id, _reason(error, label))
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        return ImportOutcome(label, ImportStatus.FAILED, spec.id, f"corrupt member: {error}")
    return _imported(label, state)


def _already_verified(store: ModelStore, spec: ModelSpec) -> bool:
    return store.state(spec, hash_files=True).status is ModelStatus.VERIFIED


def _imported(source: str, state: ModelState) -> ImportOutcome:
    status = ImportStatus.VERIFIED if state.status is ModelStatus.VERIFIED else ImportStatus.TRUSTED
    return ImportOutcome(source, status, state.spec.id, str(state.path))


def _reason(error: InputError, source: str) -> str:
    """``error``'s line without the leading file name, which the outcome shows already."""
    text = str(error)
    return text[len(source) + 1 :] if text.startswith(f"{source} ") else text
