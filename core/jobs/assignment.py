"""A job's face assignment, read and embedded: the SwapSession that runs it."""

from __future__ import annotations

from ..faces.identities import Photo, face_embedding, identity_from_photos
from ..faces.selection import Mapping, SelectionMode
from ..faces.session import SwapOptions, SwapSession
from ..models.library import ModelLibrary
from .inputs import JobInputs
from .spec import FaceAssignment, FaceRef


def build_session(
    library: ModelLibrary, faces: FaceAssignment, options: SwapOptions, inputs: JobInputs
) -> SwapSession:
    """Read the photos, build the identities (cached by content) and make the session."""

    def photo(ref: FaceRef) -> tuple[Photo, int]:
        return Photo(ref.media.label, inputs.image(ref.media).bgr), ref.face

    def embedding(ref: FaceRef):  # noqa: ANN202 - an embedding array
        picture, index = photo(ref)
        return face_embedding(library, picture, options, face_index=index)

    if faces.mappings:
        mappings = [
            Mapping(
                source=identity_from_photos(
                    library,
                    [photo(ref) for ref in mapping.sources],
                    options,
                    name=mapping.sources[0].media.label,
                ),
                reference=embedding(mapping.reference),
            )
            for mapping in faces.mappings
        ]
        return SwapSession(library, options, mappings=mappings)
    identity = identity_from_photos(library, [photo(ref) for ref in faces.sources], options)
    reference = None
    if options.selection is SelectionMode.REFERENCE and faces.reference is not None:
        reference = embedding(faces.reference)
    return SwapSession(library, options, [identity], reference=reference)
