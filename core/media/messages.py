"""Error reasons from OpenCV, FFmpeg and the OS as one readable line (no heavy imports)."""

from __future__ import annotations


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (newlines included) folded into one space."""
    return " ".join(str(text).split())


def cv2_message(error: BaseException) -> str:
    """An OpenCV error's reason without the source path and line OpenCV prefixes it with."""
    reason, function = getattr(error, "err", None), getattr(error, "func", None)
    if not reason:
        return one_line(error)
    return one_line(f"OpenCV {function}: {reason}" if function else reason)


def av_message(error: BaseException) -> str:
    """An FFmpeg or OS error's reason without the errno and function name PyAV adds."""
    return one_line(getattr(error, "strerror", None) or error)
