"""One image swap, start to finish: read, identify sources, swap, write atomically."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import NoFaceError
from ..faces.engine import FaceSwapEngine
from ..faces.selection import Mapping, SelectionMode
from ..media import image_io

log = logging.getLogger(__name__)

PathLike = str | os.PathLike


@dataclass
class FaceAssignment:
    """Who goes where: source photos (averaged into one person), or source->reference mappings."""

    sources: list[Path] = field(default_factory=list)
    mappings: list[tuple[list[Path], Path]] = field(default_factory=list)
    reference: Path | None = None

    def input_paths(self) -> list[Path]:
        paths = list(self.sources)
        for photos, reference in self.mappings:
            paths.extend(photos)
            paths.append(reference)
        if self.reference is not None:
            paths.append(self.reference)
        return paths

    def apply(self, engine: FaceSwapEngine) -> None:
        """Read the photos, build the identities and hand them to ``engine``."""

        def photo(path: Path) -> tuple[str, object]:
            return (path.name, image_io.read_image(path).bgr)

        if self.mappings:
            mappings = [
                Mapping(
                    source=engine.identity_from_photos([photo(p) for p in photos], name=photos[0].name),
                    reference=engine.largest_face(photo(reference)[1], reference.name).embedding,
                )
                for photos, reference in self.mappings
            ]
            engine.set_sources([], mappings=mappings)
            return
        if not self.sources:
            raise ValueError("a job needs source photos or mappings")
        identity = engine.identity_from_photos([photo(p) for p in self.sources])
        reference = None
        if engine.settings.selection is SelectionMode.REFERENCE:
            if self.reference is None:
                raise ValueError("reference selection needs a reference photo")
            reference = engine.largest_face(photo(self.reference)[1], self.reference.name).embedding
        engine.set_sources([identity], reference=reference)


@dataclass
class ImageJob:
    """What to swap in one image."""

    target: Path
    output: Path
    faces: FaceAssignment
    quality: int = 95

    def input_paths(self) -> list[Path]:
        return [self.target, *self.faces.input_paths()]


@dataclass
class ImageJobResult:
    output: Path
    faces_found: int
    faces_swapped: int
    seconds: float


def group_mappings(pairs: Sequence[tuple[PathLike, PathLike]]) -> list[tuple[list[Path], Path]]:
    """``[(source, reference), ...]`` -> one entry per reference, its source photos averaged."""
    grouped: dict[Path, list[Path]] = {}
    for source, reference in pairs:
        grouped.setdefault(Path(reference), []).append(Path(source))
    return [(photos, reference) for reference, photos in grouped.items()]


def run_image_job(engine: FaceSwapEngine, job: ImageJob) -> ImageJobResult:
    """Run ``job`` on ``engine``; raises FaceDeckError subclasses with one-line messages."""
    started = time.perf_counter()
    image_io.check_output_path(job.output, job.input_paths())
    # List every missing model at once, before any work is done.
    engine.models.require(engine.settings.required_roles())
    target = image_io.read_image(job.target)
    job.faces.apply(engine)

    frame = target.bgr.copy()
    result = engine.process(frame)
    if result.faces_found == 0:
        raise NoFaceError(f"no face found in {job.target.name}")
    if result.faces_swapped == 0:
        raise NoFaceError(
            f"none of the {result.faces_found} face(s) in {job.target.name} matches the reference "
            f"(distance threshold {engine.settings.distance_threshold})"
        )
    pixels = image_io.merge_result(target, result.frame)
    written = image_io.write_image(
        job.output, pixels, quality=job.quality, inputs=job.input_paths(), icc_profile=target.icc_profile
    )
    seconds = time.perf_counter() - started
    log.info(
        "wrote %s: %d of %d face(s) swapped in %.2f s",
        written,
        result.faces_swapped,
        result.faces_found,
        seconds,
    )
    return ImageJobResult(written, result.faces_found, result.faces_swapped, seconds)
