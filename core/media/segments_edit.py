"""Ending an MP4/MOV part early: its edit list shortened so trailing reference pictures are not shown.

A part cut from a video with B-frames at a time that is not a clean cut (the end of a
trimmed range) must still carry the pictures shown after that time which the last kept
ones were predicted from: they come earlier in decode order. MP4 and QuickTime files say
which span of the media is presented in the track's edit list (ISO/IEC 14496-12, 8.6.6),
and FFmpeg (the worker's reader) drops the frames outside it. FFmpeg's muxer writes the
edit list from the timestamps and offers no way to end it early, so this shortens the one
it wrote, in place: the boxes keep their sizes, so nothing else in the file moves.

Only files FaceDeck has just written are touched (one video track, ``moov`` whole).
"""

from __future__ import annotations

import math
import os
import struct
from pathlib import Path
from typing import BinaryIO

from ..errors import OutputError

_HEADER = struct.Struct(">I4s")


def end_presentation(path: Path, keep_until: float, drop_from: float) -> None:
    """Present the single-track file at ``path`` up to a time after ``keep_until`` and not after
    ``drop_from`` (seconds from the start of its presentation)."""
    with open(path, "r+b") as handle:
        offset, size = _top_level_box(handle, b"moov", path)
        handle.seek(offset)
        moov = bytearray(handle.read(size))
        mvhd, _ = _only(moov, 0, size, b"mvhd", path)
        wide = moov[mvhd] == 1  # version 1: 64-bit times
        timescale_at = mvhd + (20 if wide else 12)
        (timescale,) = struct.unpack_from(">I", moov, timescale_at)
        duration = math.floor(drop_from * timescale)
        if not duration > keep_until * timescale:
            raise OutputError(f"{path}: frames {drop_from - keep_until:.4f} s apart cannot be cut between")
        _put(moov, timescale_at + 4, duration, wide=wide)
        trak, trak_end = _only(moov, 0, size, b"trak", path)
        tkhd, _ = _only(moov, trak, trak_end, b"tkhd", path)
        wide = moov[tkhd] == 1
        _put(moov, tkhd + (28 if wide else 20), duration, wide=wide)
        edts, edts_end = _only(moov, trak, trak_end, b"edts", path)
        elst, _ = _only(moov, edts, edts_end, b"elst", path)
        _shorten_edit_list(moov, elst, duration, path)
        handle.seek(offset)
        handle.write(moov)
        handle.flush()
        os.fsync(handle.fileno())


def _shorten_edit_list(moov: bytearray, elst: int, duration: int, path: Path) -> None:
    """Set the presented (last) edit's duration; an empty edit before it keeps its own."""
    wide = moov[elst] == 1
    (count,) = struct.unpack_from(">I", moov, elst + 4)
    entry = 20 if wide else 12
    delay = 0
    for number in range(count):
        at = elst + 8 + number * entry
        length, media_time = struct.unpack_from(">Qq" if wide else ">Ii", moov, at)
        if media_time == -1:  # an empty edit: a delay before the media starts
            delay += length
        elif number == count - 1:
            _put(moov, at, max(1, duration - delay), wide=wide)
            return
    raise OutputError(f"{path}: the part's edit list has no presented span to shorten")


def _put(data: bytearray, at: int, value: int, *, wide: bool) -> None:
    struct.pack_into(">Q" if wide else ">I", data, at, value)


def _header(size: int, pos: int, end: int, large: int) -> tuple[int, int]:
    """(box size, header size) from a box header's size field (1: 64-bit ``large``, 0: to ``end``)."""
    if size == 1:
        return large, 16
    if size == 0:
        return end - pos, 8
    return size, 8


def _only(data: bytearray, start: int, end: int, kind: bytes, path: Path) -> tuple[int, int]:
    """(payload offset, end) of the first ``kind`` box in ``data[start:end]``."""
    pos = start
    while pos + 8 <= end:
        size, found = _HEADER.unpack_from(data, pos)
        large = struct.unpack_from(">Q", data, pos + 8)[0] if size == 1 and pos + 16 <= end else 0
        size, header = _header(size, pos, end, large)
        if size < header or pos + size > end:
            break
        if found == kind:
            return pos + header, pos + size
        pos += size
    raise OutputError(f"{path}: no {kind.decode()} box in the part just written")


def _top_level_box(handle: BinaryIO, kind: bytes, path: Path) -> tuple[int, int]:
    """(payload offset, payload size) of the top-level ``kind`` box of the open file."""
    end = handle.seek(0, os.SEEK_END)
    pos = 0
    while pos + 8 <= end:
        handle.seek(pos)
        head = handle.read(16)
        size, found = _HEADER.unpack_from(head)
        large = struct.unpack_from(">Q", head, 8)[0] if size == 1 and len(head) == 16 else 0
        size, header = _header(size, pos, end, large)
        if size < header:
            break
        if found == kind:
            return pos + header, size - header
        pos += size
    raise OutputError(f"{path}: no {kind.decode()} box in the part just written")
