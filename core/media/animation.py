"""Animated GIF and WebP through Pillow: probing and reading them, and writing them a frame at a time.

FFmpeg cannot decode animated WebP, so animations never go through PyAV. Reading keeps
each frame's duration and the loop count; writing keeps per-frame durations, the loop
count and transparency, and marks the output as synthetic media.
"""

from __future__ import annotations

import logging
import struct
import tempfile
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import GifImagePlugin, Image, ImageFile

from ..errors import OutputError
from .common import PIL_DECODE_ERRORS
from .encoding import EncoderSettings
from .messages import av_message, one_line
from .metadata import synthetic_text_fields, synthetic_xmp_packet
from .video_types import AudioChunk, SourceDescription, SourceFrame, VideoInfo, VideoInputError

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- reading


def open_animation(path: Path, source: str) -> Image.Image:
    """Open an animated GIF/WebP with Pillow; :class:`VideoInputError` when Pillow cannot."""
    try:
        return Image.open(path)
    except PIL_DECODE_ERRORS as error:
        raise VideoInputError(f"{source}: truncated or corrupt animation ({one_line(error)})") from None


def probe_animation(image: Image.Image, path: Path, source: str, max_pixels: int) -> tuple[VideoInfo, bool]:
    """What :func:`open_animation`'s ``image`` holds, and whether its frames have transparency.

    Walks every frame header once (durations live there), so a cut file fails here.
    Leaves ``image`` open, at frame 0; raises :class:`VideoInputError`.
    """
    width, height = image.size
    if width * height > max_pixels:
        raise VideoInputError(
            f"{source}: animation is {width}x{height} pixels, above the limit of {max_pixels:,} pixels"
        )
    # Durations live in each frame's header: one pass, a frame at a time.
    durations = []
    alpha = False
    try:
        count = getattr(image, "n_frames", 1)  # GIF: walks the file, so a cut file fails here
        for index in range(count):
            image.seek(index)
            if image.format == "WEBP":
                image.load()  # the WebP plugin fills info["duration"] on load; GIF on seek
            durations.append(int(image.info.get("duration", 0) or 0))
            if index == 0:
                image.load()  # a file cut inside the first frame fails now, not mid-job
                alpha = image.has_transparency_data
        image.seek(0)
    except PIL_DECODE_ERRORS as error:
        raise VideoInputError(f"{source}: truncated or corrupt animation ({one_line(error)})") from None
    total = sum(durations)
    fmt = (image.format or path.suffix[1:]).lower()
    info = VideoInfo(
        path=path,
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
    return info, alpha


def animation_frames(image: Image.Image, source: str, count: int, alpha: bool) -> Iterator[SourceFrame]:
    """The ``count`` frames of :func:`open_animation`'s ``image``, upright BGR, with their times."""
    now = 0
    for index in range(count):
        try:
            image.seek(index)
            image.load()
            mode = "RGBA" if alpha else "RGB"
            native = image.convert(mode)  # a copy: seek() reuses the frame buffer
        except PIL_DECODE_ERRORS as error:
            reason = one_line(error)
            raise VideoInputError(
                f"{source}: truncated or corrupt animation at frame {index} ({reason})"
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


# --------------------------------------------------------------------------- writing


class AnimationSink:
    """Animated GIF or WebP through Pillow, a frame at a time.

    GIF frames are quantised and written as they come (Pillow's ``getheader`` /
    ``getdata``). Animated WebP needs every frame at once in Pillow, so frames are
    spooled raw to a temporary file next to the output and read back one by one.
    """

    def __init__(self, path: Path, source: SourceDescription, settings: EncoderSettings, fmt: str) -> None:
        self._path = path
        self._fmt = fmt
        self._quality = int(settings.quality)
        self._info = info = source.info
        self._size = (info.width, info.height)
        self._alpha = source.animation_alpha
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
            raise OutputError(f"{path}: cannot write the file ({av_message(error)})") from None

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
        rate = self._info.average_rate
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
            raise OutputError(f"{self._path}: cannot write the file ({av_message(error)})") from None
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
            raise OutputError(f"{self._path}: cannot write the file ({av_message(error)})") from None
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
            raise OutputError(f"could not encode the animation as WebP ({one_line(error)})") from None

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
