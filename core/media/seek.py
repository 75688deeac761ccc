"""Seeking for scrubbing: read_frame_at / frame_at give the frame shown at a given time, upright.

A video is opened afresh, sought to the nearest keyframe at or before the time, and
decoded forward from there, so a frame near the end of a long video costs one group of
pictures, not the whole file. The frame is the one the sequential reader
(:meth:`VideoReader.items`) yields for that time: same picture, same timestamp, turned
upright the same way. Inputs whose timestamps only the sequential reader can work out
(AVI, which stores none; streams without timestamps) and animated GIF/WebP (whose frames
build on each other) are decoded from the start instead.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from typing import Any

import av
import av.error

from .demux import packets_until_damaged
from .messages import av_message
from .video_reader import DEFAULT_MAX_PIXELS, MAX_CONSECUTIVE_BAD_FRAMES, VideoReader, video_source_frame
from .video_types import SourceFrame, VideoInputError

logger = logging.getLogger(__name__)


def read_frame_at(
    path: str | os.PathLike[str], seconds: float, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> SourceFrame:
    """The frame of the video or animation at ``path`` shown at ``seconds`` (see :func:`frame_at`).

    Raises :class:`VideoInputError` (the reader's one-line message) for an unusable input.
    """
    with VideoReader(path, max_pixels=max_pixels) as reader:
        return frame_at(reader, seconds)


def frame_at(reader: VideoReader, seconds: float) -> SourceFrame:
    """The frame ``reader``'s input shows at ``seconds``: the one whose time span contains it.

    A frame's span runs from its time to the next frame's. Times before the first frame
    give the first frame, times after the last frame the last one. The reader stays
    usable (each call opens the file again), so a scrubbing view can keep one open.
    ``index`` is exact when the input is decoded from the start; after a seek it is
    estimated from the time and the average frame rate (exact at a constant frame rate).
    """
    if math.isnan(seconds):
        raise ValueError("seconds must be a number, got nan")
    description = reader.description
    if not description.animation and description.info.container != "avi" and math.isfinite(seconds):
        found = _seek_and_decode(reader, seconds)
        if found is not None:
            return found
    return _decode_from_start(reader, seconds)


def _decode_from_start(reader: VideoReader, seconds: float) -> SourceFrame:
    previous: SourceFrame | None = None
    with contextlib.closing(reader.items(with_audio=False)) as items:
        for item in items:
            assert isinstance(item, SourceFrame)  # no audio was asked for
            if previous is not None and item.time > seconds:
                return previous
            previous = item
    if previous is None:
        raise VideoInputError(f"{reader.path}: truncated or corrupt video (no frame could be decoded)")
    return previous


def _seek_and_decode(reader: VideoReader, seconds: float) -> SourceFrame | None:
    """The frame at ``seconds`` by seeking, or None when only decoding from the start can tell."""
    description = reader.description
    info = description.info
    try:
        container = av.open(os.fspath(reader.path), "r", metadata_errors="replace")
    except av.error.FFmpegError as error:
        # The file opened when the reader probed it; decoding from the start reports what changed.
        logger.debug("%s: cannot open for seeking (%s)", reader.path, av_message(error))
        return None
    try:
        stream = container.streams[description.video_stream]
        assert isinstance(stream, av.VideoStream)  # the reader found the video stream at this index
        time_base = stream.time_base
        if not time_base:
            return None
        stream.thread_type = "AUTO"
        start = stream.start_time or 0
        wanted = max(0.0, seconds)
        if info.duration is not None:
            wanted = min(wanted, info.duration)  # past the end: the last keyframe, then decode to the end
        target = start + math.floor(wanted / time_base)
        try:
            container.seek(target, stream=stream, backward=True)
        except av.error.FFmpegError as error:
            logger.debug("%s: seeking failed (%s); decoding from the start", reader.path, av_message(error))
            return None
        found = _decode_forward(reader, container, stream, seconds, from_start=target <= start)
        if found is None:
            return None
        frame, pts = found
        time = float((pts - start) * time_base)
        index = round(time * info.average_rate) if info.average_rate else 0
        if info.frame_count:
            index = min(index, info.frame_count - 1)
        return video_source_frame(
            max(0, index), frame, stream, pts, description.orientation, info.average_rate
        )
    finally:
        container.close()


def _decode_forward(
    reader: VideoReader, container: Any, stream: Any, seconds: float, *, from_start: bool
) -> tuple[Any, int] | None:
    """Decode from the sought keyframe to the frame at ``seconds``: (av.VideoFrame, pts), or None.

    None when the seek landed after ``seconds`` (and not at the very start), or a frame
    has no timestamp: the caller then decodes from the start.
    """
    start = stream.start_time or 0
    previous: tuple[Any, int] | None = None
    bad_in_a_row = 0

    def damaged(error: av.error.FFmpegError) -> None:
        logger.debug("%s: demuxing stopped while seeking (%s)", reader.path, av_message(error))

    for packet in packets_until_damaged(container, [stream], damaged):
        try:
            frames = _decode(stream, packet)
            bad_in_a_row = 0
        except av.error.InvalidDataError:
            bad_in_a_row += 1
            if bad_in_a_row > MAX_CONSECUTIVE_BAD_FRAMES:
                raise VideoInputError(
                    f"{reader.path}: truncated or corrupt video ({bad_in_a_row} bad frames in a row)"
                ) from None
            frames = []
        for frame in frames:
            if frame.pts is None:
                return None
            # The reader's own formula, so that times compare equal.
            if float((frame.pts - start) * stream.time_base) > seconds:
                if previous is not None:
                    return previous
                # Before the first frame: that one, if the seek went to the very start.
                return (frame, frame.pts) if from_start else None
            previous = (frame, frame.pts)
    return previous  # the last frame (clamped), or None when nothing decoded


def _decode(stream: Any, packet: Any) -> list[Any]:
    """Decode one packet (None flushes): a seam for tests."""
    return stream.decode(packet)
