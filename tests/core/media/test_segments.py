"""Fan-out media work on real files: plan, split by stream copy, swap each part, join by stream copy.

Each part is "swapped" by FaceDeck's own video pipeline (``run_job`` with the stand-in
models, as a worker runs a part), and the joined result is compared with the same job run
on the whole clip in one go: same frames, same timestamps, same audio, and video packets
that are the parts' own bytes (no re-encoding at the joins).
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from facedeck.core.errors import InputError, OutputError, UsageError
from facedeck.core.faces.session import SwapOptions
from facedeck.core.jobs.runner import run_job
from facedeck.core.jobs.spec import (
    FaceAssignment,
    FaceRef,
    JobKind,
    MediaRef,
    OutputSpec,
    PartOf,
    SwapJob,
    TrackerOptions,
    Trim,
)
from facedeck.core.media.marking import is_marked_synthetic
from facedeck.core.media.segments import JoinReport, Segment, join_segments, plan_segments, split_video
from facedeck.core.models.library import ModelLibrary
from facedeck.core.runtime.providers import select_provider
from tests.support.media_fixtures import audio_info, make_audio_only, make_clip
from tests.support.models.drawing import KEY_COLORS, draw_square_face
from tests.support.models.model_set import build_model_set

BLUE, GREEN, RED, YELLOW, MAGENTA, CYAN = KEY_COLORS
SIZE = (160, 120)
FPS = 24
GOP = 2 * FPS  # a keyframe every 2 s
AAC_FRAME = 1024 / 48_000  # seconds of one AAC audio frame
# superfast: B-frames in every swapped part, as a worker's default preset writes them
WORKER_OUTPUT = OutputSpec(codec="h264", quality=70, preset="superfast", hardware="off")


def draw_face(index: int, image: np.ndarray) -> None:
    """A red "face" sliding to and fro: every frame has one to swap."""
    draw_square_face(image, RED, 10 + abs(index % 120 - 60), 30, 50)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("segments")


@pytest.fixture(scope="module")
def clip(folder: Path) -> Path:
    """20 s, 160x120 at 24 fps, lossless H.264 (no B-frames), a keyframe every 2 s, AAC audio."""
    return make_clip(folder / "clip.mp4", frames=20 * FPS, size=SIZE, fps=FPS, gop=GOP, draw=draw_face)


@pytest.fixture(scope="module")
def b_frame_clip(folder: Path) -> Path:
    """8 s at x264's default settings (B-frames), a keyframe every 2 s."""
    path = make_clip(
        folder / "bframes.mp4", frames=8 * FPS, size=SIZE, fps=FPS, gop=GOP, crf=None, draw=draw_face
    )
    with av.open(str(path)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
    assert any(p.pts != p.dts for p in packets), "the clip was meant to have B-frames"
    return path


@pytest.fixture(scope="module")
def swapper(folder: Path):
    """swap(target, output, part=..., trim=..., audio=...): run_job as a worker runs a part."""
    models = build_model_set(folder / "models", swapper_mode="latent_color", with_restorer=False)
    library = ModelLibrary(models.directory, select_provider("cpu"))
    photo = np.full((200, 200, 3), 128, np.uint8)
    draw_square_face(photo, YELLOW, 40, 40, 120)
    cv2.imwrite(str(folder / "yellow.png"), photo)

    def swap(target: Path, output: Path, *, part: PartOf | None = None, trim: Trim | None = None, audio=True):
        job = SwapJob(
            kind=JobKind.VIDEO,
            target=MediaRef.of(target),
            faces=FaceAssignment(sources=[FaceRef(MediaRef.of(folder / "yellow.png"))]),
            options=SwapOptions(detector_size=160),
            output=dataclasses.replace(WORKER_OUTPUT, path=str(output), audio=audio),
            tracker=TrackerOptions(detect_every=6),
            trim=trim,
            part=part,
        )
        run_job(library, job)
        return output

    return swap


@pytest.fixture(scope="module")
def whole(clip: Path, folder: Path, swapper) -> Path:
    """The clip processed in one go: what every join is compared with."""
    return swapper(clip, folder / "whole.mp4")


def fan_out(source: Path, segments: list[Segment], folder: Path, swapper, suffix: str = ".mp4") -> list[Path]:
    """Split ``source`` into ``folder`` and swap each part as its own job (no audio, as fan-out does)."""
    parts = split_video(source, segments, folder / "in")
    swapped = []
    for segment, part in zip(segments, parts, strict=True):
        output = folder / f"swapped-{segment.index:03d}{suffix}"
        swapper(part, output, part=PartOf(index=segment.index, count=len(segments)), audio=False)
        swapped.append(output)
    return swapped


def video_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def frame_stamps(path: Path) -> tuple[list[int], Fraction]:
    """Each decoded frame's presentation timestamp, and the stream's time base."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [frame.pts for frame in container.decode(stream)], stream.time_base


def end_within_reordered_frames(path: Path, after: float) -> float:
    """A time after ``after`` where a picture shown later is decoded before the last one shown earlier."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        shown = [round(p.pts * stream.time_base * FPS) for p in container.demux(stream) if p.size]
    for frame in range(round(after * FPS), max(shown)):
        last = max(i for i, number in enumerate(shown) if number <= frame)
        if any(number > frame for number in shown[:last]):
            return (frame + 0.5) / FPS
    raise AssertionError(f"no reordered frames after {after} s in {path.name}")


def audio_seconds(path: Path) -> float:
    ((_, seconds),) = audio_info(path)
    return seconds


def assert_same_timeline(joined: Path, reference: Path) -> None:
    """Same frames at the same times (one tick of the output's time base), same audio length."""
    got, time_base = frame_stamps(joined)
    want, want_base = frame_stamps(reference)
    assert time_base == want_base
    assert len(got) == len(want)
    assert max(abs(a - b) for a, b in zip(got, want, strict=True)) <= 1
    assert abs(audio_seconds(joined) - audio_seconds(reference)) <= AAC_FRAME


# --------------------------------------------------------------------------- planning


def test_plans_cut_at_keyframes_near_equal_shares(clip: Path) -> None:
    assert plan_segments(clip, 1) == [Segment(0, 0.0, None, 480)]
    assert plan_segments(clip, 2) == [Segment(0, 0.0, 10.0, 240), Segment(1, 10.0, None, 240)]
    four = plan_segments(clip, 4)
    assert [s.start for s in four] in ([0.0, 4.0, 10.0, 14.0], [0.0, 6.0, 10.0, 16.0])
    assert [s.end for s in four] == [s.start for s in four[1:]] + [None]
    assert sum(s.frames for s in four) == 480
    assert [s.index for s in four] == [0, 1, 2, 3]


def test_few_keyframes_or_short_parts_give_fewer_segments(folder: Path) -> None:
    sparse = make_clip(folder / "sparse.mp4", frames=6 * FPS, size=SIZE, gop=3 * FPS, audio=False)
    assert [s.start for s in plan_segments(sparse, 4)] == [0.0, 3.0]  # keyframes at 0 and 3 s only
    # keyframes every second, but 3 s cannot make two parts of 2 s
    short = make_clip(folder / "short.mp4", frames=3 * FPS, size=SIZE, gop=FPS, audio=False)
    assert [s.start for s in plan_segments(short, 4)] == [0.0]
    assert [s.start for s in plan_segments(short, 4, min_seconds=0.5)] == [0.0, 1.0, 2.0]
    assert len(plan_segments(short, 4, min_seconds=0)) == 3  # never an empty part


def test_a_trimmed_range_is_planned_from_its_first_frame(clip: Path) -> None:
    segments = plan_segments(clip, 3, start=3.1, end=15.3)
    assert segments[0].start == pytest.approx(3 + 3 / FPS)  # the first frame at or after 3.1 s
    assert all(s.start in (6.0, 8.0, 10.0, 12.0) for s in segments[1:])
    assert segments[-1].end == 15.3
    in_range = sum(1 for index in range(480) if 3.1 <= index / FPS < 15.3)
    assert sum(s.frames for s in segments) == in_range


def test_planning_refuses_what_it_cannot_read(folder: Path, clip: Path) -> None:
    text = folder / "notes.mp4"
    text.write_text("my holiday notes\n" * 20)
    with pytest.raises(InputError, match="notes.mp4: cannot read the video"):
        plan_segments(text, 2)
    with pytest.raises(InputError, match="has no video stream"):
        plan_segments(make_audio_only(folder / "sound.mp4"), 2)
    with pytest.raises(InputError, match="file not found"):
        plan_segments(folder / "missing.mp4", 2)
    with pytest.raises(UsageError, match="has no frames from 25 s"):
        plan_segments(clip, 2, start=25.0)


# --------------------------------------------------------------------------- splitting


def test_parts_are_the_sources_packets_from_0_without_audio(clip: Path, tmp_path: Path) -> None:
    segments = plan_segments(clip, 4)
    parts = split_video(clip, segments, tmp_path / "parts")
    assert [p.name for p in parts] == [f"part-{i:03d}.mp4" for i in range(4)]
    copied = []
    for segment, part in zip(segments, parts, strict=True):
        with av.open(str(part)) as container:
            assert len(container.streams) == 1 and not container.streams.audio
            times = [frame.time for frame in container.decode(video=0)]
        assert len(times) == segment.frames
        assert times[0] == 0.0
        assert times[-1] == pytest.approx((segment.frames - 1) / FPS)
        copied += video_packets(part)
    assert copied == video_packets(clip)  # stream copy: every packet once, byte for byte


# --------------------------------------------------------------------------- joining


@pytest.mark.parametrize("count", [1, 2, 4])
def test_joined_parts_match_the_clip_processed_in_one_go(
    clip: Path, whole: Path, swapper, tmp_path: Path, count: int
) -> None:
    segments = plan_segments(clip, count)
    assert len(segments) == count
    swapped = fan_out(clip, segments, tmp_path, swapper)
    output = tmp_path / "joined.mp4"
    report = join_segments(swapped, segments, clip, output)

    assert isinstance(report, JoinReport)
    assert report.frames == 480 and report.audio_streams == 1
    assert report.duration == pytest.approx(20.0)
    assert_same_timeline(output, whole)
    assert video_packets(output) == [packet for part in swapped for packet in video_packets(part)]
    assert audio_info(output)[0][0] == "aac"
    assert is_marked_synthetic(output)
    assert is_marked_synthetic(clip) is False
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_trimmed_range_joins_like_a_local_trimmed_run(clip: Path, swapper, tmp_path: Path) -> None:
    trim = Trim(start=3.1, end=15.3)
    local = swapper(clip, tmp_path / "local.mp4", trim=trim)
    segments = plan_segments(clip, 3, start=trim.start, end=trim.end)
    swapped = fan_out(clip, segments, tmp_path, swapper)
    output = tmp_path / "joined.mp4"
    report = join_segments(swapped, segments, clip, output)
    assert report.frames == sum(s.frames for s in segments)
    assert_same_timeline(output, local)
    assert frame_stamps(output)[0][0] == 0  # starts at 0, as the local run does


def test_a_source_with_b_frames_splits_and_joins(b_frame_clip: Path, swapper, tmp_path: Path) -> None:
    # a trimmed range whose ends are no clean cut: the first part needs the packets from the
    # keyframe before its first frame, the last one a picture shown after its end
    trim = Trim(start=1.1, end=end_within_reordered_frames(b_frame_clip, after=7.0))
    segments = plan_segments(b_frame_clip, 3, start=trim.start, end=trim.end, min_seconds=1.0)
    assert len(segments) == 3
    parts = split_video(b_frame_clip, segments, tmp_path / "parts")
    for segment, part in zip(segments, parts, strict=True):
        with av.open(str(part)) as container:
            assert len(list(container.decode(video=0))) == segment.frames
    assert len(video_packets(parts[0])) > segments[0].frames  # hidden lead-in
    assert len(video_packets(parts[-1])) > segments[-1].frames  # hidden trailing picture

    local = swapper(b_frame_clip, tmp_path / "local.mp4", trim=trim)
    swapped = fan_out(b_frame_clip, segments, tmp_path, swapper)
    output = tmp_path / "joined.mp4"
    join_segments(swapped, segments, b_frame_clip, output)
    assert_same_timeline(output, local)
    assert video_packets(output) == [packet for part in swapped for packet in video_packets(part)]

    whole = swapper(b_frame_clip, tmp_path / "whole.mp4")
    segments = plan_segments(b_frame_clip, 2)
    swapped = fan_out(b_frame_clip, segments, tmp_path / "untrimmed", swapper)
    join_segments(swapped, segments, b_frame_clip, tmp_path / "joined-whole.mp4")
    assert_same_timeline(tmp_path / "joined-whole.mp4", whole)


def test_a_matroska_join_matches_a_matroska_run(b_frame_clip: Path, swapper, tmp_path: Path) -> None:
    # Matroska stores no decode times (its reader leaves the first ones unset), and a stream
    # that starts before 0 (the audio's encoder priming) moves every stream later
    whole = swapper(b_frame_clip, tmp_path / "whole.mkv")
    segments = plan_segments(b_frame_clip, 3)
    assert len(segments) == 3
    swapped = fan_out(b_frame_clip, segments, tmp_path, swapper, suffix=".mkv")
    output = tmp_path / "joined.mkv"
    join_segments(swapped, segments, b_frame_clip, output)
    assert_same_timeline(output, whole)
    assert is_marked_synthetic(output)


def test_without_audio(clip: Path, swapper, tmp_path: Path) -> None:
    segments = plan_segments(clip, 2, end=4.0, min_seconds=1.0)
    swapped = fan_out(clip, segments, tmp_path, swapper)
    report = join_segments(swapped, segments, clip, tmp_path / "silent.mp4", audio=False)
    assert report.audio_streams == 0 and report.frames == 4 * FPS
    with av.open(str(tmp_path / "silent.mp4")) as container:
        assert not container.streams.audio


@pytest.mark.parametrize("odd", ["size", "codec"])
def test_a_part_unlike_the_others_is_refused_and_nothing_is_written(
    clip: Path, swapper, tmp_path: Path, odd: str
) -> None:
    segments = plan_segments(clip, 2, end=4.0, min_seconds=1.0)
    swapped = fan_out(clip, segments, tmp_path, swapper)
    stranger = tmp_path / "stranger.mp4"
    if odd == "size":
        swapper(
            make_clip(tmp_path / "big.mp4", frames=FPS, size=(176, 144), draw=draw_face),
            stranger,
            audio=False,
        )
    else:
        make_clip(stranger, frames=FPS, size=SIZE, codec="mpeg4", crf=None, audio=False)
    output = tmp_path / "joined.mp4"
    with pytest.raises(InputError, match=f"stranger.mp4: its video {odd}") as caught:
        join_segments([swapped[0], stranger], segments, clip, output)
    assert caught.value.path == str(stranger)
    assert not output.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file either


def test_join_refusals(clip: Path, tmp_path: Path) -> None:
    segments = plan_segments(clip, 2)
    with pytest.raises(UsageError, match="1 part"):
        join_segments([clip], segments, clip, tmp_path / "out.mp4")
    with pytest.raises(OutputError, match="not .avi"):
        join_segments([clip, clip], segments, clip, tmp_path / "out.avi")
    with pytest.raises(OutputError, match="would overwrite the input"):
        join_segments([clip, clip], segments, clip, clip)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
