"""Orientation: EXIF / PNG / TIFF orientation of images, display matrices of videos."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from facedeck.core.media import orientation
from facedeck.core.media.image_reader import read_image
from facedeck.core.media.video_reader import VideoReader
from tests.core.media.image_helpers import (
    jpeg_bytes,
    png_with_exif_after_idat,
    quadrants,
    random_pixels,
    tiff16_rgb,
)
from tests.core.media.video_helpers import transcode

_EXPECTED_TURN = {3: 2, 6: -1, 8: 1}  # np.rot90 k: 6 = display rotated 90 degrees clockwise


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_jpeg_exif_orientation(tmp_path, orientation):
    image = quadrants()
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}.jpg"
    path.write_bytes(jpeg_bytes(image, exif=exif))

    decoded = read_image(path)
    expected = np.rot90(image, _EXPECTED_TURN[orientation])
    assert decoded.pixels.shape == expected.shape
    assert np.abs(decoded.pixels.astype(int) - expected).max() <= 6


@pytest.mark.parametrize("orientation", range(1, 9))
def test_png_orientation_matches_pillow_exif_transpose(tmp_path, orientation):
    rgb = random_pixels((5, 7, 3))
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "o.png"
    Image.fromarray(rgb).save(path, exif=exif)

    decoded = read_image(path)
    reference = np.asarray(ImageOps.exif_transpose(Image.open(path)))
    np.testing.assert_array_equal(decoded.pixels, cv2.cvtColor(reference, cv2.COLOR_RGB2BGR))


def test_16bit_png_orientation_after_idat(tmp_path):
    pixels = random_pixels((4, 9, 3), np.uint16)
    ok, buffer = cv2.imencode(".png", pixels)
    path = tmp_path / "o16.png"
    path.write_bytes(png_with_exif_after_idat(buffer.tobytes(), 6))
    decoded = read_image(path)
    np.testing.assert_array_equal(decoded.pixels, np.rot90(pixels, -1))


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_8bit_tiff_orientation(tmp_path, orientation):
    rgb = random_pixels((5, 7, 3))
    path = tmp_path / "o.tif"
    Image.fromarray(rgb).save(path, tiffinfo={274: orientation}, compression="tiff_lzw")
    decoded = read_image(path)
    expected = np.rot90(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), _EXPECTED_TURN[orientation])
    np.testing.assert_array_equal(decoded.pixels, expected)


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_16bit_tiff_orientation(tmp_path, orientation):
    rgb = random_pixels((5, 7, 3), np.uint16)
    path = tmp_path / "o16.tif"
    path.write_bytes(tiff16_rgb(rgb, orientation))
    decoded = read_image(path)
    assert decoded.pixels.dtype == np.uint16
    expected = np.rot90(rgb[..., ::-1], _EXPECTED_TURN.get(orientation, 0))
    np.testing.assert_array_equal(decoded.pixels, expected)


# --------------------------------------------------------------------------- videos


def test_mirrored_display_matrices_are_undone_and_kept(tmp_path: Path) -> None:
    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    for op in ("none", "cw", "ccw", "transpose", "antitranspose", "hflip", "vflip", "rot180"):
        np.testing.assert_array_equal(orientation.stored(orientation.upright(image, op), op), image)

    # A selfie clip: stored mirrored (and turned), shown the right way round by players.
    clip = tmp_path / "selfie.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=24, options={"crf": "0"})
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.set_display_rotation(90, hflip=True)
        for index in range(3):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), index * 40, np.uint8), format="bgr24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    output = tmp_path / "out.mp4"
    reader, _ = transcode(clip, output)
    assert reader.description.orientation in ("transpose", "antitranspose")
    with VideoReader(output) as again:
        # the same display matrix, flip included
        assert again.description.display_matrix == reader.description.display_matrix
        assert (again.info.width, again.info.height) == (48, 64)
