"""Joining swapped parts back into one video by stream copy, with the source's own audio.

The parts come back from the workers in the output's container, encoded by one encoder
(same codec, size, pixel format and extradata, which is checked before anything is
written). Their video packets are copied as they are, each part's timestamps moved to
its segment's place; the source's audio over the joined span is copied when the output
container takes its codec, else encoded as :class:`~.audio_output.AudioOutput` decides
for every FaceDeck output. The result is written through
:class:`~.output.AtomicOutput` and marked as synthetic media like every other output.

Timing matches a local run of the same job. Each part is moved so its first frame lands
at its segment's start, counted from the first segment's start (so a trimmed job's
output starts at 0, as a local trimmed run's does); a part that does not start at 0 in
its own file is moved back first, so any shift the output's muxer makes (Matroska moves
every stream later when one starts before 0, as AAC's encoder priming does) is made once,
for the whole output, as in a local run. Decode times a container does not store
(Matroska's reader leaves the first ones of a stream with B-frames unset) are made up,
rising one tick at a time. Audio follows the trim's rule (:mod:`.trim`): a part of a
video keeps the audio packets that start between its first frame and its end, moved back
as far as the video; a join from the very start keeps everything before the end too.
"""

from __future__ import annotations

import heapq
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error

from ..errors import InputError, OutputError, UsageError
from .audio_output import AudioOutput
from .encoding import close_quietly, muxer_codecs
from .formats import container_format_for
from .messages import av_message
from .metadata import synthetic_text_fields
from .output import AtomicOutput, check_output_location, naming_output
from .segments_plan import Segment
from .video_reader import main_video_stream
from .video_types import AudioChunk

logger = logging.getLogger(__name__)

# Containers a join writes (no AVI: it stores no presentation times for B-frames).
JOIN_FORMATS = frozenset({"mp4", "mov", "matroska", "webm"})


@dataclass(frozen=True)
class JoinReport:
    """What a join wrote: video frames, the video's length in seconds, audio streams, and
    ``seconds``, what the join itself took."""

    frames: int
    duration: float
    audio_streams: int
    seconds: float


def join_segments(
    parts: Sequence[Path], segments: Sequence[Segment], source: Path, output: Path, *, audio: bool = True
) -> JoinReport:
    """Concatenate the swapped ``parts`` (one per segment, in order) into ``output`` by stream copy.

    The source's audio streams over ``[first start, last end)`` go with them when ``audio``.
    Parts whose video differs from the first one's (codec, size, pixel format, extradata)
    are refused, naming the part, before anything is written: :class:`InputError`. An
    output that cannot be written is an :class:`OutputError`; nothing is left behind then.
    """
    began = time.perf_counter()
    parts = [Path(part) for part in parts]
    source, output = Path(source), Path(output)
    if not parts or len(parts) != len(segments):
        raise UsageError(
            f"{len(parts)} part(s) for {len(segments)} segment(s): one part per segment is joined"
        )
    fmt = container_format_for(output)
    fmt = {"mkv": "matroska"}.get(fmt, fmt)
    if fmt not in JOIN_FORMATS:
        raise OutputError(f"{output}: parts are joined into .mp4, .mov, .mkv or .webm, not {output.suffix}")
    check_output_location(output, [source, *parts])
    opened: list[Any] = []
    try:
        videos = [_open_part(part, opened) for part in parts]
        _check_alike(parts, videos)
        codec = videos[0].codec_context.name
        if codec not in muxer_codecs(fmt):
            raise OutputError(f"{output}: {fmt} cannot hold {codec} video")
        audio_source = _open_source(source, opened) if audio else None
        with AtomicOutput(output) as atomic, naming_output(atomic.temp, output):
            writer = _Joiner(atomic.temp, fmt, videos[0], audio_source)
            try:
                frames, duration = writer.write(videos, list(segments))
            except BaseException:
                writer.abort()
                raise
    finally:
        for container in opened:
            close_quietly(container)
    seconds = time.perf_counter() - began
    logger.info("%s: joined %d part(s), %d frames, in %.2f s", output, len(parts), frames, seconds)
    return JoinReport(frames=frames, duration=duration, audio_streams=writer.audio_streams, seconds=seconds)


def _open_part(path: Path, opened: list[Any]) -> Any:
    """The part's video stream (its container kept in ``opened``); InputError naming the part."""
    try:
        container = av.open(os.fspath(path), "r", metadata_errors="replace")
    except (av.error.FFmpegError, OSError) as error:
        raise InputError(
            f"{path}: cannot read the part ({av_message(error)})", path=os.fspath(path)
        ) from None
    opened.append(container)
    stream = main_video_stream(container)
    if stream is None or stream.codec_context is None:
        raise InputError(f"{path}: the part has no video stream", path=os.fspath(path))
    return stream


def _open_source(path: Path, opened: list[Any]) -> Any:
    try:
        container = av.open(os.fspath(path), "r", metadata_errors="replace")
    except (av.error.FFmpegError, OSError) as error:
        raise InputError(
            f"{path}: cannot read the video ({av_message(error)})", path=os.fspath(path)
        ) from None
    opened.append(container)
    return container


def _describe(stream: Any) -> dict[str, object]:
    context = stream.codec_context
    return {
        "codec": context.name,
        "size": f"{context.width}x{context.height}",
        "pixel format": context.pix_fmt,
        "extradata": bytes(context.extradata or b""),
    }


def _check_alike(parts: list[Path], videos: list[Any]) -> None:
    """Every part must decode with the first one's decoder set-up: the joined stream has one header."""
    first = _describe(videos[0])
    for path, video in zip(parts[1:], videos[1:], strict=True):
        described = _describe(video)
        for key, value in first.items():
            if described[key] != value:
                shown = "differs" if key == "extradata" else f"is {described[key]}, not {value}"
                raise InputError(
                    f"{path}: its video {key} {shown} as in {parts[0].name}; "
                    "the parts must come from one encoder with the same settings",
                    path=os.fspath(path),
                )


class _Joiner:
    """The output container: the video stream made from the first part's, and the audio."""

    def __init__(self, temp: Path, fmt: str, template: Any, source: Any | None) -> None:
        self._temp = temp
        self._source = source
        options = {"movflags": "+faststart+use_metadata_tags"} if fmt in ("mp4", "mov") else {}
        try:
            self._container = av.open(os.fspath(temp), "w", format=fmt, container_options=options)
        except (av.error.FFmpegError, OSError) as error:
            raise OutputError(f"{temp}: cannot write the file ({av_message(error)})") from None
        try:
            self._container.metadata.update(synthetic_text_fields())
            self._video = self._container.add_stream_from_template(template)
            self._audio = AudioOutput(temp, fmt, self._container)
            templates = list(source.streams.audio) if source is not None else []
            self._audio.add_streams(templates)
            self.audio_streams = len(self._container.streams.audio)
            self._container.start_encoding()  # the header now: a muxer may change time bases
        except (av.error.FFmpegError, ValueError) as error:
            close_quietly(self._container)
            raise OutputError(f"{temp}: cannot set up the output ({av_message(error)})") from None
        for note in self._audio.notes:
            logger.log(logging.WARNING if note.endswith("dropped") else logging.INFO, note)

    def write(self, videos: list[Any], segments: list[Segment]) -> tuple[int, float]:
        """Mux every part's video and the source's audio in time order; (frames, seconds of video)."""
        counter = _VideoCounter()
        video = _video_packets(videos, segments, counter)
        items: Iterator[tuple[float, Any]] = video
        if self.audio_streams:
            audio = _audio_packets(self._source, videos, segments)
            items = heapq.merge(video, audio, key=lambda item: item[0])
        try:
            for _, item in items:
                if isinstance(item, AudioChunk):
                    self._audio.write(item)
                else:
                    item.stream = self._video
                    self._container.mux(item)
            self._audio.flush()
            self._container.close()
        except OSError as error:  # first: PyAV's errno errors (a full disk) are FFmpegErrors too
            raise OutputError(f"{self._temp}: cannot write the file ({av_message(error)})") from None
        except av.error.FFmpegError as error:
            raise OutputError(f"{self._temp}: could not join the parts ({av_message(error)})") from None
        return counter.frames, counter.end

    def abort(self) -> None:
        close_quietly(self._container)


class _VideoCounter:
    """Frames muxed, and when the last one stops being shown (seconds from the output's 0)."""

    def __init__(self) -> None:
        self.frames = 0
        self.end = 0.0


def _video_packets(
    videos: list[Any], segments: list[Segment], counter: _VideoCounter
) -> Iterator[tuple[float, Any]]:
    """(decode time, packet) of every part in order, each moved to its segment's place."""
    origin = Fraction(segments[0].start)
    last: Fraction | None = None  # the decode time of the packet before, in seconds
    for video, segment in zip(videos, segments, strict=True):
        tb = video.time_base
        # the part's own first frame to 0 (undoing a muxer's shift), then to the segment's place
        shift = round((Fraction(segment.start) - origin) / tb) - (video.start_time or 0)
        try:
            for packet in video.container.demux(video):
                if not packet.size:
                    continue
                packet.pts = None if packet.pts is None else packet.pts + shift
                packet.dts = None if packet.dts is None else packet.dts + shift
                if packet.pts is not None or packet.dts is not None:
                    last = _decoded_after(packet, last, tb)
                counter.frames += 1
                if packet.pts is not None:
                    counter.end = max(counter.end, float((packet.pts + (packet.duration or 0)) * tb))
                stamp = packet.dts if packet.dts is not None else packet.pts or 0
                yield float(stamp * tb), packet
        except av.error.FFmpegError as error:
            path = video.container.name
            raise InputError(f"{path}: the part is damaged ({av_message(error)})", path=path) from None


def _decoded_after(packet: Any, last: Fraction | None, tb: Fraction) -> Fraction:
    """The packet's decode time (seconds), set where the part has none and moved a tick later
    where a join would repeat the one before.

    Muxers need rising decode times. Matroska stores none: its reader leaves them unset on
    the first packets of a stream with B-frames, so they are made up, one tick apart.
    Parts from one encoder otherwise meet exactly, but a part whose encoder held back one
    more frame (its B-frame delay) would overlap the part before by a tick or so.
    """
    if packet.dts is None:
        packet.dts = packet.pts if last is None else last // tb + 1
    dts = packet.dts * tb
    if last is not None and dts <= last:
        moved = last // tb + 1
        if packet.pts is not None and moved > packet.pts:
            raise OutputError("the parts' decode times overlap at a join: they cannot be joined as they are")
        packet.dts = int(moved)
        dts = packet.dts * tb
    return Fraction(dts)


def _audio_packets(
    source: Any, videos: list[Any], segments: list[Segment]
) -> Iterator[tuple[float, AudioChunk]]:
    """(decode time, chunk) of the source's audio over the segments, moved like the video.

    As a trim keeps it: from the first frame's time to the end, both counted from the
    video stream's start; a join from the very start keeps the packets before it too
    (encoder priming), as a whole-video run copies everything.
    """
    video = main_video_stream(source)
    origin = (
        float((video.start_time or 0) * video.time_base) if video is not None and video.time_base else 0.0
    )
    first, end = segments[0].start, segments[-1].end
    offset = origin + first
    head = first > 0
    shift_seconds = Fraction(offset).limit_denominator(1_000_000)
    streams = list(source.streams.audio)
    past_end: set[int] = set()  # audio streams already past the end
    try:
        for packet in source.demux(*streams):
            if not packet.size or packet.pts is None or not packet.time_base:
                continue
            seconds = float(packet.pts * packet.time_base)
            if head and seconds < offset:
                continue
            if end is not None and seconds >= origin + end:
                past_end.add(packet.stream.index)
                if len(past_end) == len(streams):
                    return
                continue
            shift = round(shift_seconds / packet.time_base)
            packet.pts -= shift
            if packet.dts is not None:
                packet.dts -= shift
            stamp = packet.dts if packet.dts is not None else packet.pts
            yield float(stamp * packet.time_base), AudioChunk(packet=packet, stream_index=packet.stream.index)
    except av.error.FFmpegError as error:
        raise InputError(f"{source.name}: the audio is damaged ({av_message(error)})") from None
