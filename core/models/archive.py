"""Safe extraction of zipped model packs: listed members only, verified, no names outside the archive."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from .download_errors import DownloadError
from .partfile import FILE_BLOCK, check_free_space, os_reason

log = logging.getLogger(__name__)

_DRIVE = re.compile(r"^[A-Za-z]:")


def extract_zip_members(
    archive: Path, members: Mapping[str, tuple[int, str]], destination_dir: Path
) -> list[Path]:
    """Extract the listed members of ``archive`` (name inside the zip -> (size, sha256)) by basename
    into ``destination_dir``, verifying each; return the paths written, in ``members`` order.

    An archive with any member named outside its root (absolute, drive, UNC or ``..``) is refused
    before anything is written. A missing, oversized, corrupt or wrongly hashed member raises
    DownloadError and leaves nothing of that member behind.
    """
    archive = Path(archive)
    destination_dir = Path(destination_dir)
    try:
        zip_file = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise DownloadError(f"{archive.name} is not a readable zip archive: {error}") from error
    with zip_file:
        infos = zip_file.infolist()
        # A hostile pack is refused as a whole, even if the bad member isn't one we asked for.
        for info in infos:
            if unsafe_member_name(info.filename):
                raise DownloadError(
                    f"refusing {archive.name}: member {info.filename!r} points outside the archive folder"
                )
        by_name = {info.filename: info for info in infos}
        missing = [name for name in members if name not in by_name]
        if missing:
            raise DownloadError(f"{archive.name} does not contain {', '.join(missing)}")
        targets: dict[str, Path] = {}
        for name in members:
            base = PurePosixPath(name.replace("\\", "/")).name
            info = by_name[name]
            if not base or info.is_dir():
                raise DownloadError(f"{archive.name}: {name!r} is a folder, not a file")
            if by_name[name].flag_bits & 0x1:
                raise DownloadError(f"{archive.name}: {name} is encrypted")
            if base in {path.name for path in targets.values()}:
                raise DownloadError(f"{archive.name}: two listed members are both named {base}")
            targets[name] = destination_dir / base
        try:
            destination_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DownloadError(f"cannot create {destination_dir}: {os_reason(error)}") from error
        check_free_space(destination_dir, sum(size for size, _ in members.values()), archive.name)
        return [
            _extract_member(
                zip_file, by_name[name], size, sha256.strip().lower(), targets[name], archive.name
            )
            for name, (size, sha256) in members.items()
        ]


def _extract_member(
    zip_file: zipfile.ZipFile, info: zipfile.ZipInfo, size: int, sha256: str, target: Path, archive_name: str
) -> Path:
    """Stream one member into ``target``.part, hashing while writing; rename it once verified."""
    part = target.with_name(target.name + ".part")
    hasher = hashlib.sha256()
    count = 0
    try:
        with zip_file.open(info) as source, open(part, "wb") as out:
            # Never read more than size + 1 bytes: enough to tell "too big" without
            # inflating a zip bomb.
            while count <= size and (block := source.read(min(FILE_BLOCK, size + 1 - count))):
                count += len(block)
                out.write(block)
                hasher.update(block)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        _remove_quietly(part)
        raise DownloadError(f"{archive_name}: member {info.filename} is corrupt: {error}") from error
    except OSError as error:
        _remove_quietly(part)
        raise DownloadError(f"cannot write {part}: {os_reason(error)}") from error
    problem = None
    if count != size:
        problem = f"{'more than ' if count > size else ''}{count} bytes, expected {size}"
    elif hasher.hexdigest() != sha256:
        problem = f"SHA-256 mismatch (got {hasher.hexdigest()[:16]}..., expected {sha256[:16]}...)"
    if problem is not None:
        _remove_quietly(part)
        raise DownloadError(f"{archive_name}: member {info.filename} is not the expected file: {problem}")
    try:
        os.replace(part, target)
    except OSError as error:
        _remove_quietly(part)
        raise DownloadError(f"cannot move {part} to {target}: {os_reason(error)}") from error
    return target


def unsafe_member_name(name: str) -> bool:
    """Absolute (``/x``, ``\\x``, ``\\\\server\\x``), drive-qualified (``C:x``) or with a ``..`` part."""
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return True
    return ".." in re.split(r"[\\/]", name)


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as error:
        log.warning("cannot delete %s: %s", path, error)
