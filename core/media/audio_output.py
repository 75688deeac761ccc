"""The audio of a video output: each input audio stream copied bit for bit or transcoded.

An audio codec the output container accepts (and players cope with there) is copied as
it is; anything else is decoded and re-encoded to the container's usual codec (see
:mod:`facedeck.core.media.encoding`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av.error

from ..errors import OutputError
from .encoding import audio_target, can_copy_audio, encoder_rate
from .messages import av_message
from .video_types import AudioChunk

logger = logging.getLogger(__name__)


class AudioOutput:
    """The audio streams of one output container being written to ``path`` in format ``fmt``."""

    def __init__(self, path: Path, fmt: str, container: Any) -> None:
        self._path = path
        self._fmt = fmt
        self._container = container
        self._routes: dict[int, _AudioRoute] = {}  # input stream index -> its output stream
        self.notes: list[str] = []  # logged once the output is open (it may be tried twice)

    def add_streams(self, templates: Sequence[Any]) -> None:
        """An output stream for each input audio stream in ``templates`` (``av.AudioStream``)."""
        container = self._container
        for template in templates:
            context = template.codec_context
            name = context.name if context is not None else None
            if can_copy_audio(self._fmt, name):
                out = container.add_stream_from_template(template)
                route = _AudioRoute(out, transcode=False)
                self.notes.append(f"audio stream {template.index}: copying {name}")
            elif context is None:
                self.notes.append(f"audio stream {template.index}: no decoder in this build; dropped")
                continue
            else:
                target, bit_rate = audio_target(self._fmt)
                rate = encoder_rate(target, context.sample_rate)
                out = container.add_stream(target, rate=rate)
                # MP3 has no surround: downmix; AAC and Opus keep the layout.
                many = target == "libmp3lame" and context.layout.nb_channels > 2
                out.layout = "stereo" if many else context.layout.name
                out.bit_rate = bit_rate
                out.time_base = Fraction(1, rate)
                route = _AudioRoute(out, transcode=True)
                index = template.index
                self.notes.append(f"audio stream {index}: {name} -> {target} ({self._fmt} needs it)")
            if template.language:
                out.metadata["language"] = template.language
            self._routes[template.index] = route

    def write(self, chunk: AudioChunk) -> None:
        """Copy or transcode one audio packet (ignored when its stream has no output stream)."""
        route = self._routes.get(chunk.stream_index)
        if route is None:
            return
        packet: Any = chunk.packet
        try:
            if not route.transcode:
                packet.stream = route.out  # remux: timestamps are rescaled from the packet's own time base
                self._mux(route, [packet])
            else:
                route.source = packet.stream  # the reader's stream decodes it (and is flushed at the end)
                for audio_frame in packet.stream.decode(packet):
                    self._mux(route, route.out.encode(_counted_in_samples(audio_frame)))
        except av.error.InvalidDataError as error:
            logger.warning("%s: skipped a corrupt audio packet (%s)", self._path, av_message(error))
        except av.error.FFmpegError as error:
            raise OutputError(f"{self._path}: could not write audio ({av_message(error)})") from None
        except OSError as error:
            raise OutputError(f"{self._path}: cannot write the file ({av_message(error)})") from None

    def _mux(self, route: _AudioRoute, packets: list[Any]) -> None:
        for packet in packets:
            if self._fmt == "avi":
                # AVI cannot start a stream before 0 (encoder priming is stored as a negative
                # time elsewhere); FFmpeg would shift every stream and open a gap in the video.
                # Shift this audio stream alone: AVI plays the priming samples anyway.
                if route.offset is None:
                    first = packet.dts if packet.dts is not None else packet.pts
                    route.offset = max(0, -(first or 0))
                if route.offset:
                    packet.pts = None if packet.pts is None else packet.pts + route.offset
                    packet.dts = None if packet.dts is None else packet.dts + route.offset
            self._container.mux(packet)

    def flush(self) -> None:
        """Drain the transcoders at the end of the output (copied streams have nothing pending)."""
        for route in self._routes.values():
            if route.transcode:
                for audio_frame in route.source.decode(None) if route.source is not None else []:
                    self._mux(route, route.out.encode(_counted_in_samples(audio_frame)))
                self._mux(route, route.out.encode(None))


def _counted_in_samples(frame: Any) -> Any:
    """``frame`` with its timestamp in samples (time base 1/rate).

    A coarse input time base (AVI's MP3: 3/125 s, one tick per packet) survives decoding;
    the encoder then cuts its own frame size (1024 samples for AAC) out of those 1152-sample
    frames and gives several of them the same timestamp, which the muxer refuses ("Invalid
    argument"). Counted in samples, every chunk has its own.
    """
    if frame.pts is not None and frame.time_base is not None and frame.rate:
        frame.pts = round(frame.pts * frame.time_base * frame.rate)
        frame.time_base = Fraction(1, frame.rate)
    return frame


@dataclass
class _AudioRoute:
    out: Any  # output stream
    transcode: bool  # decode and re-encode, or copy packets as they are
    source: Any = None  # the input stream being decoded (transcoding)
    offset: int | None = None  # AVI: ticks added so the stream starts at 0
