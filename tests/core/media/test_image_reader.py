"""Image reading: formats, bit depth, alpha, bad inputs, and merging the result back."""

from __future__ import annotations

import io
import logging
import time
import warnings

import cv2
import numpy as np
import pytest
from PIL import Image

from facedeck.core.errors import InputError
from facedeck.core.media import image_reader
from facedeck.core.media.image_reader import DecodedImage, merge_result, read_image, read_image_bytes
from facedeck.core.media.image_writer import encode_image, write_image
from tests.core.media.image_helpers import (
    RNG,
    jpeg_bytes,
    quadrants,
    random_pixels,
    write_cv2,
)
from tests.support.bad_files import png_header_only

# --------------------------------------------------------------------------- decoding


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("shape", [(9, 13), (9, 13, 3), (9, 13, 4)], ids=["gray", "bgr", "bgra"])
def test_png_decodes_exactly_in_its_own_layout(tmp_path, dtype, shape):
    pixels = random_pixels(shape, dtype)
    decoded = read_image(write_cv2(tmp_path / "in.png", pixels))
    assert decoded.format == "PNG"
    assert decoded.pixels.dtype == dtype
    np.testing.assert_array_equal(decoded.pixels, pixels)
    assert decoded.bgr.dtype == np.uint8 and decoded.bgr.shape == (9, 13, 3)
    assert decoded.bgr.flags.c_contiguous


def test_16bit_is_scaled_to_8bit_with_rounding(tmp_path):
    values = np.arange(65536, dtype=np.uint32).reshape(256, 256)
    decoded = read_image(write_cv2(tmp_path / "all.png", values.astype(np.uint16)))
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
    rgb = random_pixels((11, 7, channels))[..., 0] if channels == 1 else random_pixels((11, 7, channels))
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
    pixels = random_pixels(shape, np.uint16)
    decoded = read_image(write_cv2(tmp_path / "in16.tiff", pixels))
    assert decoded.format == "TIFF" and decoded.pixels.dtype == np.uint16
    np.testing.assert_array_equal(decoded.pixels, pixels)


def test_jpeg_decodes_within_tolerance(tmp_path):
    image = quadrants()
    path = tmp_path / "in.jpg"
    path.write_bytes(jpeg_bytes(image))
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
    pixels = random_pixels((5, 6, 3))
    source = write_cv2(tmp_path / "фото 写真.png", pixels)
    decoded = read_image(source)
    np.testing.assert_array_equal(decoded.pixels, pixels)
    out = write_image(tmp_path / "результат 結果.png", decoded.pixels, inputs=[source])
    np.testing.assert_array_equal(read_image(out).pixels, pixels)


def test_read_image_bytes_matches_file_read(tmp_path):
    pixels = random_pixels((4, 4, 4), np.uint16)
    data = encode_image(pixels, ".png")
    decoded = read_image_bytes(data, "upload.png")
    assert decoded.source == "upload.png"
    np.testing.assert_array_equal(decoded.pixels, pixels)


# --------------------------------------------------------------------------- merge_result


def _decoded(pixels: np.ndarray) -> DecodedImage:
    return read_image_bytes(encode_image(pixels, ".png"))


@pytest.mark.parametrize("shape", [(12, 10, 3), (12, 10), (12, 10, 4)], ids=["bgr", "gray", "bgra"])
def test_16bit_png_roundtrip_is_bit_exact(tmp_path, shape):
    pixels = random_pixels(shape, np.uint16)
    source = write_cv2(tmp_path / "in16.png", pixels)
    decoded = read_image(source)
    merged = merge_result(decoded, decoded.bgr.copy())
    out = write_image(tmp_path / "out16.png", merged, inputs=[source])

    again = read_image(out)
    assert again.pixels.dtype == np.uint16 and again.pixels.shape == pixels.shape
    np.testing.assert_array_equal(again.pixels, pixels)


def test_merge_result_changes_only_changed_pixels_16bit_bgra():
    pixels = random_pixels((12, 10, 4), np.uint16)
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
    pixels = random_pixels((6, 6))
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
    decoded = _decoded(random_pixels((6, 6, 3)))
    with pytest.raises(ValueError):
        merge_result(decoded, np.zeros((5, 6, 3), np.uint8))


def test_bgr_is_independent_of_pixels():
    decoded = _decoded(random_pixels((4, 4, 3)))
    before = decoded.pixels.copy()
    decoded.bgr[:] = 0
    np.testing.assert_array_equal(decoded.pixels, before)


# --------------------------------------------------------------------------- bad inputs


_TRUNCATED_JPEG = jpeg_bytes(random_pixels((64, 64, 3)), quality=90)


_PNG = cv2.imencode(".png", random_pixels((64, 64, 3)))[1].tobytes()


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
    path = write_cv2(tmp_path / "small.png", random_pixels((100, 100, 3)))
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
        with caplog.at_level(logging.WARNING, logger="facedeck.core.media.image_reader"):
            decoded = read_image_bytes(buffer.getvalue(), "broken-exif.jpg")
    assert decoded.pixels.shape == (8, 8, 3)
    assert "broken-exif.jpg" in caplog.text and "EXIF" in caplog.text


def test_read_image_bytes_error_names_the_upload():
    with pytest.raises(InputError, match=r"^upload\.jpg: not a supported image"):
        read_image_bytes(b"junk data", "upload.jpg")


def test_image_reader_never_touches_pillow_globals(tmp_path):
    before = Image.MAX_IMAGE_PIXELS
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(30000, 30000))
    with pytest.raises(InputError):
        read_image(path)
    read_image(write_cv2(tmp_path / "ok.png", random_pixels((3, 3, 3))))
    assert Image.MAX_IMAGE_PIXELS == before
    assert image_reader.DEFAULT_MAX_PIXELS == 150_000_000
