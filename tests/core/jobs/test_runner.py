"""run_job: images and videos through one runner, typed events, cancel, bytes or files out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import cv2
import numpy as np
import pytest

from facedeck.core.errors import JobCancelled, ModelMissingError
from facedeck.core.faces.identities import Photo, identity_from_photos
from facedeck.core.faces.session import SwapOptions, SwapSession
from facedeck.core.jobs import stream as stream_module
from facedeck.core.jobs.events import Preview, Progress
from facedeck.core.jobs.runner import run_job
from facedeck.core.jobs.spec import FaceAssignment, FaceRef, JobKind, MediaRef, OutputSpec, SwapJob
from facedeck.core.media.image_reader import merge_result, read_image
from facedeck.core.media.image_writer import write_image
from facedeck.core.models.library import ModelLibrary, default_swapper_file
from facedeck.core.runtime.providers import select_provider
from tests.support.media_fixtures import decode_frames, frame_times, make_clip
from tests.support.models.drawing import KEY_COLORS, draw_square_face
from tests.support.models.model_set import build_model_set

BLUE, GREEN, RED, YELLOW, MAGENTA, CYAN = KEY_COLORS


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return build_model_set(
        tmp_path_factory.mktemp("models"), swapper_mode="latent_color", with_restorer=False
    )


@pytest.fixture(scope="module")
def library(models):
    return ModelLibrary(models.directory, select_provider("cpu"))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    source = np.full((200, 200, 3), 128, np.uint8)
    draw_square_face(source, YELLOW, 40, 40, 120)
    target = np.full((240, 320, 3), 128, np.uint8)
    draw_square_face(target, RED, 30, 40, 100)
    draw_square_face(target, GREEN, 200, 120, 70)
    cv2.imwrite(str(root / "source.png"), source)
    cv2.imwrite(str(root / "target.png"), target)

    def moving_red(index, image):
        image[...] = 128
        draw_square_face(image, RED, 20 + 4 * index, 40, 60)

    clip = make_clip(root / "clip.mp4", frames=20, size=(320, 240), fps=24, draw=moving_red, audio=False)
    return {"source": root / "source.png", "target": root / "target.png", "clip": clip}


def image_job(files, output, **output_fields) -> SwapJob:
    return SwapJob(
        kind=JobKind.IMAGE,
        target=MediaRef.of(files["target"]),
        faces=FaceAssignment(sources=[FaceRef(MediaRef.of(files["source"]))]),
        output=OutputSpec(path=None if output is None else str(output), **output_fields),
    )


def video_job(files, output, **job_fields) -> SwapJob:
    return SwapJob(
        kind=JobKind.VIDEO,
        target=MediaRef.of(files["clip"]),
        faces=FaceAssignment(sources=[FaceRef(MediaRef.of(files["source"]))]),
        output=OutputSpec(path=str(output), quality=100, hardware="off"),
        **job_fields,
    )


def test_image_job_equals_the_engine_by_hand_and_the_cli(files, library, models, tmp_path):
    out = tmp_path / "job.png"
    result = run_job(library, image_job(files, out))
    assert (result.faces_found, result.faces_swapped) == (2, 1)
    json.dumps(result.to_dict())  # JSON-safe

    # The same swap by hand, through the session API, written by the same writer.
    options = SwapOptions()
    identity = identity_from_photos(library, [(Photo("s", read_image(files["source"]).bgr), 0)], options)
    target = read_image(files["target"])
    frame = SwapSession(library, options, [identity]).process(target.bgr.copy()).frame
    by_hand = write_image(tmp_path / "hand.png", merge_result(target, frame), quality=95)
    assert out.read_bytes() == by_hand.read_bytes()

    cli_out = tmp_path / "cli.png"
    command = [sys.executable, "-m", "facedeck.desktop", "--headless", "swap", "-s", str(files["source"])]
    command += ["-t", str(files["target"]), "-o", str(cli_out), "--models-dir", str(models.directory)]
    assert subprocess.run(command, capture_output=True, timeout=120).returncode == 0
    assert cli_out.read_bytes() == out.read_bytes()


def test_image_bytes_come_back_when_no_path_is_given(files, library, tmp_path):
    on_disk = run_job(library, image_job(files, tmp_path / "a.png"))
    in_memory = run_job(library, image_job(files, None, format="png"))
    assert in_memory.output_path is None and in_memory.output_format == "png"
    assert in_memory.output_data == (tmp_path / "a.png").read_bytes()
    assert "data" in in_memory.to_dict()["output"]
    assert on_disk.output_data is None


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_outputs_get_the_mode_of_a_normal_file(files, library, tmp_path, umask):
    old = os.umask(umask)
    try:
        run_job(library, image_job(files, tmp_path / "out.png"))
        run_job(library, video_job(files, tmp_path / "out.mp4"))
    finally:
        os.umask(old)
    for name in ("out.png", "out.mp4"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


def test_video_job_keeps_frames_and_timestamps_and_reports_in_order(files, library, tmp_path):
    events = []
    out = tmp_path / "out.mp4"
    result = run_job(library, video_job(files, out, preview_every=0.0), events=events.append)
    assert result.frames == 20 == len(decode_frames(out)) and result.frames_with_swaps == 20
    assert frame_times(out) == pytest.approx(frame_times(files["clip"]), abs=1e-6)
    progress = [event for event in events if isinstance(event, Progress)]
    done = [event.done for event in progress]
    assert done == sorted(done) and progress[-1].done == progress[-1].total == 20
    previews = [event for event in events if isinstance(event, Preview)]
    assert [event.index for event in previews] == list(range(20))  # preview_every=0: every frame
    assert previews[5].frame.shape == (240, 320, 3)


def test_cancel_stops_a_video_within_a_frame(files, library, tmp_path, monkeypatch):
    pushed = []
    real_push = stream_module.FrameStream.push

    def counting_push(self, frame, timestamp):
        pushed.append(cancel.is_set())
        return real_push(self, frame, timestamp)

    monkeypatch.setattr(stream_module.FrameStream, "push", counting_push)
    cancel = threading.Event()

    def on_event(event):
        # previews come every frame (preview_every=0), so the cancel lands at a known frame
        # however fast this machine runs
        if isinstance(event, Preview) and event.index == 3:
            cancel.set()

    out = tmp_path / "out.mp4"
    with pytest.raises(JobCancelled, match="cancelled after 4 frame"):
        run_job(library, video_job(files, out, preview_every=0.0), events=on_event, cancel=cancel)
    assert pushed.count(True) <= 1  # at most the frame already in hand when cancel came
    assert sorted(path.name for path in tmp_path.iterdir()) == []


def test_cancel_between_image_stages(files, library, tmp_path):
    cancel = threading.Event()

    def on_event(event):
        if isinstance(event, Progress) and event.stage == "identify":
            cancel.set()

    with pytest.raises(JobCancelled, match="before the swap step"):
        run_job(library, image_job(files, tmp_path / "o.png"), events=on_event, cancel=cancel)
    assert list(tmp_path.iterdir()) == []


def test_inline_bytes_as_inputs(files, library, tmp_path):
    job = SwapJob(
        kind=JobKind.VIDEO,
        target=MediaRef(data=files["clip"].read_bytes(), name="clip.mp4"),
        faces=FaceAssignment(sources=[FaceRef(MediaRef(data=files["source"].read_bytes(), name="me.png"))]),
        output=OutputSpec(format="mp4", hardware="off"),
    )
    result = run_job(library, job)
    assert result.frames == 20 and result.output_data and result.output_data[4:8] == b"ftyp"


def test_a_chosen_swapper_is_never_replaced_by_another(library, files, tmp_path):
    # the folder holds inswapper_128.onnx only; the fp16 file is chosen
    with pytest.raises(ModelMissingError, match="inswapper_128_fp16.onnx") as missing:
        library.swapper("inswapper_128_fp16.onnx")  # what a preview asks for: no quiet fp32
    assert missing.value.ids == ["inswapper_128_fp16"]
    job = SwapJob(
        kind=JobKind.IMAGE,
        target=MediaRef.of(files["target"]),
        faces=FaceAssignment(sources=[FaceRef(MediaRef.of(files["source"]))]),
        options=SwapOptions(swapper_file="inswapper_128_fp16.onnx"),
        output=OutputSpec(path=str(tmp_path / "out.png")),
    )
    with pytest.raises(ModelMissingError, match="inswapper_128_fp16.onnx"):
        run_job(library, job)
    assert not (tmp_path / "out.png").exists()
    # no choice: the provider's default, or the swapper that is there
    assert default_swapper_file("cpu") == "inswapper_128.onnx"
    assert default_swapper_file("cuda") == "inswapper_128_fp16.onnx"
    assert library.swapper().path.name == "inswapper_128.onnx"
