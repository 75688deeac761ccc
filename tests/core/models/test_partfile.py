"""The .part file of a download: hashed as it grows, resumed across runs, and the free-space check."""

from __future__ import annotations

import os
from collections import namedtuple

import pytest

from facedeck.core.models import partfile
from facedeck.core.models.download import DownloadProgress
from facedeck.core.models.download_errors import DownloadError
from tests.support.downloads import BODY, HALF, SIZE, SleepRecorder, fetch, part_of
from tests.support.http_fixtures import Drop, MisbehavingServer


@pytest.fixture
def server():
    with MisbehavingServer() as running:
        yield running


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def test_hash_is_computed_in_stream_without_reading_the_file_back(server, sleeps, tmp_path, monkeypatch):
    opened: list[tuple[str, str]] = []

    def spy_open(file, mode="r", *args, **kwargs):
        opened.append((os.fspath(file), mode))
        return open(file, mode, *args, **kwargs)

    # a module global named "open" shadows the builtin inside facedeck.core.models.partfile only
    monkeypatch.setattr(partfile, "open", spy_open, raising=False)
    fetch(server.add("/m.onnx", BODY, [Drop(after=HALF)]), tmp_path / "m.onnx", sleeps)
    assert (tmp_path / "m.onnx").read_bytes() == BODY
    assert opened and all("r" not in mode for _, mode in opened)  # only ever appended to


def test_existing_part_from_an_earlier_run_is_resumed(server, sleeps, tmp_path):
    destination = tmp_path / "m.onnx"
    part_of(destination).write_bytes(BODY[:1_000_000])
    url = server.add("/m.onnx", BODY)
    reports: list[DownloadProgress] = []
    fetch(url, destination, sleeps, progress=reports.append)
    assert destination.read_bytes() == BODY and not part_of(destination).exists()
    (record,) = server.records_for("/m.onnx")
    assert record.range == "bytes=1000000-" and record.bytes_sent == SIZE - 1_000_000
    assert reports[0].resumed_from == 1_000_000 and reports[0].received >= 1_000_000


def test_corrupt_part_from_an_earlier_run_is_fetched_again_from_scratch(server, sleeps, tmp_path):
    destination = tmp_path / "m.onnx"
    part_of(destination).write_bytes(b"\0" * 1_000_000)
    url = server.add("/m.onnx", BODY)
    fetch(url, destination, sleeps)
    assert destination.read_bytes() == BODY
    assert [record.range for record in server.records_for("/m.onnx")] == ["bytes=1000000-", None]


def test_not_enough_disk_space_fails_before_any_request(server, sleeps, tmp_path, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(
        partfile.shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 2_000_000, 2_000_000)
    )
    url = server.add("/m.onnx", BODY)
    with pytest.raises(DownloadError, match=r"m\.onnx needs \d+ MB free in .*, only 2 MB available"):
        fetch(url, tmp_path / "m.onnx", sleeps)
    assert server.records == []
    assert not (tmp_path / "m.onnx").exists()
