"""Reading still images (read_image, read_image_bytes -> DecodedImage) and merging the engine's result back.

Inputs are identified by content, never by extension, and refused before their pixels
are decoded when the header says they are too large. PNG and 16-bit TIFF are decoded
with OpenCV so 16-bit colour survives (Pillow has no 16-bit RGB mode); everything else
goes through Pillow. The engine always works on an 8-bit BGR copy (``DecodedImage.bgr``);
:func:`merge_result` puts its result back into the input's own layout so that pixels
the engine left alone stay bit-identical.
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import (
    BmpImagePlugin,
    GifImagePlugin,
    Image,
    ImageFile,
    JpegImagePlugin,
    PngImagePlugin,
    TiffImagePlugin,
)

from ..errors import InputError
from ..regular_files import open_regular
from .common import PIL_DECODE_ERRORS
from .formats import IMAGE_INPUT_EXTENSIONS, describe_unsupported, listed, sniff_image_format
from .messages import cv2_message, one_line
from .orientation import apply_orientation, header_orientation, png_orientation, tiff_with_orientation_1

logger = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 150_000_000
# Bytes read from an image file, before its header is even looked at (the pixel cap then
# bounds the decoded image). An 85 MP 16-bit RGB TIFF without compression still fits.
DEFAULT_MAX_BYTES = 512 * 2**20

_TIFF_BITS_PER_SAMPLE = 258


@dataclass
class DecodedImage:
    """A decoded input image.

    ``pixels`` is the image as stored (EXIF orientation applied): uint8 or uint16,
    ``(H, W)`` gray, ``(H, W, 3)`` BGR or ``(H, W, 4)`` BGRA (gray+alpha becomes BGRA).
    ``bgr`` is the uint8 ``(H, W, 3)`` C-contiguous copy the engine processes.
    ``icc_profile`` is the input's RGB colour profile, to embed in outputs so colour-managed
    viewers show the same colours (None when absent or not an RGB profile).
    """

    source: str
    format: str
    pixels: np.ndarray
    bgr: np.ndarray
    icc_profile: bytes | None = field(default=None, repr=False)


# --------------------------------------------------------------------------- reading


def read_image(
    path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES
) -> DecodedImage:
    """Read an image file; raise :class:`InputError` with a one-line message if it can't be used.

    Only a regular file of at most ``max_bytes`` is read (see ``regular_files.open_regular``).
    """
    source = os.fspath(path)
    suffix = Path(source).suffix.lower()
    # A file with no extension is identified by content alone; a wrong one is refused early.
    if suffix and suffix not in IMAGE_INPUT_EXTENSIONS:
        hint = " (vector images are not supported; export it as PNG)" if suffix == ".svg" else ""
        raise InputError(
            f"{source}: unsupported format {suffix}{hint}; supported: {listed(IMAGE_INPUT_EXTENSIONS)}"
        )
    # Read the bytes ourselves: cv2.imread cannot open non-ASCII paths on Windows.
    with open_regular(source, "image") as handle:
        try:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise _too_large(source, size, max_bytes)
            data = handle.read(max_bytes + 1)  # a file still growing stops at the cap too
        except OSError as error:
            raise InputError(
                f"{source}: cannot read the file ({one_line(error.strerror or error)})", path=source
            ) from None
    if len(data) > max_bytes:
        raise _too_large(source, len(data), max_bytes)
    return _decode(data, source, max_pixels)


def _too_large(source: str, size: int, max_bytes: int) -> InputError:
    limit = f"{max_bytes / 2**20:,.0f} MB"
    return InputError(
        f"{source}: the file is {size / 2**20:,.0f} MB, above the {limit} limit for images", path=source
    )


def read_image_bytes(
    data: bytes, name: str = "<memory>", *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> DecodedImage:
    """Decode an image held in memory (the serverless worker receives base64 images).

    ``name`` only labels messages; the format comes from the content.
    """
    return _decode(bytes(data), name, max_pixels)


def _decode(data: bytes, source: str, max_pixels: int) -> DecodedImage:
    if not data:
        raise InputError(f"{source}: the file is empty (0 bytes)")
    # Pillow reports some problems (corrupt EXIF, ...) as warnings: log them against the
    # file instead of letting them reach stderr.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return _decode_checked(data, source, max_pixels)
        finally:
            for warning in caught:
                logger.warning("%s: %s", source, one_line(warning.message))


def _decode_checked(data: bytes, source: str, max_pixels: int) -> DecodedImage:
    fmt = sniff_image_format(data)
    if fmt is None:
        raise InputError(f"{source}: not a supported image ({describe_unsupported(data)})")

    header = _open_header(data, fmt, source)
    with header:
        width, height = header.size
        # Refuse from the header, before a single pixel buffer is allocated.
        if width * height > max_pixels:
            raise InputError(
                f"{source}: image is {width}x{height} pixels, above the limit of {max_pixels:,} pixels"
            )
        icc_profile = _rgb_icc_profile(header.info.get("icc_profile"))
        if fmt == "PNG":
            pixels = _decode_with_cv2(data, source, fmt)
            orientation = png_orientation(data)
        elif fmt == "TIFF" and _tiff_bits(header) > 8:
            # OpenCV applies TIFF orientation on some paths and not on others (it
            # depends on bit depth and version), so hand it an upright-tagged copy and
            # rotate here, like every other format.
            orientation = header_orientation(header, source)
            tiff = tiff_with_orientation_1(data) if orientation != 1 else data
            pixels = _decode_with_cv2(tiff, source, fmt)
        else:
            # Pillow also gets 8-bit TIFF: OpenCV premultiplies RGBA TIFFs.
            pixels = _decode_with_pillow(header, source, fmt)
            # Read after load(): Pillow turns TIFFs upright itself and then drops the tag.
            orientation = header_orientation(header, source)

    pixels = apply_orientation(pixels, orientation)
    return DecodedImage(
        source=source, format=fmt, pixels=pixels, bgr=_to_bgr8(pixels), icc_profile=icc_profile
    )


def _open_header(data: bytes, fmt: str, source: str) -> ImageFile.ImageFile:
    """Parse the header with Pillow's plugin for ``fmt``, without decoding pixels.

    The plugin classes are used directly because ``Image.open`` applies Pillow's global
    decompression-bomb limits before we can apply ours, and changing
    ``Image.MAX_IMAGE_PIXELS`` would affect the whole process.
    """
    plugin: type[ImageFile.ImageFile]
    if fmt == "PNG":
        plugin = PngImagePlugin.PngImageFile
    elif fmt == "JPEG":
        plugin = JpegImagePlugin.JpegImageFile
    elif fmt == "GIF":
        plugin = GifImagePlugin.GifImageFile
    elif fmt == "BMP":
        plugin = BmpImagePlugin.BmpImageFile
    elif fmt == "TIFF":
        plugin = TiffImagePlugin.TiffImageFile
    else:
        try:
            from PIL import WebPImagePlugin
        except ImportError:
            raise InputError(f"{source}: WEBP images need a Pillow build with WebP support") from None
        plugin = WebPImagePlugin.WebPImageFile
    try:
        return plugin(io.BytesIO(data))
    except PIL_DECODE_ERRORS as error:
        raise InputError(f"{source}: {fmt} header is truncated or corrupt ({cv2_message(error)})") from None


def _decode_with_pillow(header: ImageFile.ImageFile, source: str, fmt: str) -> np.ndarray:
    if getattr(header, "is_animated", False):
        logger.info("%s: animated %s, using the first frame only", source, fmt)
        header.seek(0)
    try:
        # load() reads all the data, so a truncated file fails here and not later.
        header.load()
        return _pillow_to_array(header, source)
    except PIL_DECODE_ERRORS as error:
        raise InputError(f"{source}: {fmt} image is truncated or corrupt ({cv2_message(error)})") from None


def _pillow_to_array(im: Image.Image, source: str) -> np.ndarray:
    """Pillow image -> uint8/uint16 gray, BGR or BGRA array."""
    mode = im.mode
    if mode.startswith("I;16"):
        return np.array(im).astype(np.uint16)  # I;16B is big-endian: make it native
    has_alpha = (
        mode in ("LA", "La", "PA", "RGBA", "RGBa")
        or "transparency" in im.info
        or (mode == "P" and im.palette is not None and im.palette.mode == "RGBA")
    )
    if has_alpha:
        return cv2.cvtColor(np.array(im.convert("RGBA")), cv2.COLOR_RGBA2BGRA)
    if mode in ("1", "L"):
        return np.array(im.convert("L"))
    if mode in ("I", "F", "I;32"):
        raise InputError(f"{source}: 32-bit samples ({mode}) are not supported; use 8 or 16 bits")
    try:
        rgb = im.convert("RGB")  # P, RGBX, CMYK, YCbCr ...
    except ValueError:
        raise InputError(f"{source}: unsupported colour mode {mode}") from None
    return cv2.cvtColor(np.array(rgb), cv2.COLOR_RGB2BGR)


def _decode_with_cv2(data: bytes, source: str, fmt: str) -> np.ndarray:
    try:
        pixels = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as error:
        raise InputError(f"{source}: {fmt} image is truncated or corrupt ({cv2_message(error)})") from None
    if pixels is None:
        raise InputError(f"{source}: {fmt} image is truncated or corrupt (could not decode its pixels)")
    if pixels.dtype not in (np.uint8, np.uint16):
        raise InputError(f"{source}: {pixels.dtype} samples are not supported; use 8 or 16 bits")
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    elif pixels.ndim == 3 and pixels.shape[2] == 2:  # gray + alpha
        gray, alpha = pixels[:, :, 0], pixels[:, :, 1]
        pixels = np.dstack([gray, gray, gray, alpha])
    elif pixels.ndim != 2 and not (pixels.ndim == 3 and pixels.shape[2] in (3, 4)):
        raise InputError(f"{source}: unsupported pixel layout {pixels.shape}")
    return pixels


def _tiff_bits(header: ImageFile.ImageFile) -> int:
    bits = getattr(header, "tag_v2", {}).get(_TIFF_BITS_PER_SAMPLE, 8)
    if isinstance(bits, tuple):
        return max(bits, default=8)
    return int(bits)


def to_8bit(pixels: np.ndarray) -> np.ndarray:
    """uint16 samples scaled to uint8 with rounding (uint8 comes back as it is)."""
    if pixels.dtype == np.uint8:
        return pixels
    # x/257 rounded to nearest (257*k -> k); no ties exist, so float rounding is exact,
    # and this avoids a uint32 copy of the whole image.
    return cv2.convertScaleAbs(pixels, alpha=1.0 / 257.0)


def _to_bgr8(pixels: np.ndarray) -> np.ndarray:
    pixels8 = to_8bit(pixels)
    if pixels8.ndim == 2:
        return cv2.cvtColor(pixels8, cv2.COLOR_GRAY2BGR)
    # Always a copy: the engine may draw into bgr, merge_result needs pixels untouched.
    return np.array(pixels8[:, :, :3], order="C", copy=True)


def _rgb_icc_profile(profile: object) -> bytes | None:
    # Only RGB profiles are kept: a CMYK or gray profile would be wrong on BGR output.
    if isinstance(profile, bytes) and len(profile) >= 128 and profile[16:20] == b"RGB ":
        return profile
    return None


# --------------------------------------------------------------------------- merging


def merge_result(decoded: DecodedImage, swapped_bgr: np.ndarray) -> np.ndarray:
    """Put the engine's 8-bit BGR result back into the input's own layout.

    Pixels where ``swapped_bgr`` equals ``decoded.bgr`` keep the original value exactly
    (all channels, 16-bit precision, alpha). Changed pixels get the new colour in the
    original depth (x257 for uint16); gray inputs get its gray value; alpha is kept.
    """
    if swapped_bgr.shape != decoded.bgr.shape or swapped_bgr.dtype != np.uint8:
        raise ValueError(
            f"swapped image must be uint8 {decoded.bgr.shape}, got {swapped_bgr.dtype} {swapped_bgr.shape}"
        )
    out = decoded.pixels.copy()
    changed = np.any(swapped_bgr != decoded.bgr, axis=2)
    if not changed.any():
        return out
    scale = 257 if out.dtype == np.uint16 else 1
    if out.ndim == 2:
        gray = cv2.cvtColor(swapped_bgr, cv2.COLOR_BGR2GRAY)
        out[changed] = gray[changed].astype(out.dtype) * scale
    else:
        out[changed, :3] = swapped_bgr[changed].astype(out.dtype) * scale
    return out
