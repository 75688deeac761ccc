"""Video writing: round trips keep frames, timestamps and rotation; changed regions; marking."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from facedeck.core.media.encoding import EncoderSettings
from facedeck.core.media.metadata import synthetic_text_fields
from facedeck.core.media.video_reader import VideoReader
from facedeck.core.media.video_types import SourceFrame
from facedeck.core.media.video_writer import VideoWriter
from tests.core.media.video_helpers import (
    LOSSLESS,
    SMALL,
    lower_keys,
    reader_frames,
    stored_size,
    transcode,
)
from tests.support.media_fixtures import (
    audio_info,
    decode_frames,
    frame_times,
    make_clip,
)


@pytest.mark.parametrize("kind", ["mp4", "mov", "mkv", "avi", "webm"])
def test_round_trip_keeps_frames_timestamps_and_audio(
    clips: dict[str, Path], tmp_path: Path, kind: str
) -> None:
    source = clips[kind]
    output = tmp_path / f"out{source.suffix}"
    reader, writer = transcode(source, output)

    expected_encoder = "libvpx-vp9" if kind == "webm" else "libx264"  # webm cannot hold h264
    assert writer.encoder_name in (expected_encoder, "h264_nvenc")
    with VideoReader(output) as check:
        info = check.info
    assert (info.width, info.height) == (reader.info.width, reader.info.height)
    assert info.duration == pytest.approx(reader.info.duration, abs=1 / 24 + 0.01)

    before, after = reader_frames(source), reader_frames(output)
    assert len(after) == len(before) == 24
    assert [f.time for f in after] == pytest.approx([f.time for f in before], abs=1e-6)
    if kind != "avi":  # AVI has no timestamps; FFmpeg guesses them (see VideoReader)
        assert frame_times(output) == pytest.approx(frame_times(source), abs=1e-6)
    else:  # no empty "dropped frame" chunk crept in (audio priming must not shift the video)
        with av.open(str(output)) as container:
            assert container.streams.video[0].frames == 24

    # Quality 100 is lossless and untouched frames skip the BGR round trip: bit-identical.
    for got, expected in zip(decode_frames(output), decode_frames(source), strict=True):
        np.testing.assert_array_equal(got, expected)

    # Each container takes its own input's audio as it is (PCM in MOV, MP3 in AVI, ...).
    (codec_in, seconds_in), (codec_out, seconds_out) = audio_info(source)[0], audio_info(output)[0]
    assert codec_out == codec_in
    assert seconds_out == pytest.approx(seconds_in, abs=0.03)


def test_variable_frame_rate_timestamps_are_kept(clips: dict[str, Path], tmp_path: Path) -> None:
    times = frame_times(clips["vfr"])
    gaps = np.diff(times)
    assert gaps.max() > 2 * gaps.min()  # really irregular
    for suffix in (".mp4", ".mkv"):
        output = tmp_path / f"vfr{suffix}"
        transcode(clips["vfr"], output)
        assert frame_times(output) == pytest.approx(times, abs=1e-6)
        with VideoReader(output) as reader:
            assert reader.info.variable_frame_rate


@pytest.mark.parametrize("rotation", [90, 270])
def test_rotation_is_kept(tmp_path: Path, rotation: int) -> None:
    clip = make_clip(tmp_path / "phone.mp4", frames=6, size=SMALL, rotation=rotation)
    output = tmp_path / "out.mov"

    def paint(frame: SourceFrame) -> np.ndarray:
        image = frame.image.copy()
        image[:16, :16] = (0, 255, 0)  # green top-left corner, upright
        return image

    transcode(clip, output, change=paint)
    assert stored_size(output) == (160, 120)  # same stored orientation...
    with VideoReader(output) as reader:
        assert reader.info.rotation == rotation  # ...and the same display rotation
        assert (reader.info.width, reader.info.height) == (120, 160)
        first = next(iter(reader.items(with_audio=False)))
    assert first.image.shape == (160, 120, 3)
    assert np.abs(first.image[4, 4].astype(int) - (0, 255, 0)).max() <= 3


def test_changed_frames_round_trip_within_lossless_tolerance(clips: dict[str, Path], tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    given: list[np.ndarray] = []

    def change(frame: SourceFrame) -> np.ndarray | None:
        if frame.index % 2:
            return None
        image = frame.image.copy()
        image[20:60, 30:90] = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
        given.append(image)
        return image

    output = tmp_path / "changed.mp4"
    transcode(clips["mp4"], output, change=change)
    decoded = decode_frames(output)
    original = decode_frames(clips["mp4"])
    for index, got in enumerate(decoded):
        if index % 2:
            np.testing.assert_array_equal(got, original[index])  # untouched: exact
            continue
        image = given[index // 2]
        # Lossless H.264 keeps the YUV exactly; what differs is the 4:2:0 conversion itself.
        reference = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")
        expected = reference.to_ndarray(format="bgr24")
        assert np.abs(got.astype(int) - expected).max() <= 1
        assert np.abs(got.astype(int) - image).mean() < 12


def test_outputs_are_marked_synthetic(clips: dict[str, Path], tmp_path: Path) -> None:
    fields = {key.lower(): value for key, value in synthetic_text_fields().items()}
    for suffix in (".mp4", ".mov", ".mkv", ".webm"):
        output = tmp_path / f"marked{suffix}"
        transcode(clips["mkv"], output, EncoderSettings(quality=50, preset="ultrafast"))
        with av.open(str(output)) as container:
            tags = lower_keys(dict(container.metadata))
        for key, value in fields.items():
            assert tags.get(key) == value, (suffix, key, tags)
    # AVI's INFO chunk has a comment field, and no room for our other keys.
    output = tmp_path / "marked.avi"
    transcode(clips["mkv"], output, EncoderSettings(quality=50, preset="ultrafast"))
    with av.open(str(output)) as container:
        assert lower_keys(dict(container.metadata))["comment"] == synthetic_text_fields()["Comment"]


def test_writes_to_a_temporary_name_with_the_final_format(clips: dict[str, Path], tmp_path: Path) -> None:
    temp = tmp_path / ".facedeck-123.part"
    transcode(clips["mp4"], temp, EncoderSettings(quality=50), container_format="matroska")
    with av.open(str(temp)) as container:
        assert container.format.name.startswith("matroska")


def test_wrong_image_is_refused(clips: dict[str, Path], tmp_path: Path) -> None:
    with (
        VideoReader(clips["mkv"]) as reader,
        VideoWriter(tmp_path / "x.mkv", reader.description, LOSSLESS) as writer,
    ):
        frame = next(iter(reader.items(with_audio=False)))
        with pytest.raises(ValueError, match="uint8"):
            writer.write_frame(frame, np.zeros((10, 10, 3), np.uint8))
        writer.write_frame(frame, None)


def test_abort_leaves_the_file_to_the_caller(clips: dict[str, Path], tmp_path: Path) -> None:
    output = tmp_path / "cancelled.mp4"
    with VideoReader(clips["mp4"]) as reader:
        writer = VideoWriter(output, reader.description, EncoderSettings(quality=50))
        for item in reader.items():
            if isinstance(item, SourceFrame):
                writer.write_frame(item, None)
                break
        writer.abort()
        writer.abort()  # twice is fine
    output.unlink()


@pytest.mark.parametrize(
    "region", [(3, 5, 40, 75), (0, 0, 64, 70), (250, 200, 320, 240), (100, 101, 101, 102)]
)
def test_changed_regions_only_are_converted_back(tmp_path, region):
    clip = make_clip(tmp_path / "in.mp4", frames=4, size=(320, 240), audio=False)
    output = tmp_path / "out.mp4"
    x0, y0, x1, y1 = region
    with VideoReader(clip) as reader:
        frames = [item for item in reader.items(with_audio=False)]
        with VideoWriter(
            output, reader.description, EncoderSettings(quality=100, hardware="off"), container_format="mp4"
        ) as w:
            for frame in frames:
                image = frame.image.copy()
                image[y0:y1, x0:x1] = (0, 0, 255)
                w.write_frame(frame, image, [region])
    decoded = decode_frames(output)
    for frame, out in zip(frames, decoded, strict=True):
        outside = np.ones(out.shape[:2], bool)
        outside[max(0, y0 - 2) : y1 + 2, max(0, x0 - 2) : x1 + 2] = False  # 4:2:0 blocks around the edge
        assert np.array_equal(out[outside], frame.image[outside])
        if x1 - x0 > 4 and y1 - y0 > 4:
            inner = out[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2].astype(int)
            assert np.abs(inner - [0, 0, 255]).max() <= 6
