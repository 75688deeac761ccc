"""Reading videos and animated GIF/WebP: VideoReader probes an input, then streams its frames and audio.

Videos go through PyAV (FFmpeg inside the wheel); animated GIF and WebP go through
Pillow (see :mod:`facedeck.core.media.animation`). Both stream: one frame at a time,
so memory does not grow with the length of the input. Frames come out upright, with
their original timestamps (variable frame rate included); :attr:`VideoReader.description`
tells a writer what to keep from the input.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Generator, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np
from PIL import Image

from ..regular_files import open_regular
from .animation import animation_frames, open_animation, probe_animation
from .demux import packets_until_damaged
from .formats import ANIMATED_EXTENSIONS, is_animation_header, looks_like_text
from .messages import av_message
from .orientation import clockwise_degrees, display_matrix, orientation_op, upright
from .video_types import AudioChunk, ColourTags, SourceDescription, SourceFrame, VideoInfo, VideoInputError

logger = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 8192 * 8192

# Consecutive undecodable frames after which the input is given up as corrupt.
MAX_CONSECUTIVE_BAD_FRAMES = 25
# Packets looked at when guessing whether the frame rate is variable.
_VFR_PROBE_PACKETS = 64


class VideoReader:
    """Opens a video or animated GIF/WebP, probes it, then streams its frames and audio.

    Raises :class:`VideoInputError` with a one-line message when the input is unusable.
    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        self.path = Path(path)
        self._source = os.fspath(path)
        self.skipped_frames = 0
        self.truncated = False  # the input ended early (a demux error); what came before was kept
        self._max_pixels = max_pixels
        self._probe: Any = None  # input container kept open: its streams are the writer's audio templates
        self._reading: Any = None  # container or PIL image of the running items()
        self._orientation = "none"
        self._matrix: tuple[int, ...] | None = None
        self._colour: ColourTags | None = None
        self._animation_alpha = False
        self._audio_templates: dict[int, Any] = {}  # stream index -> input audio stream (probe container)
        self._video_index = 0
        self._is_avi = False
        self._check_file()
        animation = self.path.suffix.lower() in ANIMATED_EXTENSIONS and is_animation_header(self._head)
        if animation:
            self.info = self._probe_animation()
        else:
            self.info = self._probe_video()
        self._description = SourceDescription(
            info=self.info,
            orientation=self._orientation,
            display_matrix=self._matrix,
            colour=self._colour,
            audio_streams=tuple(self._audio_templates.values()),
            video_stream=self._video_index,
            animation=animation,
            animation_alpha=self._animation_alpha,
        )

    @property
    def description(self) -> SourceDescription:
        """What a writer needs to know about this input (see :class:`SourceDescription`).

        Valid while the reader is open: its audio stream templates belong to the open input.
        """
        return self._description

    # -- context manager

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the files. Safe to call more than once."""
        for handle in (self._reading, self._probe):
            if handle is not None:
                try:
                    handle.close()
                except (av.error.FFmpegError, OSError) as error:
                    logger.debug("%s: error while closing: %s", self._source, error)
        self._reading = self._probe = None

    # -- probing

    def _fail(self, problem: str) -> VideoInputError:
        self.close()
        return VideoInputError(f"{self._source}{problem}")

    def _check_file(self) -> None:
        # A regular file only (a device or a pipe is refused unread); FFmpeg then streams it,
        # so no byte cap is needed: memory is bounded by the pixel cap per frame.
        with open_regular(self._source, "video", VideoInputError) as handle:
            try:
                size = os.fstat(handle.fileno()).st_size
                head = handle.read(4096)
            except OSError as error:
                raise VideoInputError(f"{self._source}: cannot read the file ({av_message(error)})") from None
        if size == 0:
            raise VideoInputError(f"{self._source} is empty")
        # FFmpeg would open some text as a video (its tty demuxer): refuse text up front.
        if looks_like_text(head):
            what = "an HTML page, perhaps a failed download" if b"<html" in head.lower() else "text"
            raise VideoInputError(f"{self._source} is not a video file (it contains {what})")
        self._head = head

    def _open_container(self) -> Any:
        try:
            return av.open(self._source, "r", metadata_errors="replace")
        except av.error.InvalidDataError:
            raise self._fail(": truncated or corrupt video") from None
        except av.error.PermissionError:
            raise self._fail(": permission denied") from None
        except av.error.FFmpegError as error:
            raise self._fail(f": cannot open the video ({av_message(error)})") from None

    def _probe_video(self) -> VideoInfo:
        container = self._open_container()
        self._probe = container
        stream = main_video_stream(container)
        if stream is None:
            raise self._fail(" has no video stream")
        if stream.codec_context is None:
            raise self._fail(": unsupported video codec (this FFmpeg build has no decoder for it)")
        codec = stream.codec_context.name
        stored_w, stored_h = stream.codec_context.width, stream.codec_context.height
        if stored_w * stored_h > self._max_pixels:
            raise self._fail(
                f": video is {stored_w}x{stored_h} pixels, above the limit of {self._max_pixels:,} pixels"
            )

        first, packet_pts = self._decode_first_frame(container, stream, codec)
        self._matrix = display_matrix(first)
        self._orientation = orientation_op(self._matrix)
        rotation = clockwise_degrees(self._matrix) if self._matrix else 0
        width, height = first.width, first.height
        if rotation in (90, 270):
            width, height = height, width

        time_base = stream.time_base
        duration = None
        if stream.duration and time_base:
            duration = float(stream.duration * time_base)
        elif container.duration:
            duration = container.duration / av.time_base
        audio = [s for s in container.streams.audio]
        audio_codecs = tuple(s.codec_context.name if s.codec_context else "unknown" for s in audio)
        self._audio_templates = {s.index: s for s in audio}
        self._video_index = stream.index
        self._is_avi = container.format.name == "avi"
        context = stream.codec_context
        self._colour = ColourTags(
            colorspace=int(getattr(context, "colorspace", 0) or 0),
            color_primaries=int(getattr(context, "color_primaries", 0) or 0),
            color_trc=int(getattr(context, "color_trc", 0) or 0),
            color_range=int(context.color_range or 0),
            pixel_format=context.pix_fmt,
        )
        return VideoInfo(
            path=self.path,
            container=container.format.name,
            codec=codec,
            width=width,
            height=height,
            rotation=rotation,
            frame_count=stream.frames or None,
            duration=duration,
            average_rate=stream.average_rate or stream.guessed_rate,
            time_base=time_base,
            has_audio=bool(audio),
            audio_codecs=audio_codecs,
            variable_frame_rate=_looks_variable(packet_pts, stream),
        )

    def _decode_first_frame(self, container: Any, stream: Any, codec: str) -> tuple[Any, list[int]]:
        """Decode the first frame (proves the decoder works; carries the display matrix)."""
        stream.thread_type = "AUTO"
        first = None
        failures = 0
        packet_pts: list[int] = []
        try:
            for packet in container.demux(stream):
                if packet.pts is not None and packet.size:
                    packet_pts.append(packet.pts)
                if first is None:
                    try:
                        frames = _decode(stream, packet)
                    except (av.error.DecoderNotFoundError, av.error.PatchWelcomeError):
                        raise self._fail(f": unsupported video codec {codec}") from None
                    except av.error.InvalidDataError:
                        failures += 1
                        if failures > MAX_CONSECUTIVE_BAD_FRAMES:
                            break
                        continue
                    if frames:
                        first = frames[0]
                if first is not None and len(packet_pts) >= _VFR_PROBE_PACKETS:
                    break
        except av.error.FFmpegError as error:
            if first is None:
                logger.debug("%s: demux failed while probing: %s", self._source, error)
                raise self._fail(": truncated or corrupt video") from None
        if first is None:
            raise self._fail(": truncated or corrupt video (no frame could be decoded)")
        return first, packet_pts

    def _probe_animation(self) -> VideoInfo:
        self._probe = image = open_animation(self.path, self._source)
        try:
            info, self._animation_alpha = probe_animation(image, self.path, self._source, self._max_pixels)
        except VideoInputError:
            self.close()
            raise
        return info

    # -- reading

    def items(self, with_audio: bool = True) -> Generator[SourceFrame | AudioChunk, None, None]:
        """Frames (and audio packets when ``with_audio``) in file order, streamed."""
        if self._probe is None:
            raise ValueError("the reader is closed")
        if isinstance(self._probe, Image.Image):
            yield from self._animation_items()
        else:
            yield from self._video_items(with_audio)

    def _video_items(self, with_audio: bool) -> Iterator[SourceFrame | AudioChunk]:
        container = self._open_container()
        self._reading = container
        try:
            stream = container.streams[self._video_index]
            stream.thread_type = "AUTO"
            audio = list(container.streams.audio) if with_audio else []
            index = 0
            bad_in_a_row = 0

            def damaged(error: av.error.FFmpegError) -> None:
                self.truncated = True
                logger.warning(
                    "%s: the video is damaged after frame %d (%s); the rest is skipped",
                    self._source,
                    index,
                    av_message(error),
                )

            for packet in packets_until_damaged(container, [stream, *audio], damaged):
                if packet is not None and packet.stream.type == "audio":
                    if packet.size:
                        yield AudioChunk(packet=packet, stream_index=packet.stream.index)
                    continue
                try:
                    frames = _decode(stream, packet)
                    bad_in_a_row = 0
                except av.error.InvalidDataError as error:
                    self.skipped_frames += 1
                    bad_in_a_row += 1
                    logger.warning(
                        "%s: skipped a corrupt frame after frame %d (%s)",
                        self._source,
                        index,
                        av_message(error),
                    )
                    if bad_in_a_row > MAX_CONSECUTIVE_BAD_FRAMES:
                        raise VideoInputError(
                            f"{self._source}: truncated or corrupt video ({bad_in_a_row} bad frames in a row)"
                        ) from None
                    frames = []
                for frame in frames:
                    yield self._source_frame(index, frame, stream)
                    index += 1
            # (AVI headers also count the empty chunks that stand for dropped frames.)
            expected = None if self._is_avi else self.info.frame_count
            if expected and index < expected - self.skipped_frames:
                self.truncated = True
                logger.warning(
                    "%s: decoded %d of the %d frames the header announces",
                    self._source,
                    index,
                    self.info.frame_count,
                )
        finally:
            self._reading = None
            container.close()

    def _source_frame(self, index: int, frame: Any, stream: Any) -> SourceFrame:
        if frame.width * frame.height > self._max_pixels:
            # The header's size was checked when probing, but a stream may change size mid-way.
            raise VideoInputError(
                f"{self._source}: frame {index} is {frame.width}x{frame.height} pixels, "
                f"above the limit of {self._max_pixels:,} pixels"
            )
        time_base = stream.time_base
        start = stream.start_time or 0
        if self._is_avi:
            # AVI stores no presentation times (FFmpeg guesses, badly for H.264): one tick is
            # one frame, and a frame that failed to decode still had its slot.
            pts = start + index + self.skipped_frames
        else:
            pts = frame.pts
            if pts is None and self.info.average_rate and time_base:
                pts = start + round(index / (self.info.average_rate * time_base))
        return video_source_frame(index, frame, stream, pts, self._orientation, self.info.average_rate)

    def _animation_items(self) -> Iterator[SourceFrame]:
        image = open_animation(self.path, self._source)
        self._reading = image
        try:
            count = self.info.frame_count or 1
            yield from animation_frames(image, self._source, count, self._animation_alpha)
        finally:
            self._reading = None
            image.close()


def video_source_frame(
    index: int, frame: Any, stream: Any, pts: int | None, orientation: str, average_rate: Fraction | None
) -> SourceFrame:
    """A decoded ``av.VideoFrame`` of ``stream`` as a :class:`SourceFrame` shown at ``pts``.

    The picture is turned upright with ``orientation`` (see ``orientation.orientation_op``);
    without ``pts`` the time comes from ``index`` and ``average_rate``.
    """
    time_base = stream.time_base
    start = stream.start_time or 0
    if pts is not None and time_base:
        seconds = float((pts - start) * time_base)
    else:
        seconds = float(index / average_rate) if average_rate else 0.0
    duration = float(frame.duration * time_base) if frame.duration and time_base else None
    image = upright(frame_to_bgr(frame), orientation)
    return SourceFrame(
        index=index,
        pts=pts,
        time_base=time_base,
        time=seconds,
        duration=duration,
        image=image,
        native=frame,
    )


def _decode(stream: Any, packet: Any) -> list[Any]:
    """Decode one packet (None flushes): a seam for tests."""
    return stream.decode(packet)


def main_video_stream(container: Any) -> Any:
    """The first video stream that is not cover art (an .m4a's picture is not a video)."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    return None


def _looks_variable(packet_pts: list[int], stream: Any) -> bool:
    """Irregular gaps between the first frames' timestamps, or an average rate off the base rate."""
    average, base = stream.average_rate, stream.base_rate
    if average and base and abs(float(average) - float(base)) > 0.01 * float(base):
        return True
    gaps = np.diff(np.sort(np.asarray(packet_pts, dtype=np.int64)))
    gaps = gaps[gaps > 0]
    if gaps.size < 2:
        return False
    # Two ticks of slack: millisecond time bases round a 24 fps period to 41 or 42.
    return bool(gaps.max() - gaps.min() > max(2, 0.05 * float(np.median(gaps))))


def frame_to_bgr(frame: Any) -> np.ndarray:
    """A decoded ``av.VideoFrame`` as stored (not turned upright): BGR uint8, C-contiguous."""
    # Pass the frame's own range: swscale assumes limited range when told nothing.
    color_range = frame.color_range or None
    return np.ascontiguousarray(frame.to_ndarray(format="bgr24", src_color_range=color_range))
