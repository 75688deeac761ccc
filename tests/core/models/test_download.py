"""download_file against a real loopback HTTP server that misbehaves."""

from __future__ import annotations

import os
import threading
import time

import pytest
import requests

from facedeck.core.errors import FaceDeckError, JobCancelled, UsageError
from facedeck.core.models.download import DownloadProgress, apply_mirror, download_file
from facedeck.core.models.download_errors import DownloadCancelled, DownloadError
from tests.support.downloads import (
    BODY,
    CHUNK,
    HALF,
    SHA,
    SIZE,
    SleepRecorder,
    fetch,
    part_of,
    resumed_at,
    sent,
)
from tests.support.http_fixtures import Drop, MisbehavingServer, Stall, Status, unused_port_url


@pytest.fixture
def server():
    with MisbehavingServer() as running:
        yield running


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def test_happy_path_reports_increasing_progress_ending_at_the_size(server, sleeps, tmp_path):
    url = server.add("/m.onnx", BODY)
    reports: list[DownloadProgress] = []
    started = time.monotonic()
    result = fetch(url, tmp_path / "m.onnx", sleeps, progress=reports.append, chunk_size=CHUNK)
    elapsed = time.monotonic() - started

    assert result == tmp_path / "m.onnx"
    assert result.read_bytes() == BODY
    assert not part_of(result).exists()
    received = [report.received for report in reports]
    assert received == sorted(received) and received[-1] == SIZE
    assert all(report.total == SIZE and report.file_name == "m.onnx" for report in reports)
    assert reports[-1].eta_seconds == 0 and reports[-1].bytes_per_second > 0
    # throttled: ~10 a second plus the final one, not one per 64 KiB chunk (SIZE has ~50)
    assert len(reports) <= 2 + 10 * elapsed + 1
    assert sleeps.calls == []
    (record,) = server.records_for("/m.onnx")
    assert record.range is None and record.status == 200 and record.bytes_sent == SIZE


def test_404_twice_then_200_backs_off_2_then_4(server, sleeps, tmp_path):
    url = server.add("/m.onnx", BODY, [Status(404), Status(404)])
    fetch(url, tmp_path / "m.onnx", sleeps)
    assert (tmp_path / "m.onnx").read_bytes() == BODY
    assert sleeps.calls == [2.0, 4.0]
    assert [record.status for record in server.records_for("/m.onnx")] == [404, 404, 200]


def test_500s_then_success(server, sleeps, tmp_path):
    url = server.add("/m.onnx", BODY, [Status(500), Status(503), Status(502)])
    fetch(url, tmp_path / "m.onnx", sleeps, backoff_seconds=0.5)
    assert (tmp_path / "m.onnx").read_bytes() == BODY
    assert sleeps.calls == [0.5, 1.0, 2.0]
    assert [record.status for record in server.records_for("/m.onnx")] == [500, 503, 502, 200]


def test_429_is_retried_after_the_longer_of_backoff_and_retry_after(server, sleeps, tmp_path):
    url = server.add("/m.onnx", BODY, [Status(429), Status(429, (("Retry-After", "7"),)), Status(503)])
    fetch(url, tmp_path / "m.onnx", sleeps, backoff_seconds=0.5)
    assert (tmp_path / "m.onnx").read_bytes() == BODY
    assert sleeps.calls == [0.5, 7.0, 2.0]
    assert [record.status for record in server.records_for("/m.onnx")] == [429, 429, 503, 200]


def test_unknown_expected_size_uses_the_servers_length(server, sleeps, tmp_path):
    reports: list[DownloadProgress] = []
    url = server.add("/m.onnx", BODY, [Drop(after=HALF)])
    fetch(url, tmp_path / "m.onnx", sleeps, expected_size=None, progress=reports.append)
    assert (tmp_path / "m.onnx").read_bytes() == BODY
    assert {report.total for report in reports} == {SIZE} and reports[-1].received == SIZE


def test_connection_dropped_half_way_resumes_with_a_range_request(server, sleeps, tmp_path):
    url = server.add("/m.onnx", BODY, [Drop(after=HALF)])
    fetch(url, tmp_path / "m.onnx", sleeps, chunk_size=CHUNK)
    assert (tmp_path / "m.onnx").read_bytes() == BODY
    first, second = server.records_for("/m.onnx")
    assert first.range is None and first.bytes_sent == HALF
    # requests hands out whole chunks only: the partial chunk in flight when the socket closed
    # is lost, so the resume point is the last chunk boundary at or before HALF
    start = resumed_at(second)
    assert HALF - CHUNK < start <= HALF and second.status == 206
    assert second.bytes_sent == SIZE - start  # only the rest was sent again
    assert sent([first, second]) < SIZE + CHUNK  # not 1.5x
    assert sleeps.calls == [2.0]


def test_body_shorter_than_content_length_is_resumed(server, sleeps, tmp_path):
    url = server.add("/m.onnx", BODY, [Drop(after=SIZE - 1000)])
    reports: list[DownloadProgress] = []
    fetch(url, tmp_path / "m.onnx", sleeps, progress=reports.append, chunk_size=CHUNK)
    assert (tmp_path / "m.onnx").read_bytes() == BODY
    first, second = server.records_for("/m.onnx")
    start = resumed_at(second)
    assert first.range is None and SIZE - 1000 - CHUNK < start <= SIZE - 1000
    assert second.bytes_sent == SIZE - start
    assert reports[-1].attempt == 2 and reports[-1].resumed_from == start and reports[-1].received == SIZE


def test_resume_survives_a_redirect_like_github_release_assets(server, sleeps, tmp_path):
    server.add("/cdn/m.onnx", BODY, [Drop(after=HALF)])
    url = server.add("/releases/m.onnx", b"", [Status(302, (("Location", "/cdn/m.onnx"),))] * 2)
    fetch(url, tmp_path / "m.onnx", sleeps, chunk_size=CHUNK)
    assert (tmp_path / "m.onnx").read_bytes() == BODY
    assert [record.range is None for record in server.records_for("/releases/m.onnx")] == [True, False]
    first, second = server.records_for("/cdn/m.onnx")
    assert first.range is None and HALF - CHUNK < resumed_at(second) <= HALF  # Range kept across the hop


def test_server_ignoring_range_after_a_drop_starts_over_cleanly(server, sleeps, tmp_path):
    url = server.add("/m.onnx", BODY, [Drop(after=HALF)], honor_range=False)
    fetch(url, tmp_path / "m.onnx", sleeps, chunk_size=CHUNK)
    assert (tmp_path / "m.onnx").read_bytes() == BODY
    first, second = server.records_for("/m.onnx")
    assert resumed_at(second) > 0 and second.status == 200 and second.bytes_sent == SIZE


def test_stall_longer_than_read_timeout_resumes(server, sleeps, tmp_path):
    url = server.add("/m.onnx", BODY, [Stall(after=HALF, seconds=5.0)])
    started = time.monotonic()
    fetch(url, tmp_path / "m.onnx", sleeps, read_timeout=0.3, chunk_size=CHUNK)
    assert time.monotonic() - started < 3.0  # gave up on the stalled reply, didn't wait it out
    assert (tmp_path / "m.onnx").read_bytes() == BODY
    first, second = server.records_for("/m.onnx")[:2]
    assert first.range is None
    assert 0 < resumed_at(second) <= HALF and second.status == 206
    assert sleeps.calls == [2.0]


def test_wrong_bytes_are_never_kept(server, sleeps, tmp_path):
    wrong = bytes(reversed(BODY))
    url = server.add("/m.onnx", wrong)
    with pytest.raises(DownloadError, match="SHA-256 mismatch") as caught:
        fetch(url, tmp_path / "m.onnx", sleeps)
    assert "m.onnx" in str(caught.value) and url in str(caught.value)
    assert caught.value.code == "download" and isinstance(caught.value, FaceDeckError)
    assert not (tmp_path / "m.onnx").exists() and not part_of(tmp_path / "m.onnx").exists()
    assert len(server.records_for("/m.onnx")) == 1  # a mismatch is not retried on the same URL


def test_wrong_bytes_on_the_first_url_fall_through_to_a_clean_download(server, sleeps, tmp_path):
    bad = server.add("/bad.onnx", bytes(reversed(BODY)))
    good = server.add("/good.onnx", BODY)
    fetch([bad, good], tmp_path / "m.onnx", sleeps)
    assert (tmp_path / "m.onnx").read_bytes() == BODY
    (record,) = server.records_for("/good.onnx")
    assert record.range is None  # the bad .part was deleted, not resumed


def test_a_server_announcing_another_size_is_skipped_without_downloading(server, sleeps, tmp_path):
    url = server.add("/m.onnx", BODY + b"extra")
    with pytest.raises(DownloadError, match=f"the server's file is {SIZE + 5} bytes, expected {SIZE}"):
        fetch(url, tmp_path / "m.onnx", sleeps)
    assert len(server.records_for("/m.onnx")) == 1
    assert not part_of(tmp_path / "m.onnx").exists()


def test_a_body_without_length_running_past_the_expected_size_is_cut_off(server, sleeps, tmp_path):
    url = server.add("/m.onnx", BODY + os.urandom(SIZE), send_length=False)
    with pytest.raises(DownloadError, match="more than the expected"):
        fetch(url, tmp_path / "m.onnx", sleeps, chunk_size=CHUNK)
    assert not part_of(tmp_path / "m.onnx").exists() and not (tmp_path / "m.onnx").exists()


def test_a_body_without_length_ending_early_is_resumed(server, sleeps, tmp_path):
    url = server.add("/m.onnx", BODY, [Drop(after=HALF)], send_length=False)
    fetch(url, tmp_path / "m.onnx", sleeps, chunk_size=CHUNK)
    assert (tmp_path / "m.onnx").read_bytes() == BODY
    first, second = server.records_for("/m.onnx")
    assert resumed_at(second) == HALF  # no length: the client gets every byte before the close


def test_first_url_always_500_falls_through_to_the_second(server, sleeps, tmp_path):
    broken = server.add("/broken.onnx", BODY, [Status(500)] * 10)
    good = server.add("/good.onnx", BODY)
    fetch([broken, good], tmp_path / "m.onnx", sleeps, attempts_per_url=3)
    assert (tmp_path / "m.onnx").read_bytes() == BODY
    assert [record.status for record in server.records_for("/broken.onnx")] == [500, 500, 500]
    assert len(server.records_for("/good.onnx")) == 1
    assert sleeps.calls == [2.0, 4.0]  # backoff between attempts on a URL, none between URLs


def test_refused_connection_falls_through_to_the_second_url(server, sleeps, tmp_path):
    good = server.add("/good.onnx", BODY)
    fetch([unused_port_url("/m.onnx"), good], tmp_path / "m.onnx", sleeps)
    assert (tmp_path / "m.onnx").read_bytes() == BODY
    assert sleeps.calls == [0.5]  # one quick retry, no backoff (more in test_download_offline.py)
    assert len(server.records_for("/good.onnx")) == 1


def test_403_moves_to_the_next_url_at_once(server, sleeps, tmp_path):
    denied = server.add("/denied.onnx", BODY, [Status(403)] * 5)
    good = server.add("/good.onnx", BODY)
    fetch([denied, good], tmp_path / "m.onnx", sleeps)
    assert len(server.records_for("/denied.onnx")) == 1 and sleeps.calls == []


def test_every_url_failing_names_the_file_and_each_failure(server, sleeps, tmp_path):
    first = server.add("/a.onnx", BODY, [Status(401)])
    last = server.add("/b.onnx", BODY, [Status(500)] * 10)
    with pytest.raises(DownloadError) as caught:
        fetch([first, last], tmp_path / "m.onnx", sleeps, attempts_per_url=2)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("could not download m.onnx")
    assert f"{first}: HTTP 401" in message and f"{last}: HTTP 500" in message
    assert not (tmp_path / "m.onnx").exists()


def test_partial_bytes_from_one_url_are_resumed_from_the_next(server, sleeps, tmp_path):
    flaky = server.add("/flaky.onnx", BODY, [Drop(after=HALF)] + [Status(503)] * 10)
    good = server.add("/good.onnx", BODY)
    fetch([flaky, good], tmp_path / "m.onnx", sleeps, attempts_per_url=2, chunk_size=CHUNK)
    assert (tmp_path / "m.onnx").read_bytes() == BODY
    (record,) = server.records_for("/good.onnx")
    start = resumed_at(record)
    assert HALF - CHUNK < start <= HALF and record.bytes_sent == SIZE - start


def test_416_on_an_already_complete_part_just_verifies_it(server, sleeps, tmp_path):
    destination = tmp_path / "m.onnx"
    part_of(destination).write_bytes(BODY)
    url = server.add("/m.onnx", BODY)
    reports: list[DownloadProgress] = []
    fetch(url, destination, sleeps, progress=reports.append)
    assert destination.read_bytes() == BODY and not part_of(destination).exists()
    (record,) = server.records_for("/m.onnx")
    assert record.range == f"bytes={SIZE}-" and record.status == 416 and record.bytes_sent == 0
    assert reports[-1].received == SIZE


def test_cancel_from_the_progress_callback_keeps_the_part_for_a_later_resume(server, sleeps, tmp_path):
    destination = tmp_path / "m.onnx"
    url = server.add("/m.onnx", BODY)
    cancel = threading.Event()
    reports: list[DownloadProgress] = []

    def on_progress(report: DownloadProgress) -> None:
        reports.append(report)
        cancel.set()

    with pytest.raises(DownloadCancelled) as caught:
        fetch(url, destination, sleeps, progress=on_progress, cancel=cancel, chunk_size=CHUNK)
    assert isinstance(caught.value, JobCancelled) and caught.value.code == "cancelled"
    assert len(reports) == 1  # stopped right after the chunk that reported
    kept = part_of(destination).stat().st_size
    assert kept == reports[0].received == CHUNK
    assert not destination.exists()

    fetch(url, destination, sleeps)
    assert destination.read_bytes() == BODY
    assert server.records_for("/m.onnx")[-1].range == f"bytes={kept}-"


def test_cancel_during_backoff_stops_before_the_next_attempt(server, tmp_path):
    url = server.add("/m.onnx", BODY, [Status(503)] * 5)
    cancel = threading.Event()
    with pytest.raises(DownloadCancelled):
        download_file(
            [url],
            tmp_path / "m.onnx",
            expected_size=SIZE,
            expected_sha256=SHA,
            cancel=cancel,
            sleep=lambda seconds: cancel.set(),
        )
    assert len(server.records_for("/m.onnx")) == 1


def test_cancel_interrupts_a_real_backoff_wait(server, tmp_path):
    url = server.add("/m.onnx", BODY, [Status(503)] * 5)
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(DownloadCancelled):  # default sleep=time.sleep: waits on the event instead
        download_file(
            [url],
            tmp_path / "m.onnx",
            expected_size=SIZE,
            expected_sha256=SHA,
            cancel=cancel,
            backoff_seconds=30.0,
        )
    assert time.monotonic() - started < 5.0
    assert len(server.records_for("/m.onnx")) == 1


@pytest.mark.parametrize(
    ("url", "mirror", "expected"),
    [
        ("https://github.com/a/b.zip", "http://127.0.0.1:8000/cache", "http://127.0.0.1:8000/cache/a/b.zip"),
        ("https://github.com/a/b.zip", "http://127.0.0.1:8000/cache/", "http://127.0.0.1:8000/cache/a/b.zip"),
        ("https://github.com/a/b.zip", "https://mirror.example", "https://mirror.example/a/b.zip"),
        (
            "https://huggingface.co/o/r/resolve/main/m.onnx?download=true",
            "https://hf-mirror.example/x",
            "https://hf-mirror.example/x/o/r/resolve/main/m.onnx?download=true",
        ),
        ("https://github.com/a/b.zip", None, "https://github.com/a/b.zip"),
        ("https://github.com/a/b.zip", "", "https://github.com/a/b.zip"),
    ],
)
def test_apply_mirror(url, mirror, expected):
    assert apply_mirror(url, mirror) == expected


def test_apply_mirror_rejects_a_mirror_without_scheme_and_host():
    with pytest.raises(UsageError, match="mirror"):
        apply_mirror("https://github.com/a/b.zip", "mirror.example")


def test_download_through_a_mirror_reaches_the_mirror(server, sleeps, tmp_path):
    server.add("/cache/owner/repo/releases/download/v1/m.onnx", BODY)
    fetch(
        "https://github.com/owner/repo/releases/download/v1/m.onnx",
        tmp_path / "m.onnx",
        sleeps,
        mirror=server.base_url + "/cache",
    )
    assert (tmp_path / "m.onnx").read_bytes() == BODY
    assert len(server.records_for("/cache/owner/repo/releases/download/v1/m.onnx")) == 1


def test_user_agent_names_facedeck(sleeps, tmp_path, monkeypatch):
    seen: list[str] = []
    original = requests.Session.get

    def spy(self, url, **kwargs):
        seen.append(self.headers["User-Agent"])
        return original(self, url, **kwargs)

    monkeypatch.setattr(requests.Session, "get", spy)
    with MisbehavingServer() as server:
        fetch(server.add("/m.onnx", BODY), tmp_path / "m.onnx", sleeps)
    assert seen and seen[0].startswith("FaceDeck/")
