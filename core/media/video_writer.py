"""Writing videos and animations: VideoWriter encodes a reader's frames, keeping what the input had.

What an output keeps from its input: resolution, frame count, each frame's timestamp
(variable frame rate included), the stored orientation plus the display matrix that
tells players how to turn it, every audio stream (copied bit for bit when the output
container accepts the codec, else transcoded), and, for animations, per-frame
durations, the loop count and transparency. Every output is marked as synthetic media
(see :mod:`facedeck.core.media.metadata`). The writer writes to the path it is given; the
caller writes to a temporary name and renames on success (see
:class:`facedeck.core.media.output.AtomicOutput`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np
from PIL import Image

from ..errors import OutputError
from .animation import AnimationSink
from .audio_output import AudioOutput
from .encoding import (
    EncoderSettings,
    EncoderUnavailable,
    avi_rate,
    close_quietly,
    encoder_candidates,
    encoder_options,
    pick_codec,
    pixel_format_for,
)
from .formats import ANIMATION_FORMATS, FORMAT_BY_EXTENSION, container_format_for
from .messages import av_message
from .metadata import synthetic_text_fields
from .orientation import stored
from .output import naming_output
from .realtime import demote_realtime_threads, realtime_threads
from .video_types import AudioChunk, SourceDescription, SourceFrame
from .yuv_patch import patch_yuv420

logger = logging.getLogger(__name__)


class VideoWriter:
    """Encodes frames from a :class:`VideoReader` into ``path``, keeping what the input had.

    ``source`` is the reader's :attr:`VideoReader.description`; keep the reader open until
    the writer is closed (the output's audio streams are made from the input's). Frames
    that come from no file (a live camera's) use :meth:`SourceDescription.for_frames`.

    ``container_format`` names the output container ("mp4", "mov", "matroska", "avi",
    "webm", "gif", "webp"); pass it when ``path`` is a temporary name (see
    :func:`container_format_for`), and ``name``, the final output, so that messages name it
    and never the temporary file. ``encoder_name`` says what actually encodes
    ("libx264", "h264_nvenc", "Pillow GIF", ...). Raises :class:`OutputError`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        source: SourceDescription,
        settings: EncoderSettings,
        *,
        container_format: str | None = None,
        name: str | os.PathLike[str] | None = None,
    ) -> None:
        self.path = Path(path)
        self.name = Path(name) if name is not None else self.path
        fmt = container_format or container_format_for(self.path)
        fmt = {"mkv": "matroska"}.get(fmt, fmt)
        if fmt not in FORMAT_BY_EXTENSION.values():
            raise OutputError(f"{self.name}: cannot write {fmt} containers")
        self._sink: _AvSink | AnimationSink
        with naming_output(self.path, self.name):
            if fmt in ANIMATION_FORMATS:
                self._sink = AnimationSink(self.path, source, settings, fmt)
            else:
                self._sink = _AvSink(self.path, source, settings, fmt)
        self.encoder_name: str = self._sink.encoder_name
        self.container_format = fmt

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def write_frame(
        self,
        frame: SourceFrame,
        image: np.ndarray | None,
        regions: Sequence[tuple[int, int, int, int]] | None = None,
    ) -> None:
        """Encode ``frame`` at its original timestamp.

        ``image`` None passes the decoded frame through untouched (no BGR round trip);
        otherwise ``image`` is the new upright BGR uint8 picture, same size as ``frame.image``.
        ``regions`` (x0, y0, x1, y1), when given, are the only places ``image`` differs from
        the decoded frame: video outputs then convert just those back to YUV. A frame that
        was not decoded from a file (``frame.native`` None, see
        :meth:`SourceDescription.for_frames`) needs its ``image``.
        """
        if image is None and frame.native is None:
            raise ValueError("a frame with no decoded picture (native None) needs an image")
        if image is not None:
            expected = frame.image.shape
            if image.shape != expected or image.dtype != np.uint8:
                raise ValueError(f"image must be uint8 {expected}, got {image.dtype} {image.shape}")
        with naming_output(self.path, self.name):
            self._sink.write_frame(frame, image, regions)

    def write_audio(self, chunk: AudioChunk) -> None:
        """Copy or transcode one audio packet (ignored when the output has no audio)."""
        with naming_output(self.path, self.name):
            self._sink.write_audio(chunk)

    def close(self) -> None:
        """Flush the encoders and finish the file."""
        with naming_output(self.path, self.name):
            self._sink.close()

    def abort(self) -> None:
        """Stop without finishing properly; the caller deletes the file."""
        self._sink.abort()


class _AvSink:
    """Video containers through PyAV."""

    def __init__(self, path: Path, source: SourceDescription, settings: EncoderSettings, fmt: str) -> None:
        self._path = path
        self._source = source
        self._info = info = source.info
        self._fmt = fmt
        self._closed = False
        self._last_pts: int | None = None
        self._frames = 0
        self._orientation = source.orientation

        quality = int(settings.quality)
        if not 0 <= quality <= 100:
            raise OutputError(f"video quality must be 0-100, got {settings.quality}")
        requested = settings.codec.lower()
        codec = pick_codec(requested, fmt)
        if codec != requested and settings.preset:
            # Preset names belong to one encoder; the substitute uses its own default.
            logger.warning("preset %s is for %s; %s uses its default", settings.preset, requested, codec)
            settings = dataclasses.replace(settings, preset=None)
        candidates = encoder_candidates(codec, settings.hardware.lower())

        # Stored (coded) size: the output keeps the input's orientation plus its display matrix.
        stored_w, stored_h = info.width, info.height
        if info.rotation in (90, 270):
            stored_w, stored_h = stored_h, stored_w
        self._stored_size = (stored_w, stored_h)

        # AVI has no timestamps: its time base is one frame.
        self._cfr_rate: Fraction | None = None
        if fmt == "avi":
            self._cfr_rate = avi_rate(info)
            if info.variable_frame_rate:
                logger.warning(
                    "%s: AVI cannot store a variable frame rate; timestamps are rounded to %s fps",
                    path,
                    float(self._cfr_rate),
                )
            self._time_base = 1 / self._cfr_rate
        else:
            self._time_base = info.time_base or Fraction(1, 90_000)

        errors: list[str] = []
        for encoder in candidates:
            try:
                self._open(encoder, quality, settings)
            except EncoderUnavailable as error:
                errors.append(f"{encoder}: {error}")
                if encoder.endswith("_nvenc") and settings.hardware.lower() == "auto":
                    logger.info("%s cannot be used (%s); using software encoding", encoder, error)
                    continue
                break
            self.encoder_name = encoder
            logger.info("%s: encoding %s with %s", path, codec, encoder)
            for note in self._audio.notes:
                logger.log(logging.WARNING if note.endswith("dropped") else logging.INFO, note)
            return
        raise OutputError(
            f"{path}: cannot open the video encoder ({'; '.join(errors)}); check the preset and pixel format"
        )

    # -- setup

    def _open(self, encoder: str, quality: int, settings: EncoderSettings) -> None:
        """Open the container with ``encoder``; EncoderUnavailable when the encoder won't open."""
        pix_fmt = pixel_format_for(encoder, settings.pixel_format, self._stored_size)
        options = encoder_options(encoder, quality, settings.preset)
        if encoder == "libsvtav1":
            # SVT-AV1 prints its banner to stderr unless told otherwise (read at encoder start).
            os.environ.setdefault("SVT_LOG", "1")
        container_options = {}
        if self._fmt in ("mp4", "mov"):
            # use_metadata_tags keeps our own keys (Software, DigitalSourceType);
            # faststart puts the index first so players can start before the end arrives.
            container_options["movflags"] = "+faststart+use_metadata_tags"
        try:
            container = av.open(
                os.fspath(self._path), "w", format=self._fmt, container_options=container_options
            )
        except (av.error.FFmpegError, OSError) as error:
            raise OutputError(f"{self._path}: cannot write the file ({av_message(error)})") from None
        try:
            container.metadata.update(synthetic_text_fields())
            stream = container.add_stream(encoder, options=options)
            assert isinstance(stream, av.VideoStream)  # encoder names a video encoder
            stream.width, stream.height = self._stored_size
            stream.pix_fmt = pix_fmt
            if settings.threads:
                stream.codec_context.thread_count = settings.threads
            stream.time_base = self._time_base
            stream.codec_context.time_base = self._time_base
            rate = self._cfr_rate or self._info.average_rate
            if rate:
                stream.codec_context.framerate = rate
            if self._fmt == "avi":
                # B-frames need presentation times, which AVI cannot store.
                stream.codec_context.max_b_frames = 0
            if self._source.display_matrix is not None:
                stream.set_display_matrix(self._source.display_matrix)
            self._copy_colour_tags(stream)
            self._video = stream
            self._pix_fmt = pix_fmt
            self._audio = AudioOutput(self._path, self._fmt, container)
            if settings.audio:
                self._audio.add_streams(self._source.audio_streams)
        except (av.error.FFmpegError, ValueError) as error:
            close_quietly(container)
            raise OutputError(f"{self._path}: cannot set up the output ({av_message(error)})") from None
        realtime_before = realtime_threads() if encoder == "libsvtav1" else set()
        try:
            stream.codec_context.open()  # an encoder that cannot run (no GPU) fails here
        except av.error.FFmpegError as error:
            close_quietly(container)
            raise EncoderUnavailable(av_message(error)) from None
        finally:
            if encoder == "libsvtav1":  # real-time threads under root from here on (realtime.py)
                demote_realtime_threads(keep=realtime_before)
        try:
            container.start_encoding()  # the other streams, the file and the header: fail now, not mid-way
        except av.error.FFmpegError as error:
            close_quietly(container)
            raise OutputError(f"{self._path}: cannot write the file ({av_message(error)})") from None
        self._container = container

    def _copy_colour_tags(self, stream: Any) -> None:
        self._color_range: int | None = None
        self._colorspace: int | None = None
        source = self._source.colour
        if source is None:  # an animation: nothing to copy
            return
        context = stream.codec_context
        for name in ("colorspace", "color_primaries", "color_trc"):
            value = getattr(source, name, 0)
            if value and value != 2:  # 2 = unspecified
                setattr(context, name, value)
        self._color_range = source.color_range or None
        if source.pixel_format and source.pixel_format.startswith("yuvj"):
            self._color_range = 2  # full ("JPEG") range, implied by the yuvj formats
        if self._color_range:
            context.color_range = self._color_range
        self._colorspace = context.colorspace or None

    # -- writing

    def write_frame(
        self,
        frame: SourceFrame,
        image: np.ndarray | None,
        regions: Sequence[tuple[int, int, int, int]] | None = None,
    ) -> None:
        """Encode ``frame``: untouched (``image`` None), or with ``image``'s pixels.

        ``regions`` (x0, y0, x1, y1 in ``image``) says where ``image`` differs from the
        decoded frame; when the decoded frame can take them, only those rectangles are
        converted back to YUV and the rest of the frame keeps its decoded values exactly.
        """
        if image is not None and regions is not None:
            patched = self._patch_regions(frame, image, regions)
            if patched is not None:
                self._encode(frame, patched)
                return
        if image is None:
            native = frame.native
            assert native is not None  # VideoWriter.write_frame refuses that
            if isinstance(native, Image.Image):
                video_frame = av.VideoFrame.from_image(native.convert("RGB"))
                video_frame = self._reformat(video_frame)
            else:
                video_frame = native
                if (
                    video_frame.format.name != self._pix_fmt
                    or (video_frame.width, video_frame.height) != self._stored_size
                ):
                    video_frame = self._reformat(video_frame)
        else:
            picture = stored(image, self._orientation)
            video_frame = self._reformat(av.VideoFrame.from_ndarray(picture, format="bgr24"))
        self._encode(frame, video_frame)

    def _encode(self, frame: SourceFrame, video_frame: Any) -> None:
        video_frame.pts = self._next_pts(frame)
        video_frame.time_base = self._time_base
        video_frame.pict_type = av.video.frame.PictureType.NONE  # let the encoder choose
        # SVT-AV1 may start more threads, real-time ones under root, with the first frame
        svt_starting = self._frames == 0 and self.encoder_name == "libsvtav1"
        realtime_before = realtime_threads() if svt_starting else set()
        try:
            try:
                self._container.mux(self._video.encode(video_frame))
            finally:
                if svt_starting:
                    demote_realtime_threads(keep=realtime_before)
        except OSError as error:  # first: PyAV's errno errors (a full disk) are FFmpegErrors too
            raise OutputError(f"{self._path}: cannot write the file ({av_message(error)})") from None
        except av.error.FFmpegError as error:
            raise OutputError(
                f"{self._path}: could not encode frame {frame.index} ({av_message(error)})"
            ) from None
        self._frames += 1

    def _patch_regions(
        self, frame: SourceFrame, image: np.ndarray, regions: Sequence[tuple[int, int, int, int]]
    ) -> Any | None:
        """The decoded YUV 4:2:0 frame with only ``regions`` replaced from ``image``, or None
        when that shortcut does not apply (rotation, another pixel format or size)."""
        native = frame.native
        if (
            not isinstance(native, av.VideoFrame)
            or self._orientation != "none"
            or native.format.name != self._pix_fmt
            or self._pix_fmt != "yuv420p"
            or (native.width, native.height) != self._stored_size
        ):
            return None
        return patch_yuv420(native, image, regions, self._colorspace, self._color_range)

    def _reformat(self, video_frame: Any) -> Any:
        width, height = self._stored_size
        return video_frame.reformat(
            width=width,
            height=height,
            format=self._pix_fmt,
            dst_colorspace=self._colorspace,
            dst_color_range=self._color_range,
        )

    def _next_pts(self, frame: SourceFrame) -> int:
        if self._cfr_rate is not None:
            pts = round(frame.time * self._cfr_rate)
        elif frame.pts is not None and frame.time_base == self._time_base:
            pts = frame.pts
        elif frame.pts is not None and frame.time_base:
            pts = round(frame.pts * frame.time_base / self._time_base)
        else:
            pts = round(Fraction(frame.time).limit_denominator(1_000_000) / self._time_base)
        # Encoders and muxers need strictly increasing timestamps.
        if self._last_pts is not None and pts <= self._last_pts:
            logger.debug("frame %d: timestamp %d not after %d; moved", frame.index, pts, self._last_pts)
            pts = self._last_pts + 1
        self._last_pts = pts
        return pts

    def write_audio(self, chunk: AudioChunk) -> None:
        self._audio.write(chunk)

    def close(self) -> None:
        if self._closed:
            return
        if self._frames == 0:
            self.abort()
            raise OutputError(f"{self._path}: no frames to write")
        self._closed = True
        try:
            self._container.mux(self._video.encode(None))
            self._audio.flush()
            self._container.close()
        except OSError as error:  # first, as in _encode
            close_quietly(self._container)
            raise OutputError(f"{self._path}: cannot write the file ({av_message(error)})") from None
        except av.error.FFmpegError as error:
            close_quietly(self._container)
            raise OutputError(f"{self._path}: could not finish the video ({av_message(error)})") from None
        logger.debug("%s: wrote %d frames", self._path, self._frames)

    def abort(self) -> None:
        if self._closed:
            return
        self._closed = True
        close_quietly(self._container)
