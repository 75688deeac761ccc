"""Reading and writing videos and animated images without losing what the engine did not touch.

Videos go through PyAV (FFmpeg inside the wheel); animated GIF and WebP go through
Pillow (FFmpeg cannot decode animated WebP). Both stream: one frame at a time in,
one frame at a time out, so memory does not grow with the length of the input.

What an output keeps from its input: resolution, frame count, each frame's timestamp
(variable frame rate included), the stored orientation plus the display matrix that
tells players how to turn it, every audio stream (copied bit for bit when the output
container accepts the codec, else transcoded), and, for animations, per-frame
durations, the loop count and transparency. Every output is marked as synthetic media
(see :mod:`facedeck.core.media.metadata`). The writer writes to the path it is given; the
caller writes to a temporary name and renames on success.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import struct
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import av
import av.error
import numpy as np
from PIL import GifImagePlugin, Image, ImageFile

from ..errors import InputError, OutputError
from .image_io import PIL_DECODE_ERRORS
from .metadata import synthetic_text_fields, synthetic_xmp_packet

logger = logging.getLogger(__name__)

VIDEO_EXTENSIONS: frozenset[str] = frozenset({".mp4", ".mov", ".mkv", ".avi", ".webm"})
ANIMATED_EXTENSIONS: frozenset[str] = frozenset({".gif", ".webp"})

DEFAULT_MAX_PIXELS = 8192 * 8192

# Output container (FFmpeg muxer name, or our Pillow writers) by file extension.
_FORMAT_BY_EXTENSION = {
    ".mp4": "mp4",
    ".mov": "mov",
    ".mkv": "matroska",
    ".avi": "avi",
    ".webm": "webm",
    ".gif": "gif",
    ".webp": "webp",
}
_ANIMATION_FORMATS = frozenset({"gif", "webp"})

# EncoderSettings.codec -> (software encoder, NVENC encoder or None).
_ENCODERS: dict[str, tuple[str, str | None]] = {
    "h264": ("libx264", "h264_nvenc"),
    "hevc": ("libx265", "hevc_nvenc"),
    "vp9": ("libvpx-vp9", None),
    "av1": ("libsvtav1", "av1_nvenc"),
    "ffv1": ("ffv1", None),
}
# What a container gets instead when it cannot hold the requested codec (webm: no h264).
_CODEC_PREFERENCE = ("h264", "vp9", "av1", "hevc")

# Audio codecs copied as they are into each container (players cope with these there);
# None: whatever the muxer accepts. Anything else is transcoded to _AUDIO_TARGET.
_AUDIO_COPY: dict[str, frozenset[str] | None] = {
    "mp4": frozenset({"aac", "mp3", "opus", "ac3", "eac3", "alac", "flac"}),
    "mov": frozenset(
        {"aac", "mp3", "alac", "ac3", "eac3", "pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s24be", "pcm_f32le"}
    ),
    "matroska": None,
    "webm": frozenset({"opus", "vorbis"}),
    "avi": frozenset({"mp3", "ac3", "aac", "pcm_s16le", "pcm_s24le", "pcm_u8"}),
}
_AUDIO_TARGET = {"mp4": "aac", "mov": "aac", "matroska": "aac", "webm": "libopus", "avi": "libmp3lame"}
_AUDIO_BIT_RATE = {"aac": 192_000, "libopus": 160_000, "libmp3lame": 192_000}

_X26X_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)

_NVENC_PRESETS = ("p1", "p2", "p3", "p4", "p5", "p6", "p7")

# Consecutive undecodable frames after which the input is given up as corrupt.
_MAX_CONSECUTIVE_BAD_FRAMES = 25
# Packets looked at when guessing whether the frame rate is variable.
_VFR_PROBE_PACKETS = 64


# FFmpeg's display matrix is 3x3 int32: 16.16 fixed point, last column 2.30.
_IDENTITY_MATRIX = (1 << 16, 0, 0, 0, 1 << 16, 0, 0, 0, 1 << 30)


def is_video_input(path: str | os.PathLike[str]) -> bool:
    """True for video extensions, .gif, and .webp files holding more than one frame."""
    suffix = Path(path).suffix.lower()
    if suffix in VIDEO_EXTENSIONS or suffix == ".gif":
        return True
    if suffix != ".webp":
        return False
    # A still WebP is an image; only an animated one goes through the video pipeline.
    try:
        with Image.open(path) as image:
            return getattr(image, "n_frames", 1) > 1
    except PIL_DECODE_ERRORS:
        return False  # unreadable: the image reader reports why


def is_video_output(path: str | os.PathLike[str]) -> bool:
    """True when the extension names a container this module writes (video or animation)."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS | ANIMATED_EXTENSIONS


def container_format_for(path: str | os.PathLike[str]) -> str:
    """The ``container_format`` for an output path: "mp4", "mov", "matroska", "avi", "webm", "gif", "webp"."""
    suffix = Path(path).suffix.lower()
    fmt = _FORMAT_BY_EXTENSION.get(suffix)
    if fmt is None:
        allowed = " ".join(sorted(VIDEO_EXTENSIONS | ANIMATED_EXTENSIONS))
        problem = f"cannot write {suffix} video" if suffix else "has no file extension"
        raise OutputError(f"{path}: {problem}; use one of {allowed}")
    return fmt


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
    """One decoded frame, upright, with its original timestamp."""

    index: int
    pts: int | None
    time_base: Fraction | None
    time: float
    duration: float | None
    image: np.ndarray  # BGR uint8, upright, C-contiguous
    native: object  # av.VideoFrame, or a PIL image for animations


@dataclass
class AudioChunk:
    """One demuxed audio packet, in file order with the video."""

    packet: object  # av.Packet
    stream_index: int


# --------------------------------------------------------------------------- orientation


def _orientation_op(matrix: tuple[int, ...] | None) -> str:
    """The operation that turns the stored picture upright, as FFmpeg's autorotate does.

    One of "none", "cw", "ccw", "transpose", "antitranspose", "hflip", "vflip",
    "rot180". Arbitrary angles are not supported (treated as "none").
    """
    if matrix is None:
        return "none"
    theta = _clockwise_degrees(matrix)
    if theta == 90:
        return "transpose" if matrix[3] > 0 else "cw"
    if theta == 270:
        return "antitranspose" if matrix[3] < 0 else "ccw"
    if theta == 180:
        hflip, vflip = matrix[0] < 0, matrix[4] < 0
        return "rot180" if hflip and vflip else "hflip" if hflip else "vflip" if vflip else "none"
    if theta == 0:
        return "vflip" if matrix[4] < 0 else "none"
    return "none"


def _clockwise_degrees(matrix: tuple[int, ...]) -> int:
    """Nearest multiple of 90 of the clockwise rotation in a display matrix (av_display_rotation_get)."""
    scale0 = np.hypot(matrix[0], matrix[3])
    scale1 = np.hypot(matrix[1], matrix[4])
    if scale0 == 0 or scale1 == 0:
        return 0
    # av_display_rotation_get() returns minus this angle (counter-clockwise degrees).
    clockwise = float(np.degrees(np.arctan2(matrix[1] / scale1, matrix[0] / scale0))) % 360
    nearest = int(round(clockwise / 90.0)) * 90 % 360
    if abs(((clockwise - nearest) + 180) % 360 - 180) > 1:
        logger.warning("display rotation of %.1f degrees is not a multiple of 90; ignored", clockwise)
        return 0
    return nearest


def _upright(image: np.ndarray, op: str) -> np.ndarray:
    if op == "cw":
        image = np.rot90(image, -1)
    elif op == "ccw":
        image = np.rot90(image, 1)
    elif op == "transpose":
        image = image.swapaxes(0, 1)
    elif op == "antitranspose":
        image = np.rot90(image, 2).swapaxes(0, 1)
    elif op == "hflip":
        image = image[:, ::-1]
    elif op == "vflip":
        image = image[::-1]
    elif op == "rot180":
        image = image[::-1, ::-1]
    return np.ascontiguousarray(image)


def _stored(image: np.ndarray, op: str) -> np.ndarray:
    """Inverse of :func:`_upright`: back to the orientation the input stored."""
    inverse = {"cw": "ccw", "ccw": "cw"}.get(op, op)  # the others undo themselves
    return _upright(image, inverse)


def _i420_planes(packed: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U and V planes of a packed yuv420p array (even width and height).

    The chroma planes are not whole rows of the packed array when height / 2 is odd, so
    split the flat buffer by plane sizes instead of by rows.
    """
    flat = packed.reshape(-1)
    luma_size = width * height
    chroma_size = (width // 2) * (height // 2)
    luma = flat[:luma_size].reshape(height, width)
    chroma_u = flat[luma_size : luma_size + chroma_size].reshape(height // 2, width // 2)
    chroma_v = flat[luma_size + chroma_size : luma_size + 2 * chroma_size].reshape(height // 2, width // 2)
    return luma, chroma_u, chroma_v


def _display_matrix(frame: av.VideoFrame) -> tuple[int, ...] | None:
    # Iterate, don't use the Mapping helpers: PyAV 18's values()/items() mix up their keys.
    for side_data in frame.side_data:
        if side_data.type.name == "DISPLAYMATRIX":
            values = tuple(int(v) for v in np.frombuffer(bytes(side_data), dtype=np.int32)[:9])
            return None if values == _IDENTITY_MATRIX else values
    return None


# --------------------------------------------------------------------------- reading


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
        self._animation_alpha = False
        self._audio_templates: dict[int, Any] = {}  # stream index -> input audio stream (probe container)
        self._video_index = 0
        self._is_avi = False
        self._check_file()
        if self.path.suffix.lower() in ANIMATED_EXTENSIONS and self._sniff_animation():
            self.info = self._probe_animation()
        else:
            self.info = self._probe_video()

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
        try:
            size = self.path.stat().st_size
            if self.path.is_dir():
                raise VideoInputError(f"{self._source}: is a folder, not a video file")
            with open(self.path, "rb") as handle:
                head = handle.read(4096)
        except FileNotFoundError:
            raise VideoInputError(f"{self._source}: file not found") from None
        except PermissionError:
            raise VideoInputError(f"{self._source}: permission denied") from None
        except OSError as error:
            raise VideoInputError(f"{self._source}: cannot read the file ({_av_message(error)})") from None
        if size == 0:
            raise VideoInputError(f"{self._source} is empty")
        # FFmpeg would open some text as a video (its tty demuxer): refuse text up front.
        if _looks_like_text(head):
            what = "an HTML page, perhaps a failed download" if b"<html" in head.lower() else "text"
            raise VideoInputError(f"{self._source} is not a video file (it contains {what})")
        self._head = head

    def _sniff_animation(self) -> bool:
        head = self._head
        return head[:6] in (b"GIF87a", b"GIF89a") or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")

    def _open_container(self) -> Any:
        try:
            return av.open(self._source, "r", metadata_errors="replace")
        except av.error.InvalidDataError:
            raise self._fail(": truncated or corrupt video") from None
        except av.error.PermissionError:
            raise self._fail(": permission denied") from None
        except av.error.FFmpegError as error:
            raise self._fail(f": cannot open the video ({_av_message(error)})") from None

    def _probe_video(self) -> VideoInfo:
        container = self._open_container()
        self._probe = container
        stream = _main_video_stream(container)
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
        self._matrix = _display_matrix(first)
        self._orientation = _orientation_op(self._matrix)
        rotation = _clockwise_degrees(self._matrix) if self._matrix else 0
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
                        if failures > _MAX_CONSECUTIVE_BAD_FRAMES:
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
        try:
            image = Image.open(self.path)
        except PIL_DECODE_ERRORS as error:
            raise self._fail(f": truncated or corrupt animation ({_one_line(error)})") from None
        self._probe = image
        width, height = image.size
        if width * height > self._max_pixels:
            raise self._fail(
                f": animation is {width}x{height} pixels, above the limit of {self._max_pixels:,} pixels"
            )
        # Durations live in each frame's header: one pass, a frame at a time.
        durations = []
        try:
            count = getattr(image, "n_frames", 1)  # GIF: walks the file, so a cut file fails here
            for index in range(count):
                image.seek(index)
                if image.format == "WEBP":
                    image.load()  # the WebP plugin fills info["duration"] on load; GIF on seek
                durations.append(int(image.info.get("duration", 0) or 0))
                if index == 0:
                    image.load()  # a file cut inside the first frame fails now, not mid-job
                    self._animation_alpha = image.has_transparency_data
            image.seek(0)
        except PIL_DECODE_ERRORS as error:
            raise self._fail(f": truncated or corrupt animation ({_one_line(error)})") from None
        total = sum(durations)
        fmt = (image.format or self.path.suffix[1:]).lower()
        return VideoInfo(
            path=self.path,
            container=fmt,
            codec=fmt,
            width=width,
            height=height,
            rotation=0,
            frame_count=count,
            duration=total / 1000 if total else None,
            average_rate=Fraction(count * 1000, total).limit_denominator(1000) if total else None,
            time_base=Fraction(1, 1000),
            has_audio=False,
            audio_codecs=(),
            variable_frame_rate=len(set(durations)) > 1,
            loop=image.info.get("loop"),
        )

    # -- reading

    def items(self, with_audio: bool = True) -> Iterator[SourceFrame | AudioChunk]:
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
            packets = container.demux(stream, *audio)
            while True:
                try:
                    packet = next(packets)
                except StopIteration:
                    break
                except av.error.FFmpegError as error:
                    # A damaged tail: keep what came before, as players do.
                    self.truncated = True
                    logger.warning(
                        "%s: the video is damaged after frame %d (%s); the rest is skipped",
                        self._source,
                        index,
                        _av_message(error),
                    )
                    packet = None  # flush the decoder, then stop
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
                        _av_message(error),
                    )
                    if bad_in_a_row > _MAX_CONSECUTIVE_BAD_FRAMES:
                        raise VideoInputError(
                            f"{self._source}: truncated or corrupt video ({bad_in_a_row} bad frames in a row)"
                        ) from None
                    frames = []
                for frame in frames:
                    yield self._source_frame(index, frame, stream)
                    index += 1
                if packet is None:
                    break
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
        if pts is not None and time_base:
            seconds = float((pts - start) * time_base)
        else:
            seconds = float(index / self.info.average_rate) if self.info.average_rate else 0.0
        duration = float(frame.duration * time_base) if frame.duration and time_base else None
        image = _upright(_frame_to_bgr(frame), self._orientation)
        return SourceFrame(
            index=index,
            pts=pts,
            time_base=time_base,
            time=seconds,
            duration=duration,
            image=image,
            native=frame,
        )

    def _animation_items(self) -> Iterator[SourceFrame]:
        try:
            image = Image.open(self.path)
        except PIL_DECODE_ERRORS as error:
            raise VideoInputError(
                f"{self._source}: truncated or corrupt animation ({_one_line(error)})"
            ) from None
        self._reading = image
        try:
            now = 0
            count = self.info.frame_count or 1
            for index in range(count):
                try:
                    image.seek(index)
                    image.load()
                    mode = "RGBA" if self._animation_alpha else "RGB"
                    native = image.convert(mode)  # a copy: seek() reuses the frame buffer
                except PIL_DECODE_ERRORS as error:
                    reason = _one_line(error)
                    raise VideoInputError(
                        f"{self._source}: truncated or corrupt animation at frame {index} ({reason})"
                    ) from None
                duration = int(image.info.get("duration", 0) or 0)
                rgb = np.asarray(native)[..., :3]
                yield SourceFrame(
                    index=index,
                    pts=now,
                    time_base=Fraction(1, 1000),
                    time=now / 1000,
                    duration=duration / 1000,
                    image=np.ascontiguousarray(rgb[..., ::-1]),
                    native=native,
                )
                now += duration
        finally:
            self._reading = None
            image.close()


def _decode(stream: Any, packet: Any) -> list[Any]:
    """Decode one packet (None flushes): a seam for tests."""
    return stream.decode(packet)


def _main_video_stream(container: Any) -> Any:
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


def _frame_to_bgr(frame: Any) -> np.ndarray:
    # Pass the frame's own range: swscale assumes limited range when told nothing.
    color_range = frame.color_range or None
    return np.ascontiguousarray(frame.to_ndarray(format="bgr24", src_color_range=color_range))


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A cut in the middle of a multi-byte character at the 4 KB boundary.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in text)


# --------------------------------------------------------------------------- writing


@dataclass
class EncoderSettings:
    """How a video output is encoded.

    ``quality`` 0-100 maps onto each encoder's scale (see :func:`encoder_options`);
    100 is mathematically lossless. ``preset`` uses the software encoder's own names
    (x264/x265 "medium", VP9 cpu-used "0".."8", SVT-AV1 "0".."13"); NVENC takes
    "p1".."p7" and uses its default for any other name.
    ``hardware``: "auto" tries NVENC first and falls back to software, "off" never
    uses it, "nvenc" requires it.
    """

    codec: str = "h264"
    quality: int = 82
    preset: str | None = None
    hardware: str = "auto"
    pixel_format: str = "yuv420p"
    audio: bool = True
    threads: int | None = None  # encoder threads; None lets the encoder choose


def encoder_options(encoder: str, quality: int, preset: str | None = None) -> dict[str, str]:
    """FFmpeg options for ``encoder`` at ``quality`` (0-100).

    x264/x265/NVENC: CRF/CQ = 100 - quality (capped at 51), so the default 82 is CRF 18
    (near visually lossless) and 77 is x264's own default 23. VP9: CRF = 1.2 x (100 -
    quality), capped at 63. SVT-AV1: CRF = 1.25 x (100 - quality), 1..63. Quality 100
    is lossless for all of them (x264 CRF 0, x265/VP9/SVT-AV1 lossless mode, NVENC
    lossless tune).
    """
    loss = 100 - quality
    if encoder in ("libx264", "libx265") and preset is not None and preset not in _X26X_PRESETS:
        # Checked here: x264 prints its own complaint to stderr and FFmpeg only says "Invalid argument".
        raise OutputError(f"unknown {encoder} preset {preset}; use one of {' '.join(_X26X_PRESETS)}")
    if encoder == "libx264":
        return {"crf": str(min(51, loss)), "preset": preset or "medium"}
    if encoder == "libx265":
        # x265 logs to stderr itself unless told not to.
        params = "log-level=error:lossless=1" if loss == 0 else "log-level=error"
        options = {"preset": preset or "medium", "x265-params": params}
        if loss:
            options["crf"] = str(min(51, loss))
        return options
    if encoder in ("libvpx-vp9", "libsvtav1") and preset is not None and not preset.isdigit():
        raise OutputError(f"{encoder} presets are numbers (VP9 cpu-used 0-8, SVT-AV1 0-13), not {preset}")
    if encoder == "libvpx-vp9":
        options = {"b": "0", "row-mt": "1", "deadline": "good", "cpu-used": preset or "4"}
        if loss == 0:
            options["lossless"] = "1"
        else:
            options["crf"] = str(min(63, round(1.2 * loss)))
        return options
    if encoder == "libsvtav1":
        if loss == 0:
            return {"preset": preset or "8", "svtav1-params": "lossless=1"}
        return {"preset": preset or "8", "crf": str(max(1, min(63, round(1.25 * loss))))}
    if encoder.endswith("_nvenc"):
        # NVENC has its own preset names (p1-p7); a software preset name means "default" here.
        preset = preset if preset in _NVENC_PRESETS else None
        if loss == 0:
            return {"preset": preset or "p5", "tune": "lossless"}
        return {
            "preset": preset or "p5",
            "tune": "hq",
            "rc": "vbr",
            "cq": str(max(1, min(51, loss))),
            "b": "0",
        }
    return {}  # ffv1 and others: lossless or their own defaults


class VideoWriter:
    """Encodes frames from a :class:`VideoReader` into ``path``, keeping what the input had.

    ``container_format`` names the output container ("mp4", "mov", "matroska", "avi",
    "webm", "gif", "webp"); pass it when ``path`` is a temporary name (see
    :func:`container_format_for`). ``encoder_name`` says what actually encodes
    ("libx264", "h264_nvenc", "Pillow GIF", ...). Raises :class:`OutputError`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        reader: VideoReader,
        settings: EncoderSettings,
        *,
        container_format: str | None = None,
    ) -> None:
        self.path = Path(path)
        fmt = container_format or container_format_for(self.path)
        fmt = {"mkv": "matroska"}.get(fmt, fmt)
        if fmt not in _FORMAT_BY_EXTENSION.values():
            raise OutputError(f"{self.path}: cannot write {fmt} containers")
        self._sink: _AvSink | _AnimationSink
        if fmt in _ANIMATION_FORMATS:
            self._sink = _AnimationSink(self.path, reader, settings, fmt)
        else:
            self._sink = _AvSink(self.path, reader, settings, fmt)
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
        the decoded frame: video outputs then convert just those back to YUV.
        """
        if image is not None:
            expected = frame.image.shape
            if image.shape != expected or image.dtype != np.uint8:
                raise ValueError(f"image must be uint8 {expected}, got {image.dtype} {image.shape}")
        self._sink.write_frame(frame, image, regions)

    def write_audio(self, chunk: AudioChunk) -> None:
        """Copy or transcode one audio packet (ignored when the output has no audio)."""
        self._sink.write_audio(chunk)

    def close(self) -> None:
        """Flush the encoders and finish the file."""
        self._sink.close()

    def abort(self) -> None:
        """Stop without finishing properly; the caller deletes the file."""
        self._sink.abort()


class _AvSink:
    """Video containers through PyAV."""

    def __init__(self, path: Path, reader: VideoReader, settings: EncoderSettings, fmt: str) -> None:
        self._path = path
        self._reader = reader
        self._info = info = reader.info
        self._fmt = fmt
        self._closed = False
        self._last_pts: int | None = None
        self._frames = 0
        self._orientation = reader._orientation

        quality = int(settings.quality)
        if not 0 <= quality <= 100:
            raise OutputError(f"video quality must be 0-100, got {settings.quality}")
        requested = settings.codec.lower()
        codec = self._pick_codec(requested)
        if codec != requested and settings.preset:
            # Preset names belong to one encoder; the substitute uses its own default.
            logger.warning("preset %s is for %s; %s uses its default", settings.preset, requested, codec)
            settings = dataclasses.replace(settings, preset=None)
        candidates = self._candidates(codec, settings.hardware.lower())

        # Stored (coded) size: the output keeps the input's orientation plus its display matrix.
        stored_w, stored_h = info.width, info.height
        if info.rotation in (90, 270):
            stored_w, stored_h = stored_h, stored_w
        self._stored_size = (stored_w, stored_h)

        # AVI has no timestamps: its time base is one frame.
        self._cfr_rate: Fraction | None = None
        if fmt == "avi":
            self._cfr_rate = _avi_rate(info)
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
            except _EncoderUnavailable as error:
                errors.append(f"{encoder}: {error}")
                if encoder.endswith("_nvenc") and settings.hardware.lower() == "auto":
                    logger.info("%s cannot be used (%s); using software encoding", encoder, error)
                    continue
                break
            self.encoder_name = encoder
            logger.info("%s: encoding %s with %s", path, codec, encoder)
            for note in self._audio_notes:
                logger.log(logging.WARNING if note.endswith("dropped") else logging.INFO, note)
            return
        raise OutputError(
            f"{path}: cannot open the video encoder ({'; '.join(errors)}); check the preset and pixel format"
        )

    # -- setup

    def _pick_codec(self, codec: str) -> str:
        if codec not in _ENCODERS:
            raise OutputError(f"unknown video codec {codec}; use one of {' '.join(_ENCODERS)}")
        software = _ENCODERS[codec][0]
        if software not in av.codecs_available:
            available = " ".join(name for name, (enc, _) in _ENCODERS.items() if enc in av.codecs_available)
            raise OutputError(
                f"video codec {codec} ({software}) is not in this FFmpeg build; available: {available}"
            )
        supported = _muxer_codecs(self._fmt)
        if codec in supported:
            return codec
        for other in _CODEC_PREFERENCE:
            if other in supported and _ENCODERS[other][0] in av.codecs_available:
                logger.warning("%s cannot hold %s video; encoding %s instead", self._fmt, codec, other)
                return other
        raise OutputError(f"{self._fmt} cannot hold {codec} video")

    def _candidates(self, codec: str, hardware: str) -> list[str]:
        software, nvenc = _ENCODERS[codec]
        if hardware == "off":
            return [software]
        if hardware == "auto":
            return [nvenc, software] if nvenc and nvenc in av.codecs_available else [software]
        if hardware == "nvenc":
            if not nvenc or nvenc not in av.codecs_available:
                raise OutputError(
                    f"no NVENC encoder for {codec} in this FFmpeg build; use hardware auto or off"
                )
            return [nvenc]
        raise OutputError(f"unknown hardware setting {hardware}; use auto, off or nvenc")

    def _open(self, encoder: str, quality: int, settings: EncoderSettings) -> None:
        """Open the container with ``encoder``; _EncoderUnavailable when the encoder won't open."""
        pix_fmt = self._pixel_format(encoder, settings.pixel_format)
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
            raise OutputError(f"{self._path}: cannot write the file ({_av_message(error)})") from None
        try:
            container.metadata.update(synthetic_text_fields())
            stream = container.add_stream(encoder, options=options)
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
            if self._reader._matrix is not None:
                stream.set_display_matrix(self._reader._matrix)
            self._copy_colour_tags(stream)
            self._video = stream
            self._pix_fmt = pix_fmt
            self._audio: dict[int, _AudioRoute] = {}
            self._audio_notes: list[str] = []  # logged once the output is open (it may be tried twice)
            if settings.audio:
                self._add_audio(container)
        except (av.error.FFmpegError, ValueError) as error:
            _close_quietly(container)
            raise OutputError(f"{self._path}: cannot set up the output ({_av_message(error)})") from None
        try:
            stream.codec_context.open()  # an encoder that cannot run (no GPU) fails here
        except av.error.FFmpegError as error:
            _close_quietly(container)
            raise _EncoderUnavailable(_av_message(error)) from None
        try:
            container.start_encoding()  # the other streams, the file and the header: fail now, not mid-way
        except av.error.FFmpegError as error:
            _close_quietly(container)
            raise OutputError(f"{self._path}: cannot write the file ({_av_message(error)})") from None
        self._container = container

    def _pixel_format(self, encoder: str, wanted: str) -> str:
        supported = [fmt.name for fmt in (av.Codec(encoder, "w").video_formats or ())]
        if supported and wanted not in supported:
            raise OutputError(f"{encoder} cannot encode {wanted}; use one of {' '.join(supported)}")
        width, height = self._stored_size
        if (width % 2 or height % 2) and wanted in ("yuv420p", "nv12", "yuv422p") and encoder != "libvpx-vp9":
            if "yuv444p" in supported:
                # H.264/HEVC 4:2:0 needs even sizes; 4:4:4 keeps the exact resolution.
                logger.warning("%dx%d is odd-sized: encoding yuv444p instead of %s", width, height, wanted)
                return "yuv444p"
            raise OutputError(f"{encoder} cannot encode the odd size {width}x{height}")
        return wanted

    def _copy_colour_tags(self, stream: Any) -> None:
        self._color_range: int | None = None
        self._colorspace: int | None = None
        probe = self._reader._probe
        if not isinstance(probe, av.container.InputContainer):
            return
        source = probe.streams[self._reader._video_index].codec_context
        context = stream.codec_context
        for name in ("colorspace", "color_primaries", "color_trc"):
            value = getattr(source, name, 0)
            if value and value != 2:  # 2 = unspecified
                setattr(context, name, value)
        self._color_range = source.color_range or None
        if source.pix_fmt and source.pix_fmt.startswith("yuvj"):
            self._color_range = 2  # full ("JPEG") range, implied by the yuvj formats
        if self._color_range:
            context.color_range = self._color_range
        self._colorspace = context.colorspace or None

    def _add_audio(self, container: Any) -> None:
        supported = _muxer_codecs(self._fmt)
        allowed = _AUDIO_COPY[self._fmt]
        for template in self._reader._audio_templates.values():
            context = template.codec_context
            name = context.name if context is not None else None
            if name and name in supported and (allowed is None or name in allowed):
                out = container.add_stream_from_template(template)
                route = _AudioRoute(out, transcode=False)
                self._audio_notes.append(f"audio stream {template.index}: copying {name}")
            elif context is None:
                self._audio_notes.append(f"audio stream {template.index}: no decoder in this build; dropped")
                continue
            else:
                target = _AUDIO_TARGET[self._fmt]
                rate = _encoder_rate(target, context.sample_rate)
                out = container.add_stream(target, rate=rate)
                # MP3 has no surround: downmix; AAC and Opus keep the layout.
                many = target == "libmp3lame" and context.layout.nb_channels > 2
                out.layout = "stereo" if many else context.layout.name
                out.bit_rate = _AUDIO_BIT_RATE.get(target, 192_000)
                out.time_base = Fraction(1, rate)
                route = _AudioRoute(out, transcode=True)
                index = template.index
                self._audio_notes.append(f"audio stream {index}: {name} -> {target} ({self._fmt} needs it)")
            if template.language:
                out.metadata["language"] = template.language
            self._audio[template.index] = route

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
            stored = _stored(image, self._orientation)
            video_frame = self._reformat(av.VideoFrame.from_ndarray(stored, format="bgr24"))
        self._encode(frame, video_frame)

    def _encode(self, frame: SourceFrame, video_frame: Any) -> None:
        video_frame.pts = self._next_pts(frame)
        video_frame.time_base = self._time_base
        video_frame.pict_type = av.video.frame.PictureType.NONE  # let the encoder choose
        try:
            self._container.mux(self._video.encode(video_frame))
        except av.error.FFmpegError as error:
            raise OutputError(
                f"{self._path}: could not encode frame {frame.index} ({_av_message(error)})"
            ) from None
        except OSError as error:
            raise OutputError(f"{self._path}: cannot write the file ({_av_message(error)})") from None
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
        width, height = self._stored_size
        planes = native.to_ndarray()  # (H * 3 / 2, W): Y, then U and V at half resolution
        luma, chroma_u, chroma_v = _i420_planes(planes, width, height)
        for x0, y0, x1, y1 in regions:
            # 4:2:0 chroma covers 2x2 blocks: widen to even edges
            x0, y0 = max(0, x0 - x0 % 2), max(0, y0 - y0 % 2)
            x1, y1 = min(width, x1 + x1 % 2), min(height, y1 + y1 % 2)
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            patch = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[y0:y1, x0:x1]), format="bgr24")
            patch = patch.reformat(
                format="yuv420p", dst_colorspace=self._colorspace, dst_color_range=self._color_range
            ).to_ndarray()
            patch_y, patch_u, patch_v = _i420_planes(patch, x1 - x0, y1 - y0)
            luma[y0:y1, x0:x1] = patch_y
            chroma_u[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = patch_u
            chroma_v[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = patch_v
        patched = av.VideoFrame.from_ndarray(planes, format="yuv420p")
        if self._colorspace:
            patched.colorspace = self._colorspace
        if self._color_range:
            patched.color_range = self._color_range
        return patched

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
        route = self._audio.get(chunk.stream_index)
        if route is None:
            return
        packet: Any = chunk.packet
        try:
            if not route.transcode:
                packet.stream = route.out  # remux: timestamps are rescaled from the packet's own time base
                self._mux_audio(route, [packet])
            else:
                route.source = packet.stream  # the reader's stream decodes it (and is flushed at the end)
                for audio_frame in packet.stream.decode(packet):
                    self._mux_audio(route, route.out.encode(audio_frame))
        except av.error.InvalidDataError as error:
            logger.warning("%s: skipped a corrupt audio packet (%s)", self._path, _av_message(error))
        except av.error.FFmpegError as error:
            raise OutputError(f"{self._path}: could not write audio ({_av_message(error)})") from None
        except OSError as error:
            raise OutputError(f"{self._path}: cannot write the file ({_av_message(error)})") from None

    def _mux_audio(self, route: _AudioRoute, packets: list[Any]) -> None:
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

    def close(self) -> None:
        if self._closed:
            return
        if self._frames == 0:
            self.abort()
            raise OutputError(f"{self._path}: no frames to write")
        self._closed = True
        try:
            self._container.mux(self._video.encode(None))
            for route in self._audio.values():
                if route.transcode:
                    for audio_frame in route.source.decode(None) if route.source is not None else []:
                        self._mux_audio(route, route.out.encode(audio_frame))
                    self._mux_audio(route, route.out.encode(None))
            self._container.close()
        except av.error.FFmpegError as error:
            _close_quietly(self._container)
            raise OutputError(f"{self._path}: could not finish the video ({_av_message(error)})") from None
        except OSError as error:
            _close_quietly(self._container)
            raise OutputError(f"{self._path}: cannot write the file ({_av_message(error)})") from None
        logger.debug("%s: wrote %d frames", self._path, self._frames)

    def abort(self) -> None:
        if self._closed:
            return
        self._closed = True
        _close_quietly(self._container)


@dataclass
class _AudioRoute:
    out: Any  # output stream
    transcode: bool  # decode and re-encode, or copy packets as they are
    source: Any = None  # the input stream being decoded (transcoding)
    offset: int | None = None  # AVI: ticks added so the stream starts at 0


class _EncoderUnavailable(Exception):
    """An encoder that could not be opened (no GPU, unsupported settings)."""


def _muxer_codecs(fmt: str) -> set[str]:
    return _SUPPORTED_CODECS_CACHE.setdefault(fmt, _query_muxer_codecs(fmt))


_SUPPORTED_CODECS_CACHE: dict[str, set[str]] = {}


def _query_muxer_codecs(fmt: str) -> set[str]:
    container = av.open(io.BytesIO(), "w", format=fmt)
    try:
        return set(container.supported_codecs)
    finally:
        _close_quietly(container)


def _encoder_rate(encoder: str, rate: int) -> int:
    rates = av.Codec(encoder, "w").audio_rates
    if not rates or rate in rates:
        return rate
    return 48_000 if 48_000 in rates else max(rates)


def _avi_rate(info: VideoInfo) -> Fraction:
    rate = info.average_rate or Fraction(25)
    # A sane frame period for AVI's one-tick-per-frame clock.
    return rate.limit_denominator(1001)


def _close_quietly(container: Any) -> None:
    try:
        container.close()
    except (av.error.FFmpegError, OSError, ValueError) as error:
        logger.debug("ignored while closing: %s", error)


# --------------------------------------------------------------------------- animations


class _AnimationSink:
    """Animated GIF or WebP through Pillow, a frame at a time.

    GIF frames are quantised and written as they come (Pillow's ``getheader`` /
    ``getdata``). Animated WebP needs every frame at once in Pillow, so frames are
    spooled raw to a temporary file next to the output and read back one by one.
    """

    def __init__(self, path: Path, reader: VideoReader, settings: EncoderSettings, fmt: str) -> None:
        self._path = path
        self._fmt = fmt
        self._reader = reader
        self._quality = int(settings.quality)
        info = reader.info
        self._size = (info.width, info.height)
        self._alpha = reader._animation_alpha
        self._loop = info.loop if info.container in ("gif", "webp") else 0
        self._pending: tuple[SourceFrame, Image.Image] | None = None
        self._durations: list[int] = []
        # Durations are rounded on the running end time (GIF: 10 ms steps), so no drift builds up.
        self._source_ms = 0.0
        self._written_ms = 0
        self._closed = False
        self._count = 0
        self.encoder_name = "Pillow GIF" if fmt == "gif" else "Pillow WebP"
        try:
            self._file: IO[bytes] = open(path, "wb")
            self._spool: IO[bytes] | None = None
            if fmt == "webp":
                self._spool = tempfile.TemporaryFile(dir=path.parent, prefix=".facedeck-", suffix=".frames")
        except OSError as error:
            raise OutputError(f"{path}: cannot write the file ({_av_message(error)})") from None

    def write_frame(
        self,
        frame: SourceFrame,
        image: np.ndarray | None,
        regions: Sequence[tuple[int, int, int, int]] | None = None,
    ) -> None:
        del regions  # palette and WebP frames are rebuilt whole anyway
        picture = self._picture(frame, image)
        # A frame's duration may only be known from the next frame's time.
        if self._pending is not None:
            previous, previous_picture = self._pending
            self._emit(previous_picture, self._duration_ms(previous, frame.time))
        self._pending = (frame, picture)

    def _picture(self, frame: SourceFrame, image: np.ndarray | None) -> Image.Image:
        native = frame.native
        if image is None:
            if isinstance(native, Image.Image):
                picture = native
            else:
                picture = Image.fromarray(np.ascontiguousarray(frame.image[..., ::-1]))
        else:
            picture = Image.fromarray(np.ascontiguousarray(image[..., ::-1]))
            if self._alpha and isinstance(native, Image.Image) and native.mode == "RGBA":
                # The engine works on colour only: keep the input's alpha.
                picture.putalpha(native.getchannel("A"))
        mode = "RGBA" if self._alpha else "RGB"
        return picture if picture.mode == mode else picture.convert(mode)

    def _duration_ms(self, frame: SourceFrame, next_time: float | None) -> float:
        # The gap to the next frame is exact; stored durations can be rounded (Matroska: 41 ms at 24 fps).
        if next_time is not None:
            return max(0.0, (next_time - frame.time) * 1000)
        if frame.duration is not None:
            return max(0.0, frame.duration * 1000)
        rate = self._reader.info.average_rate
        return float(1000 / rate) if rate else 100.0

    def _emit(self, picture: Image.Image, exact_ms: float) -> None:
        step = 10 if self._fmt == "gif" else 1  # GIF counts in centiseconds
        self._source_ms += exact_ms
        end = int(round(self._source_ms / step)) * step
        duration_ms = max(0, end - self._written_ms)
        self._written_ms = max(self._written_ms, end)
        try:
            if self._fmt == "gif":
                self._write_gif_frame(picture, duration_ms)
            else:
                assert self._spool is not None
                self._spool.write(picture.tobytes())
                self._durations.append(duration_ms)
        except OSError as error:
            raise OutputError(f"{self._path}: cannot write the file ({_av_message(error)})") from None
        self._count += 1

    def _write_gif_frame(self, picture: Image.Image, duration_ms: int) -> None:
        paletted, transparency = _quantize(picture)
        params: dict[str, Any] = {"duration": duration_ms, "disposal": 2 if transparency is not None else 1}
        if transparency is not None:
            params["transparency"] = transparency
        if self._count == 0:
            info: dict[str, Any] = {"comment": _gif_comment(), "optimize": False}
            if self._loop is not None:
                info["loop"] = self._loop
            if transparency is not None:
                info["transparency"] = transparency
            header, _ = GifImagePlugin.getheader(paletted, None, info)
            for part in header:
                self._file.write(part)
        else:
            params["include_color_table"] = True  # each frame has its own palette
        for part in GifImagePlugin.getdata(paletted, (0, 0), **params):
            self._file.write(part)

    def write_audio(self, chunk: AudioChunk) -> None:
        pass  # animations have no sound

    def close(self) -> None:
        if self._closed:
            return
        if self._pending is not None:
            frame, picture = self._pending
            self._pending = None
            self._emit(picture, self._duration_ms(frame, None))
        if self._count == 0:
            self.abort()
            raise OutputError(f"{self._path}: no frames to write")
        try:
            if self._fmt == "gif":
                self._file.write(b";")  # GIF trailer
            else:
                self._finish_webp()
            self._file.close()
        except OSError as error:
            raise OutputError(f"{self._path}: cannot write the file ({_av_message(error)})") from None
        finally:
            self.abort()  # closes whatever is still open (the spool, the file after an error)

    def _finish_webp(self) -> None:
        assert self._spool is not None
        self._spool.flush()
        mode = "RGBA" if self._alpha else "RGB"
        frames = _SpooledFrames(self._spool, self._size, mode, self._count)
        options: dict[str, Any] = {
            "save_all": True,
            "duration": self._durations,
            # WebP: 0 = forever, N = play N times; a GIF without a loop block plays once.
            "loop": 1 if self._loop is None else self._loop,
            "xmp": synthetic_xmp_packet(),
        }
        if self._quality >= 100:
            options.update(lossless=True, quality=100, exact=True)
        else:
            options.update(quality=max(0, self._quality))
        try:
            frames.save(self._file, format="WEBP", **options)
        except (ValueError, struct.error) as error:
            raise OutputError(f"could not encode the animation as WebP ({_one_line(error)})") from None

    def abort(self) -> None:
        self._closed = True
        for handle in (self._file, self._spool):
            if handle is not None:
                try:
                    handle.close()
                except OSError:
                    pass


def _quantize(picture: Image.Image) -> tuple[Image.Image, int | None]:
    """A paletted copy for GIF; transparent pixels (alpha < 128) get palette index 255."""
    if picture.mode != "RGBA":
        # Fast octree: ~100x faster than median cut here, and closer in colour.
        return picture.quantize(256, method=Image.Quantize.FASTOCTREE), None
    alpha = np.asarray(picture.getchannel("A"))
    paletted = picture.convert("RGB").quantize(255, method=Image.Quantize.FASTOCTREE)
    indices = np.asarray(paletted).copy()
    indices[alpha < 128] = 255
    palette = paletted.getpalette() or []
    palette = (palette + [0] * 768)[:765] + [0, 0, 0]
    result = Image.frombytes("P", picture.size, indices.tobytes())
    result.putpalette(palette)
    return result, 255


def _gif_comment() -> str:
    return "\n".join(f"{key}: {value}" for key, value in synthetic_text_fields().items())


class _SpooledFrames(ImageFile.ImageFile):
    """Raw frames of one size in a file, seen by Pillow as one multi-frame image.

    Lets Pillow's animated WebP writer pull frames one at a time instead of from a list
    of images held in memory.
    """

    format = "FACEDECK_FRAMES"
    format_description = "raw frames spooled by FaceDeck"

    def __init__(self, spool: IO[bytes], size: tuple[int, int], mode: str, count: int) -> None:
        self._frame_size = size
        self._frame_mode = mode
        self._frame_count = count
        self._frame_bytes = size[0] * size[1] * len(mode)
        self._spool = spool
        super().__init__(spool)

    def _open(self) -> None:
        self._size = self._frame_size
        self._mode = self._frame_mode
        self._current = 0
        self._set_tile(0)

    @property
    def n_frames(self) -> int:
        return self._frame_count

    @property
    def is_animated(self) -> bool:
        return self._frame_count > 1

    def seek(self, frame: int) -> None:
        if not 0 <= frame < self._frame_count:
            raise EOFError("no more frames")
        self._current = frame
        self._set_tile(frame)

    def tell(self) -> int:
        return self._current

    def _set_tile(self, frame: int) -> None:
        box = (0, 0, *self._frame_size)
        self.fp = self._spool  # load() lets go of fp after every frame
        self.tile = [ImageFile._Tile("raw", box, frame * self._frame_bytes, (self._frame_mode, 0, 1))]


def _av_message(error: BaseException) -> str:
    """An FFmpeg or OS error's reason without the errno and function name PyAV adds."""
    return _one_line(getattr(error, "strerror", None) or error)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())
