"""RemoteHandler with video jobs: results PUT to moto's S3 server, progress, cancel mid-video."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import av
import pytest
import requests

from facedeck.core.media.metadata import synthetic_text_fields
from facedeck.core.version import software_version
from facedeck.remote.storage import BucketStorage
from tests.support.media_fixtures import decode_frames
from tests.support.remote_jobs import image_input, media, video_input

PROGRESS_KEYS = {"stage", "done", "total", "fps", "eta_seconds"}


def scratch_folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("facedeck-*"))


def check_video(data: bytes, tmp_path: Path, frames: int) -> None:
    """A playable MP4 with ``frames`` frames, marked as synthetic media in its metadata."""
    path = tmp_path / "downloaded.mp4"
    path.write_bytes(data)
    assert len(decode_frames(path)) == frames
    with av.open(str(path)) as container:
        tags = {key.lower(): value for key, value in container.metadata.items()}
    for key, value in synthetic_text_fields().items():
        assert tags.get(key.lower()) == value, key


def run_with_progress(handler, payload, job_id="video-1"):
    updates: list[tuple[float, dict]] = []

    async def main():
        return await handler.handle(
            {"id": job_id, "input": payload}, lambda p: updates.append((time.monotonic(), p))
        )

    return asyncio.run(main()), updates


def assert_video_answer(answer, *, frames: int) -> None:
    assert set(answer) == {"kind", "faces_found", "faces_swapped", "frames", "output"} | {
        "frames_with_swaps",
        "encoder",
        "provider",
        "timings",
        "warnings",
        "version",
    }
    assert answer["kind"] == "video" and answer["frames"] == frames
    assert 0 < answer["frames_with_swaps"] <= frames and answer["encoder"] == "libx264"
    assert answer["faces_found"] == 1 and answer["faces_swapped"] == 1
    assert (
        answer["provider"] == "cpu" and answer["warnings"] == [] and answer["version"] == software_version()
    )
    timings = answer["timings"]
    assert set(timings) == {"fetch", "engine", "upload", "total"}
    assert timings["engine"] > 0 and timings["upload"] > 0
    assert timings["total"] >= timings["fetch"] + timings["engine"] + timings["upload"] - 0.003


def test_video_result_is_put_to_a_presigned_url(
    handler, remote_media, file_server, s3_server, unique, tmp_path
):
    key = s3_server.unique_key("swapped.mp4")
    put_url = s3_server.presigned_put(key)
    clip_url = file_server.add(f"/{unique}/clip.mp4", remote_media.bytes("clip"))
    payload = video_input(
        media(data=remote_media.bytes("source")), media(url=clip_url), result={"upload_url": put_url}
    )
    answer, updates = run_with_progress(handler, payload)
    assert_video_answer(answer, frames=24)
    assert answer["timings"]["fetch"] > 0
    stored = s3_server.read(key)
    # the object's location: the presigned URL without the query string that signs it
    assert answer["output"] == {"format": "mp4", "url": put_url.split("?")[0], "bytes": len(stored)}
    assert "Signature" not in answer["output"]["url"]
    check_video(stored, tmp_path, frames=24)
    assert updates, "no progress while the video ran"
    for _, update in updates:
        assert set(update) == PROGRESS_KEYS and update["stage"] == "frames" and update["total"] == 24
    assert updates[-1][1]["done"] == 24 and updates[-1][1]["eta_seconds"] == 0.0


def test_progress_is_throttled(make_handler, remote_media, s3_server):
    handler = make_handler(progress_interval=0.2)
    key = s3_server.unique_key("long.mp4")
    payload = video_input(
        media(data=remote_media.bytes("source")),
        media(data=remote_media.bytes("long_clip"), name="long.mp4"),
        result={"upload_url": s3_server.presigned_put(key)},
    )
    answer, updates = run_with_progress(handler, payload)
    assert answer["frames"] == 240
    # at most one update per interval while the engine runs, and the final one; 240 frames
    # would make 240 without the throttle
    assert 2 <= len(updates) <= answer["timings"]["engine"] / 0.2 + 2
    done = [update["done"] for _, update in updates]
    assert done == sorted(done) and done[-1] == 240


def test_video_result_goes_to_the_bucket_of_the_environment(
    make_handler, remote_media, s3_server, unique, tmp_path
):
    storage = BucketStorage.from_environment(s3_server.environment(prefix=f"tests/{unique}/"))
    handler = make_handler(storage=storage)
    payload = video_input(
        media(data=remote_media.bytes("source")), media(data=remote_media.bytes("clip"), name="clip.mp4")
    )
    answer, _ = run_with_progress(handler, payload, job_id="job/../42")
    assert_video_answer(answer, frames=24)
    output = answer["output"]
    assert set(output) == {"format", "url", "bytes", "bucket", "key"}
    assert output["format"] == "mp4" and output["bucket"] == s3_server.bucket
    assert output["key"].startswith(f"tests/{unique}/job_.._42-") and output["key"].endswith(".mp4")
    assert s3_server.keys(f"tests/{unique}/") == [output["key"]]
    # the answer's URL is a presigned GET: the caller reads the result without credentials
    downloaded = requests.get(output["url"], timeout=10)
    assert downloaded.status_code == 200 and len(downloaded.content) == output["bytes"]
    check_video(downloaded.content, tmp_path, frames=24)


def test_a_large_image_result_is_uploaded_too(handler, remote_media, s3_server):
    key = s3_server.unique_key("photo.png")
    put_url = s3_server.presigned_put(key)
    payload = image_input(
        media(data=remote_media.bytes("source")),
        media(data=remote_media.bytes("target")),
        result={"upload_url": put_url, "inline_max_bytes": 1000},
    )
    answer = asyncio.run(handler.handle({"id": "big-image", "input": payload}))
    stored = s3_server.read(key)
    assert answer["output"] == {"format": "png", "url": put_url.split("?")[0], "bytes": len(stored)}
    assert stored.startswith(b"\x89PNG") and answer["faces_swapped"] == 1


def test_a_video_with_nowhere_to_go_is_refused_before_anything_runs(
    handler, remote_media, file_server, unique
):
    clip_url = file_server.add(f"/{unique}/clip.mp4", remote_media.bytes("clip"))
    answer, updates = run_with_progress(
        handler, video_input(media(data=remote_media.bytes("source")), media(url=clip_url))
    )
    assert answer == {
        "error": "a video result is too large to answer inline: give result.upload_url "
        "(a presigned PUT URL) or set up the worker's bucket (FACEDECK_S3_BUCKET)",
        "code": "upload",
    }
    assert file_server.records_for(f"/{unique}/clip.mp4") == [] and updates == []  # not even fetched


def test_cancel_in_the_middle_of_a_video_stops_within_a_second_and_leaves_nothing(
    handler, remote_media, s3_server, unique
):
    key = s3_server.unique_key("cancelled.mp4")
    payload = video_input(
        media(data=remote_media.bytes("source")),
        media(data=remote_media.bytes("long_clip"), name="long.mp4"),
        result={"upload_url": s3_server.presigned_put(key)},
    )
    before = scratch_folders()
    seen: list[dict] = []

    async def main() -> tuple[float, int]:
        started = asyncio.Event()

        def progress(update: dict) -> None:
            seen.append(update)
            if update["done"] >= 10:
                started.set()

        task = asyncio.create_task(handler.handle({"id": "to-cancel", "input": payload}, progress))
        await asyncio.wait_for(started.wait(), timeout=30)
        task.cancel()
        cancelled_at = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - cancelled_at, seen[-1]["done"]

    took, done = asyncio.run(main())
    assert took < 1.0, f"the engine took {took:.2f} s to stop"
    assert done < 240  # stopped in the middle, not at the end
    assert s3_server.keys(key) == []  # nothing uploaded
    assert scratch_folders() - before == set()  # no partial output, no fetched input left


def test_the_handler_runs_normally_after_a_cancel(handler, remote_media):
    answer = asyncio.run(
        handler.handle(
            {
                "id": "after",
                "input": image_input(
                    media(data=remote_media.bytes("source")), media(data=remote_media.bytes("target"))
                ),
            }
        )
    )
    assert answer["faces_swapped"] == 1 and answer["output"]["format"] == "png"
