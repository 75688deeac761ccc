"""Opening a file only when it is a regular file: devices, pipes and sockets are refused unread.

One mechanism for every input FaceDeck reads (images, videos, model files to import):
``/dev/zero`` never ends, ``/dev/random`` blocks, and even opening a named pipe waits for
a writer. Standard library only, so the job spec and the CLI can use it at no start-up cost.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from .errors import InputError

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # POSIX; Windows has no FIFOs to open


def open_regular(source: str | Path, kind: str, error: type[InputError] = InputError) -> BinaryIO:
    """Open the file ``source`` for reading; ``error`` with a one-line message when it can't be used.

    Only a regular file is accepted, and anything else is refused before a byte is read:
    a device (``/dev/zero`` never ends, ``/dev/random`` blocks), a named pipe (even opening
    it waits for a writer) or a socket. ``os.stat`` decides before anything is opened; the
    file is then opened non-blocking and checked again with ``fstat``, so a pipe put in its
    place meanwhile cannot block either. ``kind`` ("image", "video", "model") words the messages.
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
        raise error(f"{source}: file not found", path=str(source)) from None
    except PermissionError:
        if os.path.isdir(source):  # Windows reports folders this way
            raise error(f"{source}: is a folder, not {_article(kind)} file", path=str(source)) from None
        raise error(f"{source}: permission denied", path=str(source)) from None
    except OSError as problem:
        reason = " ".join(str(problem.strerror or problem).split())
        raise error(f"{source}: cannot read the file ({reason})", path=str(source)) from None
    if stat.S_ISDIR(mode):
        raise error(f"{source}: is a folder, not {_article(kind)} file", path=str(source))
    raise error(f"{source}: is {special_file_kind(mode)}, not {_article(kind)} file", path=str(source))


def _article(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"


def special_file_kind(mode: int) -> str:
    """What a non-regular, non-folder file is, for messages: "a named pipe (FIFO)", "a device", ..."""
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"
