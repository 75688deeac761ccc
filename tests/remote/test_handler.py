"""RemoteHandler with image jobs: a real event loop, a real loopback file server, real stand-in models."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import time

import cv2
import numpy as np
import pytest

from facedeck.core.media.metadata import DIGITAL_SOURCE_TYPE
from facedeck.core.models.library import ModelLibrary
from facedeck.core.runtime.providers import select_provider
from facedeck.core.runtime.sessions import create_session
from facedeck.core.version import software_version
from facedeck.remote.answers import INTERNAL_MESSAGE
from facedeck.remote.fetching import FetchSettings
from tests.support.http_fixtures import Status
from tests.support.remote_jobs import b64, image_input, media

SUCCESS_KEYS = {
    "kind",
    "faces_found",
    "faces_swapped",
    "output",
    "provider",
    "timings",
    "warnings",
    "version",
}


def run(handler, payload, job_id="job-1"):
    return asyncio.run(handler.handle({"id": job_id, "input": payload}))


def assert_image_answer(answer, target_png: bytes, *, fetched: bool) -> np.ndarray:
    """Every field of a successful image answer; returns the decoded output."""
    assert json.loads(json.dumps(answer)) == answer  # plain JSON: RunPod drops anything else
    assert set(answer) == SUCCESS_KEYS, answer
    assert answer["kind"] == "image"
    assert answer["faces_found"] == 2 and answer["faces_swapped"] == 1  # the largest face only
    assert answer["provider"] == "cpu"
    assert answer["warnings"] == []
    assert answer["version"] == software_version()
    timings = answer["timings"]
    assert set(timings) == {"fetch", "engine", "upload", "total"}
    assert all(isinstance(value, float) and value >= 0 for value in timings.values())
    assert timings["engine"] > 0 and timings["total"] >= timings["engine"] + timings["fetch"] - 0.002
    assert (timings["fetch"] > 0) is fetched
    output = answer["output"]
    assert set(output) == {"format", "data", "bytes"}
    data = base64.b64decode(output["data"], validate=True)
    assert output["format"] == "png" and output["bytes"] == len(data)
    assert data.startswith(b"\x89PNG") and DIGITAL_SOURCE_TYPE.encode() in data  # marked synthetic
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    original = cv2.imdecode(np.frombuffer(target_png, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == original.shape
    changed = np.abs(image.astype(int) - original.astype(int)).sum(axis=2) > 30
    assert changed[40:140, 30:130].mean() > 0.3  # the red face, swapped
    assert not changed[120:190, 200:270].any()  # the green face, left alone
    return image


def test_image_job_with_inline_media(handler, remote_media):
    target = remote_media.bytes("target")
    answer = run(handler, image_input(media(data=remote_media.bytes("source")), media(data=target)))
    assert_image_answer(answer, target, fetched=False)


def test_image_job_with_urls_gives_the_same_picture(handler, remote_media, file_server, unique):
    source_url = file_server.add(f"/{unique}/source.png", remote_media.bytes("source"))
    target_url = file_server.add(f"/{unique}/target.png", remote_media.bytes("target"))
    by_url = run(handler, image_input(media(url=source_url), media(url=target_url)))
    image = assert_image_answer(by_url, remote_media.bytes("target"), fetched=True)
    inline = run(
        handler,
        image_input(media(data=remote_media.bytes("source")), media(data=remote_media.bytes("target"))),
    )
    assert inline["output"]["data"] == by_url["output"]["data"]
    assert len(file_server.records_for(f"/{unique}/target.png")) == 1 and image.size


def test_legacy_url_payload(handler, remote_media, file_server, unique):
    source_url = file_server.add(f"/{unique}/face.jpg", remote_media.bytes("source"))  # a PNG named .jpg
    target_url = file_server.add(f"/{unique}/photo", remote_media.bytes("target"))
    payload = {"source_file": source_url, "target_file": target_url, "process_type": "single-image"}
    assert_image_answer(run(handler, payload), remote_media.bytes("target"), fetched=True)


def test_legacy_base64_payload(handler, remote_media):
    payload = {
        "source_image": "data:image/png;base64," + b64(remote_media.bytes("source")),
        "target_image": b64(remote_media.bytes("target")),
        "type": "single_image",
    }
    assert_image_answer(run(handler, payload), remote_media.bytes("target"), fetched=False)


def test_a_url_answering_404_twice_then_200_is_retried(handler, remote_media, file_server, unique):
    path = f"/{unique}/fresh-upload.png"
    url = file_server.add(path, remote_media.bytes("target"), [Status(404), Status(404)])
    answer = run(handler, image_input(media(data=remote_media.bytes("source")), media(url=url)))
    assert_image_answer(answer, remote_media.bytes("target"), fetched=True)
    assert [record.status for record in file_server.records_for(path)] == [404, 404, 200]
    assert answer["timings"]["fetch"] >= 0.05 + 0.1  # the two waits before the retries


def test_a_url_that_keeps_failing_or_refuses_is_one_clear_error(
    handler, remote_media, file_server, unique, caplog
):
    gone = file_server.add(f"/{unique}/gone.png?token=s3cr3t", b"", [Status(503)] * 4)
    with caplog.at_level(logging.DEBUG):  # urllib3 logs each request's URL at DEBUG
        answer = run(handler, image_input(media(data=remote_media.bytes("source")), media(url=gone)))
    assert answer == {"error": "gone.png: download failed (HTTP 503 after 4 tries)", "code": "input"}
    assert "gone.png" in caplog.text and "s3cr3t" not in caplog.text
    forbidden = file_server.add(f"/{unique}/private.png", b"", [Status(403)])
    answer = run(handler, image_input(media(data=remote_media.bytes("source")), media(url=forbidden)))
    assert answer == {"error": "private.png: download failed (HTTP 403)", "code": "input"}
    assert len(file_server.records_for(f"/{unique}/private.png")) == 1  # a 403 is not retried


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_a_url_to_a_huge_file_is_cut_off_at_the_cap(
    make_handler, remote_media, file_server, unique, declared
):
    handler = make_handler(fetch=FetchSettings(retry_delays=(), image_bytes=200_000))
    huge = bytes(32 * 2**20)  # far more than loopback socket buffers hold
    url = file_server.add(f"/{unique}/huge.png", huge, send_length=declared)
    answer = run(handler, image_input(media(data=remote_media.bytes("source")), media(url=url)))
    assert answer == {"error": "huge.png is larger than 195 KB", "code": "input"}
    [record] = file_server.records_for(f"/{unique}/huge.png")
    assert record.bytes_sent < len(huge)  # the client hung up instead of reading it all


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        (
            "holiday.jpg",
            b"<html><body>this is not a picture</body></html>\n" * 20,
            "holiday.jpg: not a supported image",
        ),
        ("logo.png", SVG, "logo.png: not a supported image"),  # vector images were never accepted
    ],
)
def test_a_non_image_posing_as_an_image_is_judged_by_its_bytes(
    handler, remote_media, file_server, unique, name, body, expected
):
    url = file_server.add(f"/{unique}/{name}", body)
    answer = run(handler, image_input(media(data=remote_media.bytes("source")), media(url=url)))
    assert set(answer) == {"error", "code"} and answer["code"] == "input"
    assert answer["error"].startswith(expected), answer


def test_an_unknown_field_is_named(handler, remote_media):
    payload = image_input(media(data=remote_media.bytes("source")), media(data=remote_media.bytes("target")))
    payload["job"]["options"] = {"mouth_mask": True, "face_enhancer": True}
    answer = run(handler, payload)
    assert answer == {
        "error": "invalid job (1 problem): job.options.face_enhancer: unknown key",
        "code": "invalid_job",
        "fields": [{"field": "job.options.face_enhancer", "problem": "unknown key"}],
    }


def test_bad_jobs_and_odd_inputs_answer_errors_and_never_raise(handler, remote_media):
    assert run(handler, None)["fields"] == [{"field": "input", "problem": "expected an object, got null"}]
    answer = asyncio.run(handler.handle({"input": {"job": {}}}))  # no id at all
    assert answer["code"] == "invalid_job"
    assert {item["field"] for item in answer["fields"]} == {"job.kind", "job.target", "job.faces"}


def test_no_face_in_the_target_is_a_clear_error(handler, remote_media):
    answer = run(
        handler,
        image_input(
            media(data=remote_media.bytes("source")),
            media(data=remote_media.bytes("blank"), name="empty.png"),
        ),
    )
    assert answer == {"error": "no face found in empty.png", "code": "no_face"}


class FlakySession:
    """An onnxruntime session that raises something unexpected while ``failing`` is set."""

    def __init__(self, session, failing: threading.Event) -> None:
        self._session = session
        self._failing = failing

    def __getattr__(self, name):
        return getattr(self._session, name)

    def run(self, *args, **kwargs):
        if self._failing.is_set():
            raise KeyError("internal state at 0x7f3a (token=s3cr3t)")
        return self._session.run(*args, **kwargs)


def test_a_job_that_raises_is_answered_generically_and_the_next_job_runs(
    make_handler, remote_models, remote_media, caplog
):
    failing = threading.Event()
    library = ModelLibrary(
        remote_models.directory,
        select_provider("cpu"),
        session_factory=lambda path, provider: FlakySession(create_session(path, provider), failing),
    )
    handler = make_handler(library=library)
    payload = image_input(media(data=remote_media.bytes("source")), media(data=remote_media.bytes("target")))
    failing.set()
    with caplog.at_level(logging.ERROR, logger="facedeck.remote"):
        answer = run(handler, payload, job_id="bad-job")
    assert answer == {"error": INTERNAL_MESSAGE, "code": "internal"}
    [record] = [r for r in caplog.records if r.name == "facedeck.remote.handler"]
    assert "bad-job" in record.getMessage() and record.exc_info and record.exc_info[0] is KeyError
    failing.clear()
    assert_image_answer(run(handler, payload, job_id="good-job"), remote_media.bytes("target"), fetched=False)


def test_a_large_image_result_without_a_destination_is_a_clear_error(handler, remote_media):
    payload = image_input(
        media(data=remote_media.bytes("source")),
        media(data=remote_media.bytes("target")),
        result={"inline_max_bytes": 100},
    )
    answer = run(handler, payload)
    assert set(answer) == {"error", "code"} and answer["code"] == "upload"
    assert answer["error"].startswith(
        "the result (5 KB) is over the inline limit of 100 bytes: give result.upload_url"
    )


def test_cancel_cuts_the_waits_between_download_tries_short(make_handler, remote_media, file_server, unique):
    handler = make_handler(fetch=FetchSettings(retry_delays=(30.0, 30.0)))
    url = file_server.add(f"/{unique}/later.png", remote_media.bytes("target"), [Status(404)] * 3)
    payload = image_input(media(data=remote_media.bytes("source")), media(url=url))

    async def main() -> float:
        task = asyncio.create_task(handler.handle({"id": "waiting", "input": payload}))
        while not file_server.records_for(f"/{unique}/later.png"):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # now in the 30 s wait
        task.cancel()
        cancelled_at = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - cancelled_at

    assert asyncio.run(main()) < 1.0
    assert len(file_server.records_for(f"/{unique}/later.png")) == 1
