"""Video reading: probing, frames and audio in file order, rotation, bad and damaged inputs."""

from __future__ import annotations

import logging
import tracemalloc
from pathlib import Path

import av
import numpy as np
import pytest

from facedeck.core.errors import InputError
from facedeck.core.media import video_reader
from facedeck.core.media.encoding import EncoderSettings
from facedeck.core.media.video_reader import VideoReader
from facedeck.core.media.video_types import AudioChunk, SourceFrame, VideoInputError
from tests.core.media.video_helpers import (
    SMALL,
    reader_frames,
    transcode,
)
from tests.support.media_fixtures import (
    decode_frames,
    frame_times,
    make_clip,
    make_corrupt_frame_clip,
)


def test_reader_probes_a_clip(clips: dict[str, Path]) -> None:
    with VideoReader(clips["mp4"]) as reader:
        info = reader.info
    assert (info.width, info.height, info.rotation) == (160, 120, 0)
    assert info.codec == "h264"
    assert info.frame_count == 24
    assert info.average_rate == 24
    assert info.duration == pytest.approx(1.0, abs=0.05)
    assert info.has_audio and info.audio_codecs == ("aac",)
    assert not info.variable_frame_rate


def test_reader_frames_match_an_independent_decode(clips: dict[str, Path]) -> None:
    frames = reader_frames(clips["mkv"])
    reference = decode_frames(clips["mkv"])
    assert [f.index for f in frames] == list(range(24))
    assert len(frames) == len(reference)
    for frame, expected in zip(frames, reference, strict=True):
        assert frame.image.dtype == np.uint8 and frame.image.flags["C_CONTIGUOUS"]
        np.testing.assert_array_equal(frame.image, expected)
    assert [f.time for f in frames] == pytest.approx(frame_times(clips["mkv"]))


def test_reader_yields_audio_in_file_order(clips: dict[str, Path]) -> None:
    with VideoReader(clips["mp4"]) as reader:
        items = list(reader.items())
        silent = list(reader.items(with_audio=False))
    chunks = [item for item in items if isinstance(item, AudioChunk)]
    assert chunks and all(chunk.stream_index == 1 for chunk in chunks)
    # Interleaved, not all the audio at the end.
    first_audio = next(i for i, item in enumerate(items) if isinstance(item, AudioChunk))
    assert first_audio < len(items) // 2
    assert all(isinstance(item, SourceFrame) for item in silent) and len(silent) == 24


def test_reader_streams_without_holding_all_frames(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "long.mkv", frames=64, size=(320, 240), audio=False)
    frame_bytes = 320 * 240 * 3
    tracemalloc.start()
    try:
        with VideoReader(clip) as reader:
            count = sum(1 for _ in reader.items())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 64
    assert peak < 10 * frame_bytes  # all 64 frames would be 64 * frame_bytes


def test_variable_frame_rate_is_detected(clips: dict[str, Path]) -> None:
    with VideoReader(clips["vfr"]) as reader:
        assert reader.info.variable_frame_rate
    with VideoReader(clips["mkv"]) as reader:
        assert not reader.info.variable_frame_rate


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_input_is_read_upright(tmp_path: Path, rotation: int) -> None:
    def mark(index: int, image: np.ndarray) -> None:
        image[:10, :10] = (0, 0, 255)  # red top-left corner, as the viewer sees it

    clip = make_clip(tmp_path / "turned.mp4", frames=4, size=SMALL, rotation=rotation, audio=False, draw=mark)
    with VideoReader(clip) as reader:
        info = reader.info
        frames = [item for item in reader.items()]
    assert info.rotation == rotation
    expected_size = (120, 160) if rotation in (90, 270) else (160, 120)
    assert (info.width, info.height) == expected_size
    image = frames[0].image
    assert image.shape == (expected_size[1], expected_size[0], 3)
    assert np.abs(image[2, 2].astype(int) - (0, 0, 255)).max() <= 4  # red survives 4:2:0 nearly exactly
    np.testing.assert_array_equal(image, decode_frames(clip)[0])


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    "kind, message",
    [
        ("empty", "is empty"),
        ("text", "is not a video file (it contains text)"),
        ("truncated", ": truncated or corrupt video"),
        ("no_video", "has no video stream"),
        ("unsupported_codec", ": unsupported video codec"),
    ],
)
def test_bad_inputs_are_refused_in_one_line(bad_videos: dict[str, Path], kind: str, message: str) -> None:
    with pytest.raises(VideoInputError) as caught:
        VideoReader(bad_videos[kind])
    text = str(caught.value)
    assert message in text and str(bad_videos[kind]) in text
    assert "\n" not in text
    assert isinstance(caught.value, InputError) and caught.value.code == "input"


def test_missing_file_and_size_limit(clips: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(VideoInputError, match="file not found"):
        VideoReader(tmp_path / "nope.mp4")
    with pytest.raises(VideoInputError, match="above the limit of 1,000 pixels"):
        VideoReader(clips["mp4"], max_pixels=1000)


def test_a_named_codec_without_decoder_is_reported(
    clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real case above has no codec name (PyAV has no decoder context to name it),
    # so the named message is checked by making the first decode fail as FFmpeg does.
    def no_decoder(stream: object, packet: object) -> list[object]:
        raise av.error.DecoderNotFoundError(-1128613112, "Decoder not found")

    monkeypatch.setattr(video_reader, "_decode", no_decoder)
    with pytest.raises(VideoInputError, match=r"in\.mp4: unsupported video codec h264$"):
        VideoReader(clips["mp4"])


def test_a_corrupt_frame_is_skipped_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clip = make_corrupt_frame_clip(tmp_path / "damaged.avi", frames=12, bad_index=5)
    with VideoReader(clip) as reader:
        frames = [item for item in reader.items()]
        assert reader.skipped_frames == 1
    assert len(frames) == 11
    assert any(r.levelno == logging.WARNING and "corrupt frame" in r.message for r in caplog.records)
    # The frames around it decode normally and keep their time slots.
    assert [f.pts for f in frames] == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]
    intact = make_clip(
        tmp_path / "intact.avi",
        frames=12,
        size=(96, 64),
        codec="mjpeg",
        pix_fmt="yuvj420p",
        audio=False,
        crf=None,
    )
    reference = decode_frames(intact)
    np.testing.assert_array_equal(frames[5].image, reference[6])


def test_a_truncated_tail_keeps_what_came_before(clips: dict[str, Path], tmp_path: Path) -> None:
    # Our MP4s have the index first (faststart), so a cut file still opens.
    whole = tmp_path / "whole.mp4"
    transcode(clips["mkv"], whole, EncoderSettings(quality=50))
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    with VideoReader(cut) as reader:
        frames = [item for item in reader.items(with_audio=False)]
        assert reader.truncated
    assert 0 < len(frames) < 24
