"""Names for files that are not regular files, for messages (no heavy imports: the job spec uses it)."""

from __future__ import annotations

import stat


def special_file_kind(mode: int) -> str:
    """What a non-regular, non-folder file is, for messages: "a named pipe (FIFO)", "a device", ..."""
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"
