"""Broken and hostile input files that every front end must refuse cleanly."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_header_only(width: int, height: int) -> bytes:
    """A valid 1-bit gray PNG header claiming width x height, with a tiny IDAT (a pixel bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def truncated_jpeg() -> bytes:
    """A real JPEG of noise cut in half."""
    pixels = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    return data[: len(data) // 2]


def write_bad_inputs(directory: Path) -> dict[str, Path]:
    """One file per kind of bad input, named for what is wrong with it."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "svg": ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
        "truncated jpeg": ("cut.jpg", truncated_jpeg()),
        "text named png": ("notes.png", b"this is a text file, not a picture\n"),
        "zero bytes": ("empty.png", b""),
        "pixel bomb": ("bomb.png", png_header_only(30000, 30000)),
    }
    paths = {}
    for kind, (name, data) in files.items():
        path = directory / name
        path.write_bytes(data)
        paths[kind] = path
    return paths
