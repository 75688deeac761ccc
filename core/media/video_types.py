"""What the video reader hands out: VideoInfo, SourceFrame, AudioChunk, SourceDescription, VideoInputError.

Kept apart from the reader so the animation module (which the reader uses) and the
writers can share these types without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError

if TYPE_CHECKING:
    import av
    from PIL import Image


class VideoInputError(InputError):
    """A video or animation input that cannot be used (one-line message)."""


@dataclass(frozen=True)
class VideoInfo:
    """What the reader found out about its input when it opened it."""

    path: Path
    container: str
    codec: str
    width: int  # upright (display) size, i.e. after rotation
    height: int
    rotation: int  # 0, 90, 180, 270: clockwise degrees a player turns the stored picture
    frame_count: int | None
    duration: float | None
    average_rate: Fraction | None
    time_base: Fraction | None
    has_audio: bool
    audio_codecs: tuple[str, ...]
    variable_frame_rate: bool  # best effort
    loop: int | None = None  # animations: 0 = forever, None = play once


@dataclass
class SourceFrame:
    """One decoded frame, upright, with its original timestamp.

    A frame that was never decoded from a file (a live camera's, see
    :meth:`SourceDescription.for_frames`) has ``native`` None and ``pts`` None: the writer
    then takes its picture from the image it is given and its timestamp from ``time``.
    """

    index: int
    pts: int | None
    time_base: Fraction | None
    time: float
    duration: float | None
    image: np.ndarray  # BGR uint8, upright, C-contiguous
    # the decoded frame, the PIL image for animations, or None for frames not read from a file
    native: av.VideoFrame | Image.Image | None = None


@dataclass
class AudioChunk:
    """One demuxed audio packet, in file order with the video."""

    packet: object  # av.Packet
    stream_index: int


@dataclass(frozen=True)
class ColourTags:
    """The input video stream's colour description, as FFmpeg numbers it (0 or 2: unspecified).

    Copied onto the output so players show the same colours; ``pixel_format`` tells the
    full ("JPEG") range that the yuvj formats imply without saying so in ``color_range``.
    """

    colorspace: int = 0
    color_primaries: int = 0
    color_trc: int = 0
    color_range: int = 0
    pixel_format: str | None = None


@dataclass(frozen=True)
class SourceDescription:
    """What a writer needs to know about its source, read-only: get it from ``VideoReader.description``.

    ``orientation`` is the operation that turns the stored picture upright ("none", "cw",
    "ccw", "transpose", "antitranspose", "hflip", "vflip", "rot180": see
    :func:`facedeck.core.media.orientation.orientation_op`) and ``display_matrix`` the
    matrix that tells players to do it (None: shown as stored); outputs keep both.
    ``colour`` is None for animations. ``audio_streams`` are the input's audio streams
    (``av.AudioStream``), the templates for the output's audio: they belong to the reader's
    open input, so use the description only while its reader is open.
    ``video_stream`` is the index of the video stream in the input container (0 for
    animations); ``animation`` says the input is an animated GIF/WebP read with Pillow
    (not PyAV), and ``animation_alpha`` that its frames have transparency.
    """

    info: VideoInfo
    orientation: str = "none"
    display_matrix: tuple[int, ...] | None = None
    colour: ColourTags | None = None
    audio_streams: tuple[Any, ...] = ()
    video_stream: int = 0
    animation: bool = False
    animation_alpha: bool = False

    @classmethod
    def for_frames(cls, width: int, height: int, *, name: str, fps: float | None = None) -> SourceDescription:
        """A source that is no file: upright BGR frames of ``width`` x ``height``, no audio (a camera).

        Write its frames as ``SourceFrame(index, None, None, seconds, None, image)`` (no
        ``native`` frame, no ``pts``) together with the image itself: each is encoded at
        ``seconds`` on a 1/90000 clock, so the frame rate may vary. ``fps``, when known, is
        only the nominal rate the encoder is told. Colours are tagged BT.709 (limited range),
        what players assume for camera-sized video, so the BGR -> YUV conversion matches it.
        """
        rate = Fraction(fps).limit_denominator(1001) if fps else None
        info = VideoInfo(
            path=Path(name),
            container="live",
            codec="rawvideo",
            width=width,
            height=height,
            rotation=0,
            frame_count=None,
            duration=None,
            average_rate=rate,
            time_base=Fraction(1, 90_000),
            has_audio=False,
            audio_codecs=(),
            variable_frame_rate=True,
        )
        bt709 = 1  # FFmpeg's number for BT.709 as matrix, primaries and transfer; range 1 = limited
        return cls(info=info, colour=ColourTags(bt709, bt709, bt709, color_range=1))
