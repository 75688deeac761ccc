"""A part of a video: its frames and audio between two times, re-timed to start at 0.

Where seeking works (the inputs :mod:`.seek` seeks in) the input is sought to the
keyframe at or before the start, so cutting a minute from the end of a long video does
not decode everything before it; AVI (no stored timestamps) and animated GIF/WebP
(frames build on each other) are decoded from the start and the early part is dropped.

Times are those the reader gives (:attr:`SourceFrame.time`, the first frame at 0). A
frame is kept when ``start <= time < end``; audio packets when they start within the
same span measured from the first kept frame, so audio and video stay in step. The first
kept frame becomes time 0 and everything kept moves back by the same amount.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
from collections.abc import Generator, Iterator
from fractions import Fraction
from typing import Any

import av
import av.error

from .demux import packets_until_damaged
from .messages import av_message
from .video_reader import MAX_CONSECUTIVE_BAD_FRAMES, VideoReader, main_video_stream, video_source_frame
from .video_types import AudioChunk, SourceFrame, VideoInputError

logger = logging.getLogger(__name__)

Item = SourceFrame | AudioChunk
# After the last kept frame, audio muxed a little later in the file may still belong to
# the span: read on this far past the end for it (no further).
AUDIO_TAIL_SECONDS = 1.0


def items_between(
    reader: VideoReader, start: float, end: float | None, *, with_audio: bool = True
) -> Iterator[Item]:
    """The reader's frames (and audio when ``with_audio``) from ``start`` to ``end`` seconds, re-timed.

    ``end`` None: to the end of the input. Frames are numbered from 0 again.
    """
    with_audio = with_audio and reader.info.has_audio
    retime = _Retimer(start, end, with_audio)
    with contextlib.closing(_items_from(reader, start, with_audio)) as items:
        for item in items:
            yield from retime.push(item)
            if retime.finished:
                return


def _items_from(reader: VideoReader, start: float, with_audio: bool) -> Generator[Item, None, None]:
    """Items in the input's own timeline, from the keyframe before ``start`` where seeking works."""
    description = reader.description
    seekable = not description.animation and description.info.container != "avi"
    if start > 0 and seekable:
        try:
            yield from _sought_items(reader, start, with_audio)
            return
        except _SeekMissed as missed:
            logger.debug("%s: %s; decoding from the start", reader.path, missed)
    yield from reader.items(with_audio=with_audio)


class _SeekMissed(Exception):
    """Seeking cannot serve this input; raised before anything was yielded."""


def _sought_items(reader: VideoReader, start: float, with_audio: bool) -> Iterator[Item]:
    description = reader.description
    info = description.info
    try:
        container = av.open(os.fspath(reader.path), "r", metadata_errors="replace")
    except av.error.FFmpegError as error:
        raise _SeekMissed(f"cannot open for seeking ({av_message(error)})") from None
    try:
        stream = main_video_stream(container)
        if stream is None or stream.index != description.video_stream or not stream.time_base:
            raise _SeekMissed("no video stream to seek in")
        stream.thread_type = "AUTO"
        origin = stream.start_time or 0
        target = origin + math.floor(start / stream.time_base)
        try:
            container.seek(target, stream=stream, backward=True)
        except av.error.FFmpegError as error:
            raise _SeekMissed(f"seeking failed ({av_message(error)})") from None
        audio = list(container.streams.audio) if with_audio else []
        # Audio waits until the first frame shows the seek landed where it should: if not,
        # the caller decodes from the start and nothing may have been handed out yet.
        held: list[AudioChunk] | None = []
        decoder = _Decoder(reader)

        def damaged(error: av.error.FFmpegError) -> None:
            reader.truncated = True
            logger.warning(
                "%s: the video is damaged (%s); the rest is skipped", reader.path, av_message(error)
            )

        for packet in packets_until_damaged(container, [stream, *audio], damaged):
            if packet is not None and packet.stream.type == "audio":
                if packet.size:
                    chunk = AudioChunk(packet=packet, stream_index=packet.stream.index)
                    if held is None:
                        yield chunk
                    else:
                        held.append(chunk)
                continue
            frames = decoder.decode(stream, packet)
            for frame in frames:
                if held is not None:
                    _check_landing(frame, stream, start, target > origin)
                    yield from held
                    held = None
                yield _source_frame(frame, stream, description.orientation, info.average_rate)
        if held is not None:
            raise _SeekMissed("no frame after the seek point")
    finally:
        container.close()


class _Decoder:
    """Decodes video packets, skipping corrupt frames as the reader does (and counting them there)."""

    def __init__(self, reader: VideoReader) -> None:
        self.reader = reader
        self.bad_in_a_row = 0

    def decode(self, stream: Any, packet: Any) -> list[Any]:
        try:
            frames = stream.decode(packet)
        except av.error.InvalidDataError as error:
            self.reader.skipped_frames += 1
            self.bad_in_a_row += 1
            logger.warning("%s: skipped a corrupt frame (%s)", self.reader.path, av_message(error))
            if self.bad_in_a_row > MAX_CONSECUTIVE_BAD_FRAMES:
                bad = self.bad_in_a_row
                raise VideoInputError(
                    f"{self.reader.path}: truncated or corrupt video ({bad} bad frames in a row)"
                ) from None
            return []
        self.bad_in_a_row = 0
        return list(frames)


def _check_landing(frame: Any, stream: Any, start: float, sought: bool) -> None:
    """The first frame after a seek must have a time, and not come after ``start``."""
    if frame.pts is None:
        raise _SeekMissed("frames carry no timestamps")
    time = float((frame.pts - (stream.start_time or 0)) * stream.time_base)
    if sought and time > start:
        raise _SeekMissed(f"the seek landed at {time:.3f} s, after {start:.3f} s")


def _source_frame(frame: Any, stream: Any, orientation: str, rate: Fraction | None) -> SourceFrame:
    # The index is only a label here (items_between numbers the kept frames itself).
    time = float((frame.pts - (stream.start_time or 0)) * stream.time_base) if frame.pts is not None else 0.0
    index = round(time * rate) if rate else 0
    return video_source_frame(index, frame, stream, frame.pts, orientation, rate)


class _Retimer:
    """Keeps the items in the span and moves them back so the first kept frame is at 0."""

    def __init__(self, start: float, end: float | None, with_audio: bool) -> None:
        self.start = start
        self.end = end
        self.with_audio = with_audio
        self.finished = False
        self.kept = 0
        self._origin: float | None = None  # absolute time (pts x time base) of the reader's time 0
        self._first: SourceFrame | None = None  # the first kept frame, as read
        self._offset = 0.0  # its absolute time: what everything kept moves back by
        self._video_done = False
        self._pending: list[AudioChunk] = []  # audio in the span seen before the first kept frame

    def push(self, item: Item) -> Iterator[Item]:
        if isinstance(item, AudioChunk):
            yield from self._audio(item)
            return
        if self._origin is None:
            absolute = _absolute(item)
            self._origin = 0.0 if absolute is None else absolute - item.time
        if self.end is not None and item.time >= self.end:
            self._video_done = True
            self.finished = not self.with_audio or item.time >= self.end + AUDIO_TAIL_SECONDS
            return
        if item.time < self.start:
            return
        if self._first is None:
            self._first = item
            self._offset = self._origin + item.time
            pending, self._pending = self._pending, []
            for chunk in pending:
                yield from self._audio(chunk)
        first = self._first
        yield dataclasses.replace(
            item,
            index=self.kept,
            pts=None if item.pts is None or first.pts is None else item.pts - first.pts,
            time=item.time - first.time,
        )
        self.kept += 1

    def _audio(self, chunk: AudioChunk) -> Iterator[AudioChunk]:
        packet: Any = chunk.packet
        if packet.pts is None or not packet.time_base:
            return  # cannot be placed in the span
        seconds = float(packet.pts * packet.time_base)
        if self._origin is None:
            self._pending.append(chunk)  # before any frame: where the span lies is not known yet
            return
        if seconds < self._origin + self.start:
            return  # before the span: dropped at once, so nothing piles up
        if self.end is not None and seconds >= self._origin + self.end:
            self.finished = self._video_done
            return
        if self._first is None:
            self._pending.append(chunk)
            return
        if seconds < self._offset:
            return  # between the start asked for and the first frame kept
        shift = round(Fraction(self._offset).limit_denominator(1_000_000) / packet.time_base)
        packet.pts -= shift
        if packet.dts is not None:
            packet.dts -= shift
        yield chunk


def _absolute(frame: SourceFrame) -> float | None:
    if frame.pts is None or not frame.time_base:
        return None
    return float(frame.pts * frame.time_base)
