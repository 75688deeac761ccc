"""run_job on videos end to end: real clips in, real clips out, decoded and compared."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from facedeck.core.errors import InvalidJobError, JobCancelled
from facedeck.core.faces.recognizer import l2_normalize
from facedeck.core.faces.selection import SelectionMode
from facedeck.core.faces.session import SwapOptions
from facedeck.core.jobs.events import Progress
from facedeck.core.jobs.runner import run_job
from facedeck.core.jobs.spec import (
    FaceAssignment,
    FaceMapping,
    FaceRef,
    JobKind,
    MediaRef,
    OutputSpec,
    SwapJob,
    TrackerOptions,
    Trim,
)
from facedeck.core.models.library import ModelLibrary
from facedeck.core.runtime.providers import select_provider
from tests.support.media_fixtures import audio_info, decode_frames, frame_times, make_animated, make_clip
from tests.support.models.drawing import KEY_COLORS, draw_square_face
from tests.support.models.model_set import build_model_set

BLUE, GREEN, RED, YELLOW, MAGENTA, CYAN = KEY_COLORS
LOSSLESS = OutputSpec(codec="h264", quality=100, hardware="off")
SIZE = (320, 240)
SIDE = 60


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return build_model_set(
        tmp_path_factory.mktemp("models"), swapper_mode="latent_color", with_restorer=False
    )


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    import cv2

    root = tmp_path_factory.mktemp("photos")
    paths = {}
    for name, color in {"yellow": YELLOW, "cyan": CYAN, "red": RED, "blue": BLUE}.items():
        photo = np.full((200, 200, 3), 128, np.uint8)
        draw_square_face(photo, color, 40, 40, 120)
        paths[name] = root / f"{name}.png"
        cv2.imwrite(str(paths[name]), photo)
    return paths


def library_for(models) -> ModelLibrary:
    return ModelLibrary(models.directory, select_provider("cpu"))


def face(path) -> FaceRef:
    return FaceRef(MediaRef.of(path))


def video_job(
    clip,
    output,
    faces: FaceAssignment,
    *,
    encoder: OutputSpec | None = None,
    detect_every: int = 3,
    selection: SelectionMode = SelectionMode.ONE,
) -> SwapJob:
    spec = encoder or OutputSpec()
    return SwapJob(
        kind=JobKind.VIDEO,
        target=MediaRef.of(clip),
        faces=faces,
        options=SwapOptions(selection=selection),
        output=OutputSpec(**{**spec.__dict__, "path": str(output)}),
        tracker=TrackerOptions(detect_every=detect_every),
    )


def painted_colour(models, *colors) -> np.ndarray:
    embeddings = [l2_normalize(models.recognizer.embedding_for_color(c)) for c in colors]
    identity = l2_normalize(np.mean(embeddings, axis=0))
    rgb = models.swapper.latent_color(models.swapper.latent_for_embedding(identity))
    return np.round(rgb[::-1] * 255.0)


def red_x(index: int) -> int:
    return 20 + 4 * index


def grey_background(index, image):
    """Replace the fixture's colourful content: key colours must appear only in faces."""
    rng = np.random.default_rng(index)
    image[...] = rng.integers(100, 157, image.shape, dtype=np.uint8)


def draw_red_except_gap(index, image):
    """A red face moving right, absent on frames 8-13; a still blue face on the right."""
    grey_background(index, image)
    if not 8 <= index <= 13:
        draw_square_face(image, RED, red_x(index), 40, SIDE)
    draw_square_face(image, BLUE, 230, 150, SIDE)


def draw_red_late(index, image):
    """No face on the first 6 frames, then a red face moving right."""
    grey_background(index, image)
    if index >= 6:
        draw_square_face(image, RED, red_x(index), 40, SIDE)


def centre(frame, x0, y0):
    return frame[y0 + SIDE // 2, x0 + SIDE // 2].astype(float)


def test_swaps_faces_keeps_timing_audio_and_untouched_frames(tmp_path, models, photos):
    clip = make_clip(tmp_path / "in.mp4", frames=24, size=SIZE, fps=24, draw=draw_red_late)
    output = tmp_path / "out.mp4"
    job = video_job(
        clip, output, FaceAssignment(sources=[face(photos["yellow"])]), encoder=LOSSLESS, detect_every=1
    )
    result = run_job(library_for(models), job)
    assert result.frames == 24 and result.frames_with_swaps == 18
    assert output.is_file() and not list(tmp_path.glob("*.part"))

    source_frames, output_frames = decode_frames(clip), decode_frames(output)
    assert len(output_frames) == len(source_frames) == 24
    assert frame_times(output) == pytest.approx(frame_times(clip), abs=1e-6)
    ((codec_in, seconds_in),) = audio_info(clip)
    ((codec_out, seconds_out),) = audio_info(output)
    assert codec_out == codec_in and seconds_out == pytest.approx(seconds_in, abs=0.05)
    for index in range(6):  # no face: the very same pixels
        assert np.array_equal(output_frames[index], source_frames[index]), index
    want = painted_colour(models, YELLOW)
    for index in range(6, 24):
        np.testing.assert_allclose(centre(output_frames[index], red_x(index), 40), want, atol=6)
        # away from the face, swapped frames keep the decoded pixels exactly
        assert np.array_equal(output_frames[index][150:, :], source_frames[index][150:, :]), index


def test_mapping_stays_with_each_person_when_one_leaves_and_returns(tmp_path, models, photos):
    clip = make_clip(tmp_path / "in.mkv", frames=24, size=SIZE, fps=24, draw=draw_red_except_gap, audio=False)
    output = tmp_path / "out.mkv"
    faces = FaceAssignment(
        mappings=[
            FaceMapping([face(photos["yellow"])], face(photos["red"])),
            FaceMapping([face(photos["cyan"])], face(photos["blue"])),
        ]
    )
    job = video_job(clip, output, faces, encoder=LOSSLESS, detect_every=3)
    run_job(library_for(models), job)
    frames = decode_frames(output)
    yellow, cyan = painted_colour(models, YELLOW), painted_colour(models, CYAN)
    for index, frame in enumerate(frames):
        np.testing.assert_allclose(centre(frame, 230, 150), cyan, atol=6)
        # back on frame 14; with detection every 3 frames it is picked up by frame 15 at the latest
        if not 8 <= index <= 14:
            np.testing.assert_allclose(centre(frame, red_x(index), 40), yellow, atol=8)


def test_reference_selection_over_a_video(tmp_path, models, photos):
    clip = make_clip(tmp_path / "in.mp4", frames=12, size=SIZE, fps=24, draw=draw_red_except_gap, audio=False)
    output = tmp_path / "out.mp4"
    faces = FaceAssignment(sources=[face(photos["yellow"])], reference=face(photos["blue"]))
    job = video_job(clip, output, faces, encoder=LOSSLESS, selection=SelectionMode.REFERENCE)
    run_job(library_for(models), job)
    source, frames = decode_frames(clip), decode_frames(output)
    for index, frame in enumerate(frames):
        np.testing.assert_allclose(centre(frame, 230, 150), painted_colour(models, YELLOW), atol=6)
        if not 8 <= index <= 13:
            # only the swapped face's rectangle is converted back to YUV: the red face is untouched
            assert np.array_equal(centre(frame, red_x(index), 40), centre(source[index], red_x(index), 40))


def test_variable_frame_rate_timestamps_survive(tmp_path, models, photos):
    clip = make_clip(tmp_path / "vfr.mp4", frames=20, size=SIZE, fps=24, vfr=True, draw=draw_red_late)
    output = tmp_path / "out.mp4"
    job = video_job(clip, output, FaceAssignment(sources=[face(photos["yellow"])]), encoder=LOSSLESS)
    run_job(library_for(models), job)
    times_in = frame_times(clip)
    assert len(set(np.round(np.diff(times_in), 4))) > 1  # the input really is variable
    assert frame_times(output) == pytest.approx(times_in, abs=1e-6)


def test_animated_gif_in_and_out(tmp_path, models, photos):
    clip = make_animated(
        tmp_path / "in.gif",
        frames=8,
        size=(160, 120),
        durations_ms=[40, 80] * 4,
        draw=lambda i, img: (grey_background(i, img), draw_square_face(img, RED, 20 + 5 * i, 20, 50)),
    )
    output = tmp_path / "out.gif"
    job = video_job(clip, output, FaceAssignment(sources=[face(photos["yellow"])]))
    result = run_job(library_for(models), job)
    assert result.frames == 8 and result.frames_with_swaps == 8
    assert len(decode_frames(output)) == 8


def test_cancel_stops_quickly_and_leaves_nothing(tmp_path, models, photos):
    clip = make_clip(tmp_path / "in.mp4", frames=48, size=SIZE, fps=24, draw=draw_red_late)
    output = tmp_path / "out.mp4"
    cancel = threading.Event()
    seen = []

    def progress(event):
        if isinstance(event, Progress):
            seen.append(event.done)
            cancel.set()

    job = video_job(clip, output, FaceAssignment(sources=[face(photos["yellow"])]), encoder=LOSSLESS)
    with pytest.raises(JobCancelled):
        run_job(library_for(models), job, events=progress, cancel=cancel)
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]
    assert seen and seen[0] < 48


def test_encoder_failure_midway_removes_the_partial_output(tmp_path, models, photos, monkeypatch):
    from facedeck.core.media import video_writer

    clip = make_clip(tmp_path / "in.mp4", frames=24, size=SIZE, fps=24, draw=draw_red_late, audio=False)
    output = tmp_path / "out.mp4"
    real = video_writer.VideoWriter.write_frame
    calls = []

    def failing(self, frame, image, regions=None):
        calls.append(frame.index)
        if len(calls) == 10:
            raise OSError(28, "No space left on device")
        return real(self, frame, image, regions)

    monkeypatch.setattr(video_writer.VideoWriter, "write_frame", failing)
    job = video_job(clip, output, FaceAssignment(sources=[face(photos["yellow"])]), encoder=LOSSLESS)
    events = []
    with pytest.raises(OSError, match="No space left"):
        run_job(library_for(models), job, events=events.append)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]
    # a failed run never reports itself finished (a progress bar would show 100% above the error)
    finals = [e for e in events if isinstance(e, Progress) and e.total is not None and e.done >= e.total]
    assert finals == []


def draw_numbered(index, image):
    """A still background, a red face moving right and a black bar as long as the frame's number.

    The background stays still so the encoder keeps its keyframe interval (a new noise
    pattern every frame would make every frame a keyframe); the bar names the frame.
    """
    grey_background(0, image)
    draw_square_face(image, RED, red_x(index), 40, SIDE)
    image[200:230, : 4 * (index + 1)] = 0


def frame_number(frame) -> int:
    return int(np.count_nonzero(frame[215].max(axis=1) < 50)) // 4 - 1


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_trim_keeps_the_right_frames_and_audio_from_time_zero(tmp_path, models, photos, monkeypatch, suffix):
    # mpeg4 puts a keyframe every 12 frames: the MP4 is sought to frame 24 and decoded on
    # from there (VideoReader.items, which decodes from the start, must not run); AVI has
    # no timestamps to seek by and is decoded from the start
    from facedeck.core.media.video_reader import VideoReader

    clip = make_clip(
        tmp_path / f"in{suffix}", frames=48, size=SIZE, fps=24, codec="mpeg4", draw=draw_numbered
    )
    assert [frame_number(frame) for frame in decode_frames(clip)] == list(range(48))
    if suffix == ".mp4":
        monkeypatch.setattr(VideoReader, "items", lambda *a, **k: pytest.fail("decoded from the start"))
    output = tmp_path / f"out{suffix}"
    job = dataclasses.replace(
        video_job(clip, output, FaceAssignment(sources=[face(photos["yellow"])]), detect_every=1),
        trim=Trim(start=1.25, end=1.75),
    )
    result = run_job(library_for(models), job)
    assert result.frames == 12
    frames = decode_frames(output)
    assert [frame_number(frame) for frame in frames] == list(range(30, 42))
    if suffix == ".mp4":
        assert frame_times(output) == pytest.approx([i / 24 for i in range(12)], abs=1e-3)
    want = painted_colour(models, YELLOW)
    for index, frame in enumerate(frames):
        np.testing.assert_allclose(centre(frame, red_x(30 + index), 40), want, atol=12)
    ((_, seconds),) = audio_info(output)
    assert seconds == pytest.approx(0.5, abs=0.05)


def test_trim_past_the_end_is_refused_before_anything_is_written(tmp_path, models, photos):
    clip = make_clip(tmp_path / "in.mp4", frames=12, size=SIZE, fps=24, draw=draw_red_late, audio=False)
    output = tmp_path / "out.mp4"
    job = dataclasses.replace(
        video_job(clip, output, FaceAssignment(sources=[face(photos["yellow"])])), trim=Trim(start=2.0)
    )
    with pytest.raises(InvalidJobError) as caught:
        run_job(library_for(models), job)
    assert [str(problem) for problem in caught.value.problems] == [
        "trim.start: 2 s is past the end (in.mp4 is 0.5 s long)"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_a_video_without_faces_fails_but_a_part_of_a_longer_one_is_written_unchanged(
    tmp_path, models, photos
):
    """A fanned-out part with nobody in it must not fail the whole video (remote/fanout.py)."""
    from facedeck.core.errors import NoFaceError
    from facedeck.core.jobs.spec import PartOf

    clip = make_clip(tmp_path / "empty.mp4", frames=8, size=SIZE, fps=24, draw=grey_background, audio=False)
    whole = video_job(
        clip, tmp_path / "whole.mp4", FaceAssignment(sources=[face(photos["yellow"])]), encoder=LOSSLESS
    )
    with pytest.raises(NoFaceError, match="no face found in any frame of empty.mp4"):
        run_job(library_for(models), whole)
    assert not (tmp_path / "whole.mp4").exists()

    part = dataclasses.replace(
        whole,
        output=dataclasses.replace(whole.output, path=str(tmp_path / "part.mp4")),
        part=PartOf(index=1, count=3),
    )
    result = run_job(library_for(models), part)
    assert result.frames == 8 and result.faces_found == 0
    written = decode_frames(tmp_path / "part.mp4")
    original = decode_frames(clip)
    assert len(written) == len(original)
    # lossless both ways: the frames went through untouched
    assert (
        max(np.abs(a.astype(int) - b.astype(int)).max() for a, b in zip(written, original, strict=True)) <= 2
    )
