"""One S3-compatible bucket (AWS S3, Cloudflare R2, MinIO) through boto3.

Shared by the worker's own result bucket (``storage.BucketStorage``) and the desktop
client's per-job staging (``staging.JobStaging``): upload a file (with a cancel), presign a
GET or PUT URL, download, delete, check that the bucket answers.

boto3 is imported on first use only: the worker and server extras have it, and a desktop
that never names a bucket never needs it. Every boto3 failure comes out as ``S3Failure``,
whose reason is the S3 error code or the exception's kind and never the request (a signed
URL, a header, a credential); callers turn it into their own one-line message naming the
bucket.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..core.errors import JobCancelled

log = logging.getLogger(__name__)

ADDRESSING_STYLES = ("auto", "path", "virtual")  # MinIO and moto need "path"
MAX_URL_EXPIRES = 7 * 24 * 3600  # signature version 4 refuses presigned URLs valid longer
_CONNECT_TIMEOUT = 10.0  # seconds; botocore's 60 leaves a "Test connection" button hanging
_DELETE_BATCH = 1000  # the most keys one DeleteObjects request takes
# Exceptions that mean the endpoint could not be reached at all (botocore.exceptions names)
_CONNECTION_ERRORS = ("EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError")

_SIGNING_LOGGER = "botocore.auth"
_SIGNING_LINES = ("CanonicalRequest:", "StringToSign:", "String to sign:", "Signature:")

Progress = Callable[[int, int], None]  # bytes sent so far, bytes in all


class S3Failure(Exception):
    """A bucket operation failed; ``reason`` is safe to show (an S3 code or an exception's kind)."""

    def __init__(self, reason: str, *, status: int | None = None, connection: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status  # the HTTP status S3 answered, when it answered
        self.connection = connection  # the endpoint could not be reached

    @property
    def missing(self) -> bool:
        """The bucket or object does not exist (404, or the code saying so)."""
        return self.status == 404 or self.reason in ("NoSuchKey", "NoSuchBucket")

    @property
    def denied(self) -> bool:
        """The credentials were refused, or they may not do this."""
        return self.status == 403 or self.reason in (
            "AccessDenied",
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
            "NoCredentialsError",
        )


class _SignatureFilter(logging.Filter):
    """Drops botocore's DEBUG lines that show a signature it computed: for a presigned URL that
    is the URL's secret part (``--debug`` sets every logger to DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith(_SIGNING_LINES))


def _hide_signatures() -> None:
    """Install the filter on botocore's signing logger, once per process."""
    logger = logging.getLogger(_SIGNING_LOGGER)
    if not any(isinstance(item, _SignatureFilter) for item in logger.filters):
        logger.addFilter(_SignatureFilter())


class _Stop(Exception):
    """Raised inside boto3's progress callback to end an upload whose job was cancelled."""


class S3Bucket:
    """A bucket and a lazily made boto3 client for it (thread-safe; boto3 clients are)."""

    # Appended to the reason when boto3 is missing; BucketStorage names the extras that have it
    boto3_hint = 'install the remote extra: pip install "facedeck[remote]"'

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        credentials: Mapping[str, str] | None = None,
        addressing_style: str = "auto",
    ) -> None:
        """``credentials``: aws_access_key_id, aws_secret_access_key, aws_session_token (any of
        them; boto3's own lookup fills the rest). ``addressing_style``: "path" for MinIO."""
        if addressing_style not in ADDRESSING_STYLES:
            raise ValueError(f"addressing_style must be one of {', '.join(ADDRESSING_STYLES)}")
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self.addressing_style = addressing_style
        self._credentials = dict(credentials or {})
        self._client: Any = None
        self._lock = threading.Lock()

    def upload(
        self,
        path: Path,
        key: str,
        *,
        content_type: str | None = None,
        cancel: threading.Event | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Upload the file (boto3 goes multipart for big ones); answers its size.

        A set ``cancel`` ends the upload (JobCancelled) and removes whatever got stored:
        boto3 aborts a multipart upload itself, and a small file may already be complete
        when its only progress report comes, so the key is deleted too. ``progress`` is
        called from boto3's threads.
        """
        size = path.stat().st_size
        stop = cancel or threading.Event()
        sent = 0
        counting = threading.Lock()

        def report(chunk: int) -> None:
            nonlocal sent
            if stop.is_set():
                raise _Stop
            with counting:
                sent += chunk
                done = sent
            if progress is not None:
                progress(done, size)

        extra = {"ContentType": content_type} if content_type else None
        if stop.is_set():
            raise JobCancelled(f"cancelled before {path.name} was uploaded; nothing was stored")
        try:
            with self._failures():
                self._s3().upload_file(str(path), self.bucket, key, ExtraArgs=extra, Callback=report)
        except _Stop:
            pass
        if stop.is_set():
            self._forget(key)
            raise JobCancelled(f"cancelled while {path.name} was uploaded; nothing was kept")
        return size

    def presign_get(self, key: str, expires: int) -> str:
        """A URL anyone may GET the object with for ``expires`` seconds (its query signs it)."""
        with self._failures():
            url: str = self._s3().generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires
            )
        return url

    def presign_put(
        self, key: str, expires: int, content_type: str | None = None
    ) -> tuple[str, dict[str, str]]:
        """A URL anyone may PUT the object to for ``expires`` seconds, and the headers the PUT
        must carry: a Content-Type is part of the signature, so it must be sent as signed."""
        params = {"Bucket": self.bucket, "Key": key}
        headers: dict[str, str] = {}
        if content_type:
            params["ContentType"] = content_type
            headers["Content-Type"] = content_type
        with self._failures():
            url: str = self._s3().generate_presigned_url("put_object", Params=params, ExpiresIn=expires)
        return url, headers

    def download(self, key: str, dest: Path) -> int:
        """Download the object to ``dest`` (boto3 writes a temporary file and renames it, so a
        failed download leaves no partial file there); answers its size."""
        with self._failures():
            self._s3().download_file(self.bucket, key, str(dest))
        return dest.stat().st_size

    def delete(self, key: str) -> None:
        """Delete the object (deleting one that does not exist is no error in S3)."""
        with self._failures():
            self._s3().delete_object(Bucket=self.bucket, Key=key)

    def delete_many(self, keys: Sequence[str]) -> dict[str, str]:
        """Delete the objects in as few requests as S3 allows; answers each key S3 could not
        delete with its code. S3Failure when a request itself fails."""
        refused: dict[str, str] = {}
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": key} for key in keys[start : start + _DELETE_BATCH]]
            with self._failures():
                answer = self._s3().delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            for item in answer.get("Errors", []):
                refused[str(item.get("Key"))] = str(item.get("Code") or "error")
        return refused

    def check(self) -> None:
        """Ask for the bucket (HeadBucket): S3Failure when it is missing, refused or unreachable."""
        with self._failures():
            self._s3().head_bucket(Bucket=self.bucket)

    def _forget(self, key: str) -> None:
        """Remove a cancelled upload's object, if any got stored; failures are logged."""
        try:
            self.delete(key)
        except S3Failure as failure:
            log.warning("could not remove cancelled upload s3://%s/%s (%s)", self.bucket, key, failure.reason)

    @contextmanager
    def _failures(self) -> Iterator[None]:
        """boto3's exceptions (and a missing boto3) as S3Failure, without request details."""
        try:
            yield
        except _error_types() as error:
            raise _failure(error, self.boto3_hint) from None

    def _s3(self) -> Any:
        with self._lock:
            if self._client is None:
                import boto3  # imported when a bucket is used, not when FaceDeck starts
                from botocore.config import Config

                _hide_signatures()

                options: dict[str, Any] = {
                    # version 4 signatures: R2 and MinIO refuse the older presigned URLs
                    "signature_version": "s3v4",
                    "s3": {"addressing_style": self.addressing_style},
                    "connect_timeout": _CONNECT_TIMEOUT,
                    "retries": {"mode": "standard"},
                }
                # botocore >= 1.36 adds CRC checksums to every upload, which some
                # S3-compatible stores refuse; send them only where S3 requires them
                if "request_checksum_calculation" in Config.OPTION_DEFAULTS:
                    options["request_checksum_calculation"] = "when_required"
                    options["response_checksum_validation"] = "when_required"
                self._client = boto3.client(
                    "s3",
                    endpoint_url=self.endpoint_url,
                    region_name=self.region,
                    config=Config(**options),
                    **self._credentials,
                )
            return self._client


def _error_types() -> tuple[type[Exception], ...]:
    try:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # boto3 not installed: the import inside _s3 says so
        return (ImportError,)
    return (Boto3Error, BotoCoreError, ClientError, ImportError)


def _failure(error: Exception, boto3_hint: str) -> S3Failure:
    if isinstance(error, ImportError):
        return S3Failure(f"boto3 is not installed; {boto3_hint}")
    kind = type(error).__name__
    # boto3's upload_file wraps the S3 error (S3UploadFailedError): the answer is on the original
    response = getattr(error, "response", None) or getattr(error.__context__, "response", None)
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = str(response.get("Error", {}).get("Code") or "")
        # a HEAD answer has no body, so its "code" is the bare status
        reason = f"HTTP {code}" if code.isdigit() else code or kind
        return S3Failure(reason, status=status if isinstance(status, int) else None)
    return S3Failure(kind, connection=kind in _CONNECTION_ERRORS)
