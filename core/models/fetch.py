"""Fetching a store's models: each one downloaded (or unpacked from its pack) and verified, with an
outcome per model, so one unreachable file does not hide what happened to the others."""

from __future__ import annotations

import enum
import tempfile
import threading
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import download as downloads
from .archive import extract_zip_members
from .download_errors import DownloadError
from .manifest import ModelSpec, PackSpec
from .store import ModelStatus, ModelStore


class DownloadStatus(str, enum.Enum):
    DOWNLOADED = "downloaded"  # fetched now, size and SHA-256 verified
    PRESENT = "present"  # already in the store and verified (or trusted): not fetched
    FAILED = "failed"


@dataclass(frozen=True)
class DownloadOutcome:
    spec: ModelSpec
    status: DownloadStatus
    path: Path
    error: DownloadError | None = None


def download_models(
    store: ModelStore,
    specs: Sequence[ModelSpec],
    *,
    progress: Callable | None = None,
    mirror: str | None = None,
    cancel: threading.Event | None = None,
    download_file: Callable | None = None,
    on_outcome: Callable[[DownloadOutcome], None] | None = None,
) -> list[DownloadOutcome]:
    """Fetch what ``specs`` need (packs unpacked to the members asked for); return one outcome
    per spec in ``specs`` order, each also passed to ``on_outcome`` as soon as it is known.

    A DownloadError ends that model (or that pack's models) only. Cancelling (DownloadCancelled),
    a bad mirror (UsageError) or an unwritable models folder ends the whole call. Hosts found
    unreachable are remembered across the files of this call, so offline it answers at once.
    """
    fetch: Callable[..., Path] = download_file or downloads.download_file
    unreachable: dict[str, str] = {}
    options: dict[str, Any] = {
        "progress": progress,
        "mirror": mirror,
        "cancel": cancel,
        "unreachable_hosts": unreachable,
    }
    outcomes: dict[str, DownloadOutcome] = {}

    def record(outcome: DownloadOutcome) -> None:
        outcomes[outcome.spec.id] = outcome
        if on_outcome is not None:
            on_outcome(outcome)

    created = not store.directory.exists()
    try:
        _fetch_all(store, specs, fetch, options, record)
    finally:
        if created:
            _remove_if_empty(store.directory)  # a run that got nothing leaves no folder behind
    return [outcomes[spec.id] for spec in specs if spec.id in outcomes]


def _fetch_all(
    store: ModelStore,
    specs: Sequence[ModelSpec],
    fetch: Callable[..., Path],
    options: dict[str, Any],
    record: Callable[[DownloadOutcome], None],
) -> None:
    done: set[str] = set()
    packs: dict[str, PackSpec] = {}
    for spec in specs:
        if store.state(spec, hash_files=True).status in (ModelStatus.VERIFIED, ModelStatus.TRUSTED):
            record(DownloadOutcome(spec, DownloadStatus.PRESENT, store.directory / spec.file))
            done.add(spec.id)
        elif spec.pack:
            packs[spec.pack] = store.manifest.packs[spec.pack]
        else:
            try:
                path = fetch(
                    spec.urls,
                    store.directory / spec.file,
                    expected_size=spec.size,
                    expected_sha256=spec.sha256,
                    **options,
                )
            except DownloadError as error:
                record(DownloadOutcome(spec, DownloadStatus.FAILED, store.directory / spec.file, error))
                continue
            store.remember(path, spec.sha256)
            record(DownloadOutcome(spec, DownloadStatus.DOWNLOADED, path))
    for pack in packs.values():
        members = [spec for spec in specs if spec.pack == pack.id and spec.id not in done]
        for outcome in _from_pack(store, pack, members, fetch, options):
            record(outcome)


def _from_pack(
    store: ModelStore,
    pack: PackSpec,
    members: list[ModelSpec],
    fetch: Callable[..., Path],
    options: dict[str, Any],
) -> list[DownloadOutcome]:
    """Download ``pack`` once into a scratch folder and extract each member on its own, so a bad
    member fails alone; the scratch folder (and the zip) is gone afterwards."""
    outcomes: list[DownloadOutcome] = []
    try:
        store.directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(f"cannot create {store.directory}: {error.strerror or error}") from error
    with tempfile.TemporaryDirectory(dir=store.directory, prefix=".pack-") as scratch:
        try:
            archive = fetch(
                pack.urls,
                Path(scratch) / pack.file,
                expected_size=pack.size,
                expected_sha256=pack.sha256,
                **options,
            )
            entries = _member_entries(archive, members)
        except DownloadError as error:
            return [
                DownloadOutcome(spec, DownloadStatus.FAILED, store.directory / spec.file, error)
                for spec in members
            ]
        for spec in members:
            try:
                (path,) = extract_zip_members(
                    archive, {entries[spec.id]: (spec.size, spec.sha256)}, store.directory
                )
            except DownloadError as error:
                outcomes.append(
                    DownloadOutcome(spec, DownloadStatus.FAILED, store.directory / spec.file, error)
                )
                continue
            store.remember(path, spec.sha256)
            outcomes.append(DownloadOutcome(spec, DownloadStatus.DOWNLOADED, path))
    return outcomes


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # not empty (something was fetched, or the hash cache), or already gone
        pass


def _member_entries(archive: Path, members: Sequence[ModelSpec]) -> dict[str, str]:
    """Each wanted model's entry in the zip, whether at the root or in a folder."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            names = bundle.namelist()
    except (zipfile.BadZipFile, OSError) as error:
        raise DownloadError(f"{archive.name} is not a readable zip archive: {error}") from error
    return {
        spec.id: next(
            (name for name in names if name.replace("\\", "/").rsplit("/", 1)[-1] == spec.file), spec.file
        )
        for spec in members
    }
