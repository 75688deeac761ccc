"""The desktop client's bucket for remote jobs: inputs uploaded, a slot for the result, cleanup.

A remote job's large inputs cannot travel in the request (RunPod takes /run bodies up to
10 MB) and its large results vanish from the answer (~20 MB), so the client uploads inputs
to an S3-compatible bucket with its own credentials and hands the worker presigned URLs:
a GET URL per input and a PUT URL for the result. The worker needs no credentials. When the
job ends the client deletes what it put there (``keep`` leaves it).

Each job's objects live under ``{prefix}{job_tag}/``. Presigned URLs carry their signature
in the query string: they are handed to the caller and never logged (logs name
``s3://bucket/key``); errors name the bucket and the S3 error code, never a credential.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from ..core.errors import InputError, UsageError
from .s3 import ADDRESSING_STYLES, MAX_URL_EXPIRES, Progress, S3Bucket, S3Failure
from .storage import (
    ADDRESSING_ENV,
    BUCKET_ENV,
    ENDPOINT_ENV,
    PREFIX_ENV,
    URL_EXPIRES_ENV,
    UploadError,
)

log = logging.getLogger(__name__)

# The variables the worker reads for its own bucket (docs/wire-format.md "The worker's
# bucket"), read on the client's machine; FACEDECK_S3_KEEP is the client's alone.
STORAGE_ENV = {
    "bucket": BUCKET_ENV,
    "endpoint": ENDPOINT_ENV,
    "prefix": PREFIX_ENV,
    "url_expires": URL_EXPIRES_ENV,
    "addressing_style": ADDRESSING_ENV,
    "keep": "FACEDECK_S3_KEEP",
    "region": "AWS_REGION",
    "default_region": "AWS_DEFAULT_REGION",
    "access_key": "AWS_ACCESS_KEY_ID",
    "secret_key": "AWS_SECRET_ACCESS_KEY",
    "session_token": "AWS_SESSION_TOKEN",
}
DEFAULT_CLIENT_PREFIX = "facedeck/jobs/"
DEFAULT_URL_EXPIRES = 3600
_TRUE = ("1", "true", "yes", "on")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class MissingResultError(UploadError):
    """The worker's result is not in the bucket (it never PUT it, or it was removed)."""


@dataclass(frozen=True)
class StorageSettings:
    """Where the client stages a remote job's files; credentials never show in repr or logs."""

    bucket: str
    endpoint_url: str | None = None
    region: str | None = None  # "auto" for R2
    prefix: str = DEFAULT_CLIENT_PREFIX
    url_expires: int = DEFAULT_URL_EXPIRES  # seconds presigned URLs live: the caller sizes it to the job
    keep: bool = False  # keep uploads and results in the bucket after the job
    addressing_style: str = "auto"  # "path" for MinIO
    access_key: str | None = None  # else boto3's standard lookup (env, ~/.aws, instance role)
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.bucket.strip():
            raise UsageError("the storage settings name no bucket", field="bucket")
        if self.addressing_style not in ADDRESSING_STYLES:
            raise UsageError(
                f"the bucket's addressing style must be one of {', '.join(ADDRESSING_STYLES)}",
                field="addressing_style",
            )
        if not 1 <= self.url_expires <= MAX_URL_EXPIRES:
            raise UsageError(
                f"presigned URLs can live 1 to {MAX_URL_EXPIRES} seconds, not {self.url_expires}",
                field="url_expires",
            )
        # "jobs" and "/jobs/" both mean the folder jobs/: keys never start with a slash
        prefix = self.prefix.strip("/")
        object.__setattr__(self, "prefix", f"{prefix}/" if prefix else "")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> StorageSettings | None:
        """The settings the environment's variables (STORAGE_ENV) name; None without a bucket."""
        bucket = environ.get(BUCKET_ENV, "").strip()
        if not bucket:
            return None
        expires = environ.get(URL_EXPIRES_ENV, "").strip()
        if expires and not expires.isdigit():
            raise UsageError(f"{URL_EXPIRES_ENV} must be a whole number of seconds", field=URL_EXPIRES_ENV)
        return cls(
            bucket,
            endpoint_url=environ.get(ENDPOINT_ENV, "").strip() or None,
            region=(environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "").strip() or None,
            prefix=environ.get(PREFIX_ENV, DEFAULT_CLIENT_PREFIX),
            url_expires=int(expires) if expires else DEFAULT_URL_EXPIRES,
            keep=environ.get(STORAGE_ENV["keep"], "").strip().lower() in _TRUE,
            addressing_style=environ.get(ADDRESSING_ENV, "").strip().lower() or "auto",
            access_key=environ.get("AWS_ACCESS_KEY_ID") or None,
            secret_key=environ.get("AWS_SECRET_ACCESS_KEY") or None,
            session_token=environ.get("AWS_SESSION_TOKEN") or None,
        )

    def describe(self) -> str:
        """``s3://bucket/prefix at endpoint``, for messages and logs (no credentials)."""
        where = f" at {_endpoint_text(self.endpoint_url)}" if self.endpoint_url else ""
        return f"s3://{self.bucket}/{self.prefix}{where}"

    def open_bucket(self) -> S3Bucket:
        """A boto3 bucket with these settings (boto3 is imported on its first request)."""
        credentials = {
            name: value
            for name, value in (
                ("aws_access_key_id", self.access_key),
                ("aws_secret_access_key", self.secret_key),
                ("aws_session_token", self.session_token),
            )
            if value
        }
        return S3Bucket(
            self.bucket,
            endpoint_url=self.endpoint_url,
            region=self.region,
            credentials=credentials,
            addressing_style=self.addressing_style,
        )


def new_job_tag(stem: str = "") -> str:
    """A fresh job tag: a readable part of ``stem`` (a file name, say) and a uuid4."""
    readable = _UNSAFE.sub("-", Path(stem).stem).strip("-._")[:40]
    return f"{readable}-{uuid.uuid4().hex}" if readable else uuid.uuid4().hex


class JobStaging:
    """One remote job's objects under {prefix}{job_tag}/ : the inputs uploaded and the result's
    slot. A context manager: on exit it deletes everything it uploaded and the result object
    (unless settings.keep), logging (not raising) failures to delete."""

    def __init__(self, settings: StorageSettings, job_tag: str) -> None:
        """``job_tag``: a fresh unique id (``new_job_tag``, or a uuid4 hex and a file's stem);
        characters other than letters, digits, '.', '_' and '-' become '-' in the keys."""
        tag = _UNSAFE.sub("-", job_tag).strip("-.")[:200]
        if not tag:
            raise ValueError(f"a job tag needs letters or digits, not {job_tag!r}")
        self.settings = settings
        self.job_tag = tag
        self.prefix = f"{settings.prefix}{tag}/"
        self._bucket = settings.open_bucket()
        self._lock = threading.Lock()
        self._names: set[str] = set()
        self._staged: list[str] = []  # keys to delete at the end, uploads and result slots alike
        self._results: dict[str, str] = {}  # a result slot's name -> its key

    def upload(
        self,
        path: Path,
        *,
        name: str | None = None,
        cancel: threading.Event | None = None,
        progress: Progress | None = None,
    ) -> str:
        """Upload the file; answers a presigned GET URL valid ``settings.url_expires`` seconds.

        ``name``: the object's name (default: the file's); a name used before in this job
        gets a number. ``cancel`` set: JobCancelled, and nothing stays in the bucket.
        ``progress(sent, total)`` is called from boto3's threads. UploadError on failure.
        """
        if not path.is_file():
            raise InputError(f"{path.name} is not a file that can be uploaded", path=str(path))
        key = self._claim(name or path.name)
        content_type = mimetypes.guess_type(key)[0]
        try:
            size = self._bucket.upload(path, key, content_type=content_type, cancel=cancel, progress=progress)
            url = self._bucket.presign_get(key, self.settings.url_expires)
        except S3Failure as failure:
            raise UploadError(
                f"{path.name} could not be uploaded to bucket {self.settings.bucket} ({failure.reason})"
            ) from None
        log.info("uploaded %s (%d bytes) to s3://%s/%s", path.name, size, self.settings.bucket, key)
        return url

    def result_slot(self, name: str, content_type: str | None = None) -> tuple[str, dict[str, str]]:
        """A presigned PUT URL for the worker's result, and the headers the worker must send
        with it (the Content-Type it was signed with, or {})."""
        key = self._claim(name)
        with self._lock:
            self._results[name] = key
        try:
            return self._bucket.presign_put(key, self.settings.url_expires, content_type)
        except S3Failure as failure:
            raise UploadError(
                f"no upload URL could be signed for bucket {self.settings.bucket} ({failure.reason})"
            ) from None

    def fetch_result(self, name: str, dest: Path) -> int:
        """Download the result the worker PUT in the slot ``name``; answers its size in bytes.
        MissingResultError when it is not there; ``dest`` is only written when it all came."""
        with self._lock:
            key = self._results.get(name)
        if key is None:
            raise ValueError(f"this job has no result slot named {name!r}")
        try:
            size = self._bucket.download(key, dest)
        except S3Failure as failure:
            bucket = self.settings.bucket
            if failure.missing:
                raise MissingResultError(
                    f"the result {name} is not in bucket {bucket} ({failure.reason})"
                ) from None
            raise UploadError(
                f"the result {name} could not be downloaded from bucket {bucket} ({failure.reason})"
            ) from None
        log.info("downloaded the result %s (%d bytes) from s3://%s/%s", name, size, self.settings.bucket, key)
        return size

    def cleanup(self) -> None:
        """Delete what this job put in the bucket (unless ``keep``); failures are logged.
        Calling it again deletes only what was staged since."""
        with self._lock:
            keys, self._staged = self._staged, []
        if not keys:
            return
        where = f"s3://{self.settings.bucket}/{self.prefix}"
        if self.settings.keep:
            log.info("kept %d object(s) under %s", len(keys), where)
            return
        try:
            refused = self._bucket.delete_many(keys)
        except S3Failure as failure:
            if failure.missing:  # no bucket, so nothing of ours is in it; the job's error says so
                log.debug("nothing to delete under %s (%s)", where, failure.reason)
            else:
                log.warning("could not delete %d object(s) under %s (%s)", len(keys), where, failure.reason)
            return
        for key, code in refused.items():
            log.warning("could not delete s3://%s/%s (%s)", self.settings.bucket, key, code)
        log.info("deleted %d object(s) under %s", len(keys) - len(refused), where)

    def __enter__(self) -> JobStaging:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.cleanup()

    def _claim(self, name: str) -> str:
        """A key for ``name`` no other object of this job has, staged for cleanup."""
        base = _UNSAFE.sub("_", Path(name).name).lstrip(".")[-120:] or "file"
        stem, dot, suffix = base.rpartition(".")
        if not stem:
            stem, dot, suffix = base, "", ""
        with self._lock:
            candidate, number = base, 1
            while candidate in self._names:
                number += 1
                candidate = f"{stem}-{number}{dot}{suffix}"
            self._names.add(candidate)
            key = f"{self.prefix}{candidate}"
            self._staged.append(key)
        return key


def check_storage(settings: StorageSettings) -> None:
    """Whether the bucket answers with these credentials (a "Test connection" button):
    UploadError with one sentence when it does not exist, refuses them or cannot be reached."""
    bucket = settings.bucket
    where = _endpoint_text(settings.endpoint_url) if settings.endpoint_url else "AWS S3"
    try:
        settings.open_bucket().check()
    except S3Failure as failure:
        reason = failure.reason
        if failure.connection:
            message = f"cannot connect to {where} to reach bucket {bucket} ({reason})"
        elif failure.missing:
            message = f"bucket {bucket} does not exist at {where} ({reason})"
        elif failure.denied:
            message = (
                f"access to bucket {bucket} at {where} was denied; "
                f"check the access key and its permissions ({reason})"
            )
        else:
            message = f"bucket {bucket} at {where} cannot be used ({reason})"
        raise UploadError(message) from None
    log.info("bucket %s answers", settings.describe())


def _endpoint_text(url: str | None) -> str:
    """The endpoint's scheme, host and port: never a user name, password or query it may hold."""
    parts = urlsplit(url or "")
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not a number: the address is shown without it
        port = ""
    if not parts.hostname:
        return "the endpoint"
    return f"{parts.scheme}://{parts.hostname}{port}" if parts.scheme else f"{parts.hostname}{port}"
