"""Video encoding choices: EncoderSettings, encoder options, codec and pixel-format choice, muxer queries."""

from __future__ import annotations

import functools
import io
import logging
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import av
import av.error

from ..errors import OutputError
from .video_types import VideoInfo

logger = logging.getLogger(__name__)

# EncoderSettings.codec -> (software encoder, NVENC encoder or None).
_ENCODERS: dict[str, tuple[str, str | None]] = {
    "h264": ("libx264", "h264_nvenc"),
    "hevc": ("libx265", "hevc_nvenc"),
    "vp9": ("libvpx-vp9", None),
    "av1": ("libsvtav1", "av1_nvenc"),
    "ffv1": ("ffv1", None),
}
VIDEO_ENCODERS = MappingProxyType(_ENCODERS)  # read-only, for reports (doctor)
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


class EncoderUnavailable(Exception):
    """An encoder that could not be opened (no GPU, unsupported settings)."""


# --------------------------------------------------------------------------- codec choice


def pick_codec(codec: str, fmt: str) -> str:
    """The codec to encode for ``codec`` in container ``fmt``: itself, or a substitute ``fmt`` can hold."""
    if codec not in _ENCODERS:
        raise OutputError(f"unknown video codec {codec}; use one of {' '.join(_ENCODERS)}")
    software = _ENCODERS[codec][0]
    if software not in av.codecs_available:
        available = " ".join(name for name, (enc, _) in _ENCODERS.items() if enc in av.codecs_available)
        raise OutputError(
            f"video codec {codec} ({software}) is not in this FFmpeg build; available: {available}"
        )
    supported = muxer_codecs(fmt)
    if codec in supported:
        return codec
    for other in _CODEC_PREFERENCE:
        if other in supported and _ENCODERS[other][0] in av.codecs_available:
            logger.warning("%s cannot hold %s video; encoding %s instead", fmt, codec, other)
            return other
    raise OutputError(f"{fmt} cannot hold {codec} video")


def encoder_candidates(codec: str, hardware: str) -> list[str]:
    """The encoders to try for ``codec``, in order, under the ``hardware`` setting (auto, off, nvenc)."""
    software, nvenc = _ENCODERS[codec]
    if hardware == "off":
        return [software]
    if hardware == "auto":
        return [nvenc, software] if nvenc and nvenc in av.codecs_available else [software]
    if hardware == "nvenc":
        if not nvenc or nvenc not in av.codecs_available:
            raise OutputError(f"no NVENC encoder for {codec} in this FFmpeg build; use hardware auto or off")
        return [nvenc]
    raise OutputError(f"unknown hardware setting {hardware}; use auto, off or nvenc")


def pixel_format_for(encoder: str, wanted: str, stored_size: tuple[int, int]) -> str:
    """The pixel format ``encoder`` gets for the ``wanted`` one at the stored (coded) frame size."""
    supported = [fmt.name for fmt in (av.Codec(encoder, "w").video_formats or ())]
    if supported and wanted not in supported:
        raise OutputError(f"{encoder} cannot encode {wanted}; use one of {' '.join(supported)}")
    width, height = stored_size
    if (width % 2 or height % 2) and wanted in ("yuv420p", "nv12", "yuv422p") and encoder != "libvpx-vp9":
        if "yuv444p" in supported:
            # H.264/HEVC 4:2:0 needs even sizes; 4:4:4 keeps the exact resolution.
            logger.warning("%dx%d is odd-sized: encoding yuv444p instead of %s", width, height, wanted)
            return "yuv444p"
        raise OutputError(f"{encoder} cannot encode the odd size {width}x{height}")
    return wanted


def avi_rate(info: VideoInfo) -> Fraction:
    """The constant frame rate an AVI output of ``info`` gets (AVI counts time in frames)."""
    rate = info.average_rate or Fraction(25)
    # A sane frame period for AVI's one-tick-per-frame clock.
    return rate.limit_denominator(1001)


# --------------------------------------------------------------------------- audio


def can_copy_audio(fmt: str, codec: str | None) -> bool:
    """Whether audio in ``codec`` goes into container ``fmt`` as it is (else it is transcoded)."""
    allowed = _AUDIO_COPY[fmt]
    return bool(codec) and codec in muxer_codecs(fmt) and (allowed is None or codec in allowed)


def audio_target(fmt: str) -> tuple[str, int]:
    """The audio encoder and bit rate for audio that container ``fmt`` cannot take as it is."""
    target = _AUDIO_TARGET[fmt]
    return target, _AUDIO_BIT_RATE.get(target, 192_000)


def encoder_rate(encoder: str, rate: int) -> int:
    """``rate`` if the audio ``encoder`` takes it, else the nearest it does (48 kHz when it can)."""
    rates = av.Codec(encoder, "w").audio_rates
    if not rates or rate in rates:
        return rate
    return 48_000 if 48_000 in rates else max(rates)


# --------------------------------------------------------------------------- muxers


# A cache, not state: what a muxer can hold never changes while the process runs, and
# asking means opening an output container. functools.cache is safe to call from several
# threads (at worst two threads ask FFmpeg at the same moment and get the same answer).
@functools.cache
def muxer_codecs(fmt: str) -> frozenset[str]:
    """The codec names FFmpeg's ``fmt`` muxer accepts; asked once per format."""
    return frozenset(_query_muxer_codecs(fmt))


def _query_muxer_codecs(fmt: str) -> set[str]:
    container = av.open(io.BytesIO(), "w", format=fmt)
    try:
        return set(container.supported_codecs)
    finally:
        close_quietly(container)


def close_quietly(container: Any) -> None:
    """Close a PyAV container, logging (not raising) what goes wrong: for paths already failing."""
    try:
        container.close()
    except (av.error.FFmpegError, OSError, ValueError) as error:
        logger.debug("ignored while closing: %s", error)
