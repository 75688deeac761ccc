"""Image reading/writing: formats, bit depth, alpha, orientation, bad inputs, atomic marked outputs."""

from __future__ import annotations

import io
import logging
import os
import struct
import time
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps, features

from facedeck.core.errors import InputError, OutputError
from facedeck.core.media import image_io
from facedeck.core.media.image_io import (
    DecodedImage,
    check_output_path,
    encode_image,
    merge_result,
    read_image,
    read_image_bytes,
    write_image,
)
from facedeck.core.media.metadata import (
    DIGITAL_SOURCE_TYPE,
    synthetic_text_fields,
    synthetic_xmp_packet,
)
from facedeck.core.version import software_label
from tests.support.bad_files import png_chunk, png_header_only

RNG = np.random.default_rng(1234)


# --------------------------------------------------------------------------- helpers


def _random(shape: tuple[int, ...], dtype: type = np.uint8) -> np.ndarray:
    return RNG.integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)


def _write_cv2(path: Path, pixels: np.ndarray) -> Path:
    ok, buffer = cv2.imencode(path.suffix, pixels)
    assert ok
    path.write_bytes(buffer.tobytes())
    return path


def _rgb(bgr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(bgr[..., ::-1])


def _quadrants(height: int = 32, width: int = 48) -> np.ndarray:
    """BGR image of four flat 16-pixel-aligned blocks: survives JPEG almost unchanged."""
    image = np.zeros((height, width, 3), np.uint8)
    h, w = height // 2, width // 2
    image[:h, :w] = (0, 0, 255)
    image[:h, w:] = (0, 255, 0)
    image[h:, :w] = (255, 0, 0)
    image[h:, w:] = (255, 255, 255)
    return image


def _png_with_exif_after_idat(png: bytes, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    iend = png.rindex(b"IEND") - 4
    return png[:iend] + png_chunk(b"eXIf", exif.tobytes()) + png[iend:]


def _tiff16_rgb(rgb: np.ndarray, orientation: int) -> bytes:
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


def _jpeg_bytes(bgr: np.ndarray, quality: int = 95, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(_rgb(bgr)).save(buffer, "JPEG", quality=quality, subsampling=0, **options)
    return buffer.getvalue()


# --------------------------------------------------------------------------- decoding


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("shape", [(9, 13), (9, 13, 3), (9, 13, 4)], ids=["gray", "bgr", "bgra"])
def test_png_decodes_exactly_in_its_own_layout(tmp_path, dtype, shape):
    pixels = _random(shape, dtype)
    decoded = read_image(_write_cv2(tmp_path / "in.png", pixels))
    assert decoded.format == "PNG"
    assert decoded.pixels.dtype == dtype
    np.testing.assert_array_equal(decoded.pixels, pixels)
    assert decoded.bgr.dtype == np.uint8 and decoded.bgr.shape == (9, 13, 3)
    assert decoded.bgr.flags.c_contiguous


def test_16bit_is_scaled_to_8bit_with_rounding(tmp_path):
    values = np.arange(65536, dtype=np.uint32).reshape(256, 256)
    decoded = read_image(_write_cv2(tmp_path / "all.png", values.astype(np.uint16)))
    expected = ((values + 128) // 257).astype(np.uint8)
    for channel in range(3):  # gray expanded to BGR
        np.testing.assert_array_equal(decoded.bgr[:, :, channel], expected)
    flat = decoded.bgr[:, :, 0].ravel()
    np.testing.assert_array_equal(flat[257 * np.arange(256)], np.arange(256))  # 257*k -> k exactly


@pytest.mark.parametrize(
    ("fmt", "suffix", "mode"),
    [
        ("BMP", ".bmp", "RGB"),
        ("WEBP", ".webp", "RGB"),
        ("WEBP", ".webp", "RGBA"),
        ("TIFF", ".tif", "RGB"),
        ("TIFF", ".tiff", "RGBA"),
        ("TIFF", ".tif", "L"),
    ],
)
def test_lossless_pillow_formats_decode_exactly(tmp_path, fmt, suffix, mode):
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    rgb = _random((11, 7, channels))[..., 0] if channels == 1 else _random((11, 7, channels))
    if mode == "RGBA":
        rgb[0, :, 3] = [0, 1, 64, 128, 200, 254, 255]  # semi-transparent: no premultiplying
    path = tmp_path / f"in{suffix}"
    options = {"lossless": True, "exact": True} if fmt == "WEBP" else {}
    Image.fromarray(rgb, mode).save(path, fmt, **options)

    decoded = read_image(path)
    assert decoded.format == fmt
    if mode == "L":
        np.testing.assert_array_equal(decoded.pixels, rgb)
    elif mode == "RGB":
        np.testing.assert_array_equal(decoded.pixels, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    else:
        np.testing.assert_array_equal(decoded.pixels, cv2.cvtColor(rgb, cv2.COLOR_RGBA2BGRA))


@pytest.mark.parametrize("shape", [(10, 6, 3), (10, 6), (10, 6, 4)], ids=["bgr", "gray", "bgra"])
def test_16bit_tiff_decodes_exactly(tmp_path, shape):
    pixels = _random(shape, np.uint16)
    decoded = read_image(_write_cv2(tmp_path / "in16.tiff", pixels))
    assert decoded.format == "TIFF" and decoded.pixels.dtype == np.uint16
    np.testing.assert_array_equal(decoded.pixels, pixels)


def test_jpeg_decodes_within_tolerance(tmp_path):
    image = _quadrants()
    path = tmp_path / "in.jpg"
    path.write_bytes(_jpeg_bytes(image))
    decoded = read_image(path)
    assert decoded.format == "JPEG" and decoded.pixels.shape == image.shape
    assert np.abs(decoded.pixels.astype(int) - image).max() <= 6


def test_gif_reads_first_frame_of_animation(tmp_path):
    red = Image.new("RGB", (8, 6), (255, 0, 0))
    blue = Image.new("RGB", (8, 6), (0, 0, 255))
    path = tmp_path / "anim.gif"
    red.save(path, save_all=True, append_images=[blue], duration=100, loop=0)
    assert Image.open(path).n_frames == 2

    decoded = read_image(path)
    assert decoded.format == "GIF"
    assert decoded.pixels.shape == (6, 8, 3)
    assert (decoded.pixels == (0, 0, 255)).all()  # BGR red


def test_gif_transparency_becomes_alpha(tmp_path):
    image = Image.new("P", (4, 3), 1)
    image.putpalette([0, 0, 0, 10, 20, 30] + [0] * 762)
    image.putpixel((0, 0), 0)
    path = tmp_path / "t.gif"
    image.save(path, transparency=0)
    decoded = read_image(path)
    assert decoded.pixels.shape == (3, 4, 4)
    assert decoded.pixels[0, 0, 3] == 0
    assert tuple(decoded.pixels[1, 1]) == (30, 20, 10, 255)


def test_gray_alpha_png_becomes_bgra(tmp_path):
    path = tmp_path / "la.png"
    Image.new("LA", (5, 4), (90, 128)).save(path)
    decoded = read_image(path)
    assert decoded.pixels.shape == (4, 5, 4)
    assert tuple(decoded.pixels[0, 0]) == (90, 90, 90, 128)


def test_non_ascii_path_reads_and_writes(tmp_path):
    pixels = _random((5, 6, 3))
    source = _write_cv2(tmp_path / "фото 写真.png", pixels)
    decoded = read_image(source)
    np.testing.assert_array_equal(decoded.pixels, pixels)
    out = write_image(tmp_path / "результат 結果.png", decoded.pixels, inputs=[source])
    np.testing.assert_array_equal(read_image(out).pixels, pixels)


def test_read_image_bytes_matches_file_read(tmp_path):
    pixels = _random((4, 4, 4), np.uint16)
    data = encode_image(pixels, ".png")
    decoded = read_image_bytes(data, "upload.png")
    assert decoded.source == "upload.png"
    np.testing.assert_array_equal(decoded.pixels, pixels)


# --------------------------------------------------------------------------- orientation

_EXPECTED_TURN = {3: 2, 6: -1, 8: 1}  # np.rot90 k: 6 = display rotated 90 degrees clockwise


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_jpeg_exif_orientation(tmp_path, orientation):
    image = _quadrants()
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}.jpg"
    path.write_bytes(_jpeg_bytes(image, exif=exif))

    decoded = read_image(path)
    expected = np.rot90(image, _EXPECTED_TURN[orientation])
    assert decoded.pixels.shape == expected.shape
    assert np.abs(decoded.pixels.astype(int) - expected).max() <= 6


@pytest.mark.parametrize("orientation", range(1, 9))
def test_png_orientation_matches_pillow_exif_transpose(tmp_path, orientation):
    rgb = _random((5, 7, 3))
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "o.png"
    Image.fromarray(rgb).save(path, exif=exif)

    decoded = read_image(path)
    reference = np.asarray(ImageOps.exif_transpose(Image.open(path)))
    np.testing.assert_array_equal(decoded.pixels, cv2.cvtColor(reference, cv2.COLOR_RGB2BGR))


def test_16bit_png_orientation_after_idat(tmp_path):
    pixels = _random((4, 9, 3), np.uint16)
    ok, buffer = cv2.imencode(".png", pixels)
    path = tmp_path / "o16.png"
    path.write_bytes(_png_with_exif_after_idat(buffer.tobytes(), 6))
    decoded = read_image(path)
    np.testing.assert_array_equal(decoded.pixels, np.rot90(pixels, -1))


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_8bit_tiff_orientation(tmp_path, orientation):
    rgb = _random((5, 7, 3))
    path = tmp_path / "o.tif"
    Image.fromarray(rgb).save(path, tiffinfo={274: orientation}, compression="tiff_lzw")
    decoded = read_image(path)
    expected = np.rot90(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), _EXPECTED_TURN[orientation])
    np.testing.assert_array_equal(decoded.pixels, expected)


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_16bit_tiff_orientation(tmp_path, orientation):
    rgb = _random((5, 7, 3), np.uint16)
    path = tmp_path / "o16.tif"
    path.write_bytes(_tiff16_rgb(rgb, orientation))
    decoded = read_image(path)
    assert decoded.pixels.dtype == np.uint16
    expected = np.rot90(rgb[..., ::-1], _EXPECTED_TURN.get(orientation, 0))
    np.testing.assert_array_equal(decoded.pixels, expected)


# --------------------------------------------------------------------------- merge_result


def _decoded(pixels: np.ndarray) -> DecodedImage:
    return read_image_bytes(encode_image(pixels, ".png"))


@pytest.mark.parametrize("shape", [(12, 10, 3), (12, 10), (12, 10, 4)], ids=["bgr", "gray", "bgra"])
def test_16bit_png_roundtrip_is_bit_exact(tmp_path, shape):
    pixels = _random(shape, np.uint16)
    source = _write_cv2(tmp_path / "in16.png", pixels)
    decoded = read_image(source)
    merged = merge_result(decoded, decoded.bgr.copy())
    out = write_image(tmp_path / "out16.png", merged, inputs=[source])

    again = read_image(out)
    assert again.pixels.dtype == np.uint16 and again.pixels.shape == pixels.shape
    np.testing.assert_array_equal(again.pixels, pixels)


def test_merge_result_changes_only_changed_pixels_16bit_bgra():
    pixels = _random((12, 10, 4), np.uint16)
    decoded = _decoded(pixels)
    swapped = decoded.bgr.copy()
    swapped[2:5, 3:7] = (10, 20, 30)

    merged = merge_result(decoded, swapped)
    assert merged.dtype == np.uint16 and merged.shape == pixels.shape
    mask = np.zeros((12, 10), bool)
    mask[2:5, 3:7] = True
    np.testing.assert_array_equal(merged[~mask], pixels[~mask])
    assert (merged[mask][:, :3] == np.array([10, 20, 30]) * 257).all()
    np.testing.assert_array_equal(merged[mask][:, 3], pixels[mask][:, 3])  # alpha kept


def test_merge_result_gray_gets_gray_value():
    pixels = _random((6, 6))
    decoded = _decoded(pixels)
    swapped = decoded.bgr.copy()
    swapped[1, 1] = (200, 100, 50)
    merged = merge_result(decoded, swapped)
    assert merged.ndim == 2
    gray = cv2.cvtColor(np.array([[[200, 100, 50]]], np.uint8), cv2.COLOR_BGR2GRAY)[0, 0]
    assert merged[1, 1] == gray
    unchanged = np.ones((6, 6), bool)
    unchanged[1, 1] = False
    np.testing.assert_array_equal(merged[unchanged], pixels[unchanged])


def test_merge_result_rejects_wrong_shape():
    decoded = _decoded(_random((6, 6, 3)))
    with pytest.raises(ValueError):
        merge_result(decoded, np.zeros((5, 6, 3), np.uint8))


def test_bgr_is_independent_of_pixels():
    decoded = _decoded(_random((4, 4, 3)))
    before = decoded.pixels.copy()
    decoded.bgr[:] = 0
    np.testing.assert_array_equal(decoded.pixels, before)


# --------------------------------------------------------------------------- bad inputs

_TRUNCATED_JPEG = _jpeg_bytes(_random((64, 64, 3)), quality=90)
_PNG = cv2.imencode(".png", _random((64, 64, 3)))[1].tobytes()
_SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("vector.svg", _SVG, "unsupported format .svg"),
        ("vector.png", _SVG, "svg"),
        ("notes.png", b"hello, this is not an image\n", "text"),
        ("notes.txt", b"hello", "unsupported format .txt"),
        ("empty.png", b"", "empty"),
        ("noise.jpg", bytes(RNG.integers(0, 256, 500, dtype=np.uint8)), "not a supported image"),
        ("cut.jpg", _TRUNCATED_JPEG[: len(_TRUNCATED_JPEG) // 2], "truncated or corrupt"),
        ("cut.png", _PNG[: len(_PNG) // 2], "truncated or corrupt"),
        ("header.png", _PNG[:20], "png header is truncated or corrupt"),
        ("icon.png", b"\x00\x00\x01\x00" + b"\x00" * 60, "not a supported image"),
    ],
)
def test_bad_inputs_raise_one_line_input_errors(tmp_path, name, content, fragment):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        read_image(path)
    message = str(caught.value)
    assert "\n" not in message
    assert name in message
    assert fragment in message.lower()


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_image(tmp_path / "nope.png")
    folder = tmp_path / "dir.png"
    folder.mkdir()
    with pytest.raises(InputError, match="folder"):
        read_image(folder)


def test_pixel_bomb_refused_from_header_quickly(tmp_path, monkeypatch):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(30000, 30000))

    def no_decoding(*args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(cv2, "imdecode", no_decoding)
    started = time.perf_counter()
    with pytest.raises(InputError) as caught:
        read_image(path)
    assert time.perf_counter() - started < 1.0
    message = str(caught.value)
    assert "30000x30000" in message and "limit" in message and "bomb.png" in message


def test_max_pixels_is_the_limit(tmp_path):
    path = _write_cv2(tmp_path / "small.png", _random((100, 100, 3)))
    assert read_image(path, max_pixels=10_000).pixels.shape == (100, 100, 3)
    with pytest.raises(InputError, match="100x100"):
        read_image(path, max_pixels=9_999)


def test_pillow_bomb_limit_does_not_apply(tmp_path, monkeypatch):
    # Our limit decides, not Pillow's global one (which we never change).
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)
    path = tmp_path / "in.bmp"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(path)
    assert read_image(path).pixels.shape == (8, 8, 3)


def test_pillow_warnings_become_log_records(caplog):
    buffer = io.BytesIO()
    broken_exif = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff"  # IFD claims 65535 entries
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, "JPEG", exif=broken_exif)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a leaked warning would raise here
        with caplog.at_level(logging.WARNING, logger="facedeck.core.media.image_io"):
            decoded = read_image_bytes(buffer.getvalue(), "broken-exif.jpg")
    assert decoded.pixels.shape == (8, 8, 3)
    assert "broken-exif.jpg" in caplog.text and "EXIF" in caplog.text


def test_read_image_bytes_error_names_the_upload():
    with pytest.raises(InputError, match=r"^upload\.jpg: not a supported image"):
        read_image_bytes(b"junk data", "upload.jpg")


# --------------------------------------------------------------------------- output paths


def test_output_may_not_overwrite_an_input(tmp_path, monkeypatch):
    source = _write_cv2(tmp_path / "a.png", _random((4, 4, 3)))
    (tmp_path / "sub").mkdir()
    spellings = [source, tmp_path / "sub" / ".." / "a.png", str(source)]
    for spelling in spellings:
        with pytest.raises(OutputError, match="would overwrite the input"):
            check_output_path(spelling, [source])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match="would overwrite"):
        check_output_path("a.png", [source])
    with pytest.raises(OutputError, match="would overwrite"):
        write_image("a.png", _random((4, 4, 3)), inputs=[str(source)])


def test_output_may_not_be_a_hard_link_to_an_input(tmp_path):
    source = _write_cv2(tmp_path / "a.png", _random((4, 4, 3)))
    link = tmp_path / "b.png"
    try:
        os.link(source, link)
    except OSError:
        pytest.skip("hard links not supported here")
    with pytest.raises(OutputError, match="would overwrite"):
        check_output_path(link, [source])


def test_output_extension_and_folder_checks(tmp_path):
    with pytest.raises(OutputError) as caught:
        check_output_path(tmp_path / "out.bmp")
    assert ".png" in str(caught.value) and "synthetic" in str(caught.value)
    with pytest.raises(OutputError) as caught:
        check_output_path(tmp_path / "out.xyz")
    assert ".xyz" in str(caught.value) and ".jpg" in str(caught.value) and ".tiff" in str(caught.value)
    with pytest.raises(OutputError, match="does not exist"):
        check_output_path(tmp_path / "missing" / "out.png")
    assert check_output_path(tmp_path / "OUT.PNG", [tmp_path / "in.png"]) == tmp_path / "OUT.PNG"


# --------------------------------------------------------------------------- writing


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part") or p.name.startswith("."))


def test_failed_encoding_leaves_nothing(tmp_path, monkeypatch):
    def broken_save(self, *args, **kwargs):
        raise OSError("encoder exploded")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OutputError, match="encoder exploded"):
        write_image(tmp_path / "out.jpg", _random((8, 8, 3)))
    assert list(tmp_path.iterdir()) == []


def test_failed_png_encoding_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(cv2, "imencode", lambda *args, **kwargs: (False, None))
    with pytest.raises(OutputError, match="PNG"):
        write_image(tmp_path / "out.png", _random((8, 8, 3)))
    assert list(tmp_path.iterdir()) == []


def test_failed_rename_removes_temp_and_keeps_old_output(tmp_path, monkeypatch):
    old = tmp_path / "out.png"
    old.write_bytes(b"previous result")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OutputError, match="No space left"):
        write_image(old, _random((8, 8, 3)))
    assert _leftovers(tmp_path) == []
    assert old.read_bytes() == b"previous result"


def test_successful_write_leaves_no_temp_files(tmp_path):
    out = write_image(tmp_path / "out.webp", _random((8, 8, 3)))
    assert out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.webp"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_written_file_has_normal_permissions(tmp_path):
    out = write_image(tmp_path / "out.png", _random((4, 4, 3)))
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_gray_png_stays_gray(tmp_path):
    pixels = _random((7, 9))
    decoded = read_image(_write_cv2(tmp_path / "g.png", pixels))
    assert decoded.pixels.ndim == 2
    out = write_image(tmp_path / "g-out.png", merge_result(decoded, decoded.bgr.copy()))
    again = read_image(out)
    assert again.pixels.ndim == 2
    np.testing.assert_array_equal(again.pixels, pixels)
    assert Image.open(out).mode == "L"


@pytest.mark.parametrize("suffix", [".png", ".webp"])
def test_alpha_survives_output(tmp_path, suffix):
    pixels = _random((6, 5, 4))
    pixels[0, :, 3] = [0, 1, 127, 254, 255]
    out = write_image(tmp_path / f"a{suffix}", pixels, quality=100)
    np.testing.assert_array_equal(read_image(out).pixels, pixels)


def test_tiff_output_keeps_16bit_gray_and_8bit_colour_exactly(tmp_path):
    gray16 = _random((5, 6), np.uint16)
    np.testing.assert_array_equal(read_image(write_image(tmp_path / "g.tif", gray16)).pixels, gray16)
    bgra = _random((5, 6, 4))
    np.testing.assert_array_equal(read_image(write_image(tmp_path / "c.tiff", bgra)).pixels, bgra)


def test_16bit_to_jpeg_warns_and_rounds(tmp_path, caplog):
    pixels = np.full((16, 16, 4), 257 * 100 + 100, np.uint16)  # rounds to 100
    with caplog.at_level(logging.WARNING, logger="facedeck.core.media.image_io"):
        out = write_image(tmp_path / "o.jpg", pixels)
    text = caplog.text.lower()
    assert "8 bits" in text and "alpha" in text
    decoded = read_image(out)
    assert decoded.pixels.dtype == np.uint8 and decoded.pixels.shape == (16, 16, 3)
    assert np.abs(decoded.pixels.astype(int) - 100).max() <= 1


def test_quality_changes_jpeg_size():
    image = cv2.GaussianBlur(_random((96, 96, 3)), (3, 3), 0)
    small = encode_image(image, ".jpg", quality=20)
    large = encode_image(image, "jpg", quality=95)
    assert len(small) < len(large) * 0.7


def test_encode_image_refuses_bmp_and_bad_arrays():
    with pytest.raises(OutputError, match="png"):
        encode_image(_random((4, 4, 3)), ".bmp")
    with pytest.raises(ValueError):
        encode_image(np.zeros((4, 4, 3), np.float32), ".png")
    with pytest.raises(ValueError):
        encode_image(np.zeros((4, 4, 2), np.uint8), ".png")


@pytest.mark.skipif(not features.check("littlecms2"), reason="needs Pillow's ImageCms")
def test_icc_profile_is_carried_from_input_to_output(tmp_path):
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = tmp_path / "in.jpg"
    path.write_bytes(_jpeg_bytes(_quadrants(), icc_profile=profile))
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
    [_random((8, 8, 3)), _random((8, 8, 4), np.uint16), _random((8, 8))],
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


def test_xmp_packet_is_well_formed():
    packet = synthetic_xmp_packet()
    assert packet.startswith(b"<?xpacket begin=") and packet.endswith(b'<?xpacket end="w"?>')
    root = ET.fromstring(packet.decode("utf-8"))
    rdf = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
    description = root.find(f"{rdf}RDF/{rdf}Description")
    assert description is not None
    assert description.get("{http://iptc.org/std/Iptc4xmpExt/2008-02-29/}DigitalSourceType") == (
        DIGITAL_SOURCE_TYPE
    )
    assert description.get("{http://ns.adobe.com/xap/1.0/}CreatorTool") == software_label()
    text = description.find(f"{{http://purl.org/dc/elements/1.1/}}description/{rdf}Alt/{rdf}li").text
    assert "synthetic" in text.lower() and "face-swap" in text.lower()


def test_text_fields_are_ascii_and_say_synthetic():
    fields = synthetic_text_fields()
    assert fields["Software"] == software_label()
    assert fields["DigitalSourceType"] == DIGITAL_SOURCE_TYPE
    assert "synthetic" in fields["Comment"].lower()
    assert "compositeWithTrainedAlgorithmicMedia" in fields["Comment"]
    for value in fields.values():
        value.encode("ascii")


def test_image_io_module_never_touches_pillow_globals(tmp_path):
    before = Image.MAX_IMAGE_PIXELS
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(30000, 30000))
    with pytest.raises(InputError):
        read_image(path)
    read_image(_write_cv2(tmp_path / "ok.png", _random((3, 3, 3))))
    assert Image.MAX_IMAGE_PIXELS == before
    assert image_io.DEFAULT_MAX_PIXELS == 150_000_000
