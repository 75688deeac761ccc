"""Turn a job's media references (path, URL, inline bytes) into images and local files.

Inline bytes and URLs become temporary files only where a reader needs a file (videos);
images decode from memory. Every temporary file goes when the job ends, however it ends.
Every read is bounded by a size cap for its kind: local files by their readers (regular
files only; images up to ``image_reader.DEFAULT_MAX_BYTES``, videos streamed), URLs and
inline bytes by the caps below. URL reads are also http and https only, with timeouts and
few redirects, and retried with exponential backoff on 404, 429 and 5xx: an object uploaded
a moment ago can answer 404 until the store has it everywhere (DESIGN.md section 6).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

import requests

from ..errors import InputError, JobCancelled
from ..media.image_reader import DecodedImage, read_image, read_image_bytes
from .spec import MediaRef

# Sent over the network: lower than the local file caps (larger than any photo a camera writes).
IMAGE_BYTES_CAP = 100 * 1024 * 1024
VIDEO_BYTES_CAP = 8 * 1024**3
_TIMEOUT = (10.0, 60.0)  # connect, read (between bytes) in seconds
_MAX_REDIRECTS = 5
_CHUNK = 1 << 20
# Seconds to wait before each retry of a URL that answered a status worth retrying: the
# old worker's schedule, which outlasted the delay of the object stores its callers used.
RETRY_DELAYS = (2.0, 4.0, 8.0)

log = logging.getLogger(__name__)


def retryable_status(status: int) -> bool:
    """404 (not there yet), 408, 425, 429 (slow down) and every 5xx are worth another try."""
    return status in (404, 408, 425, 429) or 500 <= status <= 599


class JobInputs:
    """Resolves media references for one job; a context manager that cleans up after it."""

    def __init__(
        self,
        *,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        image_cap: int | None = None,
        video_cap: int | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        """``retry_delays``: waits before each retry of a URL; the caps default to the module's.

        ``cancel`` cuts a retry wait short (JobCancelled), so a cancelled job never sleeps on.
        """
        self._retry_delays = tuple(retry_delays)
        self._image_cap = image_cap
        self._video_cap = video_cap
        self._cancel = cancel or threading.Event()
        self._folder: Path | None = None
        self._http: requests.Session | None = None
        # a URL or inline video is written once per job, however many parts of it read it
        # (the target and a reference face taken from one of its frames)
        self._local: dict[MediaRef, Path] = {}

    def __enter__(self) -> JobInputs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
        self._local.clear()

    def image(self, ref: MediaRef) -> DecodedImage:
        """Decode an image reference; InputError naming it when it cannot be used."""
        if ref.path is not None:
            return read_image(ref.path)
        if ref.data is not None:
            return read_image_bytes(_capped(ref, ref.data, self.image_cap), ref.label)
        return read_image_bytes(self._fetch_bytes(ref, self.image_cap), ref.label)

    @property
    def image_cap(self) -> int:
        return IMAGE_BYTES_CAP if self._image_cap is None else self._image_cap

    @property
    def video_cap(self) -> int:
        return VIDEO_BYTES_CAP if self._video_cap is None else self._video_cap

    def image_bytes(self, ref: MediaRef) -> bytes:
        """The encoded bytes of an image reference given as a URL or inline data (image cap)."""
        if ref.data is not None:
            return _capped(ref, ref.data, self.image_cap)
        return self._fetch_bytes(ref, self.image_cap)

    def download(self, ref: MediaRef, target: Path) -> None:
        """Write a URL reference's bytes to ``target`` (video cap); the caller owns the file."""
        self._download(ref, target, self.video_cap)

    def local_path(self, ref: MediaRef) -> Path:
        """A file on disk holding the reference's bytes (the path itself for a path)."""
        if ref.path is not None:
            return Path(ref.path)
        if ref in self._local:
            return self._local[ref]
        target = self._temp_file(ref)
        if ref.data is not None:
            target.write_bytes(_capped(ref, ref.data, self.video_cap))
        else:
            self._download(ref, target, self.video_cap)
        self._local[ref] = target
        return target

    def scratch_path(self, suffix: str) -> Path:
        """A path in the job's own temporary folder (not created), removed with the job."""
        return self._scratch() / f"output{suffix}"

    # ----- helpers ----------------------------------------------------------------------
    def _scratch(self) -> Path:
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="facedeck-job-"))
        return self._folder

    def _temp_file(self, ref: MediaRef) -> Path:
        # the suffix tells the video reader the container; the name is ours, never the sender's
        suffix = PurePosixPath(ref.label).suffix.lower()[:8]
        handle, name = tempfile.mkstemp(dir=self._scratch(), suffix=suffix)
        os.close(handle)
        return Path(name)

    def _session(self) -> requests.Session:
        if self._http is None:
            self._http = requests.Session()
            self._http.max_redirects = _MAX_REDIRECTS
        return self._http

    def _open(self, ref: MediaRef) -> requests.Response:
        assert ref.url is not None
        if urlparse(ref.url).scheme not in ("http", "https"):
            raise InputError(f"{ref.label}: only http and https URLs are accepted", path=ref.label)
        status = 0
        for attempt, delay in enumerate((0.0, *self._retry_delays)):
            if attempt:
                # the label only: a URL's query string can hold a signature
                log.info("%s: HTTP %d, trying again in %.1f s", ref.label, status, delay)
                if self._cancel.wait(delay):
                    raise JobCancelled(f"cancelled while waiting to download {ref.label} again")
            response = self._get(ref)
            status = response.status_code
            if status == 200:
                return response
            response.close()
            if not retryable_status(status):
                break
        tries = f" after {attempt + 1} tries" if attempt else ""
        raise InputError(f"{ref.label}: download failed (HTTP {status}{tries})", path=ref.label)

    def _get(self, ref: MediaRef) -> requests.Response:
        assert ref.url is not None
        try:
            return self._session().get(ref.url, stream=True, timeout=_TIMEOUT)
        except requests.RequestException as error:
            raise InputError(
                f"{ref.label}: download failed ({type(error).__name__})", path=ref.label
            ) from None

    def _chunks(self, ref: MediaRef, cap: int):  # noqa: ANN202 - a generator of bytes
        with self._open(ref) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > cap:
                raise _too_large(ref, cap)
            received = 0
            try:
                for chunk in response.iter_content(_CHUNK):
                    received += len(chunk)
                    if received > cap:
                        raise _too_large(ref, cap)
                    if self._cancel.is_set():  # a long download stops within a chunk
                        raise JobCancelled(f"cancelled while downloading {ref.label}")
                    yield chunk
            except requests.RequestException as error:
                raise InputError(
                    f"{ref.label}: download failed ({type(error).__name__})", path=ref.label
                ) from None

    def _fetch_bytes(self, ref: MediaRef, cap: int) -> bytes:
        return b"".join(self._chunks(ref, cap))

    def _download(self, ref: MediaRef, target: Path, cap: int) -> None:
        with target.open("wb") as handle:
            for chunk in self._chunks(ref, cap):
                handle.write(chunk)


def _capped(ref: MediaRef, data: bytes, cap: int) -> bytes:
    """Inline bytes obey the same cap as a download of the same kind."""
    if len(data) > cap:
        raise _too_large(ref, cap)
    return data


def _too_large(ref: MediaRef, cap: int) -> InputError:
    return InputError(f"{ref.label} is larger than {_size(cap)}", path=ref.label)


def _size(count: int) -> str:
    """A cap as people say it: whole megabytes when it is that, else kilobytes or bytes."""
    if count >= 2**20 and count % 2**20 == 0:
        return f"{count // 2**20} MB"
    if count >= 2**10:
        return f"{count / 2**10:.0f} KB"
    return f"{count} bytes"
