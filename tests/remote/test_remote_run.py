"""RemoteRunner and the fan-out: what goes inline and what through the bucket, what is
refused before sending, what is refused on the way back, and how parts fail and cancel.

Endpoints are real HTTP servers on 127.0.0.1: the scripted fake (tests/support/fake_endpoint.py)
where a test needs an answer no FaceDeck worker gives, a real ``facedeck --headless serve``
elsewhere; storage is moto's S3 server.
"""

from __future__ import annotations

import base64
import threading
import uuid

import cv2
import numpy as np
import pytest

from facedeck.core.errors import JobCancelled
from facedeck.core.jobs.events import Progress
from facedeck.core.jobs.spec import FaceAssignment, FaceRef, JobKind, MediaRef, OutputSpec, SwapJob
from facedeck.core.media.image_writer import encode_image
from facedeck.remote import outgoing
from facedeck.remote.client import ClientSettings, RemoteClient, RemoteError, RemoteJobFailed
from facedeck.remote.endpoint import Endpoint
from facedeck.remote.fanout import SegmentFailed
from facedeck.remote.outgoing import NeedsStorageError
from facedeck.remote.remote_run import RemoteRunner
from facedeck.remote.staging import StorageSettings
from tests.remote.client.fakes import FAST, runpod_endpoint
from tests.remote.server_support import standin_server
from tests.support.fake_endpoint import FakeEndpoint, Reply
from tests.support.media_fixtures import frame_times, make_clip
from tests.support.models.drawing import drifting_face
from tests.support.s3_server import ACCESS_KEY, REGION, SECRET_KEY

TOKEN = "run-tok-0e6f3b9a4d2c4871a5f8"
FPS = 24


@pytest.fixture
def fake():
    with FakeEndpoint() as server:
        yield server


@pytest.fixture
def storage(s3_server) -> StorageSettings:
    return StorageSettings(
        bucket=s3_server.bucket,
        endpoint_url=s3_server.endpoint_url,
        region=REGION,
        prefix=f"run-tests/{uuid.uuid4().hex}/",
        addressing_style="path",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
    )


@pytest.fixture(scope="module")
def server(remote_models, tmp_path_factory):
    root = tmp_path_factory.mktemp("run-server")
    process = standin_server(remote_models.directory, root / "server.log", TOKEN, "--engines", "2")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    root = tmp_path_factory.mktemp("run-clip")
    return make_clip(
        root / "clip.mp4", frames=8 * FPS, size=(160, 120), fps=FPS, gop=2 * FPS, draw=drifting_face
    )


def image_job(remote_media, output) -> SwapJob:
    return SwapJob(
        kind=JobKind.IMAGE,
        target=MediaRef.of(remote_media.target),
        faces=FaceAssignment(sources=[FaceRef(MediaRef.of(remote_media.source))]),
        output=OutputSpec(path=str(output)),
    )


def video_job(clip, source, output) -> SwapJob:
    return SwapJob(
        kind=JobKind.VIDEO,
        target=MediaRef.of(clip),
        faces=FaceAssignment(sources=[FaceRef(MediaRef.of(source))]),
        output=OutputSpec(path=str(output), hardware="off"),
    )


def completed(data: bytes) -> Reply:
    output = {"format": "png", "data": base64.b64encode(data).decode(), "bytes": len(data)}
    return Reply(200, {"id": "j1", "status": "COMPLETED", "output": {"kind": "image", "output": output}})


def bucket_keys(s3_server, prefix: str) -> list[str]:
    listed = s3_server.client().list_objects_v2(Bucket=s3_server.bucket, Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_a_result_without_the_synthetic_marking_is_not_saved(fake, remote_media, tmp_path):
    plain = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes()
    fake.script("POST", "/v2/ep-test_1/runsync", completed(plain))
    runner = RemoteRunner(RemoteClient(runpod_endpoint(fake), FAST))
    with pytest.raises(RemoteError, match="not marked as synthetic media; it was not saved"):
        runner.run(image_job(remote_media, tmp_path / "out.png"))
    assert list(tmp_path.iterdir()) == []
    marked = encode_image(np.zeros((8, 8, 3), np.uint8), ".png")
    fake.script("POST", "/v2/ep-test_1/runsync", completed(marked))
    result = runner.run(image_job(remote_media, tmp_path / "out.png"))
    assert (tmp_path / "out.png").read_bytes() == marked and result.output_path == str(tmp_path / "out.png")


def test_photos_over_the_body_limit_go_through_the_bucket_and_are_removed_after(
    fake, remote_media, storage, s3_server, tmp_path, monkeypatch
):
    # the limit made small: the target (the larger photo) must go by URL, the source stays inline
    small = len(remote_media.bytes("source")) * 4 // 3 + 2 * 1024
    monkeypatch.setattr(outgoing, "_ENVELOPE_MARGIN", 1024)
    monkeypatch.setattr(outgoing, "RUNSYNC_BODY_LIMIT", small + 1024)
    fake.script(
        "POST", "/v2/ep-test_1/runsync", completed(encode_image(np.zeros((8, 8, 3), np.uint8), ".png"))
    )
    RemoteRunner(RemoteClient(runpod_endpoint(fake), FAST), storage).run(
        image_job(remote_media, tmp_path / "o.png")
    )
    sent = fake.requests_to("POST", "/v2/ep-test_1/runsync")[0].json()["input"]
    job = sent["job"]
    assert "url" in job["target"] and "data" not in job["target"] and job["target"]["name"] == "target.png"
    assert "data" in job["faces"]["sources"][0]["media"]
    assert sent["result"]["upload_url"].startswith(s3_server.endpoint_url)
    assert job["output"]["path"] is None and job["output"]["format"] == "png"
    assert bucket_keys(s3_server, storage.prefix) == []  # the upload and the result slot are cleaned up


def test_a_job_needing_storage_without_it_is_refused_before_any_request(
    fake, remote_media, clip, tmp_path, monkeypatch
):
    runner = RemoteRunner(RemoteClient(runpod_endpoint(fake), FAST))
    with pytest.raises(NeedsStorageError, match="a video runs remotely through object storage"):
        runner.run(video_job(clip, remote_media.source, tmp_path / "o.mp4"))
    monkeypatch.setattr(outgoing, "_ENVELOPE_MARGIN", 0)
    monkeypatch.setattr(outgoing, "RUNSYNC_BODY_LIMIT", 100)
    with pytest.raises(
        NeedsStorageError, match=r"target.png, source.png do not fit in one request \(over 0.0 MB"
    ):
        runner.run(image_job(remote_media, tmp_path / "o.png"))
    assert fake.requests_to("POST", "/v2/ep-test_1/runsync") == [] and list(tmp_path.iterdir()) == []


def client_for(server) -> RemoteClient:
    return RemoteClient(Endpoint.server(server.url, TOKEN), ClientSettings(poll_first=0.05, poll_max=0.2))


def fail_part(monkeypatch, index: int, times: int) -> list[int]:
    """The worker fails part ``index`` ``times`` times (an internal error), then runs it."""
    real = RemoteClient.run
    failures: list[int] = []

    def run(self, job_input, **kwargs):
        part = job_input.get("job", {}).get("part") or {}
        if part.get("index") == index and len(failures) < times:
            failures.append(index)
            raise RemoteJobFailed("out of GPU memory", worker_code="internal")
        return real(self, job_input, **kwargs)

    monkeypatch.setattr(RemoteClient, "run", run)
    return failures


def test_a_part_that_fails_once_is_run_again(
    server, storage, s3_server, remote_media, clip, tmp_path, monkeypatch
):
    failures = fail_part(monkeypatch, index=1, times=1)
    events: list = []
    result = RemoteRunner(client_for(server), storage, segments=3).run(
        video_job(clip, remote_media.source, tmp_path / "out.mp4"), events=events.append
    )
    assert failures == [1]
    assert result.frames == 8 * FPS and len(frame_times(tmp_path / "out.mp4")) == 8 * FPS
    assert "1 part(s) failed once and were run again" in result.warnings
    frames = [event for event in events if isinstance(event, Progress) and event.stage == "frames"]
    assert frames and frames[-1].total == 8 * FPS and all(e.done <= e.total for e in frames)
    assert bucket_keys(s3_server, storage.prefix) == []


def test_a_part_that_fails_twice_fails_the_job_and_leaves_nothing(
    server, storage, s3_server, remote_media, clip, tmp_path, monkeypatch
):
    fail_part(monkeypatch, index=0, times=2)
    with pytest.raises(SegmentFailed, match="part 1 of 3 failed: out of GPU memory"):
        RemoteRunner(client_for(server), storage, segments=3).run(
            video_job(clip, remote_media.source, tmp_path / "out.mp4")
        )
    assert list(tmp_path.iterdir()) == []
    assert bucket_keys(s3_server, storage.prefix) == []


def test_cancel_cancels_every_part(server, storage, s3_server, remote_media, tmp_path):
    long = make_clip(tmp_path / "long.mp4", frames=30 * FPS, size=(160, 120), fps=FPS, gop=2 * FPS,
                     draw=drifting_face, audio=False)  # fmt: skip
    (tmp_path / "out").mkdir()
    cancel = threading.Event()

    def events(event) -> None:
        if isinstance(event, Progress) and event.stage == "frames" and event.done > 0:
            cancel.set()

    before = server.get("health").json()["jobs"]
    with pytest.raises(JobCancelled):
        RemoteRunner(client_for(server), storage, segments=2).run(
            video_job(long, remote_media.source, tmp_path / "out" / "o.mp4"), events=events, cancel=cancel
        )
    assert list((tmp_path / "out").iterdir()) == []
    after = server.get("health").json()["jobs"]
    assert after["inProgress"] == 0 and after["inQueue"] == 0
    assert after["completed"] - before["completed"] < 2  # at least one part was stopped, not finished
    assert bucket_keys(s3_server, storage.prefix) == []


def test_a_reference_face_from_a_frame_of_the_video_reaches_every_part_as_a_still(
    server, storage, remote_media, clip, tmp_path, monkeypatch
):
    """A part's timeline starts at its own first frame: "the face at 5 s" must not be looked
    up again in each part, so the client sends the frame itself, once fixed."""
    from facedeck.core.faces.options import SelectionMode, SwapOptions

    sent: list[dict] = []
    real = RemoteClient.run

    def spy(self, job_input, **kwargs):
        sent.append(job_input["job"])
        return real(self, job_input, **kwargs)

    monkeypatch.setattr(RemoteClient, "run", spy)
    job = SwapJob(
        kind=JobKind.VIDEO,
        target=MediaRef.of(clip),
        faces=FaceAssignment(
            sources=[FaceRef(MediaRef.of(remote_media.source))],
            reference=FaceRef(MediaRef.of(clip), time=5.0),
        ),
        options=SwapOptions(selection=SelectionMode.REFERENCE),
        output=OutputSpec(path=str(tmp_path / "out.mp4"), hardware="off"),
    )
    result = RemoteRunner(client_for(server), storage, segments=2).run(job)
    assert result.frames == 8 * FPS and result.faces_swapped == 1
    assert len(sent) == 2 and {part["part"]["index"] for part in sent} == {0, 1}
    references = [part["faces"]["reference"] for part in sent]
    assert all("time" not in ref and ref["media"]["name"] == "frame-0.png" for ref in references)
    assert references[0]["media"] == references[1]["media"]  # the same still for every part
    assert all(part["target"]["name"].startswith("part-") for part in sent)
