"""Fetch a remote job's URL inputs before the engine starts, so the answer can time them apart.

Images come back as inline bytes (their decoder judges them by content, never by the name
or the Content-Type a server sent); videos as files in the job's own folder. A URL used
twice (a target and a reference face taken from one of its frames) is fetched once.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from ..core.jobs.inputs import IMAGE_BYTES_CAP, RETRY_DELAYS, VIDEO_BYTES_CAP, JobInputs
from ..core.jobs.spec import FaceAssignment, FaceRef, JobKind, MediaRef, SwapJob

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class FetchSettings:
    """Retries and size caps for a remote job's inputs.

    ``retry_delays``: seconds before each new try of a URL answering 404, 429 or 5xx.
    ``image_bytes`` / ``video_bytes``: the most a fetched image or video may hold.
    ``inline_bytes``: the most one base64 medium in the job may decode to.
    """

    retry_delays: tuple[float, ...] = RETRY_DELAYS
    image_bytes: int = IMAGE_BYTES_CAP
    video_bytes: int = VIDEO_BYTES_CAP
    inline_bytes: int = IMAGE_BYTES_CAP


class Fetcher:
    """Replaces the URL references of one job with what they hold."""

    def __init__(self, inputs: JobInputs, folder: Path) -> None:
        self._inputs = inputs
        self._folder = folder
        self._done: dict[tuple[str, bool], MediaRef] = {}

    def localise(self, job: SwapJob) -> SwapJob:
        """The job with every URL fetched; InputError naming the input that failed."""
        faces = job.faces
        local_faces = FaceAssignment(
            sources=[self._face(ref) for ref in faces.sources],
            reference=None if faces.reference is None else self._face(faces.reference),
            mappings=[
                dataclasses.replace(
                    mapping,
                    sources=[self._face(ref) for ref in mapping.sources],
                    reference=self._face(mapping.reference),
                )
                for mapping in faces.mappings
            ],
        )
        target = self._media(job.target, video=job.kind is JobKind.VIDEO)
        return dataclasses.replace(job, target=target, faces=local_faces)

    def _face(self, ref: FaceRef) -> FaceRef:
        # a face at a time is taken from a video frame: the medium is a video
        return dataclasses.replace(ref, media=self._media(ref.media, video=ref.time is not None))

    def _media(self, ref: MediaRef, *, video: bool) -> MediaRef:
        if ref.url is None:
            return ref
        key = (ref.url, video)
        if key not in self._done:
            if video:
                # a folder per input keeps the sender's file name (messages name it) unique
                folder = self._folder / f"input-{len(self._done)}"
                folder.mkdir()
                path = folder / (_UNSAFE.sub("_", ref.label)[-100:].lstrip(".") or "video")
                self._inputs.download(ref, path)
                self._done[key] = MediaRef(path=str(path))
            else:
                self._done[key] = MediaRef(data=self._inputs.image_bytes(ref), name=ref.label)
        return self._done[key]
