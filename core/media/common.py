"""Helpers every media module shares: Pillow's decode-error family and one-line error text."""

from __future__ import annotations

import struct

from PIL import Image

# What Pillow's plugins raise for malformed data (Image.open catches the same family).
PIL_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    TypeError,
    struct.error,
    Image.DecompressionBombError,
)


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (newlines included) folded into one space."""
    return " ".join(str(text).split())


def av_message(error: BaseException) -> str:
    """An FFmpeg or OS error's reason without the errno and function name PyAV adds."""
    return one_line(getattr(error, "strerror", None) or error)
