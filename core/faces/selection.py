"""Which target faces receive which source identity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .face import Face
from .options import DEFAULT_DISTANCE, SelectionMode  # defined with the options; importable here too
from .recognizer import l2_normalize


@dataclass
class SourceIdentity:
    """A person to put onto targets: one normalised embedding averaged over their photos."""

    name: str
    embedding: np.ndarray

    @classmethod
    def from_embeddings(cls, name: str, embeddings: Sequence[np.ndarray]) -> SourceIdentity:
        stacked = l2_normalize(np.stack([np.asarray(e, dtype=np.float32).reshape(-1) for e in embeddings]))
        return cls(name=name, embedding=l2_normalize(stacked.mean(axis=0)))


@dataclass
class Mapping:
    """Put ``source`` onto every target face within ``threshold`` of ``reference``."""

    source: SourceIdentity
    reference: np.ndarray


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    """1 - cosine similarity of two embeddings (0 = same direction, 2 = opposite)."""
    return float(1.0 - np.dot(l2_normalize(a).reshape(-1), l2_normalize(b).reshape(-1)))


def _embedding(face: Face) -> np.ndarray:
    """The face's embedding, which is filled in before faces are chosen by likeness."""
    assert face.embedding is not None  # SwapSession.select embeds faces that lack one
    return face.embedding


def needs_embeddings(mode: SelectionMode, mappings: Sequence[Mapping]) -> bool:
    """Whether target faces must be recognised to choose among them."""
    return bool(mappings) or mode is SelectionMode.REFERENCE


def assign(
    faces: Sequence[Face],
    mode: SelectionMode,
    *,
    mappings: Sequence[Mapping] = (),
    reference: np.ndarray | None = None,
    threshold: float = DEFAULT_DISTANCE,
) -> list[tuple[Face, int]]:
    """Pairs of (target face, index of the source identity to put on it).

    Without mappings there is one source (index 0). With mappings, each face goes to the
    mapping whose reference is nearest, if that is within ``threshold``; other faces are
    left alone. ``reference`` mode without mappings keeps faces near ``reference``.
    """
    if not faces:
        return []
    if mappings:
        pairs = []
        for face in faces:
            distances = [cosine_distance(_embedding(face), mapping.reference) for mapping in mappings]
            best = int(np.argmin(distances))
            if distances[best] <= threshold:
                pairs.append((face, best))
        return pairs
    if mode is SelectionMode.ONE:
        return [(max(faces, key=lambda face: face.area), 0)]
    if mode is SelectionMode.MANY:
        return [(face, 0) for face in faces]
    if reference is None:
        raise ValueError("reference selection needs a reference embedding")
    return [(face, 0) for face in faces if cosine_distance(_embedding(face), reference) <= threshold]
