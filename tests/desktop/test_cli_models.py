"""``facedeck --headless models ...`` in real processes against a test manifest."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.manifest_fixtures import payload, write_manifest


def facedeck(*args: str, env: dict | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "facedeck.desktop", "--headless", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        input=stdin,
    )


@pytest.fixture
def setup(tmp_path):
    files = [payload("inswapper_128.onnx", 4000, 1), payload("GFPGANv1.4.onnx", 3000, 2)]
    manifest = write_manifest(tmp_path / "manifest.toml", "http://127.0.0.1:9", files, None, [])
    env = {"FACEDECK_MANIFEST": str(manifest), "FACEDECK_CONFIG_DIR": str(tmp_path / "settings")}
    models = tmp_path / "models"
    return {"files": files, "env": env, "models": models, "root": tmp_path}


def listing(setup) -> dict[str, dict]:
    result = facedeck(
        "models", "list", "--check", "--json", "--models-dir", str(setup["models"]), env=setup["env"]
    )
    assert result.returncode == 0, result.stderr
    return {row["id"]: row for row in map(json.loads, result.stdout.splitlines())}


def test_list_import_trust_verify_remove(setup):
    swapper, restorer = setup["files"]
    env, models = setup["env"], str(setup["models"])
    assert {row["status"] for row in listing(setup).values()} == {"missing"}

    own = setup["root"] / "inswapper_128.onnx"
    own.write_bytes(swapper.data)
    result = facedeck("models", "import", "inswapper_128", str(own), "--models-dir", models, env=env)
    assert result.returncode == 0, result.stderr
    assert "verified" in result.stdout

    converted = setup["root"] / "my_gfpgan.onnx"
    converted.write_bytes(b"c" * 10)
    refused = facedeck("models", "import", "GFPGANv1.4", str(converted), "--models-dir", models, env=env)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "--trust" in refused.stderr and f"10 bytes, expected {len(restorer.data)}" in refused.stderr
    trusted = facedeck(
        "models", "import", "GFPGANv1.4", str(converted), "--trust", "--models-dir", models, env=env
    )
    assert trusted.returncode == 0, trusted.stderr

    rows = listing(setup)
    assert rows["inswapper_128"]["status"] == "verified"
    assert rows["GFPGANv1.4"]["status"] == "trusted"
    table = facedeck("models", "list", "--models-dir", models, env=env).stdout
    assert "trusted" in table and "Test NC" in table

    (setup["models"] / "inswapper_128.onnx").write_bytes(b"broken" * 100)
    verify = facedeck("models", "verify", "--models-dir", models, env=env)
    assert verify.returncode != 0 and "corrupt model file(s): inswapper_128" in verify.stderr

    removed = facedeck("models", "remove", "inswapper_128", "--models-dir", models, env=env)
    assert removed.returncode == 0 and not (setup["models"] / "inswapper_128.onnx").exists()
    assert facedeck("models", "path", "--models-dir", models, env=env).stdout.strip() == str(setup["models"])


def test_first_download_needs_accepted_terms(setup):
    result = facedeck("models", "download", "--models-dir", str(setup["models"]), env=setup["env"], stdin="")
    assert result.returncode == 2
    assert "--accept-terms" in result.stderr and "Traceback" not in result.stderr
    assert not setup["models"].exists() or not any(setup["models"].iterdir())


def test_unknown_model_name_is_a_usage_error(setup):
    result = facedeck(
        "models", "download", "nope", "--accept-terms", "--models-dir", str(setup["models"]), env=setup["env"]
    )
    assert result.returncode == 2 and "unknown model 'nope'" in result.stderr


def test_swap_with_missing_models_names_the_fetch_command(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = facedeck(
        "swap", "-s", "a.png", "-t", "b.png", "-o", str(tmp_path / "c.png"), "--models-dir", str(empty)
    )
    assert result.returncode == 4
    assert "facedeck --headless models download det_10g w600k_r50 inswapper_128" in result.stderr
    assert str(empty) in result.stderr


def test_corrupt_model_hint_names_the_commands_core_leaves_out(tmp_path):
    from facedeck.core.models.store import ModelVerificationError
    from facedeck.desktop.errors import cli_message, exit_code

    corrupt = ModelVerificationError(
        f"{tmp_path}/GFPGANv1.4.onnx does not match the published SHA-256 of GFPGANv1.4",
        path=str(tmp_path / "GFPGANv1.4.onnx"),
        model="GFPGANv1.4",
    )
    line = cli_message(corrupt)
    assert line.startswith(str(corrupt))
    assert "'facedeck --headless models download GFPGANv1.4'" in line
    assert "'facedeck --headless models import GFPGANv1.4 PATH --trust'" in line
    assert exit_code(corrupt) == 4
    unknown = ModelVerificationError("random.onnx is not a model FaceDeck knows; refusing to load it")
    assert cli_message(unknown) == str(unknown)  # nothing to download or trust


def test_download_through_a_mirror_unpacks_verifies_and_remembers_consent(tmp_path):
    from tests.support.http_fixtures import MisbehavingServer
    from tests.support.manifest_fixtures import zip_of

    detector, recognizer = payload("det_10g.onnx", 5000, 3), payload("w600k_r50.onnx", 7000, 4)
    swapper = payload("inswapper_128.onnx", 300_000, 5)
    pack = payload("testpack.zip", 0, 0)
    pack.data = zip_of([detector, recognizer], folder="testpack/")
    # The manifest names a host that does not exist; --mirror sends every request to the test server.
    manifest = write_manifest(
        tmp_path / "manifest.toml", "https://models.invalid/files", [swapper], pack, [detector, recognizer]
    )
    env = {"FACEDECK_MANIFEST": str(manifest), "FACEDECK_CONFIG_DIR": str(tmp_path / "settings")}
    models = tmp_path / "models"
    with MisbehavingServer() as server:
        server.add("/files/testpack.zip", pack.data)
        server.add("/files/inswapper_128.onnx", swapper.data)
        result = facedeck(
            "models",
            "download",
            "--accept-terms",
            "--mirror",
            server.base_url,
            "--models-dir",
            str(models),
            env=env,
        )
        assert result.returncode == 0, result.stderr
        assert "100%" in result.stderr  # progress, with a line per 10 % when not on a terminal
        assert sorted(p.name for p in models.glob("*.onnx")) == [
            "det_10g.onnx",
            "inswapper_128.onnx",
            "w600k_r50.onnx",
        ]
        assert (models / "det_10g.onnx").read_bytes() == detector.data
        assert not list(models.glob("*.part")) and not list(models.glob(".pack-*"))
        assert len(server.records_for("/files/testpack.zip")) == 1

        # consent is remembered; already verified files are not fetched again
        again = facedeck(
            "models", "download", "--mirror", server.base_url, "--models-dir", str(models), env=env
        )
        assert again.returncode == 0, again.stderr
        assert "already present and verified" in again.stdout
        assert len(server.records_for("/files/inswapper_128.onnx")) == 1
    statuses = {model_id: row["status"] for model_id, row in listing({"env": env, "models": models}).items()}
    assert statuses == {"det_10g": "verified", "w600k_r50": "verified", "inswapper_128": "verified"}


def test_download_with_wrong_bytes_keeps_nothing(tmp_path):
    from tests.support.http_fixtures import MisbehavingServer

    swapper = payload("inswapper_128.onnx", 50_000, 6)
    manifest = write_manifest(tmp_path / "manifest.toml", "https://models.invalid", [swapper], None, [])
    env = {
        "FACEDECK_MANIFEST": str(manifest),
        "FACEDECK_CONFIG_DIR": str(tmp_path / "settings"),
        "FACEDECK_MODEL_MIRROR": "",
    }
    models = tmp_path / "models"
    with MisbehavingServer() as server:
        server.add("/inswapper_128.onnx", bytes(reversed(swapper.data)))
        env["FACEDECK_MODEL_MIRROR"] = server.base_url
        result = facedeck("models", "download", "--accept-terms", "--models-dir", str(models), env=env)
    assert result.returncode == 6
    assert "SHA-256 mismatch" in result.stderr and "Traceback" not in result.stderr
    assert not list(models.glob("*inswapper*"))  # neither the file nor a .part


def test_terms_are_asked_on_a_terminal_and_a_no_downloads_nothing(tmp_path):
    import pty

    swapper = payload("inswapper_128.onnx", 1000, 7)
    manifest = write_manifest(tmp_path / "manifest.toml", "http://127.0.0.1:9", [swapper], None, [])
    env = {
        **os.environ,
        "FACEDECK_MANIFEST": str(manifest),
        "FACEDECK_CONFIG_DIR": str(tmp_path / "settings"),
    }
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "facedeck.desktop",
                "--headless",
                "models",
                "download",
                "--models-dir",
                str(tmp_path / "models"),
            ],
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        os.write(controller, b"no\n")
        out, err = process.communicate(timeout=60)
    finally:
        os.close(controller)
        os.close(terminal)
    assert process.returncode == 2
    assert "Test licence, non-commercial" in err and "consent" in err  # the terms were shown
    assert 'Type "yes"' in out
    assert "not accepted; nothing was downloaded" in err
    assert not (tmp_path / "settings" / "consent.json").exists()
