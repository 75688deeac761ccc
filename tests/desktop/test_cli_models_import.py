"""``models import PATH``: the folders and packs users of Deep-Live-Cam, InsightFace and FaceFusion
already have, through the real CLI, against a test manifest whose pins match generated files."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from tests.support.manifest_fixtures import Payload, payload, write_manifest, zip_of
from tests.support.models_cli import facedeck

SWAPPER = payload("inswapper_128.onnx", 40_000, 1)
RESTORER = payload("GFPGANv1.4.onnx", 30_000, 2)
DETECTOR = payload("det_10g.onnx", 5000, 3)
RECOGNIZER = payload("w600k_r50.onnx", 7000, 4)
LANDMARKS = payload("2d106det.onnx", 3000, 5)


@pytest.fixture
def env(tmp_path) -> dict:
    pack = Payload("buffalo_l.zip", zip_of([DETECTOR, RECOGNIZER, LANDMARKS], folder="buffalo_l/"))
    manifest = write_manifest(
        tmp_path / "manifest.toml",
        "https://models.invalid",
        [SWAPPER, RESTORER],
        pack,
        [DETECTOR, RECOGNIZER, LANDMARKS],
    )
    return {"FACEDECK_MANIFEST": str(manifest), "FACEDECK_CONFIG_DIR": str(tmp_path / "settings")}


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` and its SHA-256: the user's files must come out unchanged."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def rows(result) -> dict[str, dict]:
    """``--json`` import events by source path relative to the scanned folder's parent."""
    events = [json.loads(line) for line in result.stdout.splitlines()]
    return {event["source"]: event for event in events if event["event"] == "import"}


def test_a_folder_of_other_apps_models_imports_the_good_and_reports_the_rest(tmp_path, env):
    home = tmp_path / "home"
    dlc = home / "Deep-Live-Cam" / "models"  # Deep-Live-Cam's own names
    dlc.mkdir(parents=True)
    (dlc / "inswapper_128.onnx").write_bytes(SWAPPER.data)
    (dlc / "GFPGANv1.4.pth").write_bytes(b"a PyTorch checkpoint")  # the .pth: not what FaceDeck runs
    insight = home / ".insightface" / "models" / "buffalo_l"  # InsightFace's unpacked pack
    insight.mkdir(parents=True)
    (insight / "det_10g.onnx").write_bytes(DETECTOR.data)
    (insight / "genderage.onnx").write_bytes(b"not used by FaceDeck")
    facefusion = home / "facefusion" / ".assets" / "models"  # FaceFusion's names
    facefusion.mkdir(parents=True)
    (facefusion / "arcface_w600k_r50.onnx").write_bytes(RECOGNIZER.data)  # alias, same bytes
    (facefusion / "gfpgan_1.4.onnx").write_bytes(os.urandom(len(RESTORER.data)))  # alias, other bytes
    (facefusion / "gfpgan_1.4.hash").write_text("1234abcd")
    too_deep = home / "a" / "b" / "c" / "d" / "e"
    too_deep.mkdir(parents=True)
    (too_deep / "2d106det.onnx").write_bytes(LANDMARKS.data)
    (home / "loop").symlink_to(home)  # a symlinked folder is not followed: no endless walk
    before = snapshot(home)
    models = tmp_path / "models"

    result = facedeck("models", "import", str(home), "--models-dir", str(models), "--json", env=env)
    assert result.returncode == 4, result.stderr  # one file differs from its pin
    outcome = rows(result)
    status = {Path(source).relative_to(home).as_posix(): row["status"] for source, row in outcome.items()}
    assert status == {
        "Deep-Live-Cam/models/inswapper_128.onnx": "verified",
        "Deep-Live-Cam/models/GFPGANv1.4.pth": "skipped",
        ".insightface/models/buffalo_l/det_10g.onnx": "verified",
        ".insightface/models/buffalo_l/genderage.onnx": "skipped",
        "facefusion/.assets/models/arcface_w600k_r50.onnx": "verified",
        "facefusion/.assets/models/gfpgan_1.4.onnx": "mismatch",
    }
    assert outcome[str(facefusion / "gfpgan_1.4.onnx")]["model"] == "GFPGANv1.4"
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("facedeck: error:")]
    assert str(facefusion / "gfpgan_1.4.onnx") in error and "--trust" in error
    assert sorted(path.name for path in models.iterdir() if not path.name.startswith(".")) == [
        "det_10g.onnx",
        "inswapper_128.onnx",
        "w600k_r50.onnx",
    ]
    assert (models / "w600k_r50.onnx").read_bytes() == RECOGNIZER.data
    assert not list(models.glob(".*.part"))
    assert snapshot(home) == before  # copied, never moved or changed

    # the table for people, then --trust for the file that differs
    table = facedeck("models", "import", str(home), "--models-dir", str(models), env=env)
    assert "present" in table.stdout and "NOT imported" in table.stdout
    assert "summary: 0 imported and verified, 3 already present, 1 not imported" in table.stdout
    trusted = facedeck("models", "import", str(home), "--trust", "--models-dir", str(models), env=env)
    assert trusted.returncode == 0, trusted.stderr
    assert "1 imported as trusted, 3 already present" in trusted.stdout
    listed = facedeck("models", "list", "--json", "--models-dir", str(models), env=env)
    states = {row["id"]: row["status"] for row in map(json.loads, listed.stdout.splitlines())}
    assert states["GFPGANv1.4"] == "trusted" and states["2d106det"] == "missing"  # too deep: not found
    assert snapshot(home) == before


def test_a_pack_zip_is_verified_member_by_member(tmp_path, env):
    tampered = bytearray(RECOGNIZER.data)
    tampered[100] ^= 0xFF
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("buffalo_l/det_10g.onnx", DETECTOR.data)
        bundle.writestr("buffalo_l/w600k_r50.onnx", bytes(tampered))
        bundle.writestr("buffalo_l/2d106det.onnx", LANDMARKS.data)
        bundle.writestr("buffalo_l/1k3d68.onnx", b"unused")
    archive = tmp_path / "Downloads" / "buffalo_l.zip"
    archive.parent.mkdir()
    archive.write_bytes(buffer.getvalue())
    before = snapshot(archive.parent)
    models = tmp_path / "models"

    result = facedeck("models", "import", str(archive), "--models-dir", str(models), env=env)
    assert result.returncode == 4
    (error,) = result.stderr.strip().splitlines()
    assert error.startswith("facedeck: error: 1 file(s) differ from the published models")
    assert f"{archive}:buffalo_l/w600k_r50.onnx" in error
    lines = result.stdout.splitlines()
    assert any(line.startswith("verified") and "det_10g" in line for line in lines)
    assert any(line.startswith("NOT imported") and "w600k_r50" in line for line in lines)
    assert any(line.startswith("skipped") and "1k3d68.onnx" in line for line in lines)
    assert sorted(path.name for path in models.glob("*.onnx")) == ["2d106det.onnx", "det_10g.onnx"]
    assert (models / "det_10g.onnx").read_bytes() == DETECTOR.data
    assert not list(models.glob(".*.part")) and snapshot(archive.parent) == before


def test_a_fifo_or_a_device_given_as_path_is_refused_before_reading(tmp_path, env):
    fifo = tmp_path / "inswapper_128.onnx"
    os.mkfifo(fifo)  # opening it for reading would block forever: the timeout catches that
    models = tmp_path / "models"
    for path, kind in ((fifo, "a named pipe (FIFO)"), (Path("/dev/zero"), "a device")):
        result = facedeck("models", "import", str(path), "--models-dir", str(models), env=env, timeout=30)
        assert result.returncode == 2
        assert (
            result.stderr.strip()
            == f"facedeck: error: {path} is {kind}, not a regular file; refusing to read it"
        )
        named = facedeck(
            "models", "import", "inswapper_128", str(path), "--models-dir", str(models), env=env, timeout=30
        )
        assert named.returncode == 2 and f"{path} is {kind}" in named.stderr
    assert not models.exists() or not any(models.iterdir())


def test_a_folder_with_nothing_known_and_an_unknown_file_name_are_usage_errors(tmp_path, env):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"jpeg")
    result = facedeck("models", "import", str(folder), "--models-dir", str(tmp_path / "models"), env=env)
    assert result.returncode == 2 and "found no model file FaceDeck knows in" in result.stderr
    converted = tmp_path / "my_swapper.onnx"
    converted.write_bytes(SWAPPER.data)
    unnamed = facedeck("models", "import", str(converted), "--models-dir", str(tmp_path / "models"), env=env)
    assert unnamed.returncode == 2 and "cannot tell which model" in unnamed.stderr
    named = facedeck(
        "models", "import", "inswapper_128", str(converted), "--models-dir", str(tmp_path / "models"), env=env
    )
    assert named.returncode == 0 and "imported inswapper_128" in named.stdout and "(verified)" in named.stdout
