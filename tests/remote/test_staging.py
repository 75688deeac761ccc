"""The client's job staging on real S3 servers: presigned URLs a plain HTTP client can use,
cleanup, cancel, errors that name the bucket and its S3 code but never a credential.

Besides the session's moto server (``s3_server``), some tests run moto in a process of its
own: one that checks credentials (moto's switch for that is process-wide, and the session's
server must stay open), and one a test can stop under a job.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from botocore.config import Config

from facedeck.core.errors import JobCancelled, UsageError
from facedeck.remote.staging import (
    DEFAULT_CLIENT_PREFIX,
    JobStaging,
    MissingResultError,
    StorageSettings,
    check_storage,
    new_job_tag,
)
from facedeck.remote.storage import UploadError
from tests.support.s3_server import ACCESS_KEY, REGION, SECRET_KEY

_MOTO_PROCESS = """
import logging, sys
from moto.server import ThreadedMotoServer
logging.getLogger("werkzeug").setLevel(logging.WARNING)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # until the test closes it
"""


class MotoProcess:
    """moto's S3 server in a process of its own; ``checks_credentials``: only keys moto's IAM
    knows are accepted (none are), so every request is refused as InvalidAccessKeyId."""

    def __init__(self, *, checks_credentials: bool = False) -> None:
        env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
        if checks_credentials:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
        self._process = subprocess.Popen(
            [sys.executable, "-c", _MOTO_PROCESS],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert self._process.stdout is not None
        self.endpoint_url = f"http://127.0.0.1:{int(self._process.stdout.readline())}"

    def stop(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


@pytest.fixture(scope="module")
def locked_s3() -> Iterator[MotoProcess]:
    server = MotoProcess(checks_credentials=True)
    yield server
    server.stop()


@pytest.fixture
def settings(s3_server, unique) -> StorageSettings:
    return StorageSettings(
        s3_server.bucket,
        endpoint_url=s3_server.endpoint_url,
        region=REGION,
        prefix=f"tests/{unique}/",
        url_expires=1234,
        addressing_style="path",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
    )


@pytest.fixture
def clip(tmp_path) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(300_000))
    return path


def leaked(text: str, *urls: str) -> list[str]:
    """The secret key or a presigned URL's signature, where ``text`` shows them."""
    signatures = [parse_qs(urlsplit(url).query)["X-Amz-Signature"][0] for url in urls]
    return [secret for secret in (SECRET_KEY, *signatures) if secret in text]


def not_the_tests_own(caplog) -> str:
    """The log without urllib3's lines: they show the URLs this test itself GETs and PUTs."""
    return "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("urllib3")
    )


def test_an_upload_answers_a_url_anyone_can_get_for_the_time_set(settings, s3_server, clip, caplog):
    with caplog.at_level(logging.DEBUG), JobStaging(settings, "clip-0a1b") as staging:
        url = staging.upload(clip)
        answer = requests.get(url, timeout=10)
        assert answer.status_code == 200 and answer.content == clip.read_bytes()
        assert s3_server.keys(settings.prefix) == [f"{settings.prefix}clip-0a1b/clip.mp4"]
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["1234"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert urlsplit(url).path == f"/{s3_server.bucket}/{settings.prefix}clip-0a1b/clip.mp4"  # path style
    assert "clip.mp4" in caplog.text and leaked(not_the_tests_own(caplog), url) == []
    assert "X-Amz-Signature" not in not_the_tests_own(caplog)


def test_uploads_of_one_name_get_keys_of_their_own_and_report_progress(settings, tmp_path):
    first, second = tmp_path / "a" / "me.jpg", tmp_path / "b" / "me.jpg"
    for path, content in ((first, b"first" * 1000), (second, b"second" * 1000)):
        path.parent.mkdir()
        path.write_bytes(content)
    reports: list[tuple[int, int]] = []
    with JobStaging(settings, new_job_tag("my holiday clip.mp4")) as staging:
        assert staging.job_tag.startswith("my-holiday-clip-")
        urls = [staging.upload(first), staging.upload(second, progress=lambda *sent: reports.append(sent))]
        assert [requests.get(url, timeout=10).content for url in urls] == [b"first" * 1000, b"second" * 1000]
    assert [urlsplit(url).path.rsplit("/", 1)[1] for url in urls] == ["me.jpg", "me-2.jpg"]
    assert reports[-1] == (6000, 6000)


def test_a_result_slot_takes_a_plain_put_and_reads_back(settings, s3_server, tmp_path):
    result = os.urandom(200_000)
    with JobStaging(settings, new_job_tag()) as staging:
        url, headers = staging.result_slot("result.mp4", "video/mp4")
        assert headers == {"Content-Type": "video/mp4"}
        assert "content-type" in parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0]
        assert requests.put(url, data=result, headers=headers, timeout=10).status_code == 200
        dest = tmp_path / "out.mp4"
        assert staging.fetch_result("result.mp4", dest) == len(result)
        assert dest.read_bytes() == result
        key = f"{staging.prefix}result.mp4"
        assert s3_server.client().head_object(Bucket=s3_server.bucket, Key=key)["ContentType"] == "video/mp4"

        plain_url, plain_headers = staging.result_slot("plain.png")
        assert plain_headers == {}
        assert requests.put(plain_url, data=b"png", timeout=10).status_code == 200
    assert s3_server.keys(settings.prefix) == []


def test_a_result_the_worker_never_put_is_missing(settings, tmp_path):
    with JobStaging(settings, new_job_tag()) as staging:
        staging.result_slot("result.mp4", "video/mp4")
        with pytest.raises(MissingResultError) as caught:
            staging.fetch_result("result.mp4", tmp_path / "out.mp4")
    assert caught.value.code == "upload"
    # s3transfer asks with HEAD (a bare 404) or GET (NoSuchKey), by version
    assert re.fullmatch(
        rf"the result result\.mp4 is not in bucket {settings.bucket} \((HTTP 404|NoSuchKey)\)",
        caught.value.message,
    )
    assert not (tmp_path / "out.mp4").exists()


def test_cleanup_deletes_the_uploads_and_the_result_once(settings, s3_server, clip, caplog):
    staging = JobStaging(settings, new_job_tag())
    with staging:
        staging.upload(clip)
        staging.upload(clip, name="source.png")
        url, headers = staging.result_slot("result.mp4", "video/mp4")
        requests.put(url, data=b"done", headers=headers, timeout=10).raise_for_status()
        assert len(s3_server.keys(staging.prefix)) == 3
    assert s3_server.keys(settings.prefix) == []
    with caplog.at_level(logging.INFO, logger="facedeck.remote"):
        staging.cleanup()  # again: nothing left to do, nothing said
    assert caplog.records == []


def test_keep_leaves_everything_in_the_bucket(settings, s3_server, clip):
    with JobStaging(replace(settings, keep=True), new_job_tag()) as staging:
        staging.upload(clip)
        url, _ = staging.result_slot("result.png")
        requests.put(url, data=b"png", timeout=10).raise_for_status()
    assert sorted(s3_server.keys(staging.prefix)) == [
        f"{staging.prefix}clip.mp4",
        f"{staging.prefix}result.png",
    ]


def test_a_cleanup_that_cannot_reach_the_bucket_is_logged_not_raised(settings, clip, caplog):
    server = MotoProcess()
    try:
        boto3.client(
            "s3",
            endpoint_url=server.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}),
        ).create_bucket(Bucket=settings.bucket)
        with (
            caplog.at_level(logging.WARNING),
            JobStaging(replace(settings, endpoint_url=server.endpoint_url), "t") as staging,
        ):
            staging.upload(clip)
            server.stop()
    finally:
        server.stop()
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    where = f"s3://{settings.bucket}/{staging.prefix}"
    assert warnings == [f"could not delete 1 object(s) under {where} (EndpointConnectionError)"]


def test_a_missing_bucket_is_one_sentence_with_the_s3_code(settings, clip, caplog):
    wrong = replace(settings, bucket="no-such-bucket")
    with caplog.at_level(logging.DEBUG), JobStaging(wrong, new_job_tag()) as staging:
        with pytest.raises(UploadError) as caught:
            staging.upload(clip)
    assert caught.value.message == "clip.mp4 could not be uploaded to bucket no-such-bucket (NoSuchBucket)"
    assert caught.value.code == "upload"
    assert leaked(str(caught.value)) == [] and leaked(caplog.text) == []


def test_refused_credentials_are_named_by_code_never_shown(locked_s3, clip, caplog):
    settings = StorageSettings(
        "facedeck-results",
        endpoint_url=locked_s3.endpoint_url,
        region=REGION,
        addressing_style="path",
        access_key="AKIAWRONG",
        secret_key=SECRET_KEY,
    )
    with caplog.at_level(logging.DEBUG):
        with JobStaging(settings, new_job_tag()) as staging, pytest.raises(UploadError) as caught:
            staging.upload(clip)
        with pytest.raises(UploadError) as checked:
            check_storage(settings)
    assert (
        caught.value.message
        == "clip.mp4 could not be uploaded to bucket facedeck-results (InvalidAccessKeyId)"
    )
    assert checked.value.message == (
        f"access to bucket facedeck-results at {locked_s3.endpoint_url} was denied; "
        "check the access key and its permissions (HTTP 403)"
    )
    for text in (str(caught.value), str(checked.value), caplog.text):
        assert leaked(text) == []


@pytest.mark.parametrize("size", [50_000, 12_000_000], ids=["one-put", "multipart"])
def test_a_cancel_during_an_upload_leaves_nothing(settings, s3_server, tmp_path, size):
    path = tmp_path / "big.mov"
    path.write_bytes(os.urandom(size))
    cancel = threading.Event()
    reports: list[int] = []

    def cancel_at_first_report(sent: int, total: int) -> None:
        reports.append(sent)
        cancel.set()

    with JobStaging(settings, new_job_tag()) as staging:
        with pytest.raises(JobCancelled, match="^cancelled while big.mov was uploaded; nothing was kept$"):
            staging.upload(path, cancel=cancel, progress=cancel_at_first_report)
        assert reports and reports[-1] <= size
        assert s3_server.keys(staging.prefix) == []
        uploads = s3_server.client().list_multipart_uploads(Bucket=s3_server.bucket, Prefix=staging.prefix)
        assert uploads.get("Uploads", []) == []


def test_a_cancel_before_the_upload_sends_nothing(settings, s3_server, clip):
    cancel = threading.Event()
    cancel.set()
    with JobStaging(settings, new_job_tag()) as staging, pytest.raises(JobCancelled):
        staging.upload(clip, cancel=cancel)
    assert s3_server.keys(settings.prefix) == []


def test_check_storage(settings, unused_endpoint):
    check_storage(settings)
    with pytest.raises(UploadError) as missing:
        check_storage(replace(settings, bucket="no-such-bucket"))
    assert (
        missing.value.message == f"bucket no-such-bucket does not exist at {settings.endpoint_url} (HTTP 404)"
    )
    with pytest.raises(UploadError) as unreachable:
        check_storage(replace(settings, endpoint_url=unused_endpoint))
    assert unreachable.value.message == (
        f"cannot connect to {unused_endpoint} to reach bucket {settings.bucket} (EndpointConnectionError)"
    )


@pytest.fixture
def unused_endpoint() -> str:
    """A loopback address nothing listens on (its port was free a moment ago)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_settings_from_the_environment():
    assert StorageSettings.from_environment({}) is None
    assert StorageSettings.from_environment({"FACEDECK_S3_BUCKET": "  ", "AWS_ACCESS_KEY_ID": "x"}) is None
    plain = StorageSettings.from_environment({"FACEDECK_S3_BUCKET": "media"})
    assert plain == StorageSettings("media")
    assert (plain.prefix, plain.keep, plain.url_expires, plain.access_key) == (
        DEFAULT_CLIENT_PREFIX,
        False,
        3600,
        None,
    )
    environ = {
        "FACEDECK_S3_BUCKET": "media",
        "FACEDECK_S3_ENDPOINT_URL": "https://acct.r2.cloudflarestorage.com",
        "FACEDECK_S3_PREFIX": "/swaps",
        "FACEDECK_S3_KEEP": "1",
        "FACEDECK_S3_URL_EXPIRES": "7200",
        "FACEDECK_S3_ADDRESSING_STYLE": "Path",
        "AWS_DEFAULT_REGION": "auto",
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "very-secret-value",
        "AWS_SESSION_TOKEN": "session-token-value",
    }
    settings = StorageSettings.from_environment(environ)
    assert settings == StorageSettings(
        "media",
        endpoint_url="https://acct.r2.cloudflarestorage.com",
        region="auto",
        prefix="swaps/",
        url_expires=7200,
        keep=True,
        addressing_style="path",
        access_key="AKIAEXAMPLE",
        secret_key="very-secret-value",
        session_token="session-token-value",
    )
    assert settings.describe() == "s3://media/swaps/ at https://acct.r2.cloudflarestorage.com"
    for text in (repr(settings), str(settings), settings.describe()):
        assert "very-secret-value" not in text and "session-token-value" not in text
    with pytest.raises(UsageError, match="FACEDECK_S3_URL_EXPIRES"):
        StorageSettings.from_environment({**environ, "FACEDECK_S3_URL_EXPIRES": "an hour"})


def test_settings_refuse_what_s3_would_refuse_later():
    with pytest.raises(UsageError, match="7 days|604800"):
        StorageSettings("media", url_expires=8 * 24 * 3600)
    with pytest.raises(UsageError, match="addressing style"):
        StorageSettings("media", addressing_style="dns")
    assert StorageSettings("media", endpoint_url="https://user:pw@minio.lan:9000/x?y=1").describe() == (
        "s3://media/facedeck/jobs/ at https://minio.lan:9000"
    )
