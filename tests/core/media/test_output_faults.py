"""Outputs that cannot be written, for real: a full file system, a read-only folder, a pipe in
the way. Every failure is one OutputError naming the output (never its temporary file) and
leaves nothing behind. The command-line side is in tests/desktop/test_cli_faults.py."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest

from facedeck.core.errors import OutputError
from facedeck.core.media.image_writer import write_image
from facedeck.core.media.output import AtomicOutput, check_output_location, naming_output
from facedeck.core.media.video_reader import VideoReader
from facedeck.core.media.video_types import SourceFrame
from facedeck.core.media.video_writer import VideoWriter
from tests.core.media.video_helpers import LOSSLESS
from tests.support.tmpfs import mounted_tmpfs, read_only_folder


def noise(height: int, width: int) -> np.ndarray:
    """Pixels no encoder can squeeze: the file is about as large as the pixels."""
    return np.random.default_rng(7).integers(0, 256, (height, width, 3), dtype=np.uint8)


def assert_names_the_output(error: OutputError, output: Path, reason: str) -> None:
    message = str(error)
    assert message.startswith(f"{output}: "), message
    assert reason in message and "\n" not in message
    assert ".facedeck-" not in message and ".part" not in message
    assert error.path == str(output)


def write_video(source: Path, output: Path, container_format: str) -> None:
    """Transcode ``source`` into ``output`` the way the video job does: through AtomicOutput."""
    with VideoReader(source) as reader, AtomicOutput(output) as target:
        writer = VideoWriter(
            target.temp, reader.description, LOSSLESS, container_format=container_format, name=output
        )
        with writer:
            for item in reader.items():
                if isinstance(item, SourceFrame):
                    writer.write_frame(item, noise(*item.image.shape[:2]))
                else:
                    writer.write_audio(item)


# mp4 copies the AAC audio, webm transcodes it to Opus, gif and webp go through Pillow.
@pytest.mark.parametrize(
    "suffix, container", [(".mp4", "mp4"), (".webm", "webm"), (".gif", "gif"), (".webp", "webp")]
)
def test_a_full_file_system_names_the_output_and_leaves_nothing(tmp_path, clips, suffix, container):
    with mounted_tmpfs(tmp_path / "full", size="16k") as full:
        output = full / f"out{suffix}"
        with pytest.raises(OutputError) as caught:
            write_video(clips["mp4"], output, container)
        assert_names_the_output(caught.value, output, "No space left on device")
        assert list(full.iterdir()) == []


def test_a_full_file_system_fails_an_image_cleanly(tmp_path):
    with mounted_tmpfs(tmp_path / "full", size="16k") as full:
        output = full / "out.png"
        with pytest.raises(OutputError) as caught:
            write_image(output, noise(200, 200))  # ~120 kB of PNG
        assert_names_the_output(caught.value, output, "No space left on device")
        assert list(full.iterdir()) == []


@pytest.mark.parametrize("name", ["out.png", "out.mp4"])
def test_a_read_only_folder_names_the_output(tmp_path, name):
    with read_only_folder(tmp_path / "locked") as locked:
        output = locked / name
        with pytest.raises(OutputError) as caught:
            if name.endswith(".png"):
                write_image(output, noise(8, 8))
            else:
                AtomicOutput(output)
        message = str(caught.value)
        assert message.startswith(f"{output}: cannot write in {locked} (") and "\n" not in message
        assert list(locked.iterdir()) == []


def test_an_existing_pipe_is_never_replaced_by_an_output(tmp_path):
    pipe = tmp_path / "out.mp4"
    os.mkfifo(pipe)
    with pytest.raises(OutputError, match="is not a regular file") as caught:
        check_output_location(pipe)
    assert str(caught.value).startswith(f"{pipe}: ")
    image_pipe = tmp_path / "out.png"
    os.mkfifo(image_pipe)
    with pytest.raises(OutputError, match="is not a regular file"):
        write_image(image_pipe, noise(8, 8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "out.png"]
    assert all(p.is_fifo() for p in tmp_path.iterdir())


def test_a_symbolic_link_to_something_else_is_replaced_not_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere.png"
    elsewhere.write_bytes(b"someone else's file")
    link = tmp_path / "out.png"
    link.symlink_to(elsewhere)
    write_image(link, noise(8, 8))
    assert elsewhere.read_bytes() == b"someone else's file"
    assert not link.is_symlink() and link.stat().st_size > 0


def test_naming_output_translates_what_writers_raise(tmp_path):
    temp, output = tmp_path / ".facedeck-0123abcd.part", tmp_path / "clip.mp4"
    with pytest.raises(OutputError) as caught, naming_output(temp, output):
        raise OutputError(f"{temp}: could not finish the video (I/O error)")
    assert str(caught.value) == f"{output}: could not finish the video (I/O error)"
    with pytest.raises(OutputError) as caught, naming_output(temp, output):
        raise OSError(errno.EDQUOT, "Disk quota exceeded", str(temp))
    assert str(caught.value) == f"{output}: cannot write the file (Disk quota exceeded)"
    with pytest.raises(ValueError, match="a bug"), naming_output(temp, output):
        raise ValueError("a bug")  # not a write failure: left alone
