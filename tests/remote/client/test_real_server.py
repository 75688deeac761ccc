"""RemoteClient end to end against a real ``facedeck --headless serve`` process (stand-in
models, CPU): images, health, a wrong token, a video's progress and its result in S3
(moto), a bad job's code, and a cancel in the middle of a long video."""

from __future__ import annotations

import base64
import threading

import cv2
import numpy as np
import pytest

from facedeck.core.errors import JobCancelled
from facedeck.remote.client import ClientSettings, RemoteClient, RemoteError, RemoteJobFailed
from facedeck.remote.endpoint import Endpoint
from tests.remote.client.conftest import SERVER_TOKEN
from tests.support.media_fixtures import decode_frames
from tests.support.remote_jobs import image_input, media, video_input

# polls often: a short clip is done in about a second
SETTINGS = ClientSettings(retry_delays=(0.05, 0.1), poll_first=0.02, poll_max=0.05, queue_timeout=60.0)
PROGRESS_KEYS = {"stage", "done", "total", "fps", "eta_seconds"}


@pytest.fixture
def remote(server):
    with RemoteClient(Endpoint.server(server.url, SERVER_TOKEN), SETTINGS) as client:
        yield client


def _image_job(remote_media, target="target"):
    return image_input(
        media(data=remote_media.bytes("source"), name="source.png"),
        media(data=remote_media.bytes(target), name=f"{target}.png"),
        output={"format": "jpg"},
    )


def _decoded(answer):
    data = base64.b64decode(answer["output"]["data"], validate=True)
    assert answer["output"]["bytes"] == len(data)
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


@pytest.mark.parametrize("sync", [False, True])
def test_an_image_job_comes_back_as_a_picture(remote, remote_media, sync):
    answer = remote.run(_image_job(remote_media), sync=sync)
    assert (answer["kind"], answer["faces_found"], answer["faces_swapped"]) == ("image", 2, 1)
    assert answer["output"]["format"] == "jpg"
    swapped = _decoded(answer)
    target = cv2.imread(str(remote_media.target))
    assert swapped.shape == target.shape
    assert np.abs(swapped[90, 80].astype(int) - target[90, 80].astype(int)).max() > 30  # the red face changed


def test_health_job_and_route(remote, remote_models):
    answer = remote.run({"health": True})
    assert answer["status"] == "ok"
    assert answer["models_directory"] == str(remote_models.directory)
    route = remote.health()
    assert set(route) >= {"jobs", "workers"} and route["facedeck"]["status"] == "ok"


def test_a_wrong_token_is_one_sentence(server):
    with RemoteClient(Endpoint.server(server.url, "not-the-token"), SETTINGS) as client:
        with pytest.raises(RemoteError) as caught:
            client.run({"health": True})
    assert str(caught.value) == (
        f"the FaceDeck server at {server.url} refused the token (HTTP 401): check FACEDECK_SERVER_TOKEN"
    )


def test_the_workers_codes_come_through(remote, remote_media):
    with pytest.raises(RemoteJobFailed) as caught:
        remote.run(_image_job(remote_media, target="blank"))
    assert caught.value.code == caught.value.worker_code == "no_face"

    bad = _image_job(remote_media)
    bad["job"]["options"] = {"enhance_strenght": 50}
    with pytest.raises(RemoteJobFailed) as caught:
        remote.run(bad)
    assert caught.value.code == "invalid_job"
    assert caught.value.fields == [{"field": "job.options.enhance_strenght", "problem": "unknown key"}]
    assert "job.options.enhance_strenght: unknown key" in str(caught.value)


def test_a_video_reports_progress_and_its_result_downloads(remote, remote_media, s3_server, tmp_path):
    key = s3_server.unique_key("clip.mp4")
    job = video_input(
        media(data=remote_media.bytes("source"), name="source.png"),
        media(data=remote_media.bytes("clip"), name="clip.mp4"),
        result={"upload_url": s3_server.presigned_put(key)},
    )
    updates = []
    answer = remote.run(job, policy={"executionTimeout": 120_000}, progress=updates.append)
    assert (answer["kind"], answer["frames"], answer["faces_swapped"]) == ("video", 24, 1)
    assert answer["output"]["url"] == f"{s3_server.endpoint_url}/{s3_server.bucket}/{key}"

    assert updates, "no progress update arrived"
    assert all(set(update) == PROGRESS_KEYS and update["total"] == 24 for update in updates)
    done = [update["done"] for update in updates]
    assert done == sorted(done) and len(set(done)) == len(done)  # in order, each once

    signed = s3_server.client().generate_presigned_url(
        "get_object", Params={"Bucket": s3_server.bucket, "Key": key}, ExpiresIn=600
    )
    dest = tmp_path / "result.mp4"
    assert remote.download(signed, dest) == answer["output"]["bytes"] == len(s3_server.read(key))
    assert len(decode_frames(dest)) == 24


def test_cancelling_a_long_video_cancels_it_on_the_server(remote, remote_media, s3_server, server):
    key = s3_server.unique_key("cancelled.mp4")
    job = video_input(
        media(data=remote_media.bytes("source"), name="source.png"),
        media(data=remote_media.bytes("long_clip"), name="long.mp4"),
        result={"upload_url": s3_server.presigned_put(key)},
    )
    stop = threading.Event()
    seen = []

    def progress(update):
        seen.append(update["done"])
        if update["done"] >= 10:
            stop.set()

    job_id = remote.submit(job)
    with pytest.raises(JobCancelled) as caught:
        remote.wait(job_id, progress=progress, cancel=stop)
    assert str(caught.value) == "cancelled; the remote job was cancelled too"
    assert seen[-1] < 240  # it was stopped in the middle
    assert remote.status(job_id)["status"] == "CANCELLED"
    assert server.status(job_id)["error"] == "cancelled while running"
    assert s3_server.keys(key) == []  # nothing was uploaded
