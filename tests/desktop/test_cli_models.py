"""``facedeck --headless models ...`` in real processes against a test manifest."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from manifest_fixtures import payload, write_manifest


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
    assert "--trust" in refused.stderr and restorer.sha256 in refused.stderr
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
