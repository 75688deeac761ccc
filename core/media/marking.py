"""Reading the synthetic-media marking back: does a file FaceDeck wrote still say it is synthetic?

What the writers put there (see :mod:`.metadata`): images and animated WebP carry an XMP
packet whose ``Iptc4xmpExt:DigitalSourceType`` is :data:`~.metadata.DIGITAL_SOURCE_TYPE`,
PNG adds the plain text tags of :func:`~.metadata.synthetic_text_fields`, JPEG and WebP an
EXIF ImageDescription, TIFF its ImageDescription tag, animated GIF a comment holding the
text tags; videos carry the text tags as container metadata (AVI keeps only the comment).
Any one of them counts: a tool that strips XMP may keep the rest, and the other way round.

Images and animations are read with Pillow, videos with PyAV; only headers and metadata
are read, never the pixels.
"""

from __future__ import annotations

import logging
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import av
import av.error
from PIL import Image, UnidentifiedImageError

from ..errors import InputError
from ..regular_files import open_regular
from .common import PIL_DECODE_ERRORS
from .messages import av_message, one_line
from .metadata import DIGITAL_SOURCE_TYPE, synthetic_description

logger = logging.getLogger(__name__)

# The digital source type's last path segment: what the one-line comments carry.
_SOURCE_TYPE_CODE = DIGITAL_SOURCE_TYPE.rsplit("/", 1)[-1]
# The description's opening words, which do not change with the version that wrote it.
_DESCRIPTION_HEAD = synthetic_description().split(" (", 1)[0]
_IPTC_EXT = "{http://iptc.org/std/Iptc4xmpExt/2008-02-29/}"
_EXIF_IMAGE_DESCRIPTION = 0x010E
_TIFF_XMP = 700
_TIFF_IMAGE_DESCRIPTION = 270


def is_marked_synthetic(path: Path) -> bool:
    """Whether the image, animation or video at ``path`` carries FaceDeck's synthetic-media marking.

    False for a readable file without it; :class:`InputError` (one sentence) for a file
    that cannot be read as an image or a video.
    """
    path = Path(path)
    with open_regular(path, "media") as handle:
        try:
            with Image.open(handle) as image:
                return _image_is_marked(image)
        except UnidentifiedImageError:
            pass  # not an image: a video, perhaps
        except PIL_DECODE_ERRORS as error:
            raise InputError(
                f"{path}: cannot read the image ({one_line(error)})", path=os.fspath(path)
            ) from None
    return _video_is_marked(path)


# --------------------------------------------------------------------------- images


def _image_is_marked(image: Image.Image) -> bool:
    info = image.info
    for key in ("xmp", "XML:com.adobe.xmp"):  # JPEG/WebP/GIF; PNG's iTXt keyword
        if _xmp_is_marked(info.get(key)):
            return True
    tags = getattr(image, "tag_v2", None)  # TIFF
    if tags is not None:
        if _xmp_is_marked(tags.get(_TIFF_XMP)) or _says_synthetic(tags.get(_TIFF_IMAGE_DESCRIPTION)):
            return True
    if _text_is_marked(info):  # PNG tEXt chunks, GIF comment
        return True
    exif = image.getexif()
    return _says_synthetic(exif.get(_EXIF_IMAGE_DESCRIPTION))


def _xmp_is_marked(packet: object) -> bool:
    """True when an XMP packet (bytes or text) declares FaceDeck's digital source type."""
    if isinstance(packet, tuple):  # Pillow hands TIFF BYTE tags over as a tuple of ints
        packet = bytes(packet)
    if isinstance(packet, bytes):
        packet = packet.decode("utf-8", "replace")
    if not isinstance(packet, str) or DIGITAL_SOURCE_TYPE not in packet:
        return False
    start, end = packet.find("<x:xmpmeta"), packet.rfind("</x:xmpmeta>")
    if start < 0 or end < 0:
        return False
    try:
        root = ET.fromstring(packet[start : end + len("</x:xmpmeta>")])
    except ET.ParseError:
        return False
    # the property as an attribute (how FaceDeck writes it) or as an element (how others may)
    for element in root.iter():
        if element.get(f"{_IPTC_EXT}DigitalSourceType") == DIGITAL_SOURCE_TYPE:
            return True
        if (
            element.tag == f"{_IPTC_EXT}DigitalSourceType"
            and (element.text or "").strip() == DIGITAL_SOURCE_TYPE
        ):
            return True
    return False


def _text_is_marked(info: Mapping[Any, Any]) -> bool:
    for key, value in _lowered(info):
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        if not isinstance(text, str):
            continue
        if key == "digitalsourcetype" and text.strip() == DIGITAL_SOURCE_TYPE:
            return True
        if key == "comment" and (_SOURCE_TYPE_CODE in text or DIGITAL_SOURCE_TYPE in text):
            return True
    return False


def _says_synthetic(description: object) -> bool:
    if isinstance(description, bytes):
        description = description.decode("latin-1")
    return isinstance(description, str) and description.startswith(_DESCRIPTION_HEAD)


def _lowered(mapping: Mapping[Any, Any]) -> Iterator[tuple[str, Any]]:
    for key, value in mapping.items():
        if isinstance(key, str):
            yield key.lower(), value


# --------------------------------------------------------------------------- videos


def _video_is_marked(path: Path) -> bool:
    try:
        container = av.open(os.fspath(path), "r", metadata_errors="replace")
    except av.error.FFmpegError as error:
        raise InputError(
            f"{path}: cannot read it as an image or a video ({av_message(error)})", path=os.fspath(path)
        ) from None
    try:
        metadata = dict(container.metadata)
    finally:
        container.close()
    return _text_is_marked(metadata)
