"""Helpers for the video tests: transcoding through the reader and writer, probing outputs."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

from facedeck.core.media.encoding import EncoderSettings
from facedeck.core.media.video_reader import VideoReader
from facedeck.core.media.video_types import SourceFrame
from facedeck.core.media.video_writer import VideoWriter

LOSSLESS = EncoderSettings(quality=100)


SMALL = (160, 120)


def transcode(
    source: Path,
    output: Path,
    settings: EncoderSettings = LOSSLESS,
    *,
    change=None,
    container_format: str | None = None,
) -> tuple[VideoReader, VideoWriter]:
    """Read ``source`` and write every frame and audio packet to ``output``.

    ``change(frame) -> image | None`` gives a frame's new picture (None: untouched).
    """
    with VideoReader(source) as reader:
        writer = VideoWriter(output, reader.description, settings, container_format=container_format)
        with writer:
            for item in reader.items():
                if isinstance(item, SourceFrame):
                    writer.write_frame(item, change(item) if change else None)
                else:
                    writer.write_audio(item)
    return reader, writer


def reader_frames(path: Path) -> list[SourceFrame]:
    with VideoReader(path) as reader:
        return [item for item in reader.items(with_audio=False)]


def stored_size(path: Path) -> tuple[int, int]:
    with av.open(str(path)) as container:
        context = container.streams.video[0].codec_context
        return context.width, context.height


def lower_keys(mapping: dict[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in mapping.items()}


def nvenc_works() -> bool:
    """Whether this machine can open NVENC (decides what "auto" should pick)."""
    try:
        context = av.CodecContext.create("h264_nvenc", "w")
        context.width, context.height, context.pix_fmt = 64, 64, "yuv420p"
        context.time_base = Fraction(1, 24)
        context.open()
        return True
    except (av.error.FFmpegError, ValueError):
        return False
