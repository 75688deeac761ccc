"""What a swap reads and writes: targets from paths, folders and globs, and result names.

Result names never overwrite anything: a name already taken on disk (an input, an earlier
result, any file) or by an earlier target of the same run gets a number before its
extension (photo.facedeck.jpg, photo.facedeck-2.jpg, ...). Only an explicit ``-o FILE``
for a single target names its file exactly, as it always has.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ...core.errors import UsageError
from ...core.media.formats import (
    ANIMATED_EXTENSIONS,
    FORMAT_BY_EXTENSION,
    IMAGE_INPUT_EXTENSIONS,
    IMAGE_OUTPUT_EXTENSIONS,
    VIDEO_EXTENSIONS,
)

MEDIA_EXTENSIONS = IMAGE_INPUT_EXTENSIONS | VIDEO_EXTENSIONS | ANIMATED_EXTENSIONS
# Results of the default pattern: left out of folders and globs, so a second run over a
# folder does not swap the first run's results.
RESULT_NAME = re.compile(r"\.facedeck(-\d+)?\.[^.]+$", re.IGNORECASE)
GLOB_CHARACTERS = frozenset("*?[")


@dataclass
class Targets:
    """The target files of a run, and whether it is a batch (several, or a folder or glob)."""

    paths: list[str]
    batch: bool


def expand_targets(values: list[str]) -> Targets:
    """Files named, folders' images and videos (sorted, not recursive), globs' matches (sorted).

    A folder without media or a glob without matches is a usage error: nothing would run.
    A named file is taken as it is; if it is missing or unreadable, that target fails.
    """
    paths: list[str] = []
    batch = len(values) > 1
    for value in values:
        path = Path(value).expanduser()
        if path.is_dir():
            batch = True
            found = [str(item) for item in sorted(path.iterdir()) if _is_media(item)]
            if not found:
                raise UsageError(f"{value}: no images or videos in this folder", path=value)
            paths += found
        elif not os.path.lexists(path) and GLOB_CHARACTERS & set(value):
            batch = True
            found = [item for item in sorted(glob.glob(str(path))) if Path(item).is_file()]
            found = [item for item in found if not RESULT_NAME.search(Path(item).name)]
            if not found:
                raise UsageError(f"no file matches {value}", path=value)
            paths += found
        else:
            paths.append(value)
    unique: dict[str, str] = {}
    for item in paths:
        unique.setdefault(os.path.abspath(item), item)
    return Targets(list(unique.values()), batch)


def _is_media(path: Path) -> bool:
    return (
        path.is_file()
        and not path.name.startswith(".")
        and path.suffix.lower() in MEDIA_EXTENSIONS
        and not RESULT_NAME.search(path.name)
    )


def output_extension(target: str, video: bool) -> str:
    """The target's own extension when it can be written as the same kind, else .mp4 or .png."""
    suffix = Path(target).suffix
    if video:
        return suffix if suffix.lower() in FORMAT_BY_EXTENSION else ".mp4"
    return suffix if suffix.lower() in IMAGE_OUTPUT_EXTENSIONS else ".png"


@dataclass
class Namer:
    """Picks each target's result path; remembers the names it gave, so two targets never share one."""

    output: str | None
    pattern: str
    batch: bool
    claimed: set[str] = field(default_factory=set)
    created: list[Path] = field(default_factory=list)  # folders made for the results, deepest last

    def __post_init__(self) -> None:
        if self.output is not None and self.batch and Path(self.output).is_file():
            raise UsageError(
                f"-o {self.output} is a file; with several targets -o names a folder", path=self.output
            )

    @property
    def folder(self) -> Path | None:
        """The folder results go into; None: next to each target, or -o is one file."""
        if self.output is None:
            return None
        if self.batch or self.output.endswith(("/", os.sep)) or Path(self.output).is_dir():
            return Path(self.output).expanduser()
        return None

    def output_for(self, target: str, index: int, video: bool) -> str:
        if self.output is not None and self.folder is None:
            return self.output  # -o FILE for one target: exactly that
        folder = self.folder or Path(target).parent
        source = Path(target)
        name = self.pattern.format(
            stem=source.stem, ext=output_extension(target, video), name=source.name, index=index
        )
        return str(self._free(folder / name))

    def _free(self, path: Path) -> Path:
        candidate, number = path, 1
        while os.path.lexists(candidate) or os.path.abspath(candidate) in self.claimed:
            number += 1
            candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        self.claimed.add(os.path.abspath(candidate))
        return candidate

    def make_folder(self) -> None:
        """Create the results folder (and missing parents); ``remove_empty_folders`` undoes it."""
        folder = self.folder
        if folder is None or folder.is_dir():
            return
        missing = [folder, *[parent for parent in folder.parents if not parent.exists()]]
        try:
            folder.mkdir(parents=True)
        except OSError as error:
            reason = error.strerror or str(error)
            raise UsageError(
                f"{folder}: cannot create the output folder ({reason})", path=str(folder)
            ) from None
        self.created = list(reversed(missing))

    def remove_empty_folders(self) -> None:
        """Remove the folders ``make_folder`` created when no result ended up in them."""
        for folder in reversed(self.created):
            try:
                folder.rmdir()
            except OSError:
                return  # not empty: it holds results (or someone else's files)
