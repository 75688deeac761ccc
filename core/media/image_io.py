"""Reading and writing still images without losing what the engine did not touch.

Inputs are identified by content, never by extension, and refused before their pixels
are decoded when the header says they are too large. PNG and 16-bit TIFF are decoded
with OpenCV so 16-bit colour survives (Pillow has no 16-bit RGB mode); everything else
goes through Pillow. The engine always works on an 8-bit BGR copy (``DecodedImage.bgr``);
:func:`merge_result` puts its result back into the input's own layout so that pixels
the engine left alone stay bit-identical. Every output is marked as synthetic media
(see :mod:`facedeck.core.media.metadata`) and written atomically.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import struct
import warnings
import zlib
from collections.abc import Iterator, Sequence
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
    TiffTags,
    features,
)

from ..errors import InputError, OutputError
from ..version import software_label
from .metadata import (
    synthetic_description,
    synthetic_text_fields,
    synthetic_xmp_packet,
)

logger = logging.getLogger(__name__)

INPUT_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
)
# No .bmp: BMP has nowhere to put the synthetic-media marking.
OUTPUT_EXTENSIONS: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"})
DEFAULT_MAX_PIXELS = 150_000_000

_OUTPUT_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
# Largest side each encoder accepts; checked up front for a readable message.
_MAX_SIDE = {"JPEG": 65_500, "WEBP": 16_383}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_EXIF_ORIENTATION = 0x0112
_TIFF_ORIENTATION = 274
_TIFF_BITS_PER_SAMPLE = 258
_TIFF_XMP = 700
_TIFF_SOFTWARE = 305
_TIFF_IMAGE_DESCRIPTION = 270
_EXIF_SOFTWARE = 0x0131
_EXIF_IMAGE_DESCRIPTION = 0x010E

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


def read_image(path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedImage:
    """Read an image file; raise :class:`InputError` with a one-line message if it can't be used."""
    source = os.fspath(path)
    suffix = Path(source).suffix.lower()
    # A file with no extension is identified by content alone; a wrong one is refused early.
    if suffix and suffix not in INPUT_EXTENSIONS:
        hint = " (vector images are not supported; export it as PNG)" if suffix == ".svg" else ""
        raise InputError(
            f"{source}: unsupported format {suffix}{hint}; supported: {_listed(INPUT_EXTENSIONS)}"
        )
    # Read the bytes ourselves: cv2.imread cannot open non-ASCII paths on Windows.
    try:
        data = Path(source).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{source}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{source}: is a folder, not an image file") from None
    except PermissionError:
        if Path(source).is_dir():  # Windows reports folders this way
            raise InputError(f"{source}: is a folder, not an image file") from None
        raise InputError(f"{source}: permission denied") from None
    except OSError as error:
        raise InputError(f"{source}: cannot read the file ({_one_line(error.strerror or error)})") from None
    return _decode(data, source, max_pixels)


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
                logger.warning("%s: %s", source, _one_line(warning.message))


def _decode_checked(data: bytes, source: str, max_pixels: int) -> DecodedImage:
    fmt = _sniff(data)
    if fmt is None:
        raise InputError(f"{source}: not a supported image ({_describe_unsupported(data)})")

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
            orientation = _png_orientation(data)
        elif fmt == "TIFF" and _tiff_bits(header) > 8:
            # OpenCV applies TIFF orientation on some paths and not on others (it
            # depends on bit depth and version), so hand it an upright-tagged copy and
            # rotate here, like every other format.
            orientation = _header_orientation(header, source)
            tiff = _tiff_with_orientation_1(data) if orientation != 1 else data
            pixels = _decode_with_cv2(tiff, source, fmt)
        else:
            # Pillow also gets 8-bit TIFF: OpenCV premultiplies RGBA TIFFs.
            pixels = _decode_with_pillow(header, source, fmt)
            # Read after load(): Pillow turns TIFFs upright itself and then drops the tag.
            orientation = _header_orientation(header, source)

    pixels = _apply_orientation(pixels, orientation)
    return DecodedImage(
        source=source, format=fmt, pixels=pixels, bgr=_to_bgr8(pixels), icc_profile=icc_profile
    )


def _sniff(data: bytes) -> str | None:
    """The Pillow format name of the supported format ``data`` starts with."""
    if data.startswith(_PNG_SIGNATURE):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:2] == b"BM":
        return "BMP"
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    return None


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
        raise InputError(f"{source}: {fmt} header is truncated or corrupt ({_one_line(error)})") from None


def _decode_with_pillow(header: ImageFile.ImageFile, source: str, fmt: str) -> np.ndarray:
    if getattr(header, "is_animated", False):
        logger.info("%s: animated %s, using the first frame only", source, fmt)
        header.seek(0)
    try:
        # load() reads all the data, so a truncated file fails here and not later.
        header.load()
        return _pillow_to_array(header, source)
    except PIL_DECODE_ERRORS as error:
        raise InputError(f"{source}: {fmt} image is truncated or corrupt ({_one_line(error)})") from None


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
        raise InputError(f"{source}: {fmt} image is truncated or corrupt ({_one_line(error)})") from None
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


def _header_orientation(header: ImageFile.ImageFile, source: str) -> int:
    try:
        value = header.getexif().get(_EXIF_ORIENTATION, 1)
    except PIL_DECODE_ERRORS as error:
        # Broken EXIF should not make an otherwise good photo unreadable.
        logger.warning("%s: ignoring unreadable EXIF data (%s)", source, _one_line(error))
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(type, offset of the chunk, length of its payload) for each chunk of a PNG."""
    pos = len(_PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        yield kind, pos, length
        if kind == b"IEND":
            return
        pos += 12 + length


def _png_orientation(data: bytes) -> int:
    # Walk the chunks ourselves: eXIf may follow IDAT, and Pillow's getexif() would
    # then decode the whole image just to find it.
    for kind, pos, length in _png_chunks(data):
        if kind == b"eXIf":
            exif = Image.Exif()
            try:
                exif.load(data[pos + 8 : pos + 8 + length])
            except PIL_DECODE_ERRORS:
                return 1
            value = exif.get(_EXIF_ORIENTATION, 1)
            return value if isinstance(value, int) and 1 <= value <= 8 else 1
        if kind == b"IEND":
            break
    return 1


def _tiff_bits(header: ImageFile.ImageFile) -> int:
    bits = getattr(header, "tag_v2", {}).get(_TIFF_BITS_PER_SAMPLE, 8)
    if isinstance(bits, tuple):
        return max(bits, default=8)
    return int(bits)


def _tiff_with_orientation_1(data: bytes) -> bytes:
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


def _apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
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


def _to_8bit(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype == np.uint8:
        return pixels
    # x/257 rounded to nearest (257*k -> k); no ties exist, so float rounding is exact,
    # and this avoids a uint32 copy of the whole image.
    return cv2.convertScaleAbs(pixels, alpha=1.0 / 257.0)


def _to_bgr8(pixels: np.ndarray) -> np.ndarray:
    pixels8 = _to_8bit(pixels)
    if pixels8.ndim == 2:
        return cv2.cvtColor(pixels8, cv2.COLOR_GRAY2BGR)
    # Always a copy: the engine may draw into bgr, merge_result needs pixels untouched.
    return np.array(pixels8[:, :, :3], order="C", copy=True)


def _rgb_icc_profile(profile: object) -> bytes | None:
    # Only RGB profiles are kept: a CMYK or gray profile would be wrong on BGR output.
    if isinstance(profile, bytes) and len(profile) >= 128 and profile[16:20] == b"RGB ":
        return profile
    return None


def _describe_unsupported(data: bytes) -> str:
    head = data[:4096]
    lowered = head.lower()
    if b"<svg" in lowered:
        return "it is an SVG vector image; export it as PNG"
    if b"<html" in lowered or b"<!doctype html" in lowered:
        return "it is an HTML page, perhaps a failed download"
    if head.startswith(b"%PDF"):
        return "it is a PDF document"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heif"):
        return "HEIC/HEIF is not supported; convert it to JPEG or PNG"
    named = _pillow_format_name(data)
    if named:
        return f"unsupported format {named}"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return "it contains text"
    return "unrecognised data"


def _pillow_format_name(data: bytes) -> str | None:
    """The format Pillow recognises ``data`` as (one we don't accept), if any."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.format
    except PIL_DECODE_ERRORS:  # includes UnidentifiedImageError
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


# --------------------------------------------------------------------------- writing


def check_output_path(output: str | os.PathLike[str], inputs: Sequence[str | os.PathLike[str]] = ()) -> Path:
    """Validate an output path: a writable extension, an existing folder, not an input."""
    path = Path(output)
    suffix = path.suffix.lower()
    if suffix == ".bmp":
        raise OutputError(f"{path}: BMP cannot carry the synthetic-media marking; use .png instead")
    if suffix not in OUTPUT_EXTENSIONS:
        problem = f"cannot write {suffix}" if suffix else "has no file extension"
        raise OutputError(f"{path}: {problem}; use one of {_listed(OUTPUT_EXTENSIONS)}")
    return check_output_location(path, inputs)


def check_output_location(path: Path, inputs: Sequence[str | os.PathLike[str]] = ()) -> Path:
    """Any output (image or video): not one of the inputs, in an existing folder, not a folder."""
    for source in inputs:
        if _same_file(path, Path(source)):
            raise OutputError(f"{path}: would overwrite the input {source}; choose another output name")
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"{path}: the folder {parent} does not exist")
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name")
    return path


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)  # hard links, case-insensitive file systems
    except OSError:
        return False  # one of them does not exist yet


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
    temp = _create_temp(path)
    done = False
    try:
        with open(temp, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        done = True
    except OSError as error:
        raise OutputError(f"{path}: cannot write the file ({_one_line(error.strerror or error)})") from None
    finally:
        if not done:
            try:
                os.unlink(temp)
            except FileNotFoundError:
                pass
            except OSError as error:
                logger.warning("could not remove temporary file %s: %s", temp, error)
    logger.debug("wrote %s (%d bytes)", path, len(payload))
    return path


def _create_temp(path: Path) -> Path:
    """Create an empty temporary file next to ``path``.

    os.open with mode 0o666 lets the umask decide the permissions, as for any new file
    (mkstemp would leave the output readable by its owner only).
    """
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temp = path.parent / f".facedeck-{secrets.token_hex(6)}.part"
        try:
            os.close(os.open(temp, flags, 0o666))
            return temp
        except FileExistsError:
            continue
        except OSError as error:
            reason = _one_line(error.strerror or error)
            raise OutputError(f"{path}: cannot write in {path.parent} ({reason})") from None
    raise OutputError(f"{path}: cannot create a temporary file in {path.parent}")


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
    fmt = _OUTPUT_FORMATS.get(ext)
    if fmt is None:
        raise OutputError(f"cannot write {ext}; use one of {_listed(OUTPUT_EXTENSIONS)}")
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
        raise OutputError(f"could not encode the image as PNG ({_one_line(error)})") from None
    if not ok:
        raise OutputError("could not encode the image as PNG")
    data = buffer.tobytes()

    after_header = before_data = None
    for kind, pos, length in _png_chunks(data):
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
        pixels = _to_8bit(pixels)
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
        raise OutputError(f"could not encode the image as {fmt} ({_one_line(error)})") from None
    return buffer.getvalue()


# --------------------------------------------------------------------------- helpers


def _listed(extensions: frozenset[str]) -> str:
    return " ".join(sorted(extensions))


def _one_line(text: object) -> str:
    return " ".join(str(text).split())
