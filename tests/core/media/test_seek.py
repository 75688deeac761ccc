"""Seeking for scrubbing: the frame at a time equals the one the sequential reader yields there."""

from __future__ import annotations

import math
from pathlib import Path

import av
import numpy as np
import pytest

from facedeck.core.media import seek
from facedeck.core.media.seek import frame_at, read_frame_at
from facedeck.core.media.video_reader import VideoReader
from facedeck.core.media.video_types import SourceFrame, VideoInputError
from tests.core.media.video_helpers import reader_frames
from tests.support.media_fixtures import make_animated, make_clip

FRAMES = 72  # 3 s at 24 fps
SIZE = (96, 64)
# Before, on and between frames; either side of the keyframes at 1.25 s (frame 30) and 2.5 s
# (frame 60); the last frame; past the end.
TIMES = [0.0, 0.02, 0.5, 1.2, 1.25, 1.26, 1.9, 2.49, 2.5, 2.6, 2.96, 2.99, 3.5]
DURATIONS_MS = [100, 40, 250, 60, 60, 300, 90, 110]


def scene_cuts(index: int, image: np.ndarray) -> None:
    """Invert every other block of 15 frames: x264 then starts a new keyframe at frames 30 and 60."""
    if (index // 15) % 2:
        image[:] = 255 - image


@pytest.fixture(scope="module")
def scrub_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("scrub")
    lossy = {"frames": FRAMES, "size": SIZE, "crf": None, "draw": scene_cuts}
    return {
        "mp4": make_clip(folder / "clip.mp4", **lossy),
        "mov": make_clip(folder / "clip.mov", audio_codec="pcm_s16le", **lossy),
        "mkv": make_clip(folder / "clip.mkv", **lossy),
        "webm": make_clip(folder / "clip.webm", **lossy),
        "avi": make_clip(folder / "clip.avi", audio_codec="libmp3lame", **lossy),
        "vfr": make_clip(folder / "vfr.mkv", vfr=True, **lossy),
        "rotated": make_clip(folder / "rotated.mp4", rotation=90, **lossy),
        "gif": make_animated(folder / "anim.gif", frames=8, durations_ms=DURATIONS_MS),
        "webp": make_animated(folder / "anim.webp", frames=8, durations_ms=DURATIONS_MS),
    }


def expected_at(frames: list[SourceFrame], seconds: float) -> SourceFrame:
    """The sequential reader's frame whose span contains ``seconds`` (clamped to the first and last)."""
    shown = [frame for frame in frames if frame.time <= seconds]
    return shown[-1] if shown else frames[0]


def assert_same_frame(got: SourceFrame, expected: SourceFrame, *, index: bool = True) -> None:
    assert got.time == expected.time
    assert got.pts == expected.pts and got.time_base == expected.time_base
    assert got.duration == expected.duration
    if index:
        assert got.index == expected.index
    assert got.image.dtype == np.uint8 and got.image.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(got.image, expected.image)


def keyframe_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        start = stream.start_time or 0
        return sorted(
            float((packet.pts - start) * stream.time_base)
            for packet in container.demux(stream)
            if packet.size and packet.is_keyframe
        )


@pytest.mark.parametrize("kind", ["mp4", "mov", "mkv", "webm", "avi", "rotated"])
def test_frame_at_equals_the_sequential_reader(scrub_clips: dict[str, Path], kind: str) -> None:
    path = scrub_clips[kind]
    frames = reader_frames(path)
    assert len(frames) == FRAMES
    for seconds in TIMES:
        assert_same_frame(read_frame_at(path, seconds), expected_at(frames, seconds))


def test_the_clips_really_have_keyframes_to_seek_to(scrub_clips: dict[str, Path]) -> None:
    for kind in ("mp4", "mov", "mkv", "rotated"):
        assert keyframe_times(scrub_clips[kind]) == pytest.approx([0.0, 1.25, 2.5], abs=0.01), kind
    assert len(keyframe_times(scrub_clips["vfr"])) == 3


@pytest.mark.parametrize("kind", ["mp4", "mov", "mkv", "vfr", "rotated"])
def test_seeking_decodes_from_the_keyframe_not_from_the_start(
    scrub_clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    decoded: list[object] = []
    real = seek._decode

    def counting(stream: object, packet: object) -> list[object]:
        decoded.append(packet)
        return real(stream, packet)

    monkeypatch.setattr(seek, "_decode", counting)
    path = scrub_clips[kind]
    frames = reader_frames(path)
    got = read_frame_at(path, frames[69].time)  # the last keyframe is frame 60
    assert 0 < len(decoded) < 20  # from frame 60 (plus decoder delay and the flush), not from 0
    assert_same_frame(got, frames[69], index=kind != "vfr")


def test_variable_frame_rate_frames_are_found_by_their_times(scrub_clips: dict[str, Path]) -> None:
    path = scrub_clips["vfr"]
    frames = reader_frames(path)
    gaps = np.diff([frame.time for frame in frames])
    assert gaps.max() > 2 * gaps.min()  # really irregular
    middles = [(a.time + b.time) / 2 for a, b in zip(frames, frames[1:], strict=False)]
    probes = [frame.time for frame in frames[::7]] + middles[::5]
    for seconds in [*probes, -1.0, 100.0]:
        # The index after a seek is estimated from the average rate: not exact at a variable rate.
        assert_same_frame(read_frame_at(path, seconds), expected_at(frames, seconds), index=False)


def test_rotated_frames_come_upright(scrub_clips: dict[str, Path]) -> None:
    got = read_frame_at(scrub_clips["rotated"], 1.5)
    assert got.image.shape == (SIZE[0], SIZE[1], 3)  # stored 96x64, shown 64x96


@pytest.mark.parametrize("kind", ["gif", "webp"])
def test_animations(scrub_clips: dict[str, Path], kind: str) -> None:
    path = scrub_clips[kind]
    frames = reader_frames(path)
    starts = np.cumsum([0, *DURATIONS_MS[:-1]]) / 1000
    assert [frame.time for frame in frames] == pytest.approx(starts)
    for seconds in [-1.0, 0.0, 0.05, 0.1, 0.139, 0.14, 0.5, 0.69, 0.7, 0.9, 0.99, 5.0]:
        assert_same_frame(read_frame_at(path, seconds), expected_at(frames, seconds))


def test_out_of_range_times_clamp(scrub_clips: dict[str, Path]) -> None:
    path = scrub_clips["mp4"]
    frames = reader_frames(path)
    for seconds in (-10.0, -math.inf):
        assert_same_frame(read_frame_at(path, seconds), frames[0])
    for seconds in (3.0, 1e6, math.inf):
        assert_same_frame(read_frame_at(path, seconds), frames[-1])
    with pytest.raises(ValueError, match="nan"):
        read_frame_at(path, math.nan)


def test_an_open_reader_can_scrub_and_still_read(scrub_clips: dict[str, Path]) -> None:
    path = scrub_clips["mkv"]
    with VideoReader(path) as reader:
        assert frame_at(reader, 2.0).index == 48
        assert frame_at(reader, 0.5).index == 12
        assert frame_at(reader, 2.0).index == 48
        count = sum(1 for item in reader.items(with_audio=False) if isinstance(item, SourceFrame))
    assert count == FRAMES


@pytest.mark.parametrize(
    "kind, message",
    [
        ("empty", "is empty"),
        ("text", "is not a video file (it contains text)"),
        ("truncated", ": truncated or corrupt video"),
        ("no_video", "has no video stream"),
    ],
)
def test_bad_files_give_the_readers_error(bad_videos: dict[str, Path], kind: str, message: str) -> None:
    with pytest.raises(VideoInputError) as from_reader:
        VideoReader(bad_videos[kind])
    with pytest.raises(VideoInputError) as caught:
        read_frame_at(bad_videos[kind], 1.0)
    assert str(caught.value) == str(from_reader.value)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(VideoInputError, match="file not found"):
        read_frame_at(tmp_path / "nope.mp4", 0.0)
