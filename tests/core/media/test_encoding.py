"""Encoder choice: quality scales, codecs, presets, NVENC fallback, muxer queries."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import av
import numpy as np
import pytest

from facedeck.core.errors import OutputError
from facedeck.core.media import encoding
from facedeck.core.media.encoding import EncoderSettings, encoder_options
from facedeck.core.media.realtime import realtime_threads
from facedeck.core.media.video_reader import VideoReader
from facedeck.core.media.video_writer import VideoWriter
from tests.core.media.video_helpers import (
    nvenc_works,
    transcode,
)
from tests.support.media_fixtures import (
    decode_frames,
    make_clip,
)


def test_quality_maps_onto_each_encoder_scale() -> None:
    assert encoder_options("libx264", 82)["crf"] == "18"  # the default: near visually lossless
    assert encoder_options("libx264", 77)["crf"] == "23"  # x264's own default
    assert encoder_options("libx264", 100)["crf"] == "0"  # lossless in 8-bit x264
    assert encoder_options("libx264", 0)["crf"] == "51"
    assert "lossless=1" in encoder_options("libx265", 100)["x265-params"]
    assert encoder_options("libvpx-vp9", 100)["lossless"] == "1"
    assert encoder_options("libvpx-vp9", 0)["crf"] == "63"
    assert encoder_options("libsvtav1", 100)["svtav1-params"] == "lossless=1"
    assert encoder_options("libsvtav1", 0)["crf"] == "63"
    assert encoder_options("h264_nvenc", 100)["tune"] == "lossless"
    assert encoder_options("libx264", 82, "veryfast")["preset"] == "veryfast"


def test_nvenc_falls_back_to_software(
    clips: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="facedeck.core.media.video_writer")
    _, writer = transcode(clips["mkv"], tmp_path / "auto.mp4", EncoderSettings(quality=50, hardware="auto"))
    if nvenc_works():
        assert writer.encoder_name == "h264_nvenc"
    else:
        assert writer.encoder_name == "libx264"
        assert any(
            "h264_nvenc cannot be used" in r.message and r.levelno == logging.INFO for r in caplog.records
        )
    _, writer = transcode(clips["mkv"], tmp_path / "off.mp4", EncoderSettings(quality=50, hardware="off"))
    assert writer.encoder_name == "libx264"


@pytest.mark.skipif(nvenc_works(), reason="this machine has a working NVENC")
def test_required_nvenc_fails_clearly(clips: dict[str, Path], tmp_path: Path) -> None:
    with VideoReader(clips["mkv"]) as reader:
        with pytest.raises(OutputError, match="h264_nvenc"):
            VideoWriter(tmp_path / "gpu.mp4", reader.description, EncoderSettings(hardware="nvenc"))


@pytest.mark.parametrize("codec, encoder", [("hevc", "libx265"), ("vp9", "libvpx-vp9"), ("av1", "libsvtav1")])
def test_other_codecs_are_lossless_at_quality_100(tmp_path: Path, codec: str, encoder: str) -> None:
    clip = make_clip(tmp_path / "in.mkv", frames=6, size=(64, 48), audio=False)
    output = tmp_path / "out.mkv"
    _, writer = transcode(clip, output, EncoderSettings(codec=codec, quality=100, hardware="off"))
    assert writer.encoder_name == encoder
    for got, expected in zip(decode_frames(output), decode_frames(clip), strict=True):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="SVT-AV1 raises thread priorities only for root (as in containers)",
)
def test_av1_leaves_no_thread_real_time(tmp_path: Path) -> None:
    # Without realtime.py, SVT-AV1 leaves this (calling) thread and its own ~40 threads on
    # SCHED_FIFO 99, which starved the process's other threads for minutes afterwards.
    before = realtime_threads()
    clip = make_clip(tmp_path / "in.mkv", frames=4, size=(64, 48), audio=False)
    _, writer = transcode(clip, tmp_path / "out.mkv", EncoderSettings(codec="av1", hardware="off"))
    assert writer.encoder_name == "libsvtav1"
    assert realtime_threads() <= before
    assert os.sched_getscheduler(0) == os.SCHED_OTHER


def test_unknown_or_missing_codecs_are_output_errors(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with VideoReader(clips["mkv"]) as reader:
        with pytest.raises(OutputError, match="unknown video codec prores"):
            VideoWriter(tmp_path / "a.mp4", reader.description, EncoderSettings(codec="prores"))
        monkeypatch.setattr(av, "codecs_available", av.codecs_available - {"libsvtav1"})
        with pytest.raises(
            OutputError, match=r"av1 \(libsvtav1\) is not in this FFmpeg build; available: h264"
        ):
            VideoWriter(tmp_path / "b.mp4", reader.description, EncoderSettings(codec="av1"))
        with pytest.raises(OutputError, match="quality"):
            VideoWriter(tmp_path / "c.mp4", reader.description, EncoderSettings(quality=101))


def test_bad_presets_are_output_errors(clips: dict[str, Path], tmp_path: Path) -> None:
    with VideoReader(clips["mkv"]) as reader:
        with pytest.raises(OutputError, match="unknown libx264 preset fastest; use one of ultrafast"):
            VideoWriter(tmp_path / "a.mp4", reader.description, EncoderSettings(preset="fastest"))
        with pytest.raises(OutputError, match="presets are numbers"):
            VideoWriter(tmp_path / "b.mkv", reader.description, EncoderSettings(codec="vp9", preset="fast"))
        # webm cannot hold h264: the x264 preset is dropped along with the codec.
        writer = VideoWriter(tmp_path / "c.webm", reader.description, EncoderSettings(preset="veryfast"))
        assert writer.encoder_name == "libvpx-vp9"
        writer.abort()


def test_encoder_thread_count_is_applied(tmp_path):
    clip = make_clip(tmp_path / "in.mp4", frames=3, size=(160, 120), audio=False)
    with VideoReader(clip) as reader:
        settings = EncoderSettings(quality=80, hardware="off", threads=1)
        output = tmp_path / "out.mp4"
        with VideoWriter(output, reader.description, settings, container_format="mp4") as writer:
            assert writer._sink._video.codec_context.thread_count == 1
            for frame in reader.items(with_audio=False):
                writer.write_frame(frame, None)
    assert len(decode_frames(tmp_path / "out.mp4")) == 3


def test_muxer_codecs_are_asked_once_per_format(clips: dict[str, Path], tmp_path: Path, monkeypatch) -> None:
    asked: list[str] = []
    real = encoding._query_muxer_codecs

    def counting(fmt: str) -> set[str]:
        asked.append(fmt)
        return real(fmt)

    encoding.muxer_codecs.cache_clear()
    monkeypatch.setattr(encoding, "_query_muxer_codecs", counting)
    try:
        first = encoding.muxer_codecs("matroska")
        assert "h264" in first and "aac" in first
        for _ in range(3):
            assert encoding.muxer_codecs("matroska") == first
        # Every writer asks (the video codec, then each audio stream): FFmpeg is asked only once.
        for name in ("a.mp4", "b.mp4"):
            transcode(clips["mp4"], tmp_path / name, EncoderSettings(quality=50, preset="ultrafast"))
    finally:
        encoding.muxer_codecs.cache_clear()  # the next test starts without what this one cached
    assert asked == ["matroska", "mp4"]
