"""Writing still images: encode_image (pixels -> bytes, marked synthetic) and write_image (atomic file).

Every output is marked as synthetic media (see :mod:`facedeck.core.media.metadata`) and
written atomically (see :class:`facedeck.core.media.output.AtomicOutput`).
"""

from __future__ import annotations

import io
import logging
import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, TiffImagePlugin, TiffTags, features

from ..errors import OutputError
from ..version import software_label
from .formats import IMAGE_FORMAT_BY_EXTENSION, IMAGE_OUTPUT_EXTENSIONS, listed, png_chunks
from .image_reader import to_8bit
from .messages import cv2_message, one_line
from .metadata import (
    synthetic_description,
    synthetic_text_fields,
    synthetic_xmp_packet,
)
from .output import AtomicOutput, check_output_path

logger = logging.getLogger(__name__)

# Largest side each encoder accepts; checked up front for a readable message.
_MAX_SIDE = {"JPEG": 65_500, "WEBP": 16_383}

_TIFF_XMP = 700
_TIFF_SOFTWARE = 305
_TIFF_IMAGE_DESCRIPTION = 270
_EXIF_SOFTWARE = 0x0131
_EXIF_IMAGE_DESCRIPTION = 0x010E


def write_image(
    output: str | os.PathLike[str],
    pixels: np.ndarray,
    *,
    quality: int = 95,
    inputs: Sequence[str | os.PathLike[str]] = (),
    icc_profile: bytes | None = None,
) -> Path:
    """Encode ``pixels`` (gray/BGR/BGRA, uint8/uint16) by the output's extension and write atomically.

    The file appears under its final name only once it is complete; on any failure
    nothing is left behind (an existing file of that name is untouched).
    """
    path = check_output_path(output, inputs)
    payload = encode_image(pixels, path.suffix, quality=quality, icc_profile=icc_profile)
    with AtomicOutput(path) as atomic:
        try:
            with open(atomic.temp, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            reason = one_line(error.strerror or error)
            raise OutputError(f"{path}: cannot write the file ({reason})", path=os.fspath(path)) from None
    logger.debug("wrote %s (%d bytes)", path, len(payload))
    return path


def encode_image(
    pixels: np.ndarray, extension: str, *, quality: int = 95, icc_profile: bytes | None = None
) -> bytes:
    """Encode gray/BGR/BGRA uint8/uint16 pixels as ``extension`` (".png", "jpg", ...), marked synthetic.

    ``quality`` (0-100): JPEG quality (clamped to 1-100; 4:4:4 chroma from 90 up), WebP
    quality (100 = lossless), PNG compression effort (higher = faster, files are lossless
    either way); TIFF is always lossless.
    """
    ext = extension.lower() if extension.startswith(".") else f".{extension.lower()}"
    if ext == ".bmp":
        raise OutputError("BMP cannot carry the synthetic-media marking; use .png instead")
    fmt = IMAGE_FORMAT_BY_EXTENSION.get(ext)
    if fmt is None:
        raise OutputError(f"cannot write {ext}; use one of {listed(IMAGE_OUTPUT_EXTENSIONS)}")
    pixels = _checked_pixels(pixels)
    quality = int(quality)
    height, width = pixels.shape[:2]
    limit = _MAX_SIDE.get(fmt)
    if limit is not None and max(width, height) > limit:
        raise OutputError(f"image is {width}x{height} pixels, too large for {fmt} (max {limit} per side)")
    if pixels.ndim == 2:
        icc_profile = None  # the profiles kept are RGB ones: wrong for a gray image
    if fmt == "PNG":
        return _encode_png(pixels, quality, icc_profile)
    return _encode_with_pillow(pixels, fmt, quality, icc_profile)


def _checked_pixels(pixels: np.ndarray) -> np.ndarray:
    if not isinstance(pixels, np.ndarray) or pixels.dtype not in (np.uint8, np.uint16):
        got = getattr(pixels, "dtype", type(pixels))
        raise ValueError(f"pixels must be a uint8 or uint16 array, got {got}")
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] in (3, 4))):
        raise ValueError(f"pixels must be (H,W), (H,W,3) or (H,W,4), got {pixels.shape}")
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise ValueError(f"pixels must not be empty, got {pixels.shape}")
    return np.ascontiguousarray(pixels)


def _encode_png(pixels: np.ndarray, quality: int, icc_profile: bytes | None) -> bytes:
    # One path for 8 and 16 bit: OpenCV keeps 16-bit colour, the metadata chunks are ours.
    level = min(9, max(1, (100 - quality) // 10 + 1))
    try:
        ok, buffer = cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, level])
    except cv2.error as error:
        raise OutputError(f"could not encode the image as PNG ({cv2_message(error)})") from None
    if not ok:
        raise OutputError("could not encode the image as PNG")
    data = buffer.tobytes()

    after_header = before_data = None
    for kind, pos, length in png_chunks(data):
        if kind == b"IHDR":
            after_header = pos + 12 + length
        elif kind == b"IDAT":
            before_data = pos
            break
    if after_header is None or before_data is None:
        raise OutputError("could not encode the image as PNG (no IHDR/IDAT in the encoder output)")

    # iCCP must precede IDAT; text before IDAT too, so readers that stop there see it.
    head = b""
    if icc_profile:
        head = _png_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc_profile))
    text = _png_chunk(
        b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + synthetic_xmp_packet()
    )  # keyword, no compression, no language, no translated keyword (XMP spec part 3)
    for key, value in synthetic_text_fields().items():
        text += _png_chunk(b"tEXt", key.encode("latin-1") + b"\x00" + value.encode("latin-1", "replace"))
    return data[:after_header] + head + data[after_header:before_data] + text + data[before_data:]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def _encode_with_pillow(pixels: np.ndarray, fmt: str, quality: int, icc_profile: bytes | None) -> bytes:
    if pixels.dtype == np.uint16 and not (fmt == "TIFF" and pixels.ndim == 2):
        logger.warning("%s output is written with 8 bits per channel; use .png to keep 16-bit colour", fmt)
        pixels = to_8bit(pixels)
    if fmt == "JPEG" and pixels.ndim == 3 and pixels.shape[2] == 4:
        logger.warning("JPEG has no transparency: alpha channel dropped (use .png or .webp to keep it)")
        pixels = np.ascontiguousarray(pixels[:, :, :3])

    if pixels.ndim == 2:
        image = Image.fromarray(pixels)  # "L" or "I;16"
    elif pixels.shape[2] == 3:
        image = Image.fromarray(cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB))
    else:
        image = Image.fromarray(cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGBA))

    options: dict[str, object] = {}
    if icc_profile:
        options["icc_profile"] = icc_profile
    if fmt in ("JPEG", "WEBP"):
        exif = Image.Exif()
        exif[_EXIF_SOFTWARE] = software_label()
        exif[_EXIF_IMAGE_DESCRIPTION] = synthetic_description()
        options.update(xmp=synthetic_xmp_packet(), exif=exif)
    if fmt == "JPEG":
        options.update(quality=min(100, max(1, quality)), subsampling=0 if quality >= 90 else 2)
    elif fmt == "WEBP":
        if quality >= 100:
            options.update(lossless=True, quality=100, exact=True)
        else:
            options.update(quality=max(0, quality))
    else:  # TIFF: lossless; XMP goes in tag 700 (XMLPacket, BYTE)
        info = TiffImagePlugin.ImageFileDirectory_v2()
        info[_TIFF_XMP] = synthetic_xmp_packet()
        info.tagtype[_TIFF_XMP] = TiffTags.BYTE
        info[_TIFF_SOFTWARE] = software_label()
        info[_TIFF_IMAGE_DESCRIPTION] = synthetic_description()
        options["tiffinfo"] = info
        if features.check_codec("libtiff"):
            options["compression"] = "tiff_adobe_deflate"

    buffer = io.BytesIO()
    try:
        image.save(buffer, format=fmt, **options)
    except (OSError, ValueError, KeyError, struct.error) as error:
        raise OutputError(f"could not encode the image as {fmt} ({cv2_message(error)})") from None
    return buffer.getvalue()
