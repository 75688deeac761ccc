"""Result uploads: a presigned PUT with retries that never logs the signature; a bucket's errors."""

from __future__ import annotations

import http.server
import logging
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from facedeck.core.errors import JobCancelled
from facedeck.remote.storage import BucketStorage, UploadError, location_of, put_presigned

SIGNED = "?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=deadbeefcafe"


class PutRecorder(http.server.ThreadingHTTPServer):
    """A loopback server that answers PUTs with the statuses of ``script``, then 200."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _PutHandler)
        self.script: list[int] = []
        self.bodies: list[tuple[str, bytes, dict[str, str]]] = []

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _PutHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: PutRecorder

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base class signature
        pass

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.bodies.append((self.path, body, dict(self.headers)))
        status = self.server.script.pop(0) if self.server.script else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def put_server() -> Iterator[PutRecorder]:
    server = PutRecorder()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def result_file(tmp_path):
    path = tmp_path / "result.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(5000))
    return path


def test_a_put_is_retried_on_5xx_and_429_and_the_signature_never_logged(put_server, result_file, caplog):
    put_server.script = [503, 429]
    url = f"{put_server.base_url}/bucket/out.mp4{SIGNED}"
    with caplog.at_level(logging.DEBUG):
        stored = put_presigned(
            url, result_file, headers={"Content-Type": "video/mp4"}, retry_delays=(0.01, 0.01)
        )
    assert stored.url == f"{put_server.base_url}/bucket/out.mp4" and stored.size == result_file.stat().st_size
    assert stored.describe("mp4") == {"format": "mp4", "url": stored.url, "bytes": stored.size}
    assert [path for path, _, _ in put_server.bodies] == ["/bucket/out.mp4" + SIGNED] * 3
    _, body, headers = put_server.bodies[-1]
    assert body == result_file.read_bytes() and headers["Content-Type"] == "video/mp4"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "out.mp4" in logged and "Signature" not in logged and "deadbeef" not in logged


def test_a_put_that_keeps_failing_names_the_host_only(put_server, result_file):
    put_server.script = [500, 500, 500]
    with pytest.raises(UploadError) as caught:
        put_presigned(f"{put_server.base_url}/out.mp4{SIGNED}", result_file, retry_delays=(0.01, 0.01))
    assert caught.value.message == "the result could not be uploaded to 127.0.0.1 (HTTP 500)"
    assert caught.value.code == "upload"


def test_a_refused_put_is_not_retried(put_server, result_file):
    put_server.script = [403]
    with pytest.raises(UploadError, match=r"\(HTTP 403\)$"):
        put_presigned(f"{put_server.base_url}/out.mp4{SIGNED}", result_file, retry_delays=(0.01, 0.01))
    assert len(put_server.bodies) == 1


def test_a_cancel_stops_the_waits_between_tries(put_server, result_file):
    put_server.script = [503]
    cancel = threading.Event()
    threading.Timer(0.1, cancel.set).start()
    with pytest.raises(JobCancelled):
        put_presigned(f"{put_server.base_url}/out.mp4", result_file, retry_delays=(30.0,), cancel=cancel)


def test_location_drops_the_query_and_fragment():
    assert location_of("https://h.example:9000/b/k.mp4?sig=1#x") == "https://h.example:9000/b/k.mp4"


def test_a_missing_bucket_is_one_line_without_credentials(s3_server, result_file):
    environ = {**s3_server.environment(), "FACEDECK_S3_BUCKET": "no-such-bucket"}
    storage = BucketStorage.from_environment(environ)
    assert storage is not None
    with pytest.raises(UploadError) as caught:
        storage.store(result_file, name="x.mp4")
    assert caught.value.message == "the result could not be stored in bucket no-such-bucket (NoSuchBucket)"
    assert environ["AWS_SECRET_ACCESS_KEY"] not in caught.value.message
    assert (
        "no-such-bucket" in storage.describe() and environ["AWS_SECRET_ACCESS_KEY"] not in storage.describe()
    )


def test_the_bucket_stores_under_its_prefix_and_answers_a_readable_url(s3_server, result_file, unique):
    storage = BucketStorage.from_environment(s3_server.environment(prefix=f"tests/{unique}/"))
    assert storage is not None
    stored = storage.store(result_file, name="r.mp4")
    assert (stored.bucket, stored.key, stored.size) == (s3_server.bucket, f"tests/{unique}/r.mp4", 5012)
    assert s3_server.read(stored.key) == result_file.read_bytes()
    storage.remove(stored.key)
    assert s3_server.keys(f"tests/{unique}/") == []


def test_the_worker_bucket_signs_version_4_urls_in_the_addressing_style_set(
    s3_server, result_file, unique, tmp_path
):
    environ = {
        **s3_server.environment(prefix=f"tests/{unique}/"),
        "FACEDECK_S3_ADDRESSING_STYLE": "path",
        "FACEDECK_S3_URL_EXPIRES": "600",
    }
    storage = BucketStorage.from_environment(environ)
    assert storage is not None and storage.addressing_style == "path"
    stored = storage.store(result_file, name="r.mp4")
    parts = urlsplit(stored.url)
    assert parts.path == f"/{s3_server.bucket}/tests/{unique}/r.mp4"
    query = parse_qs(parts.query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and query["X-Amz-Expires"] == ["600"]
    assert requests.get(stored.url, timeout=10).content == result_file.read_bytes()

    # the operations the desktop's job staging shares: a presigned PUT, a download, a delete
    url, headers = storage.presign_put(f"tests/{unique}/put.mp4", 60, "video/mp4")
    assert headers == {"Content-Type": "video/mp4"}
    assert requests.put(url, data=b"put by a worker", headers=headers, timeout=10).status_code == 200
    assert storage.download(f"tests/{unique}/put.mp4", tmp_path / "back.mp4") == len(b"put by a worker")
    assert (tmp_path / "back.mp4").read_bytes() == b"put by a worker"
    storage.delete(f"tests/{unique}/put.mp4")
    storage.remove(stored.key or "")
    assert s3_server.keys(f"tests/{unique}/") == []


def test_an_unknown_addressing_style_in_the_environment_is_auto(s3_server):
    storage = BucketStorage.from_environment(
        {**s3_server.environment(), "FACEDECK_S3_ADDRESSING_STYLE": "dns"}
    )
    assert storage is not None and storage.addressing_style == "auto"
