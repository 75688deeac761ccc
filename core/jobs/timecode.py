"""Times in a video as people write them: ``12.5`` seconds, ``1:02.5`` (m:ss) or ``1:02:03`` (h:mm:ss)."""

from __future__ import annotations

import math

TIME_FORMS = "seconds (12.5), m:ss(.ff) or h:mm:ss(.ff)"


def parse_time(text: str) -> float:
    """Seconds from ``12.5``, ``mm:ss(.ff)`` or ``hh:mm:ss(.ff)``; ValueError saying what is wrong."""
    cleaned = text.strip()
    parts = cleaned.split(":")
    if not cleaned or len(parts) > 3:
        raise ValueError(f"{text!r} is not a time: give {TIME_FORMS}")
    try:
        numbers = [float(part) if index == len(parts) - 1 else int(part) for index, part in enumerate(parts)]
    except ValueError:
        raise ValueError(f"{text!r} is not a time: give {TIME_FORMS}") from None
    if any(not math.isfinite(number) or number < 0 for number in numbers) or cleaned.startswith("-"):
        raise ValueError(f"{text!r} is not a time: it must be 0 or more")
    if any(number >= 60 for number in numbers[1:]):
        raise ValueError(f"{text!r} is not a time: minutes and seconds after a colon must be under 60")
    seconds = 0.0
    for number in numbers:
        seconds = seconds * 60 + number
    return seconds


def format_time(seconds: float) -> str:
    """``12.5 s`` under a minute, else ``1:02.5`` or ``1:02:03.25``: how messages show a time."""
    if seconds < 60:
        return f"{round(seconds, 3):g} s"
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    second_text = f"{rest:06.3f}".rstrip("0").rstrip(".")
    if len(second_text) == 1 or second_text[1] == ".":
        second_text = "0" + second_text
    return f"{hours}:{minutes:02d}:{second_text}" if hours else f"{minutes}:{second_text}"
