"""What this install can do with video: PyAV and FFmpeg versions, and which encoders work here.

Plain data for ``doctor`` (and later the window's About box and the worker's health
answer). A hardware encoder being compiled into FFmpeg says little (every PyAV wheel
carries NVENC, QSV and AMF), so each hardware encoder FaceDeck can use is opened once
on a tiny frame size: that is what tells "works here" from "in the build only". An open
costs about a millisecond when the driver is absent, so the report stays quick.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction

from .messages import av_message

log = logging.getLogger(__name__)

# Hardware encoder families FFmpeg may carry; FaceDeck's writer uses NVENC only, the
# others are listed so a user can see what their build has.
_OTHER_HARDWARE = ("_qsv", "_amf", "_vaapi", "_videotoolbox", "_mf", "_v4l2m2m", "_vulkan")
_PROBE_SIZE = 256  # small, but above the minimum frame size NVENC accepts (145x49 on some GPUs)


@dataclass(frozen=True)
class EncoderReport:
    """One encoder FaceDeck can use for ``codec``: its FFmpeg name and whether it opens here."""

    codec: str
    name: str
    hardware: bool
    usable: bool
    note: str = ""  # why not, in one line, when it is not usable


@dataclass(frozen=True)
class VideoSupport:
    """PyAV/FFmpeg versions, FaceDeck's encoders with their status, other hardware encoders."""

    pyav: str | None
    ffmpeg: str | None
    encoders: tuple[EncoderReport, ...]
    other_hardware: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def usable_encoders(self) -> tuple[str, ...]:
        return tuple(encoder.name for encoder in self.encoders if encoder.usable)

    def to_dict(self) -> dict[str, object]:
        return {
            "pyav": self.pyav,
            "ffmpeg": self.ffmpeg,
            "encoders": [
                {
                    "codec": e.codec,
                    "name": e.name,
                    "hardware": e.hardware,
                    "usable": e.usable,
                    "note": e.note,
                }
                for e in self.encoders
            ],
            "other_hardware_encoders": list(self.other_hardware),
            "problems": list(self.problems),
        }


def describe_video_support() -> VideoSupport:
    """The report; never raises (a PyAV that does not import is a problem line)."""
    try:
        import av

        from .encoding import VIDEO_ENCODERS
    except ImportError as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        problem = f"PyAV (video) does not import: {first}; reinstall FaceDeck's dependencies"
        return VideoSupport(None, None, (), (), (problem,))
    available = av.codecs_available
    encoders: list[EncoderReport] = []
    for codec, (software, nvenc) in VIDEO_ENCODERS.items():
        if codec == "ffv1":
            continue  # an internal lossless codec, not a choice users make
        if software in available:
            encoders.append(EncoderReport(codec, software, False, True))
        else:
            encoders.append(EncoderReport(codec, software, False, False, "not in this FFmpeg build"))
        if nvenc is not None and nvenc in available:
            usable, note = _opens(av, nvenc)
            encoders.append(EncoderReport(codec, nvenc, True, usable, note))
    other = tuple(
        sorted(name for name in available if name.endswith(_OTHER_HARDWARE) and _is_video_encoder(av, name))
    )
    problems = () if any(e.usable for e in encoders) else ("no video encoder works in this PyAV build",)
    return VideoSupport(
        pyav=av.__version__,
        ffmpeg=getattr(av, "ffmpeg_version_info", None),
        encoders=tuple(encoders),
        other_hardware=other,
        problems=problems,
    )


def _opens(av_module, name: str) -> tuple[bool, str]:  # noqa: ANN001 - the av module
    """Whether encoder ``name`` opens here, and if not the reason in one line."""
    try:
        context = av_module.CodecContext.create(name, "w")
        context.width = context.height = _PROBE_SIZE
        context.pix_fmt = "yuv420p"
        context.time_base = Fraction(1, 25)
        context.open()
    except (av_module.error.FFmpegError, OSError, ValueError) as error:
        # no driver: "Operation not permitted"; no device: "Invalid argument", ...
        log.debug("encoder %s does not open: %s", name, error)
        return False, f"no usable device or driver ({av_message(error)})"
    return True, ""


def _is_video_encoder(av_module, name: str) -> bool:  # noqa: ANN001 - the av module
    try:
        return bool(av_module.Codec(name, "w").type == "video")
    except (av_module.error.FFmpegError, ValueError):
        return False
