"""``facedeck --headless serve`` starting, refusing to start, and stopping: the token's
sources, the loopback rule, a port in use, a missing extra, an endpoint id, results that
expire, models that are missing, and SIGTERM in the middle of a job.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest
import requests

from tests.remote.server_support import ServerProcess, leftovers
from tests.support.remote_jobs import image_input, media, video_input

TOKEN = "file-token-8d1e7b3a9c"


def serve(*args: str, env: dict[str, str] | None = None, prelude: str = "") -> subprocess.CompletedProcess:
    """``facedeck --headless serve ARGS`` run to its end (these ones stop before listening)."""
    full_env = {key: value for key, value in os.environ.items() if key != "FACEDECK_SERVER_TOKEN"}
    full_env.update(env or {})
    code = prelude + "import sys\nfrom facedeck.desktop.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.run(
        [sys.executable, "-c", code, "--headless", "serve", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
    )


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("facedeck: error: ")
    return lines[0].removeprefix("facedeck: error: ")


@pytest.mark.parametrize("host", ["0.0.0.0", "server.example"])
def test_refuses_to_listen_beyond_loopback_without_a_token(host):
    result = serve("--host", host)
    assert result.returncode == 2
    assert one_line_error(result) == (
        f"listening on {host} reaches other machines: set a token in FACEDECK_SERVER_TOKEN or give "
        "--token-file (or listen on 127.0.0.1)"
    )


def test_token_sources_are_checked(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    both = serve("--token-file", str(token_file), env={"FACEDECK_SERVER_TOKEN": "other"})
    assert (both.returncode, one_line_error(both)) == (
        2,
        "give the token either in FACEDECK_SERVER_TOKEN or with --token-file, not both",
    )
    empty = tmp_path / "empty"
    empty.write_text("  \n")
    result = serve("--token-file", str(empty))
    assert (result.returncode, one_line_error(result)) == (2, f"token file {empty} is empty")
    missing = tmp_path / "nothing-here"
    result = serve("--token-file", str(missing))
    assert (result.returncode, one_line_error(result)) == (2, f"token file {missing} does not exist")
    result = serve(env={"FACEDECK_SERVER_TOKEN": ""})
    assert (result.returncode, one_line_error(result)) == (
        2,
        "FACEDECK_SERVER_TOKEN is set but empty; put the token in it or unset it",
    )


def test_a_port_in_use_is_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve("--port", str(port))
    assert result.returncode == 2
    assert one_line_error(result) == f"cannot listen on 127.0.0.1:{port}: Address already in use"


BLOCK_FASTAPI = textwrap.dedent(
    """
    import importlib.abc, sys

    class BlockServerExtra(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("fastapi", "uvicorn"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, BlockServerExtra())
    """
)


def test_without_the_server_extra_help_works_and_serving_names_the_extra():
    helped = serve("--help", prelude=BLOCK_FASTAPI)
    assert helped.returncode == 0, helped.stderr
    assert "--token-file" in helped.stdout and "FACEDECK_SERVER_TOKEN" in helped.stdout
    result = serve(prelude=BLOCK_FASTAPI)
    assert result.returncode == 5
    assert one_line_error(result) == (
        'the server needs the server extra (fastapi is not installed here): pip install "facedeck[server]"'
    )


@pytest.fixture(scope="module")
def guarded(remote_models, tmp_path_factory):
    """A server with a token file, one endpoint id and results kept for one second."""
    root = tmp_path_factory.mktemp("guarded")
    token_file = root / "token"
    token_file.write_text(TOKEN)
    token_file.chmod(0o600)
    scratch = root / "tmp"
    scratch.mkdir()
    process = ServerProcess(
        [
            "--models-dir", str(remote_models.directory),
            "--provider", "cpu",
            "--token-file", str(token_file),
            "--endpoint-id", "only-this",
            "--keep-results", "1",
        ],
        log=root / "server.log",
        env={"TMPDIR": str(scratch)},
        token=TOKEN,
        endpoint="only-this",
    )  # fmt: skip
    process.scratch = scratch
    yield process
    process.stop()


@pytest.fixture(scope="module")
def image_job(remote_media):
    return image_input(
        media(data=remote_media.bytes("source")),
        media(data=remote_media.bytes("target")),
        output={"format": "jpg"},
    )


def test_token_file_and_endpoint_id(guarded, image_job):
    assert guarded.listening["endpoint_id"] == "only-this" and guarded.listening["token_required"]
    assert guarded.get("health", headers={}).status_code == 401
    assert guarded.get("health").status_code == 200
    other = f"{guarded.url}/v2/other/run"
    response = requests.post(other, json={"input": image_job}, headers=guarded.headers(), timeout=10)
    assert (response.status_code, response.json()) == (404, {"error": "no endpoint 'other' on this server"})


def test_results_expire_after_keep_results(guarded, image_job):
    answer = guarded.post("runsync", json={"input": image_job}).json()
    assert answer["status"] == "COMPLETED"
    assert guarded.status(answer["id"])["status"] == "COMPLETED"  # kept for now
    time.sleep(1.3)
    for path in (f"status/{answer['id']}", f"stream/{answer['id']}"):
        response = guarded.get(path)
        assert response.status_code == 404
        assert response.json() == {
            "error": f"job {answer['id']} ended more than 1 s ago and its result is no longer kept"
        }


def test_sigterm_cancels_the_running_job_and_exits_143(guarded, remote_media, s3_server):
    key = s3_server.unique_key("terminated.mp4")
    job = video_input(
        media(data=remote_media.bytes("source")),
        media(data=remote_media.bytes("long_clip"), name="long.mp4"),
        result={"upload_url": s3_server.presigned_put(key)},
    )
    job_id = guarded.run(job)
    guarded.wait_until(job_id, lambda answer: answer.get("output", {}).get("done", 0) >= 5)
    assert guarded.stop(signal.SIGTERM) == 143
    log = guarded.log()
    assert log.splitlines()[-1] == "facedeck: error: stopped by SIGTERM"
    assert f"job {job_id} CANCELLED" in log and "Traceback" not in log
    assert leftovers(guarded.scratch) == []
    assert s3_server.keys(key) == []
    assert TOKEN not in log


def test_missing_models_answer_every_job_with_the_files_named(tmp_path, image_job):
    empty = tmp_path / "no-models"
    empty.mkdir()
    process = ServerProcess(["--models-dir", str(empty), "--provider", "cpu"], log=tmp_path / "server.log")
    try:
        assert process.listening["token_required"] is False
        health = process.get("health").json()["facedeck"]
        assert health["status"] == "degraded" and health["models_directory"] == str(empty)
        answer = process.post("runsync", json={"input": image_job}).json()
        assert answer["status"] == "FAILED" and answer["output"]["code"] == "model_missing"
        for name in ("det_10g.onnx", "w600k_r50.onnx", "inswapper_128.onnx", str(empty)):
            assert name in answer["error"]
        assert process.get("health").json()["jobs"]["failed"] == 1  # the server goes on
    finally:
        assert process.stop(signal.SIGTERM) == 143
    assert "det_10g.onnx" in process.log()  # said at start-up, not only to the first job


def test_gpus_need_a_gpu_provider():
    result = serve("--gpus", "0,1", "--provider", "cpu")
    assert result.returncode == 2
    assert one_line_error(result) == (
        "--gpus needs a GPU execution provider (cuda, tensorrt, rocm, directml), not cpu"
    )


def test_two_engines_run_two_jobs_at_once(tmp_path, remote_models, remote_media):
    # --engines N is --gpus' queue with N engines on one device: the same dispatch, testable here
    process = ServerProcess(
        ["--models-dir", str(remote_models.directory), "--provider", "cpu", "--engines", "2"],
        log=tmp_path / "server.log",
    )
    try:
        long_video = video_input(
            media(data=remote_media.bytes("source")),
            media(data=remote_media.bytes("long_clip"), name="long.mp4"),
            result={"upload_url": "http://127.0.0.1:9/never-reached"},  # both are cancelled first
        )
        first, second = process.run(long_video), process.run(long_video)
        running = [
            process.wait_until(job_id, lambda answer: answer.get("output", {}).get("done", 0) >= 1)
            for job_id in (first, second)
        ]
        # the first is still running while the second has started: two engines, not a queue of one
        assert process.status(first)["status"] == "IN_PROGRESS"
        assert {answer["workerId"] for answer in running} == {"engine-0", "engine-1"}
        for job_id in (first, second):
            assert process.post(f"cancel/{job_id}").json()["status"] == "CANCELLED"
        assert process.get("health").json()["workers"] == {"idle": 2, "running": 0}
    finally:
        process.stop()
