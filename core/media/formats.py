"""What a media file is: extensions, output containers, and sniffing images and videos by content."""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from pathlib import Path

from PIL import Image

from ..errors import OutputError
from .common import PIL_DECODE_ERRORS

# --------------------------------------------------------------------------- images

IMAGE_INPUT_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
)
# No .bmp: BMP has nowhere to put the synthetic-media marking.
IMAGE_OUTPUT_EXTENSIONS: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"})

# Pillow format name written for each image output extension.
IMAGE_FORMAT_BY_EXTENSION = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# --------------------------------------------------------------------------- videos

VIDEO_EXTENSIONS: frozenset[str] = frozenset({".mp4", ".mov", ".mkv", ".avi", ".webm"})
ANIMATED_EXTENSIONS: frozenset[str] = frozenset({".gif", ".webp"})

# Output container (FFmpeg muxer name, or our Pillow writers) by file extension.
FORMAT_BY_EXTENSION = {
    ".mp4": "mp4",
    ".mov": "mov",
    ".mkv": "matroska",
    ".avi": "avi",
    ".webm": "webm",
    ".gif": "gif",
    ".webp": "webp",
}
ANIMATION_FORMATS = frozenset({"gif", "webp"})


def is_video_input(path: str | os.PathLike[str]) -> bool:
    """True for video extensions, .gif, and .webp files holding more than one frame."""
    suffix = Path(path).suffix.lower()
    if suffix in VIDEO_EXTENSIONS or suffix == ".gif":
        return True
    if suffix != ".webp":
        return False
    # A still WebP is an image; only an animated one goes through the video pipeline.
    if not os.path.isfile(path):  # a pipe would block the open below: the reader refuses it
        return False
    try:
        with Image.open(path) as image:
            return getattr(image, "n_frames", 1) > 1
    except PIL_DECODE_ERRORS:
        return False  # unreadable: the image reader reports why


def is_video_output(path: str | os.PathLike[str]) -> bool:
    """True when the extension names a container the video writer writes (video or animation)."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS | ANIMATED_EXTENSIONS


def container_format_for(path: str | os.PathLike[str]) -> str:
    """The ``container_format`` for an output path: "mp4", "mov", "matroska", "avi", "webm", "gif", "webp"."""
    suffix = Path(path).suffix.lower()
    fmt = FORMAT_BY_EXTENSION.get(suffix)
    if fmt is None:
        allowed = " ".join(sorted(VIDEO_EXTENSIONS | ANIMATED_EXTENSIONS))
        problem = f"cannot write {suffix} video" if suffix else "has no file extension"
        raise OutputError(f"{path}: {problem}; use one of {allowed}")
    return fmt


def is_animation_header(head: bytes) -> bool:
    """True when ``head`` (a file's first bytes) starts a GIF or a WebP file."""
    return head[:6] in (b"GIF87a", b"GIF89a") or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def looks_like_text(head: bytes) -> bool:
    """True when ``head`` (a file's first bytes) is printable UTF-8 text."""
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A cut in the middle of a multi-byte character at the 4 KB boundary.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in text)


# --------------------------------------------------------------------------- image content


def sniff_image_format(data: bytes) -> str | None:
    """The Pillow format name of the supported format ``data`` starts with."""
    if data.startswith(PNG_SIGNATURE):
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


def png_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(type, offset of the chunk, length of its payload) for each chunk of a PNG."""
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        yield kind, pos, length
        if kind == b"IEND":
            return
        pos += 12 + length


def describe_unsupported(data: bytes) -> str:
    """Why ``data`` is not an image we read, in a few words a user understands."""
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


def listed(extensions: frozenset[str]) -> str:
    """Extensions sorted and space-separated, for messages."""
    return " ".join(sorted(extensions))
