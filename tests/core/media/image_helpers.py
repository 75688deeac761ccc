"""Helpers for the still-image tests: random pixels and small hand-made files."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from tests.support.bad_files import png_chunk

RNG = np.random.default_rng(1234)


def random_pixels(shape: tuple[int, ...], dtype: type = np.uint8) -> np.ndarray:
    return RNG.integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)


def write_cv2(path: Path, pixels: np.ndarray) -> Path:
    ok, buffer = cv2.imencode(path.suffix, pixels)
    assert ok
    path.write_bytes(buffer.tobytes())
    return path


def to_rgb(bgr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(bgr[..., ::-1])


def quadrants(height: int = 32, width: int = 48) -> np.ndarray:
    """BGR image of four flat 16-pixel-aligned blocks: survives JPEG almost unchanged."""
    image = np.zeros((height, width, 3), np.uint8)
    h, w = height // 2, width // 2
    image[:h, :w] = (0, 0, 255)
    image[:h, w:] = (0, 255, 0)
    image[h:, :w] = (255, 0, 0)
    image[h:, w:] = (255, 255, 255)
    return image


def png_with_exif_after_idat(png: bytes, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    iend = png.rindex(b"IEND") - 4
    return png[:iend] + png_chunk(b"eXIf", exif.tobytes()) + png[iend:]


def tiff16_rgb(rgb: np.ndarray, orientation: int) -> bytes:
    """A minimal uncompressed little-endian 16-bit RGB TIFF with an Orientation tag."""
    height, width, _ = rgb.shape
    strip = rgb.astype("<u2").tobytes()
    entries = [  # tag, type (3 SHORT, 4 LONG), count, value
        (256, 3, 1, width),
        (257, 3, 1, height),
        (258, 3, 3, None),  # BitsPerSample: offset filled in below
        (259, 3, 1, 1),
        (262, 3, 1, 2),
        (273, 4, 1, None),  # StripOffsets
        (274, 3, 1, orientation),
        (277, 3, 1, 3),
        (278, 3, 1, height),
        (279, 4, 1, len(strip)),
        (284, 3, 1, 1),
    ]
    ifd_size = 2 + 12 * len(entries) + 4
    bits_at = 8 + ifd_size
    strip_at = bits_at + 6
    out = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        if tag == 258:
            value = bits_at
        elif tag == 273:
            value = strip_at
        packed = struct.pack("<HH", value, 0) if kind == 3 and count == 1 else struct.pack("<I", value)
        out += struct.pack("<HHI", tag, kind, count) + packed
    out += struct.pack("<I", 0) + struct.pack("<HHH", 16, 16, 16)
    assert len(out) == strip_at
    return out + strip


def jpeg_bytes(bgr: np.ndarray, quality: int = 95, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(to_rgb(bgr)).save(buffer, "JPEG", quality=quality, subsampling=0, **options)
    return buffer.getvalue()
