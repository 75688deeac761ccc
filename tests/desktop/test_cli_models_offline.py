"""``models download`` with no way to the download hosts, and the commands FaceDeck prints to go on.

Real processes, a test manifest (FACEDECK_MANIFEST) whose URLs point at a closed loopback port
or at a name under ``.invalid`` (never resolves), and a real HTTP server where one is needed.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from facedeck.core.models.consent import record_consent
from tests.support.http_fixtures import MisbehavingServer, unused_port_url
from tests.support.manifest_fixtures import Payload, payload, write_manifest, zip_of
from tests.support.models_cli import facedeck, printed_command, run_printed

OFFLINE_BOUND = 10.0  # seconds: issue 8 asks for an answer within 10 s offline


def models_setup(tmp_path: Path, base_url: str) -> tuple[dict, list[Payload], Payload, list[Payload]]:
    swapper, restorer = payload("inswapper_128.onnx", 40_000, 1), payload("GFPGANv1.4.onnx", 30_000, 2)
    detector, recognizer = payload("det_10g.onnx", 5000, 3), payload("w600k_r50.onnx", 7000, 4)
    pack = Payload("buffalo_l.zip", zip_of([detector, recognizer], folder="buffalo_l/"))
    manifest = write_manifest(
        tmp_path / "manifest.toml", base_url, [swapper, restorer], pack, [detector, recognizer]
    )
    env = {
        "FACEDECK_MANIFEST": str(manifest),
        "FACEDECK_CONFIG_DIR": str(tmp_path / "settings"),
        "FACEDECK_MODEL_MIRROR": "",
        "FACEDECK_MODELS_DIR": "",
    }
    return env, [swapper, restorer], pack, [detector, recognizer]


def assert_offline_answer(result, models: Path, started: float) -> None:
    elapsed = time.monotonic() - started
    assert elapsed < OFFLINE_BOUND, f"offline answer took {elapsed:.1f} s"
    assert result.returncode == 6, result.stderr
    # every model has its own line; the run did not stop at the first failure
    lines = {line.split()[1]: line for line in result.stdout.splitlines() if line.startswith("failed")}
    assert set(lines) == {"inswapper_128", "GFPGANv1.4", "det_10g", "w600k_r50"}
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("facedeck: error:")]
    assert len(error_lines) == 1 and "Traceback" not in result.stderr
    final = error_lines[0]
    assert "4 of 4 model(s) not downloaded" in final and "check the network connection" in final
    assert "--mirror URL" in final and "facedeck --headless models import PATH --models-dir" in final
    assert not models.exists()  # nothing left behind: no folder, no .part, no scratch pack folder


def test_download_all_against_a_closed_port_answers_fast_for_every_model(tmp_path):
    closed = unused_port_url("").rstrip("/")
    env, *_ = models_setup(tmp_path, closed)
    models = tmp_path / "models"
    started = time.monotonic()
    result = facedeck("models", "download", "--all", "--accept-terms", "--models-dir", str(models), env=env)
    assert_offline_answer(result, models, started)
    assert "Connection refused" in result.stdout


def test_download_all_with_an_unresolvable_host_answers_fast(tmp_path):
    env, *_ = models_setup(tmp_path, "https://models.invalid/files")
    models = tmp_path / "models"
    started = time.monotonic()
    result = facedeck("models", "download", "--all", "--accept-terms", "--models-dir", str(models), env=env)
    assert_offline_answer(result, models, started)
    assert "cannot resolve the host name models.invalid" in result.stdout


def test_the_import_command_printed_offline_takes_the_files_one_has(tmp_path):
    env, direct, pack, _ = models_setup(tmp_path, "https://models.invalid/files")
    models = tmp_path / "my models"
    failed = facedeck("models", "download", "--all", "--accept-terms", "--models-dir", str(models), env=env)
    assert failed.returncode == 6
    have = tmp_path / "Deep-Live-Cam" / "models"
    have.mkdir(parents=True)
    for item in direct:
        (have / item.name).write_bytes(item.data)
    (tmp_path / "Deep-Live-Cam" / "buffalo_l.zip").write_bytes(pack.data)

    words = printed_command(failed.stderr, "import files you already have: ", " (a file")
    words[words.index("PATH")] = str(tmp_path / "Deep-Live-Cam")
    imported = run_printed(words, env=env)
    assert imported.returncode == 0, imported.stderr
    assert sorted(path.name for path in models.glob("*.onnx")) == [
        "GFPGANv1.4.onnx",
        "det_10g.onnx",
        "inswapper_128.onnx",
        "w600k_r50.onnx",
    ]
    again = facedeck("models", "download", "--all", "--models-dir", str(models), env=env)
    assert again.returncode == 0 and "all requested models are already present and verified" in again.stdout


def test_one_unreachable_model_does_not_stop_the_others(tmp_path):
    with MisbehavingServer() as server:
        env, (swapper, restorer), pack, (detector, _) = models_setup(tmp_path, server.base_url)
        manifest = Path(env["FACEDECK_MANIFEST"])
        closed = unused_port_url("/GFPGANv1.4.onnx")
        manifest.write_text(manifest.read_text().replace(f"{server.base_url}/GFPGANv1.4.onnx", closed))
        server.add("/inswapper_128.onnx", swapper.data)
        server.add("/buffalo_l.zip", pack.data)
        models = tmp_path / "models"
        result = facedeck(
            "models", "download", "--all", "--accept-terms", "--json", "--models-dir", str(models), env=env
        )
    assert result.returncode == 6
    events = [json.loads(line) for line in result.stdout.splitlines()]
    outcomes = {event["id"]: event["status"] for event in events if event["event"] == "download"}
    assert outcomes == {
        "inswapper_128": "downloaded",
        "GFPGANv1.4": "failed",
        "det_10g": "downloaded",
        "w600k_r50": "downloaded",
    }
    (error,) = [event for event in events if event["event"] == "error"]
    assert "1 of 4 model(s) not downloaded (GFPGANv1.4)" in error["message"]
    assert (models / "det_10g.onnx").read_bytes() == detector.data
    assert not list(models.glob("*.part")) and not list(models.glob(".pack-*"))


@pytest.mark.parametrize("command", [["models", "download", "--accept-terms"], ["models", "list"]])
def test_a_models_dir_that_is_a_file_is_named(tmp_path, command):
    env, *_ = models_setup(tmp_path, "https://models.invalid")
    afile = tmp_path / "models.txt"
    afile.write_text("I am a file")
    result = facedeck(*command, "--models-dir", str(afile), env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == f"facedeck: error: --models-dir {afile} is a file, not a folder"
    assert afile.read_text() == "I am a file"


def test_the_download_command_printed_for_missing_models_works_when_run(tmp_path):
    """swap names the command that fetches what it misses, --models-dir included; run as printed
    (split like a shell would) it fetches exactly those models into that folder."""
    with MisbehavingServer() as server:
        env, (swapper, _), pack, (detector, recognizer) = models_setup(
            tmp_path, "https://models.invalid/files"
        )
        server.add("/files/inswapper_128.onnx", swapper.data)
        server.add("/files/buffalo_l.zip", pack.data)
        record_consent(tmp_path / "settings", ["test-nc"])  # accepted earlier (asked on a terminal)
        models = tmp_path / """my "models" in $HOME's folder"""  # a shell would expand or split these
        models.mkdir()
        swap = facedeck(
            "swap",
            "-s",
            "a.png",
            "-t",
            "b.png",
            "-o",
            str(tmp_path / "c.png"),
            "--models-dir",
            str(models),
            env=env,
        )
        assert swap.returncode == 4, swap.stderr
        words = printed_command(swap.stderr.strip(), "fetch them with: ")
        fetched = run_printed(words, env={**env, "FACEDECK_MODEL_MIRROR": server.base_url})
    assert fetched.returncode == 0, fetched.stderr
    assert {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in models.glob("*.onnx")} == {
        item.name: item.sha256 for item in (swapper, detector, recognizer)
    }
