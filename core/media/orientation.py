"""Turning pictures upright: EXIF / PNG / TIFF orientation for images, the display matrix for videos."""

from __future__ import annotations

import logging
import struct
from typing import Any

import numpy as np
from PIL import Image, ImageFile

from .common import PIL_DECODE_ERRORS
from .formats import png_chunks
from .messages import one_line

logger = logging.getLogger(__name__)

EXIF_ORIENTATION = 0x0112
_TIFF_ORIENTATION = 274

# FFmpeg's display matrix is 3x3 int32: 16.16 fixed point, last column 2.30.
IDENTITY_MATRIX = (1 << 16, 0, 0, 0, 1 << 16, 0, 0, 0, 1 << 30)


# --------------------------------------------------------------------------- images


def header_orientation(header: ImageFile.ImageFile, source: str) -> int:
    """The EXIF orientation (1-8) Pillow found in an image's header; 1 when absent or unreadable."""
    try:
        value = header.getexif().get(EXIF_ORIENTATION, 1)
    except PIL_DECODE_ERRORS as error:
        # Broken EXIF should not make an otherwise good photo unreadable.
        logger.warning("%s: ignoring unreadable EXIF data (%s)", source, one_line(error))
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def png_orientation(data: bytes) -> int:
    """The orientation in a PNG's eXIf chunk (1-8); 1 when there is none."""
    # Walk the chunks ourselves: eXIf may follow IDAT, and Pillow's getexif() would
    # then decode the whole image just to find it.
    for kind, pos, length in png_chunks(data):
        if kind == b"eXIf":
            exif = Image.Exif()
            try:
                exif.load(data[pos + 8 : pos + 8 + length])
            except PIL_DECODE_ERRORS:
                return 1
            value = exif.get(EXIF_ORIENTATION, 1)
            return value if isinstance(value, int) and 1 <= value <= 8 else 1
        if kind == b"IEND":
            break
    return 1


def tiff_with_orientation_1(data: bytes) -> bytes:
    """A copy of ``data`` whose first IFD says orientation 1 (top-left)."""
    try:
        endian = "<" if data[:2] == b"II" else ">"
        (version,) = struct.unpack(endian + "H", data[2:4])
        if version == 42:
            (ifd,) = struct.unpack(endian + "I", data[4:8])
            (count,) = struct.unpack(endian + "H", data[ifd : ifd + 2])
            first, entry_size = ifd + 2, 12
        else:  # BigTIFF
            (ifd,) = struct.unpack(endian + "Q", data[8:16])
            (count,) = struct.unpack(endian + "Q", data[ifd : ifd + 8])
            first, entry_size = ifd + 8, 20
        for index in range(count):
            entry = first + index * entry_size
            tag, kind = struct.unpack(endian + "HH", data[entry : entry + 4])
            if tag == _TIFF_ORIENTATION and kind == 3:  # SHORT, stored left-justified
                value_at = entry + (8 if version == 42 else 12)
                patched = bytearray(data)
                patched[value_at : value_at + 2] = struct.pack(endian + "H", 1)
                return bytes(patched)
    except struct.error:
        pass  # malformed IFD: OpenCV will report it when decoding
    return data


def apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Turn stored pixels upright per the EXIF orientation (same result as Pillow's exif_transpose)."""
    if orientation == 2:
        pixels = pixels[:, ::-1]
    elif orientation == 3:
        pixels = pixels[::-1, ::-1]
    elif orientation == 4:
        pixels = pixels[::-1]
    elif orientation == 5:
        pixels = pixels.swapaxes(0, 1)
    elif orientation == 6:
        pixels = np.rot90(pixels, -1)
    elif orientation == 7:
        pixels = pixels[::-1, ::-1].swapaxes(0, 1)
    elif orientation == 8:
        pixels = np.rot90(pixels, 1)
    return np.ascontiguousarray(pixels)


# --------------------------------------------------------------------------- videos


def orientation_op(matrix: tuple[int, ...] | None) -> str:
    """The operation that turns the stored picture upright, as FFmpeg's autorotate does.

    One of "none", "cw", "ccw", "transpose", "antitranspose", "hflip", "vflip",
    "rot180". Arbitrary angles are not supported (treated as "none").
    """
    if matrix is None:
        return "none"
    theta = clockwise_degrees(matrix)
    if theta == 90:
        return "transpose" if matrix[3] > 0 else "cw"
    if theta == 270:
        return "antitranspose" if matrix[3] < 0 else "ccw"
    if theta == 180:
        hflip, vflip = matrix[0] < 0, matrix[4] < 0
        return "rot180" if hflip and vflip else "hflip" if hflip else "vflip" if vflip else "none"
    if theta == 0:
        return "vflip" if matrix[4] < 0 else "none"
    return "none"


def clockwise_degrees(matrix: tuple[int, ...]) -> int:
    """Nearest multiple of 90 of the clockwise rotation in a display matrix (av_display_rotation_get)."""
    scale0 = np.hypot(matrix[0], matrix[3])
    scale1 = np.hypot(matrix[1], matrix[4])
    if scale0 == 0 or scale1 == 0:
        return 0
    # av_display_rotation_get() returns minus this angle (counter-clockwise degrees).
    clockwise = float(np.degrees(np.arctan2(matrix[1] / scale1, matrix[0] / scale0))) % 360
    nearest = int(round(clockwise / 90.0)) * 90 % 360
    if abs(((clockwise - nearest) + 180) % 360 - 180) > 1:
        logger.warning("display rotation of %.1f degrees is not a multiple of 90; ignored", clockwise)
        return 0
    return nearest


def upright(image: np.ndarray, op: str) -> np.ndarray:
    """Apply ``op`` (see :func:`orientation_op`) to a stored picture: the picture as players show it."""
    if op == "cw":
        image = np.rot90(image, -1)
    elif op == "ccw":
        image = np.rot90(image, 1)
    elif op == "transpose":
        image = image.swapaxes(0, 1)
    elif op == "antitranspose":
        image = np.rot90(image, 2).swapaxes(0, 1)
    elif op == "hflip":
        image = image[:, ::-1]
    elif op == "vflip":
        image = image[::-1]
    elif op == "rot180":
        image = image[::-1, ::-1]
    return np.ascontiguousarray(image)


def stored(image: np.ndarray, op: str) -> np.ndarray:
    """Inverse of :func:`upright`: back to the orientation the input stored."""
    inverse = {"cw": "ccw", "ccw": "cw"}.get(op, op)  # the others undo themselves
    return upright(image, inverse)


def display_matrix(frame: Any) -> tuple[int, ...] | None:
    """The display matrix a decoded ``av.VideoFrame`` carries; None when absent or the identity."""
    # Any, not av.VideoFrame: images import this module too and need no PyAV.
    # Iterate, don't use the Mapping helpers: PyAV 18's values()/items() mix up their keys.
    for side_data in frame.side_data:
        if side_data.type.name == "DISPLAYMATRIX":
            values = tuple(int(v) for v in np.frombuffer(bytes(side_data), dtype=np.int32)[:9])
            return None if values == IDENTITY_MATRIX else values
    return None
