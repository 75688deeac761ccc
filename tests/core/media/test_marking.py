"""is_marked_synthetic: the marking FaceDeck's writers put in, read back from real files."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
from PIL import Image

from facedeck.core.errors import InputError
from facedeck.core.media.encoding import EncoderSettings
from facedeck.core.media.formats import png_chunks
from facedeck.core.media.image_writer import write_image
from facedeck.core.media.marking import is_marked_synthetic
from facedeck.core.media.metadata import synthetic_xmp_packet
from tests.core.media.image_helpers import random_pixels
from tests.core.media.video_helpers import SMALL, transcode
from tests.support.media_fixtures import make_animated, make_clip

FAST = EncoderSettings(quality=50, preset="ultrafast", hardware="off")


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tif"])
def test_images_from_the_image_writer_are_marked(tmp_path: Path, suffix: str) -> None:
    assert is_marked_synthetic(write_image(tmp_path / f"out{suffix}", random_pixels((16, 16, 3))))


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_plain_images_are_not(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"plain{suffix}"
    assert cv2.imwrite(str(path), random_pixels((16, 16, 3)))
    assert is_marked_synthetic(path) is False


def _png_without(path: Path, drop: bytes, into: Path) -> Path:
    """A copy of a PNG with every chunk of type ``drop`` left out."""
    data = path.read_bytes()
    kept = data[:8] + b"".join(
        data[pos : pos + 12 + length] for kind, pos, length in png_chunks(data) if kind != drop
    )
    into.write_bytes(kept)
    return into


def test_either_the_xmp_packet_or_the_text_tags_is_enough(tmp_path: Path) -> None:
    marked = write_image(tmp_path / "out.png", random_pixels((16, 16, 3)))
    xmp_only = _png_without(marked, b"tEXt", tmp_path / "xmp_only.png")
    text_only = _png_without(marked, b"iTXt", tmp_path / "text_only.png")
    neither = _png_without(xmp_only, b"iTXt", tmp_path / "neither.png")
    with Image.open(xmp_only) as image:
        assert "DigitalSourceType" not in image.info and "Comment" not in image.info
    assert is_marked_synthetic(xmp_only)
    assert is_marked_synthetic(text_only)
    assert is_marked_synthetic(neither) is False


def test_an_xmp_packet_with_another_source_type_is_not_the_marking(tmp_path: Path) -> None:
    camera = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
    packet = (
        synthetic_xmp_packet()
        .decode("utf-8")
        .replace(
            "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia", camera
        )
    )
    path = tmp_path / "camera.jpg"
    Image.new("RGB", (8, 8)).save(path, xmp=packet.encode("utf-8"))
    with Image.open(path) as image:
        assert camera.encode() in image.info["xmp"]
    assert is_marked_synthetic(path) is False


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv", ".webm", ".avi"])
def test_videos_from_the_video_writer_are_marked_and_plain_ones_not(tmp_path: Path, suffix: str) -> None:
    plain = make_clip(tmp_path / f"plain{suffix}", frames=4, size=SMALL, audio=False)
    assert is_marked_synthetic(plain) is False
    output = tmp_path / f"out{suffix}"
    transcode(plain, output, FAST)
    assert is_marked_synthetic(output)


@pytest.mark.parametrize("suffix", [".gif", ".webp"])
def test_animations_from_the_writer_are_marked_and_plain_ones_not(tmp_path: Path, suffix: str) -> None:
    plain = make_animated(tmp_path / f"plain{suffix}", frames=3, size=(32, 24))
    assert is_marked_synthetic(plain) is False
    output = tmp_path / f"out{suffix}"
    transcode(plain, output, FAST)
    assert is_marked_synthetic(output)


def test_unreadable_files_are_an_input_error(tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video at all\n" * 10)
    with pytest.raises(InputError, match="notes.mp4: cannot read it as an image or a video"):
        is_marked_synthetic(notes)
    with pytest.raises(InputError, match="file not found"):
        is_marked_synthetic(tmp_path / "missing.png")
    with pytest.raises(InputError, match="is a folder"):
        is_marked_synthetic(tmp_path)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(write_image(tmp_path / "whole.png", random_pixels((16, 16, 3))).read_bytes()[:20])
    with pytest.raises(InputError, match="truncated.png"):
        is_marked_synthetic(truncated)
