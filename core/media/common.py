"""Helpers every media module shares: Pillow's decode-error family, one-line error text, opening inputs."""

from __future__ import annotations

import os
import stat
import struct
from typing import BinaryIO

from PIL import Image

from ..errors import InputError
from .messages import one_line
from .special_files import special_file_kind

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


_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # POSIX; Windows has no FIFOs to open


def open_input(source: str, kind: str, error: type[InputError] = InputError) -> BinaryIO:
    """Open the file ``source`` for reading; ``error`` with a one-line message when it can't be used.

    Only a regular file is accepted, and anything else is refused before a byte is read:
    a device (``/dev/zero`` never ends, ``/dev/random`` blocks), a named pipe (even opening
    it waits for a writer) or a socket. ``os.stat`` decides before anything is opened; the
    file is then opened non-blocking and checked again with ``fstat``, so a pipe put in its
    place meanwhile cannot block either. ``kind`` ("image", "video") words the messages.
    """
    try:
        mode = os.stat(source).st_mode
        if stat.S_ISREG(mode):
            fd = os.open(source, os.O_RDONLY | _NONBLOCK | getattr(os, "O_BINARY", 0))
            mode = os.fstat(fd).st_mode
            if stat.S_ISREG(mode):
                return os.fdopen(fd, "rb")
            os.close(fd)
    except FileNotFoundError:
        raise error(f"{source}: file not found", path=source) from None
    except PermissionError:
        if os.path.isdir(source):  # Windows reports folders this way
            raise error(f"{source}: is a folder, not {_article(kind)} file", path=source) from None
        raise error(f"{source}: permission denied", path=source) from None
    except OSError as problem:
        raise error(
            f"{source}: cannot read the file ({one_line(problem.strerror or problem)})", path=source
        ) from None
    if stat.S_ISDIR(mode):
        raise error(f"{source}: is a folder, not {_article(kind)} file", path=source)
    raise error(f"{source}: is {special_file_kind(mode)}, not {_article(kind)} file", path=source)


def _article(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"
