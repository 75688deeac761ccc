"""The store's downloads (one outcome per model) and imports (caps, hostile zips) in process."""

from __future__ import annotations

import io
import zipfile

import pytest

from facedeck.core.errors import InputError
from facedeck.core.models import import_copy
from facedeck.core.models.fetch import DownloadStatus
from facedeck.core.models.importer import ImportStatus, identify, import_path
from facedeck.core.models.manifest import load_manifest, load_manifest_file
from facedeck.core.models.store import ModelStore
from tests.support.http_fixtures import MisbehavingServer, unused_port_url
from tests.support.manifest_fixtures import Payload, payload, write_manifest, zip_of

SWAPPER = payload("inswapper_128.onnx", 20_000, 1)
RESTORER = payload("GFPGANv1.4.onnx", 10_000, 2)
DETECTOR = payload("det_10g.onnx", 5000, 3)
RECOGNIZER = payload("w600k_r50.onnx", 7000, 4)


def make_store(tmp_path, base_url: str, pack_data: bytes | None = None) -> ModelStore:
    pack = Payload("buffalo_l.zip", pack_data or zip_of([DETECTOR, RECOGNIZER]))
    path = write_manifest(
        tmp_path / "manifest.toml", base_url, [SWAPPER, RESTORER], pack, [DETECTOR, RECOGNIZER]
    )
    return ModelStore(
        tmp_path / "models", manifest=load_manifest_file(path), settings_dir=tmp_path / "settings"
    )


def test_a_failed_model_or_pack_member_does_not_stop_the_others(tmp_path):
    tampered = bytearray(RECOGNIZER.data)
    tampered[0] ^= 1
    bad_pack = zip_of([DETECTOR, Payload(RECOGNIZER.name, bytes(tampered))])
    with MisbehavingServer() as server:
        # the pack's pin is the tampered zip's, so the zip itself verifies; one member does not
        store = make_store(tmp_path, server.base_url, bad_pack)
        manifest_text = (tmp_path / "manifest.toml").read_text()
        (tmp_path / "manifest.toml").write_text(
            manifest_text.replace(f"{server.base_url}/inswapper_128.onnx", unused_port_url("/x.onnx"))
        )
        store.manifest = load_manifest_file(tmp_path / "manifest.toml")
        server.add("/GFPGANv1.4.onnx", RESTORER.data)
        server.add("/buffalo_l.zip", bad_pack)
        seen = []
        outcomes = store.download(list(store.manifest.models.values()), on_outcome=seen.append)
    assert {outcome.spec.id: outcome.status for outcome in outcomes} == {
        "det_10g": DownloadStatus.DOWNLOADED,
        "w600k_r50": DownloadStatus.FAILED,
        "inswapper_128": DownloadStatus.FAILED,
        "GFPGANv1.4": DownloadStatus.DOWNLOADED,
    }
    assert [outcome.spec.id for outcome in outcomes] == list(store.manifest.models)  # manifest order
    assert sorted(outcome.spec.id for outcome in seen) == sorted(store.manifest.models)  # each reported once
    failed = {outcome.spec.id: str(outcome.error) for outcome in outcomes if outcome.error}
    assert "w600k_r50.onnx is not the expected file" in failed["w600k_r50"]
    assert "refused" in failed["inswapper_128"]
    assert sorted(path.name for path in store.directory.iterdir() if not path.name.startswith(".")) == [
        "GFPGANv1.4.onnx",
        "det_10g.onnx",
    ]
    assert not list(store.directory.glob("*.part")) and not list(store.directory.glob(".pack-*"))


def test_a_run_that_fetches_nothing_leaves_no_models_folder(tmp_path):
    store = make_store(tmp_path, unused_port_url("").rstrip("/"))
    outcomes = store.download(list(store.manifest.models.values()))
    assert {outcome.status for outcome in outcomes} == {DownloadStatus.FAILED}
    assert not store.directory.exists()


def test_facefusion_names_map_to_our_models():
    manifest = load_manifest()
    assert identify(manifest, "gfpgan_1.4.onnx").id == "gfpgan_1.4"
    assert identify(manifest, "arcface_w600k_r50.onnx").id == "w600k_r50"
    assert identify(manifest, "inswapper_128_fp16.onnx").id == "inswapper_128_fp16"
    assert identify(manifest, "scrfd_2.5g.onnx") is None  # another detector, not an alias


def test_a_zip_with_a_member_outside_its_folder_is_refused_whole(tmp_path):
    store = make_store(tmp_path, "https://models.invalid")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("det_10g.onnx", DETECTOR.data)
        bundle.writestr("../../evil.onnx", b"x")
    archive = tmp_path / "pack.zip"
    archive.write_bytes(buffer.getvalue())
    (outcome,) = import_path(store, archive).outcomes
    assert outcome.status is ImportStatus.FAILED and "points outside the archive" in outcome.detail
    assert not (store.directory / "det_10g.onnx").exists()


@pytest.mark.parametrize("packed", [False, True])
def test_a_trusted_file_is_still_capped(tmp_path, monkeypatch, packed):
    monkeypatch.setattr(import_copy, "MAX_MODEL_BYTES", 4096)
    store = make_store(tmp_path, "https://models.invalid")
    big = b"z" * 10_000
    if packed:  # the zip's header may lie about the size: the copy stops at the cap anyway
        source = tmp_path / "buffalo_l.zip"
        with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr("det_10g.onnx", big)
        (outcome,) = import_path(store, source, trust=True).outcomes
        assert outcome.status is ImportStatus.FAILED and "more than 4096 bytes" in outcome.detail
    else:  # told by os.stat, before a byte is read
        source = tmp_path / "det_10g.onnx"
        source.write_bytes(big)
        with pytest.raises(InputError, match=r"10000 bytes, more than any model file \(4096 bytes at most\)"):
            import_path(store, source, trust=True)
    assert not (store.directory / "det_10g.onnx").exists() and not list(store.directory.glob(".*.part"))
    assert store.trusted_hashes("det_10g") == set()
