"""What a local SwapJob becomes on the wire: the ``input`` a remote run sends.

The job the window previews or the CLI built is the job the worker runs; only where its
files live changes. Each local file goes inline (base64) when the request stays under the
endpoint's body limit, and through the client's bucket otherwise (a presigned GET URL the
worker downloads). Videos always go through the bucket: their results are uploaded to a
presigned PUT URL, because RunPod drops answers over ~20 MB without a word. Every check
that can refuse the job runs here, before anything is uploaded or sent.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import FaceDeckError
from ..core.jobs.spec import FaceRef, JobKind, MediaRef, OutputSpec, SwapJob
from .endpoint import RUN_BODY_LIMIT, RUNSYNC_BODY_LIMIT
from .staging import JobStaging

# What the JSON around the media takes, with room to spare: the job's own fields and the
# result slot (a presigned URL is ~1-2 KB) are small next to any photo.
_ENVELOPE_MARGIN = 64 * 1024
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "mkv": "video/x-matroska",
    "webm": "video/webm",
    "avi": "video/x-msvideo",
    "gif": "image/gif",
}
STORAGE_HINT = (
    "set FACEDECK_S3_BUCKET (and FACEDECK_S3_ENDPOINT_URL for R2 or MinIO) to a bucket FaceDeck may use"
)


class NeedsStorageError(FaceDeckError):
    """The job cannot go without object storage, and none is configured (said before sending)."""

    code = "remote"


@dataclass(frozen=True)
class Outgoing:
    """The wire input, and whether it goes to ``/runsync`` (the client measures the body
    it sends against the endpoint's limit)."""

    input: dict[str, Any]
    sync: bool


def inline_size(size: int) -> int:
    """What ``size`` bytes take as base64 text."""
    return 4 * math.ceil(size / 3)


def prepare(
    job: SwapJob,
    *,
    staging: JobStaging | None,
    result_name: str,
    cancel: threading.Event | None = None,
) -> Outgoing:
    """The wire input for ``job`` (local paths already checked by ``job.validate()``).

    Images go to ``/runsync`` under its 20 MB limit; videos to ``/run`` under 10 MB. The
    largest files are uploaded first until the rest fits inline. Raises NeedsStorageError
    when the job needs the bucket and ``staging`` is None.
    """
    video = job.kind is JobKind.VIDEO
    sync = not video
    limit = (RUNSYNC_BODY_LIMIT if sync else RUN_BODY_LIMIT) - _ENVELOPE_MARGIN
    sizes = {ref.path: Path(ref.path).stat().st_size for _, ref in job.media() if ref.path is not None}
    files = sorted(sizes, key=sizes.__getitem__, reverse=True)
    staged = [job.target.path] if video and job.target.path is not None else []
    inline_total = sum(inline_size(sizes[path]) for path in files if path not in staged)
    for path in files:
        if inline_total <= limit:
            break
        if path not in staged:
            staged.append(path)
            inline_total -= inline_size(sizes[path])
    if staging is None and (staged or video):
        raise NeedsStorageError(_storage_reason(job, staged, limit))
    urls: dict[str, str] = {}
    for path in staged:
        assert staging is not None
        urls[path] = staging.upload(Path(path), cancel=cancel)
    wire = _wire_job(job, urls)
    payload: dict[str, Any] = {"job": wire.to_dict()}
    fmt = job.output.resolved_format(job.kind)
    if staging is not None:
        upload_url, headers = staging.result_slot(result_name, CONTENT_TYPES.get(fmt))
        payload["result"] = {"upload_url": upload_url, "upload_headers": headers}
    return Outgoing(input=payload, sync=sync)


def _storage_reason(job: SwapJob, staged: list[str], limit: int) -> str:
    if job.kind is JobKind.VIDEO:
        return f"a video runs remotely through object storage, and none is configured: {STORAGE_HINT}"
    names = ", ".join(Path(path).name for path in staged)
    return (
        f"{names} do not fit in one request (over {limit / 1e6:.1f} MB as base64) and no object "
        f"storage is configured: {STORAGE_HINT}"
    )


def _wire_job(job: SwapJob, urls: dict[str, str]) -> SwapJob:
    """``job`` with every local file inline or by URL, no output path and no previews."""
    cache: dict[str, bytes] = {}

    def media(ref: MediaRef) -> MediaRef:
        if ref.path is None:
            return ref
        name = Path(ref.path).name
        if ref.path in urls:
            return MediaRef(url=urls[ref.path], name=name)
        if ref.path not in cache:
            cache[ref.path] = Path(ref.path).read_bytes()
        return MediaRef(data=cache[ref.path], name=name)

    def face(ref: FaceRef) -> FaceRef:
        return dataclasses.replace(ref, media=media(ref.media))

    wire_faces = job.faces.with_refs(face)
    output: OutputSpec = dataclasses.replace(
        job.output, path=None, format=job.output.resolved_format(job.kind)
    )
    return dataclasses.replace(
        job, target=media(job.target), faces=wire_faces, output=output, preview_every=None
    )
