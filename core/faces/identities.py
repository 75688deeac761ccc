"""Who a photo shows: faces in a photo (for a face picker) and identities averaged over photos.

Embedding a source photo costs a detection and a recognition; a window rebuilds its
session on every option change, so embeddings are cached by the photo's pixel content
and the face picked in it (``IdentityCache``), never by file name.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ..errors import NoFaceError
from .face import Face
from .selection import SourceIdentity
from .session import SwapOptions, detect_faces

if TYPE_CHECKING:
    from ..models.library import ModelLibrary

PICKER_CROP_SIZE = 160


@dataclass(frozen=True)
class Photo:
    """A decoded photo (BGR uint8) with the name to show in messages."""

    name: str
    bgr: np.ndarray

    def digest(self) -> str:
        """A content digest of the pixels: the same picture read from two files is one key."""
        pixels = np.ascontiguousarray(self.bgr)
        hasher = hashlib.blake2b(digest_size=16)
        hasher.update(repr(pixels.shape).encode())
        hasher.update(pixels.data.cast("B"))
        return hasher.hexdigest()


@dataclass(frozen=True)
class PhotoFace:
    """One face found in a photo, for a face picker: its rank, box, score and a square crop."""

    index: int  # 0 = the largest face, as ``face`` in a job's source entries counts
    bbox: tuple[float, float, float, float]
    score: float
    crop: np.ndarray  # BGR, PICKER_CROP_SIZE square, the box grown by a margin


class IdentityCache:
    """Embeddings by (photo content, face index, detector settings); bounded, thread-safe."""

    def __init__(self, capacity: int = 64) -> None:
        self._capacity = capacity
        self._items: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> np.ndarray | None:
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: tuple, embedding: np.ndarray) -> None:
        with self._lock:
            self._items[key] = embedding
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)


def faces_by_size(library: ModelLibrary, photo: Photo, options: SwapOptions) -> list[Face]:
    """Every face in the photo, largest first (the order a job's face index counts in)."""
    faces = detect_faces(library, photo.bgr, options)
    return sorted(faces, key=lambda face: -face.area)


def faces_in_photo(
    library: ModelLibrary, photo: Photo, options: SwapOptions, crop_size: int = PICKER_CROP_SIZE
) -> list[PhotoFace]:
    """The faces of a photo with crops to show, so a user can pick which one is the source."""
    found = []
    for index, face in enumerate(faces_by_size(library, photo, options)):
        x0, y0, x1, y1 = (float(value) for value in face.bbox)
        side = max(x1 - x0, y1 - y0) * 1.4  # some hair and chin around the box
        cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
        scale = crop_size / max(side, 1.0)
        matrix = np.array(
            [[scale, 0.0, crop_size / 2.0 - cx * scale], [0.0, scale, crop_size / 2.0 - cy * scale]],
            dtype=np.float32,
        )
        crop = cv2.warpAffine(photo.bgr, matrix, (crop_size, crop_size), flags=cv2.INTER_AREA)
        found.append(PhotoFace(index, (x0, y0, x1, y1), face.score, crop))
    return found


def face_embedding(
    library: ModelLibrary,
    photo: Photo,
    options: SwapOptions,
    *,
    face_index: int = 0,
) -> np.ndarray:
    """The embedding of the ``face_index``-th largest face (cached in the library's
    ``identities``); NoFaceError naming the photo."""
    key = (photo.digest(), face_index, options.detector_size, options.detector_threshold)
    cached = library.identities.get(key)
    if cached is not None:
        return cached
    faces = faces_by_size(library, photo, options)
    if not faces:
        raise NoFaceError(f"no face found in {photo.name}", path=photo.name)
    if face_index >= len(faces):
        raise NoFaceError(
            f"{photo.name} has {len(faces)} face(s); the face ranked {face_index + 1} by size was asked for",
            path=photo.name,
        )
    face = faces[face_index]
    library.recognizer().embed(photo.bgr, [face])
    assert face.embedding is not None  # embed() fills it in
    library.identities.put(key, face.embedding)
    return face.embedding


def identity_from_photos(
    library: ModelLibrary,
    photos: Sequence[tuple[Photo, int]],
    options: SwapOptions,
    *,
    name: str | None = None,
) -> SourceIdentity:
    """One identity averaged over several (photo, face index) of the same person."""
    embeddings = [face_embedding(library, photo, options, face_index=index) for photo, index in photos]
    return SourceIdentity.from_embeddings(name or photos[0][0].name, embeddings)
