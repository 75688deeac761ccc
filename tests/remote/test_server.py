"""``facedeck --headless serve`` as clients use it: one real server process for the module,
on a free loopback port with the stand-in models, and plain ``requests`` calls.

Every answer is checked field by field against RunPod's v2 shapes and the handler's
answer (docs/wire-format.md). Speed is bench/bench_remote.py's business, not these tests'.
"""

from __future__ import annotations

import base64
import json
import signal
import socket
import subprocess
import time

import cv2
import numpy as np
import pytest
import requests

from facedeck.core.version import software_version
from tests.remote.server_support import ServerProcess, WebhookReceiver, leftovers
from tests.support.media_fixtures import decode_frames
from tests.support.remote_jobs import image_input, media, video_input

TOKEN = "tok-3f9a1c7e5b2d4086a1e9"  # long enough that finding it in a log is no accident
TIMINGS = {"fetch", "engine", "upload", "total"}
RESULT_KEYS = {"kind", "faces_found", "faces_swapped", "output", "provider", "timings", "warnings", "version"}
PROGRESS_KEYS = {"stage", "done", "total", "fps", "eta_seconds"}
MAX_BODY_MB = 1
MAX_QUEUE = 3


@pytest.fixture(scope="module")
def server(remote_models, tmp_path_factory):
    root = tmp_path_factory.mktemp("server")
    scratch = root / "tmp"  # the server's TMPDIR: whatever a job leaves behind shows up here
    scratch.mkdir()
    process = ServerProcess(
        [
            "--models-dir",
            str(remote_models.directory),
            "--provider",
            "cpu",
            "--max-body-mb",
            str(MAX_BODY_MB),
            "--max-queue",
            str(MAX_QUEUE),
        ],  # fmt: skip
        log=root / "server.log",
        env={"FACEDECK_SERVER_TOKEN": TOKEN, "TMPDIR": str(scratch)},
        token=TOKEN,
    )
    process.scratch = scratch
    yield process
    process.stop()


@pytest.fixture(scope="module")
def image_job(remote_media):
    return image_input(
        media(data=remote_media.bytes("source"), name="source.png"),
        media(data=remote_media.bytes("target"), name="target.png"),
        output={"format": "jpg"},
    )


@pytest.fixture(scope="module")
def long_video_url(remote_media, file_server):
    return file_server.add("/server-tests/long.mp4", remote_media.bytes("long_clip"))


def long_video_job(remote_media, long_video_url, put_url):
    return video_input(
        media(data=remote_media.bytes("source"), name="source.png"),
        media(url=long_video_url),
        result={"upload_url": put_url},
    )


def check_image_answer(answer, remote_media, *, job_id=None):
    """A COMPLETED image job, field by field; the swapped picture itself is looked at."""
    assert set(answer) == {"id", "status", "delayTime", "executionTime", "workerId", "output"}, answer
    if job_id is not None:
        assert answer["id"] == job_id
    assert answer["status"] == "COMPLETED"
    assert isinstance(answer["delayTime"], int) and answer["delayTime"] >= 0
    assert isinstance(answer["executionTime"], int)
    assert answer["workerId"] == "engine-0"
    result = answer["output"]
    assert set(result) == RESULT_KEYS
    assert (result["kind"], result["faces_found"], result["faces_swapped"]) == ("image", 2, 1)
    assert set(result["output"]) == {"format", "data", "bytes"}
    assert result["output"]["format"] == "jpg"
    data = base64.b64decode(result["output"]["data"], validate=True)
    assert result["output"]["bytes"] == len(data)
    swapped = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    target = cv2.imread(str(remote_media.target))
    assert swapped.shape == target.shape
    assert np.abs(swapped[90, 80].astype(int) - target[90, 80].astype(int)).max() > 30  # red face swapped
    assert np.abs(swapped[155, 235].astype(int) - target[155, 235].astype(int)).max() <= 12  # green kept
    assert result["provider"] == "cpu"
    assert set(result["timings"]) == TIMINGS
    assert all(isinstance(value, float) and value >= 0 for value in result["timings"].values())
    assert result["timings"]["total"] >= result["timings"]["engine"] > 0
    # the server's clock runs around the handler's: its execution time cannot be shorter
    assert answer["executionTime"] >= int(result["timings"]["total"] * 1000) - 1
    assert result["warnings"] == []
    assert result["version"] == software_version()


def test_listening_line_names_the_server(server):
    assert server.listening == {
        "event": "listening",
        "url": server.url,
        "endpoint_id": None,
        "token_required": True,
        "provider": "cpu",
    }
    assert server.url.startswith("http://127.0.0.1:")


def test_run_then_status_until_completed(server, image_job, remote_media):
    job_id = server.run(image_job)
    answer = server.finished(job_id)
    check_image_answer(answer, remote_media, job_id=job_id)
    assert server.status(job_id) == answer  # read again: the same answer, kept
    assert server.post(f"status/{job_id}").json() == answer  # RunPod's SDK asks with POST


def test_runsync_answers_the_result(server, image_job, remote_media):
    response = server.post("runsync", json={"input": image_job})
    assert response.status_code == 200
    answer = response.json()
    assert answer["id"].startswith("sync-")
    check_image_answer(answer, remote_media)
    assert server.status(answer["id"]) == answer


def test_image_by_url(server, remote_media, file_server, unique):
    source = file_server.add(f"/{unique}/source.png", remote_media.bytes("source"))
    target = file_server.add(f"/{unique}/target.png", remote_media.bytes("target"))
    answer = server.post(
        "runsync", json={"input": image_input(media(url=source), media(url=target), output={"format": "jpg"})}
    ).json()
    check_image_answer(answer, remote_media)
    assert [record.path for record in file_server.records_for(f"/{unique}/target.png")] == [
        f"/{unique}/target.png"
    ]


def test_failed_job_names_the_field_and_the_next_job_runs(server, image_job, remote_media):
    bad = image_input(media(data=remote_media.bytes("source")), media(data=remote_media.bytes("target")))
    bad["job"]["options"] = {"enhance_strength": 140}
    answer = server.post("runsync", json={"input": bad}).json()
    assert set(answer) == {"id", "status", "delayTime", "executionTime", "workerId", "output", "error"}
    assert answer["status"] == "FAILED"
    assert "job.options.enhance_strength" in answer["error"]
    # as RunPod does: the error is the job's error, the rest of the handler's answer its output
    assert answer["output"]["code"] == "invalid_job"
    assert [problem["field"] for problem in answer["output"]["fields"]] == ["job.options.enhance_strength"]
    check_image_answer(server.post("runsync", json={"input": image_job}).json(), remote_media)


def test_stream_shows_the_progress_of_a_video(server, remote_media, s3_server):
    key = s3_server.unique_key("clip.mp4")
    job = video_input(
        media(data=remote_media.bytes("source")),
        media(data=remote_media.bytes("clip"), name="clip.mp4"),
        result={"upload_url": s3_server.presigned_put(key)},
    )
    job_id = server.run(job)
    updates = []
    while True:
        streamed = server.get(f"stream/{job_id}").json()
        assert set(streamed) == {"id", "status", "stream"}
        updates += [item["output"] for item in streamed["stream"]]
        if streamed["status"] not in ("IN_QUEUE", "IN_PROGRESS"):
            break
        time.sleep(0.05)
    assert streamed["status"] == "COMPLETED"
    assert updates, "no progress was streamed"
    assert all(set(update) == PROGRESS_KEYS and update["stage"] == "frames" for update in updates)
    done = [update["done"] for update in updates]
    assert done == sorted(done) and done[-1] == 24
    assert all(update["total"] == 24 for update in updates)
    assert server.get(f"stream/{job_id}").json()["stream"] == []  # each update is streamed once

    answer = server.status(job_id)
    result = answer["output"]
    assert set(result) == RESULT_KEYS | {"frames", "frames_with_swaps", "encoder"}
    assert (result["kind"], result["frames"], result["faces_swapped"]) == ("video", 24, 1)
    assert result["frames_with_swaps"] == 24 and result["encoder"] == "libx264"
    assert result["output"]["format"] == "mp4"
    assert result["output"]["url"] == f"{s3_server.endpoint_url}/{s3_server.bucket}/{key}"
    uploaded = s3_server.read(key)
    assert result["output"]["bytes"] == len(uploaded)
    local = server.scratch.parent / "streamed.mp4"
    local.write_bytes(uploaded)
    assert len(decode_frames(local)) == 24
    assert leftovers(server.scratch) == []


def test_cancel_in_the_middle_of_a_video(server, remote_media, long_video_url, s3_server, image_job):
    key = s3_server.unique_key("cancelled.mp4")
    job_id = server.run(long_video_job(remote_media, long_video_url, s3_server.presigned_put(key)))
    running = server.wait_until(
        job_id,
        lambda answer: answer["status"] == "IN_PROGRESS" and answer.get("output", {}).get("done", 0) >= 10,
    )
    assert set(running) == {"id", "status", "delayTime", "executionTime", "workerId", "output"}
    assert set(running["output"]) == PROGRESS_KEYS and running["output"]["total"] == 240
    started = time.monotonic()
    cancelled = server.post(f"cancel/{job_id}")
    took = time.monotonic() - started
    assert cancelled.status_code == 200
    assert cancelled.json() == {"id": job_id, "status": "CANCELLED"}
    assert took < 1.0, f"cancel took {took:.2f} s"
    answer = server.status(job_id)
    assert answer["status"] == "CANCELLED" and "output" not in answer
    assert answer["error"] == "cancelled while running"
    assert leftovers(server.scratch) == []  # the partial video went with the job
    assert s3_server.keys(key) == []  # and nothing was uploaded
    # the engine is free again: the next job runs at once
    assert server.post("runsync", json={"input": image_job}).json()["status"] == "COMPLETED"


def test_execution_timeout_stops_the_job(server, remote_media, long_video_url, s3_server):
    key = s3_server.unique_key("timed-out.mp4")
    job = long_video_job(remote_media, long_video_url, s3_server.presigned_put(key))
    job_id = server.run(job, policy={"executionTimeout": 700})
    answer = server.finished(job_id)
    assert set(answer) == {"id", "status", "delayTime", "executionTime", "workerId", "error"}
    assert answer["status"] == "TIMED_OUT"
    assert answer["error"] == "the job ran past its execution timeout of 0.7 s and was stopped"
    assert 700 <= answer["executionTime"] < 3000
    assert leftovers(server.scratch) == []
    assert s3_server.keys(key) == []


def test_purge_queue_removes_waiting_jobs_only(server, remote_media, long_video_url, s3_server, image_job):
    video_id = server.run(
        long_video_job(remote_media, long_video_url, s3_server.presigned_put(s3_server.unique_key("p.mp4")))
    )
    server.wait_until(video_id, lambda answer: answer["status"] == "IN_PROGRESS")
    waiting = [server.run(image_job) for _ in range(MAX_QUEUE)]
    assert [server.status(job_id)["status"] for job_id in waiting] == ["IN_QUEUE"] * MAX_QUEUE
    full = server.post("run", json={"input": image_job})
    assert (full.status_code, full.json()) == (
        429,
        {"error": f"the queue is full ({MAX_QUEUE} jobs wait); try again later"},
    )
    assert server.post("purge-queue").json() == {"removed": MAX_QUEUE, "status": "completed"}
    for job_id in waiting:
        answer = server.status(job_id)
        assert answer["status"] == "CANCELLED"
        assert answer["error"] == "removed from the queue by purge-queue"
        assert "workerId" not in answer and answer["executionTime"] == 0
    assert server.status(video_id)["status"] == "IN_PROGRESS"  # the running job goes on
    assert server.post(f"cancel/{video_id}").json() == {"id": video_id, "status": "CANCELLED"}


def test_a_job_waiting_past_its_ttl_times_out(server, remote_media, long_video_url, s3_server, image_job):
    video_id = server.run(
        long_video_job(remote_media, long_video_url, s3_server.presigned_put(s3_server.unique_key("t.mp4")))
    )
    server.wait_until(video_id, lambda answer: answer["status"] == "IN_PROGRESS")
    waiting = server.run(image_job, policy={"ttl": 200})
    time.sleep(0.3)
    assert server.post(f"cancel/{video_id}").json()["status"] == "CANCELLED"
    answer = server.finished(waiting)
    assert set(answer) == {"id", "status", "delayTime", "executionTime", "error"}
    assert answer["status"] == "TIMED_OUT"
    assert answer["error"] == "the job waited past its ttl of 0.2 s"
    assert answer["delayTime"] >= 300 and answer["executionTime"] == 0


def test_runsync_wait_answers_the_status_so_far(server, remote_media, long_video_url, s3_server):
    job = long_video_job(remote_media, long_video_url, s3_server.presigned_put(s3_server.unique_key("w.mp4")))
    started = time.monotonic()
    answer = server.post("runsync", params={"wait": 1000}, json={"input": job}).json()
    assert 0.9 < time.monotonic() - started < 5
    assert answer["status"] == "IN_PROGRESS" and set(answer["output"]) == PROGRESS_KEYS
    assert server.post(f"cancel/{answer['id']}").json()["status"] == "CANCELLED"


def test_runsync_client_hanging_up_loses_nothing(server, remote_media, s3_server):
    key = s3_server.unique_key("hung-up.mp4")
    job = video_input(
        media(data=remote_media.bytes("source")),
        media(data=remote_media.bytes("clip"), name="clip.mp4"),
        result={"upload_url": s3_server.presigned_put(key)},
    )
    with WebhookReceiver() as hook:
        body = json.dumps({"input": job, "webhook": hook.url}).encode()
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            raw.sendall(
                f"POST /v2/{server.endpoint}/runsync HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
        # the client hung up before any answer; the server posts the final one when the job ends
        delivered = hook.next()
    assert delivered["status"] == "COMPLETED" and delivered["id"].startswith("sync-")
    assert server.status(delivered["id"]) == delivered
    assert s3_server.read(key)  # and its result is where it was asked to go


def test_health_counts_jobs_and_reports_the_engine(server, image_job, remote_models):
    before = server.get("health").json()
    assert set(before) == {"jobs", "workers", "facedeck"}
    assert set(before["jobs"]) == {"completed", "failed", "inProgress", "inQueue", "retried"}
    assert before["workers"] == {"idle": 1, "running": 0}
    engine = before["facedeck"]
    assert engine["status"] == "ok" and engine["provider"] == "cpu"
    assert engine["models_directory"] == str(remote_models.directory)
    assert engine["version"] == software_version()
    server.post("runsync", json={"input": image_job})
    after = server.get("health").json()
    assert after["jobs"]["completed"] == before["jobs"]["completed"] + 1
    assert after["jobs"]["failed"] == before["jobs"]["failed"]


def test_oversize_bodies_get_413(server, image_job, remote_media):
    limit = MAX_BODY_MB * 1024 * 1024
    message = f"the request body is over this server's limit of {MAX_BODY_MB} MB (--max-body-mb)"
    declared = server.post(
        "run", data=b"x" * (limit + 1), headers={**server.headers(), "Content-Type": "application/json"}
    )
    assert (declared.status_code, declared.json()) == (413, {"error": message})

    def chunks():  # no Content-Length: counted while it is read
        for _ in range(3):
            yield b" " * (limit // 2)

    chunked = server.post(
        "run", data=chunks(), headers={**server.headers(), "Content-Type": "application/json"}
    )
    assert (chunked.status_code, chunked.json()) == (413, {"error": message})

    # a client that declares more than it sends gets its answer without waiting forever
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(
            f"POST /v2/x/run HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {limit * 50}\r\n\r\n{{}}".encode()
        )
        reply = b""
        while chunk := raw.recv(65536):  # the server closes: the rest of that body never comes
            reply += chunk
        reply = reply.decode()
    assert reply.startswith("HTTP/1.1 413") and message in reply
    check_image_answer(server.post("runsync", json={"input": image_job}).json(), remote_media)


def test_missing_or_wrong_token_gets_401(server, image_job):
    job_id = server.run(image_job)
    for headers, error in (
        ({}, "this server needs 'Authorization: Bearer <token>'"),
        ({"Authorization": "Bearer not-the-token"}, "wrong token"),
        ({"Authorization": TOKEN}, "wrong token"),  # the token without its scheme
    ):
        for response in (
            server.post("run", json={"input": image_job}, headers=headers),
            server.get(f"status/{job_id}", headers=headers),
            server.get("health", headers=headers),
        ):
            assert (response.status_code, response.json()) == (401, {"error": error})
            assert response.headers["WWW-Authenticate"] == "Bearer"
    assert server.get(f"status/{job_id}", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        (b'{"input": {', "application/json", 400, "the body is not valid JSON: Expecting"),
        (b"[1, 2]", "application/json", 400, 'the body must be a JSON object like {"input": {...}}'),
        (b"{}", "application/json", 400, 'the body has no "input"; send {"input": {...}}'),
        (
            b'{"input": {}, "s3Config": {}}',
            "application/json",
            400,
            "unknown field(s) s3Config; known: input",
        ),
        (b'{"input": {}, "policy": {"ttl": -1}}', "application/json", 400, "policy.ttl must be milliseconds"),
        (
            b'{"input": {}, "webhook": "ftp://x"}',
            "application/json",
            400,
            "webhook must be an http or https URL",
        ),
        (
            b'{"input": {}}',
            "text/plain",
            415,
            "send the body as application/json (the Content-Type was text/plain)",
        ),
    ],
)
def test_bad_requests_get_a_json_error_then_a_good_job_runs(
    server, image_job, body, content_type, status, error
):
    response = server.post("run", data=body, headers={**server.headers(), "Content-Type": content_type})
    assert response.status_code == status
    assert set(response.json()) == {"error"} and response.json()["error"].startswith(error)
    good = server.post("run", json={"input": image_job})
    assert good.status_code == 200 and good.json()["status"] == "IN_QUEUE"
    server.finished(good.json()["id"])


def test_unknown_job_and_route_get_404(server):
    for response in (
        server.get("status/no-such-job"),
        server.get("stream/no-such-job"),
        server.post("cancel/no-such-job"),
    ):
        assert (response.status_code, response.json()) == (
            404,
            {"error": "no job no-such-job on this server"},
        )
    elsewhere = requests.get(f"{server.url}/v1/whatever", headers=server.headers(), timeout=10)
    assert elsewhere.status_code == 404
    assert elsewhere.json() == {"error": "no route GET /v1/whatever; the routes are /v2/{endpoint}/..."}
    wrong_method = server.get("run")
    assert (wrong_method.status_code, wrong_method.json()) == (
        405,
        {"error": f"GET is not allowed on /v2/{server.endpoint}/run"},
    )


def test_the_token_is_in_no_process_list_and_no_log(server):
    listing = subprocess.run(["ps", "-ww", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert "facedeck.desktop --headless -v serve" in listing  # the listing does show our server
    assert TOKEN not in listing
    cmdline = open(f"/proc/{server.process.pid}/cmdline", "rb").read()
    assert TOKEN.encode() not in cmdline
    log = server.log()
    assert '"POST /v2/test-endpoint/runsync HTTP/1.1" 200' in log  # the access log was on
    assert TOKEN not in log
    assert "Signature=" not in log and "X-Amz-Signature" not in log  # nor a presigned URL's signature


def test_sigint_cancels_the_running_job_and_exits_130(server, remote_media, long_video_url, s3_server):
    key = s3_server.unique_key("interrupted.mp4")
    job_id = server.run(long_video_job(remote_media, long_video_url, s3_server.presigned_put(key)))
    server.wait_until(job_id, lambda answer: answer.get("output", {}).get("done", 0) >= 5)
    started = time.monotonic()
    status = server.stop(signal.SIGINT)
    assert status == 130
    assert time.monotonic() - started < 5
    assert server.log().splitlines()[-1] == "facedeck: error: interrupted"
    assert "Traceback" not in server.log()
    assert leftovers(server.scratch) == []
    assert s3_server.keys(key) == []
