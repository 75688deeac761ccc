"""Inputs are bounded: special files are refused unread, every read has a cap, nothing a file
claims about itself can make a reader allocate without limit. The command-line side is in
tests/desktop/test_cli_faults.py."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from facedeck.core.errors import InputError
from facedeck.core.jobs import inputs as job_inputs
from facedeck.core.jobs.inputs import JobInputs
from facedeck.core.jobs.spec import MediaRef
from facedeck.core.media import image_reader
from facedeck.core.media.image_reader import read_image, read_image_bytes
from facedeck.core.media.video_reader import VideoReader
from facedeck.core.media.video_types import SourceFrame, VideoInputError
from tests.core.media.image_helpers import random_pixels, write_cv2

# A read that blocks (a FIFO opened for reading waits for a writer) fails the test instead
# of hanging the run.
pytestmark = pytest.mark.timeout(30)

posix_only = pytest.mark.skipif(os.name != "posix", reason="devices and FIFOs are POSIX")


def assert_one_line_naming(error: BaseException, path: Path | str, fragment: str) -> None:
    message = str(error)
    assert message.startswith(f"{path}: "), message
    assert fragment in message and "\n" not in message


@posix_only
def test_a_device_is_refused_before_it_is_read():
    with pytest.raises(InputError) as caught:
        read_image("/dev/zero")  # would never end
    assert_one_line_naming(caught.value, "/dev/zero", "is a device, not an image file")
    with pytest.raises(VideoInputError) as caught:
        VideoReader("/dev/zero")
    assert_one_line_naming(caught.value, "/dev/zero", "is a device, not a video file")


@posix_only
@pytest.mark.parametrize("name", ["pipe.png", "pipe.mp4", "pipe.gif", "pipe.webp"])
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path, name):
    pipe = tmp_path / name
    os.mkfifo(pipe)
    with pytest.raises(InputError) as caught:
        if name.endswith((".png", ".webp")):
            read_image(pipe)
        else:
            VideoReader(pipe)
    kind = "an image" if name.endswith((".png", ".webp")) else "a video"
    assert_one_line_naming(caught.value, pipe, f"is a named pipe (FIFO), not {kind} file")
    assert pipe.is_fifo()


def test_an_image_file_is_capped_before_a_byte_is_read(tmp_path):
    huge = tmp_path / "huge.png"
    with huge.open("wb") as handle:  # sparse: 4 GiB claimed, nothing stored
        handle.truncate(4 * 2**30)
    with pytest.raises(InputError) as caught:
        read_image(huge)
    assert_one_line_naming(caught.value, huge, "the file is 4,096 MB, above the 512 MB limit for images")
    assert image_reader.DEFAULT_MAX_BYTES == 512 * 2**20

    small = write_cv2(tmp_path / "small.png", random_pixels((64, 64, 3)))
    size = small.stat().st_size
    assert read_image(small, max_bytes=size).pixels.shape == (64, 64, 3)
    with pytest.raises(InputError, match="above the"):
        read_image(small, max_bytes=size - 1)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


@pytest.mark.parametrize("kind, prefix", [(b"zTXt", b"Comment\x00\x00"), (b"iCCP", b"icc\x00\x00")])
def test_a_compressed_chunk_bomb_is_refused_not_inflated(kind, prefix):
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    data = png.getvalue()
    bomb = zlib.compress(bytes(16 * 2**20), 9)  # 16 MiB of zeros in 16 kB
    crafted = data[:33] + _png_chunk(kind, prefix + bomb) + data[33:]  # after IHDR
    with pytest.raises(InputError) as caught:
        read_image_bytes(crafted, "bomb.png")
    assert_one_line_naming(caught.value, "bomb.png", "too large")


def test_a_video_header_claiming_giant_frames_is_refused_before_decoding(tmp_path):
    # YUV4MPEG's text header sets the size: 9000x9000 would be 240 MB per BGR frame.
    giant = tmp_path / "giant.y4m"
    giant.write_bytes(b"YUV4MPEG2 W9000 H9000 F30:1 Ip A1:1 C420jpeg\nFRAME\n" + bytes(4096))
    with pytest.raises(VideoInputError) as caught:
        VideoReader(giant)
    assert_one_line_naming(
        caught.value, giant, "video is 9000x9000 pixels, above the limit of 67,108,864 pixels"
    )


def _h264_segment(width: int, height: int, frames: int) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="h264") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(frames):
            picture = np.full((height, width, 3), 40 * index, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="bgr24")))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def test_a_stream_that_grows_past_the_pixel_cap_mid_way_is_refused_at_that_frame(tmp_path):
    # An H.264 stream may change size at any keyframe: the header's size proves nothing later.
    growing = tmp_path / "growing.h264"
    growing.write_bytes(_h264_segment(64, 48, 3) + _h264_segment(640, 480, 3))
    seen = []
    with VideoReader(growing, max_pixels=64 * 48 * 4) as reader:
        with pytest.raises(VideoInputError) as caught:
            for item in reader.items():
                assert isinstance(item, SourceFrame)
                seen.append(item.image.shape)
    assert seen == [(48, 64, 3)] * 3
    assert_one_line_naming(
        caught.value, growing, "frame 3 is 640x480 pixels, above the limit of 12,288 pixels"
    )


def test_inline_bytes_obey_the_caps_of_downloads(monkeypatch):
    monkeypatch.setattr(job_inputs, "IMAGE_BYTES_CAP", 1000)
    monkeypatch.setattr(job_inputs, "VIDEO_BYTES_CAP", 2000)
    with JobInputs() as inputs:
        with pytest.raises(InputError, match=r"^upload\.png is larger than"):
            inputs.image(MediaRef(data=bytes(1001), name="upload.png"))
        with pytest.raises(InputError, match=r"^clip\.mp4 is larger than"):
            inputs.local_path(MediaRef(data=bytes(2001), name="clip.mp4"))
