"""Copying one model file into the store, from a regular file or a zip member: refused unless it is
a regular file, capped, hashed on the way, and kept only when it matches its pin or is trusted."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import stat
from pathlib import Path
from typing import IO, BinaryIO

from ..errors import InputError, OutputError
from ..regular_files import open_regular, special_file_kind
from .manifest import ModelSpec
from .store import HASH_CHUNK, ImportMismatchError, ModelState, ModelStatus, ModelStore

log = logging.getLogger(__name__)

MAX_MODEL_BYTES = 2 * 1024**3
"""No model FaceDeck knows comes near this (the largest, inswapper_128, is 554 MB): a cap on any
one imported file, trusted ones included, that still leaves room for re-exports."""


def regular_file_size(path: Path) -> int:
    """``path``'s size, after ``os.stat`` (no open) shows it is a regular file of a sane size."""
    try:
        info = os.stat(path)
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}", path=str(path)) from error
    if not stat.S_ISREG(info.st_mode):
        raise _not_regular(path, info.st_mode)
    if info.st_size > MAX_MODEL_BYTES:
        raise InputError(
            f"{path} is {info.st_size} bytes, more than any model file ({MAX_MODEL_BYTES} bytes at most)",
            path=str(path),
        )
    return info.st_size


def open_model_file(path: Path) -> BinaryIO:
    """Open ``path`` for reading, never blocking on a FIFO that replaced it after the stat."""
    return open_regular(path, "model")


def copy_into_store(
    store: ModelStore, spec: ModelSpec, stream: IO[bytes], source: str, trust: bool
) -> ModelState:
    """Copy ``stream`` into the store as ``spec.file`` through a temporary file, hashing as it
    goes; keep it only if ``judge_import`` accepts it. Reads at most one byte past the cap: the
    pinned size, or MAX_MODEL_BYTES for a trusted file."""
    limit = MAX_MODEL_BYTES if trust else spec.size
    destination = store.directory / spec.file
    target, temporary = _create_temporary(store.directory, spec.file)
    hasher = hashlib.sha256()
    count = 0
    try:
        with target:
            while count <= limit:
                try:
                    chunk = stream.read(min(HASH_CHUNK, limit + 1 - count))
                except OSError as error:
                    raise InputError(
                        f"cannot read {source}: {error.strerror or error}", path=source
                    ) from error
                if not chunk:
                    break
                count += len(chunk)
                hasher.update(chunk)
                try:
                    target.write(chunk)
                except OSError as error:
                    raise _unwritable(store.directory, error) from error
        if count > limit:
            if not trust:
                raise size_mismatch(spec, source, count, more=True)
            raise InputError(
                f"{source} is more than {MAX_MODEL_BYTES} bytes, bigger than any model file", path=source
            )
        digest = hasher.hexdigest()
        status = judge_import(store, spec, digest, trust, source)
        try:
            os.replace(temporary, destination)
        except OSError as error:
            raise _unwritable(store.directory, error) from error
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    store.remember(destination, digest)
    log.info("imported %s from %s as %s", spec.id, source, status.value)
    return ModelState(spec, status, destination, count, digest)


def judge_import(store: ModelStore, spec: ModelSpec, digest: str, trust: bool, source: str) -> ModelStatus:
    """VERIFIED or TRUSTED (recording the trust); ImportMismatchError for a file not trusted."""
    status = store.judge(spec, digest)
    if status is ModelStatus.CORRUPT:
        if not trust:
            raise ImportMismatchError(
                f"{source} is not the published {spec.id}: its SHA-256 is {digest}, expected {spec.sha256}",
                path=source,
                model=spec.id,
                sha256=digest,
            )
        store.trust(spec.id, digest)
        status = ModelStatus.TRUSTED
    return status


def size_mismatch(spec: ModelSpec, source: str, size: int, *, more: bool = False) -> ImportMismatchError:
    """A file whose size alone shows it is not the pinned one (told before reading it whole)."""
    return ImportMismatchError(
        f"{source} is not the published {spec.id}: {'more than ' if more else ''}{size} bytes, "
        f"expected {spec.size}",
        path=source,
        model=spec.id,
        sha256=None,
    )


def mismatch_detail(spec: ModelSpec, error: ImportMismatchError) -> str:
    """A table's short form of ``error``: the sizes, or the two hashes' first digits."""
    if error.sha256 is None:  # size_mismatch's message ends with the sizes
        return f"not the published {spec.id}: {str(error).rsplit(': ', 1)[-1]}"
    return f"not the published {spec.id}: SHA-256 {error.sha256[:12]}..., expected {spec.sha256[:12]}..."


def make_store_folder(store: ModelStore) -> None:
    try:
        store.directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _unwritable(store.directory, error) from error


def _create_temporary(folder: Path, file_name: str) -> tuple[BinaryIO, Path]:
    """A new hidden ``.part`` file next to its destination, created with the mode a normal file
    gets under the user's umask (mkstemp's 0600 would follow the model into the store)."""
    for _ in range(16):
        path = folder / f".{file_name}.{secrets.token_hex(4)}.part"
        try:
            descriptor = os.open(
                path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666
            )
        except FileExistsError:
            continue
        except OSError as error:
            raise _unwritable(folder, error) from error
        return os.fdopen(descriptor, "wb"), path
    raise OutputError(f"cannot create a temporary file in the models folder {folder}", path=str(folder))


def _unwritable(folder: Path, error: OSError) -> OutputError:
    return OutputError(
        f"cannot write to the models folder {folder}: {error.strerror or error}", path=str(folder)
    )


def _not_regular(path: Path, mode: int) -> InputError:
    kind = "a folder" if stat.S_ISDIR(mode) else special_file_kind(mode)
    return InputError(f"{path} is {kind}, not a regular file; refusing to read it", path=str(path))
