"""Where a result too large to answer inline goes: a caller's presigned PUT URL or a bucket.

RunPod drops answers over ~20 MB without a word (DESIGN.md section 6), so videos and large
images are uploaded and the answer names the object. Two ways, by who holds the keys:

- the caller presigns a PUT URL (the worker needs no credentials): ``put_presigned``;
- the worker's own environment names an S3-compatible bucket (AWS S3, Cloudflare R2,
  MinIO): ``BucketStorage``, built on remote/s3.py's boto3 bucket, which imports boto3
  only when a bucket is used.

A presigned URL's query string is its signature: it never reaches a log or a message;
what the answer and the log carry is the object's location, the URL without its query.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import requests

from ..core.errors import FaceDeckError, JobCancelled
from .redact import protect_request_logs
from .s3 import ADDRESSING_STYLES, S3Bucket, S3Failure

log = logging.getLogger(__name__)

UPLOAD_RETRY_DELAYS = (1.0, 2.0, 4.0)  # seconds before each new try of a failed PUT
_UPLOAD_TIMEOUT = (10.0, 300.0)  # connect, read: a slow store may take a while to answer a big PUT

# The worker's environment names its bucket with these (README and docs/wire-format.md).
BUCKET_ENV = "FACEDECK_S3_BUCKET"
ENDPOINT_ENV = "FACEDECK_S3_ENDPOINT_URL"
PREFIX_ENV = "FACEDECK_S3_PREFIX"
URL_EXPIRES_ENV = "FACEDECK_S3_URL_EXPIRES"
ADDRESSING_ENV = "FACEDECK_S3_ADDRESSING_STYLE"  # "path" for MinIO; default "auto"
DEFAULT_PREFIX = "facedeck/results/"
DEFAULT_URL_EXPIRES = 3600


class UploadError(FaceDeckError):
    """A result could not be stored where the job or the worker said."""

    code = "upload"


@dataclass(frozen=True)
class StoredObject:
    """An uploaded result: where to read it, its size, and the bucket and key when we chose them."""

    url: str
    size: int
    bucket: str | None = None
    key: str | None = None

    def describe(self, fmt: str) -> dict[str, Any]:
        """The answer's ``output`` object."""
        output: dict[str, Any] = {"format": fmt, "url": self.url, "bytes": self.size}
        if self.bucket is not None:
            output["bucket"] = self.bucket
            output["key"] = self.key
        return output


class ResultStorage(Protocol):
    """A place the worker itself may write results to (its own bucket)."""

    def store(self, path: Path, *, name: str) -> StoredObject:
        """Upload the file at ``path`` under ``name``; UploadError with one line on failure."""
        ...

    def remove(self, key: str) -> None:
        """Delete an object ``store`` wrote (its job was cancelled while it uploaded)."""
        ...


def location_of(url: str) -> str:
    """The object a presigned URL points at, without the query string that signs it."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _retry_put(status: int) -> bool:
    return status == 429 or status >= 500


def put_presigned(
    url: str,
    path: Path,
    *,
    headers: Mapping[str, str] | None = None,
    retry_delays: Sequence[float] = UPLOAD_RETRY_DELAYS,
    cancel: threading.Event | None = None,
) -> StoredObject:
    """PUT the file to a presigned URL, trying again on 429, 5xx and broken connections.

    ``headers`` are the caller's (a Content-Type it signed, for one); nothing else is sent,
    because a header the signature did not cover can make the store refuse the upload.
    """
    protect_request_logs()
    stop = cancel or threading.Event()
    place = location_of(url)
    size = path.stat().st_size
    problem = ""
    for attempt, delay in enumerate((0.0, *retry_delays)):
        if attempt:
            log.info("upload to %s failed (%s), trying again in %.1f s", place, problem, delay)
        if stop.wait(delay):
            raise JobCancelled("cancelled before the result was uploaded; nothing was stored")
        try:
            with path.open("rb") as body:
                response = requests.put(url, data=body, headers=dict(headers or {}), timeout=_UPLOAD_TIMEOUT)
        except requests.RequestException as error:
            problem = type(error).__name__
            continue
        response.close()
        if 200 <= response.status_code < 300:
            log.info("uploaded %d bytes to %s", size, place)
            return StoredObject(place, size)
        problem = f"HTTP {response.status_code}"
        if not _retry_put(response.status_code):
            break
    host = urlsplit(url).hostname or "the upload URL"
    raise UploadError(f"the result could not be uploaded to {host} ({problem})")


class BucketStorage(S3Bucket):
    """An S3-compatible bucket from the worker's environment; answers a presigned GET URL.

    The bucket operations themselves (upload, presign, download, delete) are S3Bucket's
    (remote/s3.py), which the desktop client's job staging uses too.
    """

    boto3_hint = "install the worker or server extra"

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        credentials: Mapping[str, str] | None = None,
        prefix: str = DEFAULT_PREFIX,
        url_expires: int = DEFAULT_URL_EXPIRES,
        addressing_style: str = "auto",
    ) -> None:
        """``credentials``: aws_access_key_id, aws_secret_access_key, aws_session_token (any of
        them; boto3's own lookup fills the rest). ``addressing_style``: "path" for MinIO."""
        super().__init__(
            bucket,
            endpoint_url=endpoint_url,
            region=region,
            credentials=credentials,
            addressing_style=addressing_style,
        )
        self.prefix = prefix
        self.url_expires = url_expires

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> BucketStorage | None:
        """The bucket ``FACEDECK_S3_BUCKET`` names, or None when it names none."""
        bucket = environ.get(BUCKET_ENV, "").strip()
        if not bucket:
            return None
        credentials = {
            name.lower(): environ[name]
            for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
            if environ.get(name)
        }
        expires = environ.get(URL_EXPIRES_ENV, "").strip()
        style = environ.get(ADDRESSING_ENV, "").strip().lower()
        return cls(
            bucket,
            endpoint_url=environ.get(ENDPOINT_ENV) or None,
            region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None,
            credentials=credentials,
            prefix=environ.get(PREFIX_ENV, DEFAULT_PREFIX),
            url_expires=int(expires) if expires.isdigit() else DEFAULT_URL_EXPIRES,
            addressing_style=style if style in ADDRESSING_STYLES else "auto",
        )

    def describe(self) -> str:
        """Where results go, for logs and the health answer (no credentials)."""
        return f"s3://{self.bucket}/{self.prefix}" + (f" at {self.endpoint_url}" if self.endpoint_url else "")

    def store(self, path: Path, *, name: str) -> StoredObject:
        key = f"{self.prefix}{name}"
        try:
            size = self.upload(path, key)
            url = self.presign_get(key, self.url_expires)
        except S3Failure as failure:
            raise UploadError(
                f"the result could not be stored in bucket {self.bucket} ({failure.reason})"
            ) from None
        log.info("stored %s in s3://%s/%s", path.name, self.bucket, key)
        return StoredObject(url, size, bucket=self.bucket, key=key)

    def remove(self, key: str) -> None:
        """Delete an object this storage wrote (a result whose job was cancelled meanwhile)."""
        try:
            self.delete(key)
        except S3Failure as failure:
            log.warning("could not remove s3://%s/%s (%s)", self.bucket, key, failure.reason)
