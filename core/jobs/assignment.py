"""A job's face assignment, read and embedded: the SwapSession that runs it."""

from __future__ import annotations

from ..errors import FieldProblem, InvalidJobError
from ..faces.identities import Photo, face_embedding, identity_from_photos
from ..faces.selection import Mapping, SelectionMode
from ..faces.session import SwapOptions, SwapSession
from ..models.library import ModelLibrary
from .inputs import JobInputs
from .spec import FaceAssignment, FaceRef
from .timecode import format_time


def build_session(
    library: ModelLibrary, faces: FaceAssignment, options: SwapOptions, inputs: JobInputs
) -> SwapSession:
    """Read the photos, build the identities (cached by content) and make the session."""

    where = {id(ref): path for path, ref in faces.refs()}  # dotted paths, for messages

    def photo(ref: FaceRef) -> tuple[Photo, int]:
        if ref.time is not None:
            return video_frame(ref, inputs, where.get(id(ref), "face")), ref.face
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


def video_frame(ref: FaceRef, inputs: JobInputs, where: str) -> Photo:
    """The frame of ``ref``'s video shown at ``ref.time``, named for messages ("clip.mp4 at 1.5 s").

    A time past the end is refused rather than served the last frame: a face picked
    there would not be the one the user meant.
    """
    assert ref.time is not None
    label = ref.media.label
    # PyAV only for a reference taken from a video: an image swap never loads it
    from ..media.seek import frame_at
    from ..media.video_reader import VideoReader

    with VideoReader(inputs.local_path(ref.media)) as reader:
        duration = reader.info.duration
        if duration is not None and ref.time >= duration:
            length = f"{label} is {format_time(duration)} long"
            raise InvalidJobError(
                [FieldProblem(f"{where}.time", f"{format_time(ref.time)} is past the end ({length})")]
            )
        frame = frame_at(reader, ref.time)
    return Photo(f"{label} at {format_time(ref.time)}", frame.image)
