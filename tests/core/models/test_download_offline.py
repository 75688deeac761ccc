"""download_file when hosts cannot be reached at all: no name resolution, refused, dropped SYNs.

Such failures are not transient: one quick retry, then the next URL, and a host found
unreachable is skipped for the rest of the run. Genuine transient faults (5xx, 429, drops and
stalls mid-body) keep their backoff: test_download.py.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest

from facedeck.core.models.download_errors import DownloadError, HostUnreachableError
from tests.support.downloads import BODY, SleepRecorder, fetch, part_of, unanswered_port_url
from tests.support.http_fixtures import MisbehavingServer, Status, unused_port_url

UNRESOLVABLE = "http://models.invalid/m.onnx"  # .invalid never resolves (RFC 2606)


@pytest.fixture
def server():
    with MisbehavingServer() as running:
        yield running


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def test_an_unresolvable_host_gets_one_quick_retry_then_a_clear_error(sleeps, tmp_path):
    destination = tmp_path / "m.onnx"
    with pytest.raises(HostUnreachableError) as caught:
        fetch(UNRESOLVABLE, destination, sleeps)
    message = str(caught.value)
    assert message.startswith("could not download m.onnx: ")
    assert "cannot resolve the host name models.invalid" in message and "\n" not in message
    assert caught.value.code == "download"  # same exit status as any failed download
    assert sleeps.calls == [0.5]  # not 2, 4, 8, 16 s
    assert caught.value.reasons == ("cannot resolve the host name models.invalid (no network or DNS?)",)
    assert not destination.exists() and not part_of(destination).exists()


def test_a_refused_connection_is_retried_once_and_its_host_skipped_later_in_the_run(sleeps, tmp_path):
    refused = unused_port_url("/a.onnx")
    unreachable: dict[str, str] = {}
    with pytest.raises(HostUnreachableError, match="cannot connect to 127.0.0.1:.*refused"):
        fetch(refused, tmp_path / "a.onnx", sleeps, unreachable_hosts=unreachable)
    assert sleeps.calls == [0.5]
    assert list(unreachable) == [urlsplit(refused).netloc]

    # the next file on the same host: no attempt, no wait
    with pytest.raises(HostUnreachableError, match="could not be reached a moment ago") as caught:
        fetch(
            refused.replace("/a.onnx", "/b.onnx"), tmp_path / "b.onnx", sleeps, unreachable_hosts=unreachable
        )
    assert sleeps.calls == [0.5]
    assert len(caught.value.reasons) == 1 and "refused" in caught.value.reasons[0]  # the first cause, kept


def test_a_host_known_unreachable_is_not_contacted(server, sleeps, tmp_path):
    url = server.add("/m.onnx", BODY)
    with pytest.raises(HostUnreachableError):
        fetch(url, tmp_path / "m.onnx", sleeps, unreachable_hosts={urlsplit(url).netloc: "refused"})
    assert server.records_for("/m.onnx") == []


def test_a_connect_timeout_moves_to_the_next_url_without_waiting(server, sleeps, tmp_path):
    good = server.add("/good.onnx", BODY)
    started = time.monotonic()
    with unanswered_port_url("/m.onnx") as silent:
        fetch([silent, good], tmp_path / "m.onnx", sleeps, connect_timeout=0.3)
    assert time.monotonic() - started < 5.0
    assert (tmp_path / "m.onnx").read_bytes() == BODY
    assert sleeps.calls == []  # the timeout itself was the wait


def test_an_unreachable_first_url_and_a_failing_second_is_a_plain_download_error(server, sleeps, tmp_path):
    broken = server.add("/broken.onnx", BODY, [Status(500)] * 10)
    with pytest.raises(DownloadError) as caught:
        fetch([UNRESOLVABLE, broken], tmp_path / "m.onnx", sleeps, attempts_per_url=2)
    assert not isinstance(caught.value, HostUnreachableError)  # a server answered: not offline
    assert "models.invalid" in str(caught.value) and f"{broken}: HTTP 500" in str(caught.value)
    assert sleeps.calls == [0.5, 2.0]  # quick retry for the host, backoff for the 500
