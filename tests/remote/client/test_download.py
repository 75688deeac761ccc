"""RemoteClient.download: a result's presigned GET URL to a file, retried, never with the key."""

from __future__ import annotations

import dataclasses
import threading

import pytest
import requests

from facedeck.core.errors import JobCancelled
from facedeck.remote.client import RemoteClient, RemoteError
from facedeck.remote.endpoint import Endpoint
from tests.remote.client.fakes import FAST, KEY, runpod_endpoint
from tests.support.fake_endpoint import Cut, Drop, Reply

SIGNATURE = "X-Amz-Signature=5f0c2a9e7b1d43c8a6e2f9b0d7c1a3e5"
RESULT = bytes(range(256)) * 4000  # 1000 KB: several chunks


def test_download_sends_no_authorization_and_survives_503(fake, client, tmp_path):
    fake.script("GET", "/store/result.mp4", Reply(503), Reply(200, RESULT))
    dest = tmp_path / "result.mp4"
    written = client.download(f"{fake.url}/store/result.mp4?{SIGNATURE}", dest)
    assert written == len(RESULT) == dest.stat().st_size
    assert dest.read_bytes() == RESULT
    requests_made = fake.requests_to("GET", "/store/result.mp4")
    assert len(requests_made) == 2
    assert all(request.header("Authorization") is None for request in requests_made)
    assert all(request.query == SIGNATURE for request in requests_made)


def test_download_drops_an_authorization_the_session_carries(fake, tmp_path):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {KEY}"  # a caller's session set up for the endpoint
    fake.script("GET", "/store/r.bin", Reply(200, RESULT))
    with RemoteClient(Endpoint.server(fake.url, KEY), FAST, session=session) as client:
        assert client.download(f"{fake.url}/store/r.bin?{SIGNATURE}", tmp_path / "r.bin") == len(RESULT)
    assert fake.requests[0].header("Authorization") is None


@pytest.mark.parametrize(
    ("script", "tries"),
    [
        # an object written a moment ago can answer 404 for a while
        ([Reply(404), Reply(408), Reply(429), Reply(200, RESULT)], 4),
        ([Drop(), Reply(200, RESULT)], 2),
        ([Cut(Reply(200, RESULT), 5000), Reply(200, RESULT)], 2),  # a body cut short is fetched again
    ],
)
def test_download_retries(fake, tmp_path, script, tries):
    fake.script("GET", "/store/r.bin", *script)
    settings = dataclasses.replace(FAST, retry_delays=(0.01, 0.01, 0.01))
    with RemoteClient(runpod_endpoint(fake), settings) as client:
        assert client.download(f"{fake.url}/store/r.bin?{SIGNATURE}", tmp_path / "r.bin") == len(RESULT)
    assert (tmp_path / "r.bin").read_bytes() == RESULT
    assert len(fake.requests) == tries


def test_download_failures_name_the_object_without_its_signature(fake, client, tmp_path):
    fake.script("GET", "/store/gone.bin", Reply(403))
    with pytest.raises(RemoteError) as caught:
        client.download(f"{fake.url}/store/gone.bin?{SIGNATURE}", tmp_path / "gone.bin")
    assert str(caught.value) == (
        f"the result at {fake.url}/store/gone.bin could not be downloaded (HTTP 403): "
        "its link may have expired"
    )
    fake.script("GET", "/store/down.bin", Reply(502))
    with pytest.raises(RemoteError) as caught:
        client.download(f"{fake.url}/store/down.bin?{SIGNATURE}", tmp_path / "down.bin")
    assert str(caught.value) == (
        f"the result at {fake.url}/store/down.bin could not be downloaded: the storage answered HTTP 502 "
        "three times; try again later"
    )


def test_download_stops_when_cancelled(fake, client, tmp_path):
    fake.script("GET", "/store/r.bin", Reply(200, RESULT))
    stop = threading.Event()
    stop.set()
    with pytest.raises(JobCancelled, match="^cancelled; the result's download stopped$"):
        client.download(f"{fake.url}/store/r.bin", tmp_path / "r.bin", cancel=stop)
