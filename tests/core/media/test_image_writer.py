"""Image writing: encoders, bit depth, alpha, colour profiles, atomic and marked outputs."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, features

from facedeck.core.errors import OutputError
from facedeck.core.media.image_reader import merge_result, read_image
from facedeck.core.media.image_writer import encode_image, write_image
from facedeck.core.media.metadata import (
    DIGITAL_SOURCE_TYPE,
)
from facedeck.core.version import software_label
from tests.core.media.image_helpers import (
    jpeg_bytes,
    quadrants,
    random_pixels,
    write_cv2,
)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part") or p.name.startswith("."))


def test_failed_encoding_leaves_nothing(tmp_path, monkeypatch):
    def broken_save(self, *args, **kwargs):
        raise OSError("encoder exploded")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OutputError, match="encoder exploded"):
        write_image(tmp_path / "out.jpg", random_pixels((8, 8, 3)))
    assert list(tmp_path.iterdir()) == []


def test_failed_png_encoding_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(cv2, "imencode", lambda *args, **kwargs: (False, None))
    with pytest.raises(OutputError, match="PNG"):
        write_image(tmp_path / "out.png", random_pixels((8, 8, 3)))
    assert list(tmp_path.iterdir()) == []


def test_failed_rename_removes_temp_and_keeps_old_output(tmp_path, monkeypatch):
    old = tmp_path / "out.png"
    old.write_bytes(b"previous result")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OutputError, match="No space left"):
        write_image(old, random_pixels((8, 8, 3)))
    assert _leftovers(tmp_path) == []
    assert old.read_bytes() == b"previous result"


def test_successful_write_leaves_no_temp_files(tmp_path):
    out = write_image(tmp_path / "out.webp", random_pixels((8, 8, 3)))
    assert out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.webp"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_written_file_has_normal_permissions(tmp_path):
    out = write_image(tmp_path / "out.png", random_pixels((4, 4, 3)))
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_gray_png_stays_gray(tmp_path):
    pixels = random_pixels((7, 9))
    decoded = read_image(write_cv2(tmp_path / "g.png", pixels))
    assert decoded.pixels.ndim == 2
    out = write_image(tmp_path / "g-out.png", merge_result(decoded, decoded.bgr.copy()))
    again = read_image(out)
    assert again.pixels.ndim == 2
    np.testing.assert_array_equal(again.pixels, pixels)
    assert Image.open(out).mode == "L"


@pytest.mark.parametrize("suffix", [".png", ".webp"])
def test_alpha_survives_output(tmp_path, suffix):
    pixels = random_pixels((6, 5, 4))
    pixels[0, :, 3] = [0, 1, 127, 254, 255]
    out = write_image(tmp_path / f"a{suffix}", pixels, quality=100)
    np.testing.assert_array_equal(read_image(out).pixels, pixels)


def test_tiff_output_keeps_16bit_gray_and_8bit_colour_exactly(tmp_path):
    gray16 = random_pixels((5, 6), np.uint16)
    np.testing.assert_array_equal(read_image(write_image(tmp_path / "g.tif", gray16)).pixels, gray16)
    bgra = random_pixels((5, 6, 4))
    np.testing.assert_array_equal(read_image(write_image(tmp_path / "c.tiff", bgra)).pixels, bgra)


def test_16bit_to_jpeg_warns_and_rounds(tmp_path, caplog):
    pixels = np.full((16, 16, 4), 257 * 100 + 100, np.uint16)  # rounds to 100
    with caplog.at_level(logging.WARNING, logger="facedeck.core.media.image_writer"):
        out = write_image(tmp_path / "o.jpg", pixels)
    text = caplog.text.lower()
    assert "8 bits" in text and "alpha" in text
    decoded = read_image(out)
    assert decoded.pixels.dtype == np.uint8 and decoded.pixels.shape == (16, 16, 3)
    assert np.abs(decoded.pixels.astype(int) - 100).max() <= 1


def test_quality_changes_jpeg_size():
    image = cv2.GaussianBlur(random_pixels((96, 96, 3)), (3, 3), 0)
    small = encode_image(image, ".jpg", quality=20)
    large = encode_image(image, "jpg", quality=95)
    assert len(small) < len(large) * 0.7


def test_encode_image_refuses_bmp_and_bad_arrays():
    with pytest.raises(OutputError, match="png"):
        encode_image(random_pixels((4, 4, 3)), ".bmp")
    with pytest.raises(ValueError):
        encode_image(np.zeros((4, 4, 3), np.float32), ".png")
    with pytest.raises(ValueError):
        encode_image(np.zeros((4, 4, 2), np.uint8), ".png")


@pytest.mark.skipif(not features.check("littlecms2"), reason="needs Pillow's ImageCms")
def test_icc_profile_is_carried_from_input_to_output(tmp_path):
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = tmp_path / "in.jpg"
    path.write_bytes(jpeg_bytes(quadrants(), icc_profile=profile))
    decoded = read_image(path)
    assert decoded.icc_profile == profile
    for suffix in (".png", ".jpg", ".webp", ".tif"):
        out = write_image(tmp_path / f"out{suffix}", decoded.pixels, icc_profile=decoded.icc_profile)
        assert Image.open(out).info.get("icc_profile") == profile, suffix


# --------------------------------------------------------------------------- synthetic marking


def _xmp_of(path: Path) -> bytes:
    with Image.open(path) as image:
        image.load()
        xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    assert xmp, f"no XMP in {path.name}"
    return xmp.encode("utf-8") if isinstance(xmp, str) else xmp


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff"])
@pytest.mark.parametrize(
    "pixels",
    [random_pixels((8, 8, 3)), random_pixels((8, 8, 4), np.uint16), random_pixels((8, 8))],
    ids=["bgr8", "bgra16", "gray8"],
)
def test_every_output_is_marked_synthetic(tmp_path, suffix, pixels):
    out = write_image(tmp_path / f"out{suffix}", pixels)
    raw = out.read_bytes()
    assert DIGITAL_SOURCE_TYPE.encode() in raw
    xmp = _xmp_of(out)
    assert DIGITAL_SOURCE_TYPE.encode() in xmp
    assert software_label().encode() in xmp

    with Image.open(out) as image:
        if suffix in (".jpg", ".jpeg", ".webp"):
            exif = image.getexif()
            assert exif[0x0131] == software_label()
            assert "synthetic" in exif[0x010E].lower()
        elif suffix == ".png":
            assert image.info["Software"] == software_label()
            assert "synthetic" in image.info["Comment"].lower()
        else:
            assert image.tag_v2[305] == software_label()
            assert "synthetic" in image.tag_v2[270].lower()
