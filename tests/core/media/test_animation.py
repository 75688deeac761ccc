"""Animated GIF and WebP: durations, loop, transparency, marking, streaming, truncated files."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facedeck.core.media.encoding import EncoderSettings
from facedeck.core.media.metadata import DIGITAL_SOURCE_TYPE
from facedeck.core.media.video_reader import VideoReader
from facedeck.core.media.video_types import VideoInputError
from tests.core.media.video_helpers import (
    stored_size,
    transcode,
)
from tests.support.media_fixtures import (
    decode_frames,
    frame_durations_ms,
    frame_times,
    make_animated,
    make_clip,
)


@pytest.mark.parametrize("suffix", [".gif", ".webp"])
def test_animation_round_trip_keeps_durations_and_loop(tmp_path: Path, suffix: str) -> None:
    durations = [50, 100, 150, 200, 40, 60, 70, 80]
    source = make_animated(tmp_path / f"in{suffix}", frames=8, durations_ms=durations, loop=3)
    with VideoReader(source) as reader:
        info = reader.info
    assert (info.width, info.height, info.frame_count) == (120, 90, 8)
    assert info.duration == pytest.approx(0.75)
    assert info.variable_frame_rate and info.loop == 3 and not info.has_audio

    output = tmp_path / f"out{suffix}"
    _, writer = transcode(source, output)
    assert writer.encoder_name == ("Pillow GIF" if suffix == ".gif" else "Pillow WebP")
    assert frame_durations_ms(output) == durations
    with Image.open(output) as image:
        assert image.info.get("loop") == 3
    for got, expected in zip(decode_frames(output), decode_frames(source), strict=True):
        # GIF re-quantises each frame to its own palette; lossless WebP is exact.
        assert np.abs(got.astype(int) - expected).mean() < (4 if suffix == ".gif" else 0.01)


def test_animations_are_marked_synthetic(tmp_path: Path) -> None:
    source = make_animated(tmp_path / "in.gif", frames=3)
    transcode(source, tmp_path / "out.gif")
    transcode(source, tmp_path / "out.webp")
    with Image.open(tmp_path / "out.gif") as image:
        comment = image.info["comment"].decode()
    assert DIGITAL_SOURCE_TYPE in comment and "Synthetic" in comment
    with Image.open(tmp_path / "out.webp") as image:
        assert DIGITAL_SOURCE_TYPE.encode() in image.info["xmp"]


def test_gif_transparency_is_kept(tmp_path: Path) -> None:
    frames = []
    for index in range(3):
        image = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
        image.paste((255, 0, 0, 255), (index * 5, 5, index * 5 + 10, 15))
        frames.append(image)
    source = tmp_path / "clear.gif"
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=100, loop=0, disposal=2)
    output = tmp_path / "out.gif"
    transcode(source, output, change=lambda frame: frame.image)
    with Image.open(output) as image:
        for index in range(3):
            image.seek(index)
            rgba = np.asarray(image.convert("RGBA"))
            assert rgba[0, 0, 3] == 0  # background still clear
            assert tuple(rgba[10, index * 5 + 5]) == (255, 0, 0, 255)


def test_video_to_gif_and_gif_to_video(clips: dict[str, Path], tmp_path: Path) -> None:
    gif = tmp_path / "clip.gif"
    transcode(clips["mkv"], gif)
    assert len(decode_frames(gif)) == 24
    assert sum(frame_durations_ms(gif)) == pytest.approx(1000, abs=10)  # 24 frames at 24 fps, in 10 ms steps

    odd = make_animated(tmp_path / "odd.gif", frames=5, size=(121, 91), durations_ms=[100, 50, 100, 50, 200])
    video = tmp_path / "odd.mp4"
    transcode(odd, video, EncoderSettings(quality=90))
    assert stored_size(video) == (121, 91)  # odd sizes kept (4:4:4 instead of 4:2:0)
    assert frame_times(video) == pytest.approx([0.0, 0.1, 0.15, 0.25, 0.3])


def test_webp_writer_streams_through_a_spool(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "in.mkv", frames=64, size=(320, 240), audio=False)
    tracemalloc.start()
    try:
        transcode(source, tmp_path / "out.webp", EncoderSettings(quality=60))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(decode_frames(tmp_path / "out.webp")) == 64
    assert peak < 12 * 320 * 240 * 3
    assert not list(tmp_path.glob(".facedeck-*"))  # the spool is gone


@pytest.mark.parametrize("suffix", [".gif", ".webp"])
def test_truncated_animations_are_refused(tmp_path: Path, suffix: str) -> None:
    data = make_animated(tmp_path / f"whole{suffix}", frames=6).read_bytes()
    for fraction in (0.5, 0.05):
        cut = tmp_path / f"cut{suffix}"
        cut.write_bytes(data[: int(len(data) * fraction)])
        with pytest.raises(VideoInputError, match="truncated or corrupt animation"):
            with VideoReader(cut) as reader:
                list(reader.items())
