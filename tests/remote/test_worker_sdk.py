"""The worker's handler in-process, with a real event loop and the real ``runpod`` SDK.

RunPod's side is played by a loopback HTTP server: the SDK posts progress and results to
it (its ``JOB_DONE_URL``) and large results are PUT to it as to a presigned URL. Jobs go
through the SDK's own job loop (``JobScaler``, what ``runpod.serverless.start`` runs on
RunPod) with the fetchers it accepts in local tests: one that hands out the test's jobs and
one that sends a stop signal, as RunPod does on cancel or execution timeout.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.server
import json
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from facedeck.core.models.store import ModelStore
from facedeck.remote import worker as worker_module
from facedeck.remote.handler import RemoteHandler
from facedeck.remote.worker import Worker
from tests.remote.conftest import RemoteMedia
from tests.support import remote_jobs
from tests.support.media_fixtures import decode_frames
from tests.support.models.faulty import build_swapper_failing_at_run
from tests.support.models.model_set import build_model_set

SIGNATURE = "X-Amz-Signature=0123456789abcdef"  # must never reach a log or an answer
LONG_CLIP_FRAMES = 240  # remote_media.long_clip


# ----- RunPod's side: a loopback server that records what the SDK and the worker send --------
@dataclass
class Request:
    method: str
    path: str
    body: bytes
    at: float


class Recorder(http.server.ThreadingHTTPServer):
    """Answers 200 to every POST and PUT on 127.0.0.1 and keeps what it received."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), RecordingHandler)
        self.requests: list[Request] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def received(self, method: str, prefix: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    def wait_for(self, method: str, prefix: str, timeout: float = 10.0) -> list[Request]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.received(method, prefix)
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError(f"no {method} {prefix} within {timeout} s: {[r.path for r in self.requests]}")


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    server: Recorder

    def _record(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.requests.append(Request(self.command, self.path, body, time.monotonic()))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = _record

    def log_message(self, *args: Any) -> None:  # quiet: the test reads self.server.requests
        return None


@pytest.fixture(scope="module")
def runpod_side() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def sdk(runpod_side: Recorder) -> Iterator[Any]:
    """``runpod.serverless`` imported as the worker imports it, posting to the loopback server."""
    patch = pytest.MonkeyPatch()
    defaults: dict[str, str] = {}
    worker_module.prepare_environment(defaults)  # the worker's defaults, set here through patch
    for name in ("RUNPOD_DEBUG_LEVEL", "RUNPOD_WEBHOOK_GET_JOB", "RUNPOD_WEBHOOK_POST_OUTPUT"):
        patch.delenv(name, raising=False)
    for name, value in defaults.items():
        patch.setenv(name, value)
    serverless = worker_module.import_sdk()
    from runpod.serverless.modules import rp_http

    # what RUNPOD_WEBHOOK_POST_OUTPUT sets on RunPod ($ID: the job's id; the SDK appends &isStream=)
    patch.setattr(rp_http, "JOB_DONE_URL", f"{runpod_side.url}/done/$ID?worker=test")
    yield serverless
    patch.undo()


# ----- the engine ---------------------------------------------------------------------------
# Progress and cancel use the shared stand-in library (tests/remote/conftest.py). The job that
# raises needs a swapper that fails when it runs: its own models folder, where the fp16 slot
# holds that file, so a job choosing it fails inside onnxruntime and the next job does not.
@pytest.fixture(scope="module")
def faulty_handler(tmp_path_factory: pytest.TempPathFactory) -> RemoteHandler:
    root = tmp_path_factory.mktemp("worker-models")
    models = build_model_set(root / "models", swapper_mode="latent_color", with_restorer=False)
    faulty = build_swapper_failing_at_run(root / "faulty.onnx", "reshape")
    ModelStore(models.directory).import_file("inswapper_128_fp16", faulty, trust=True)
    # the worker's own start-up path, with no bucket in the environment
    return RemoteHandler.from_environment({}, provider="cpu", models_dir=models.directory)


def image_input(media: RemoteMedia, **options: Any) -> dict[str, Any]:
    return remote_jobs.image_input(
        remote_jobs.media(data=media.bytes("source"), name="source.png"),
        remote_jobs.media(data=media.bytes("target"), name="target.png"),
        options=options,
        output={"format": "jpg"},
    )


def video_input(media: RemoteMedia, upload_url: str) -> dict[str, Any]:
    return remote_jobs.video_input(
        remote_jobs.media(data=media.bytes("source"), name="source.png"),
        remote_jobs.media(data=media.bytes("long_clip"), name="long.mp4"),
        result={"upload_url": upload_url},
    )


# ----- driving the SDK's job loop -------------------------------------------------------------
@dataclass
class LoopRun:
    """What happened in one run of the SDK's job loop (times from time.monotonic())."""

    stopped_at: float | None = None  # the stop channel named the first job
    ended_at: float | None = None  # after that, the SDK had no job running any more
    at_end: Any = None  # what ``at_end()`` answered at that moment


def run_scaler(
    worker: Worker,
    jobs: list[dict[str, Any]],
    *,
    until: Callable[[LoopRun], bool],
    stop_when: Callable[[], bool] | None = None,
    at_end: Callable[[], Any] = lambda: None,
) -> LoopRun:
    """Run RunPod's JobScaler (what serverless.start runs on RunPod) over ``jobs`` until
    ``until(run)``, then shut it down. ``stop_when``: once true, the stop channel names the
    first job, as RunPod does on a cancel or an execution timeout."""
    from runpod.serverless.modules.rp_scale import JobScaler

    pending = list(jobs)
    run = LoopRun()

    async def fetch(_session: Any, wanted: int) -> list[dict[str, Any]] | None:
        await asyncio.sleep(0.02)
        return [pending.pop(0)] if pending else None

    async def stop_signals(_session: Any) -> list[str]:
        await asyncio.sleep(0.02)
        if stop_when is None or run.stopped_at is not None or not stop_when():
            return []
        run.stopped_at = time.monotonic()
        return [jobs[0]["id"]]

    async def main() -> None:
        config = {"handler": worker.run, "jobs_fetcher": fetch, "stop_signals_fetcher": stop_signals}
        scaler = JobScaler(config)
        loop_task = asyncio.create_task(scaler.run())
        deadline = time.monotonic() + 60
        while not until(run) and time.monotonic() < deadline:
            if run.stopped_at is not None and run.ended_at is None and not scaler.jobs_tasks:
                run.ended_at = time.monotonic()
                run.at_end = at_end()
            await asyncio.sleep(0.01)
        scaler.kill_worker()
        # its loops notice within one poll, but the stop channel's sleeps a second between empty
        # polls: once the jobs are over, nothing is lost by cancelling that wait
        await asyncio.wait({loop_task}, timeout=0.2)
        loop_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop_task

    asyncio.run(main())
    return run


def posted(request: Request) -> dict[str, Any]:
    return json.loads(request.body)


# ----- tests ----------------------------------------------------------------------------------
def test_a_video_sends_progress_through_the_sdk_and_puts_its_result(
    sdk, make_handler, remote_media, runpod_side, tmp_path, capsys
):
    worker = Worker(make_handler(), sdk.progress_update)
    upload = f"{runpod_side.url}/upload/progress.mp4?{SIGNATURE}"
    job = {"id": "job-progress", "input": video_input(remote_media, upload)}
    answer = asyncio.run(worker.run(job))

    assert answer["kind"] == "video" and answer["frames"] == LONG_CLIP_FRAMES
    assert answer["faces_found"] >= 1 and answer["faces_swapped"] >= 1
    put = runpod_side.received("PUT", "/upload/progress.mp4")
    assert len(put) == 1
    location = f"{runpod_side.url}/upload/progress.mp4"  # the object, without the signed query
    assert answer["output"] == {"format": "mp4", "url": location, "bytes": len(put[0].body)}
    assert set(answer["timings"]) == {"fetch", "engine", "upload", "total"}
    assert answer["warnings"] == [] and answer["provider"] == "cpu" and answer["version"]
    uploaded = tmp_path / "uploaded.mp4"
    uploaded.write_bytes(put[0].body)
    assert len(decode_frames(uploaded)) == LONG_CLIP_FRAMES
    # RunPod's progress: IN_PROGRESS with our payload as output, posted by the SDK's own thread
    done_url = "/done/job-progress?worker=test&isStream=false"
    updates = [posted(r) for r in runpod_side.wait_for("POST", done_url)]
    assert all(update["status"] == "IN_PROGRESS" for update in updates)
    first = updates[0]["output"]
    assert set(first) == {"stage", "done", "total", "fps", "eta_seconds"}
    assert first["stage"] == "frames" and first["total"] == LONG_CLIP_FRAMES
    assert 0 < first["done"] <= LONG_CLIP_FRAMES
    # throttled: far fewer updates than frames
    assert len(updates) < LONG_CLIP_FRAMES / 10
    printed = capsys.readouterr()
    assert SIGNATURE not in printed.out + printed.err


def test_cancel_stops_a_running_video_within_a_second_and_leaves_nothing(
    sdk, make_handler, remote_media, runpod_side, tmp_path, monkeypatch, caplog
):
    caplog.set_level(logging.INFO, logger="facedeck.remote.worker")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the handler's job folder goes
    worker = Worker(make_handler())  # no RunPod URL to post progress to: the worker logs it
    upload = f"{runpod_side.url}/upload/cancelled.mp4?{SIGNATURE}"
    job = {"id": "job-cancel", "input": video_input(remote_media, upload)}

    def job_folders() -> list[str]:
        return sorted(path.name for path in scratch.iterdir())

    folders_at_stop: list[list[str]] = []

    def logged(prefix: str) -> list[str]:
        return [record.getMessage() for record in caplog.records if record.getMessage().startswith(prefix)]

    def running() -> bool:
        if not logged("job job-cancel progress: {"):
            return False
        folders_at_stop.append(job_folders())
        return True

    run = run_scaler(
        worker, [job], stop_when=running, until=lambda run: run.ended_at is not None, at_end=job_folders
    )
    assert run.stopped_at is not None and run.ended_at is not None
    assert folders_at_stop[-1] != []  # stopped in the middle: the job's folders were there
    assert run.ended_at - run.stopped_at < 1.0
    # when the SDK saw the job end, the engine had stopped and its folder (partial video) was gone
    assert run.at_end == []
    assert job_folders() == []
    assert runpod_side.received("PUT", "/upload/cancelled.mp4") == []  # nothing uploaded
    assert runpod_side.received("POST", "/done/job-cancel?") == []  # no answer: RunPod marks it itself
    first = json.loads(logged("job job-cancel progress: ")[0].split(": ", 1)[1])
    assert first["stage"] == "frames" and first["total"] == LONG_CLIP_FRAMES
    assert logged("job job-cancel stopped (cancelled or timed out)")
    assert SIGNATURE not in caplog.text


def test_a_job_that_raises_then_a_good_job_on_the_same_worker(sdk, faulty_handler, remote_media, runpod_side):
    worker = Worker(faulty_handler, sdk.progress_update)
    jobs = [
        {"id": "job-raises", "input": image_input(remote_media, swapper_file="inswapper_128_fp16.onnx")},
        {"id": "job-good", "input": image_input(remote_media)},
    ]

    def both_answered(_run: LoopRun) -> bool:
        return all(runpod_side.received("POST", f"/done/{job['id']}?") for job in jobs)

    run_scaler(worker, jobs, until=both_answered)
    [failed] = [posted(r) for r in runpod_side.received("POST", "/done/job-raises?")]
    [done] = [posted(r) for r in runpod_side.received("POST", "/done/job-good?")]
    # the SDK moves our "error" to the top (the job is FAILED) and keeps the other keys as output
    assert set(failed) == {"error", "output"} and failed["output"] == {"code": "model_load"}
    assert failed["error"].startswith(
        "inswapper_128_fp16.onnx (inswapper_128_fp16): inference failed: a Reshape node failed: "
    )
    assert "\n" not in failed["error"] and "Traceback" not in failed["error"]
    answer = done["output"]
    assert set(done) == {"output"}
    assert (answer["kind"], answer["faces_found"], answer["faces_swapped"]) == ("image", 2, 1)
    assert answer["output"]["format"] == "jpg"
    data = base64.b64decode(answer["output"]["data"])
    assert data[:3] == b"\xff\xd8\xff" and answer["output"]["bytes"] == len(data)


def test_missing_models_answer_each_job_until_they_appear(
    sdk, remote_models, remote_media, runpod_side, tmp_path
):
    folder = tmp_path / "models"
    folder.mkdir()
    # started with an empty models folder: the worker comes up, it does not crash
    worker = Worker(RemoteHandler.from_environment({}, provider="cpu", models_dir=folder))
    job = {"id": "job-no-models", "input": image_input(remote_media)}
    run_scaler(worker, [job], until=lambda _run: bool(runpod_side.received("POST", "/done/job-no-models?")))
    [failed] = [posted(r) for r in runpod_side.received("POST", "/done/job-no-models?")]
    assert failed["output"] == {"code": "model_missing"}
    assert failed["error"] == (
        "missing model file(s) det_10g.onnx, w600k_r50.onnx, inswapper_128.onnx or "
        f"inswapper_128_fp16.onnx in {folder}"
    )
    # the files arrive (a network volume filled later): the next job on the same worker uses them
    shutil.copytree(remote_models.directory, folder, dirs_exist_ok=True)
    job = {"id": "job-models-now", "input": image_input(remote_media)}
    run_scaler(worker, [job], until=lambda _run: bool(runpod_side.received("POST", "/done/job-models-now?")))
    [done] = [posted(r) for r in runpod_side.received("POST", "/done/job-models-now?")]
    assert set(done) == {"output"} and done["output"]["faces_swapped"] == 1
