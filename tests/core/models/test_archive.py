"""extract_zip_members: only the listed members, verified, and never a name outside the archive."""

from __future__ import annotations

import hashlib
import os
import zipfile

import pytest

from facedeck.core.models.archive import extract_zip_members
from facedeck.core.models.download_errors import DownloadError

PAYLOAD_A = os.urandom(200_000)
PAYLOAD_B = os.urandom(50_000)


def make_zip(path, entries: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data)
    return path


def listing(**named: bytes) -> dict[str, tuple[int, str]]:
    return {
        name.replace("__", "/"): (len(data), hashlib.sha256(data).hexdigest()) for name, data in named.items()
    }


@pytest.mark.parametrize(
    "hostile",
    ["../evil.onnx", "models/../../evil.onnx", "/abs/evil.onnx", "C:\\evil.onnx", "\\\\server\\evil.onnx"],
)
def test_hostile_member_names_refuse_the_whole_archive(tmp_path, hostile):
    archive = make_zip(tmp_path / "pack.zip", {"pack/a.onnx": PAYLOAD_A, hostile: b"evil"})
    out = tmp_path / "out"
    with pytest.raises(DownloadError, match="refusing pack.zip"):
        extract_zip_members(archive, listing(pack__a=PAYLOAD_A), out)
    assert not out.exists() or list(out.iterdir()) == []
    assert not (tmp_path / "evil.onnx").exists()


def test_good_zip_extracts_only_the_listed_members_and_verifies_them(tmp_path):
    archive = make_zip(
        tmp_path / "pack.zip", {"pack/a.onnx": PAYLOAD_A, "pack/b.onnx": PAYLOAD_B, "pack/readme.txt": b"hi"}
    )
    out = tmp_path / "out"
    written = extract_zip_members(archive, {"pack/a.onnx": listing(x=PAYLOAD_A)["x"]}, out)
    assert written == [out / "a.onnx"]
    assert (out / "a.onnx").read_bytes() == PAYLOAD_A
    assert sorted(path.name for path in out.iterdir()) == ["a.onnx"]


def test_member_with_a_wrong_hash_is_refused_and_not_kept(tmp_path):
    archive = make_zip(tmp_path / "pack.zip", {"a.onnx": PAYLOAD_A, "b.onnx": PAYLOAD_B})
    members = {
        "a.onnx": listing(x=PAYLOAD_A)["x"],
        "b.onnx": (len(PAYLOAD_B), hashlib.sha256(b"no").hexdigest()),
    }
    out = tmp_path / "out"
    with pytest.raises(DownloadError, match="b.onnx is not the expected file: SHA-256 mismatch"):
        extract_zip_members(archive, members, out)
    assert sorted(path.name for path in out.iterdir()) == ["a.onnx"]  # the good one before it stays


def test_member_bigger_than_listed_is_refused(tmp_path):
    archive = make_zip(tmp_path / "pack.zip", {"a.onnx": PAYLOAD_A})
    out = tmp_path / "out"
    with pytest.raises(DownloadError, match="more than"):
        extract_zip_members(archive, {"a.onnx": (1000, hashlib.sha256(PAYLOAD_A[:1000]).hexdigest())}, out)
    assert list(out.iterdir()) == []


def test_missing_member_is_refused_before_extracting_anything(tmp_path):
    archive = make_zip(tmp_path / "pack.zip", {"a.onnx": PAYLOAD_A})
    out = tmp_path / "out"
    with pytest.raises(DownloadError, match="does not contain b.onnx"):
        extract_zip_members(
            archive, {"a.onnx": listing(x=PAYLOAD_A)["x"], "b.onnx": listing(x=PAYLOAD_B)["x"]}, out
        )
    assert not out.exists()


def test_a_file_that_is_not_a_zip_is_a_download_error(tmp_path):
    archive = tmp_path / "pack.zip"
    archive.write_bytes(b"<html>rate limited</html>")
    with pytest.raises(DownloadError, match="not a readable zip"):
        extract_zip_members(archive, {}, tmp_path / "out")
