"""Output locations (never over an input) and AtomicOutput: temporary file, rename, mode."""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from facedeck.core.errors import OutputError
from facedeck.core.media.encoding import EncoderSettings
from facedeck.core.media.image_writer import write_image
from facedeck.core.media.output import AtomicOutput, check_output_location, check_output_path
from facedeck.core.media.video_reader import VideoReader
from facedeck.core.media.video_types import SourceFrame
from facedeck.core.media.video_writer import VideoWriter
from tests.core.media.image_helpers import random_pixels, write_cv2
from tests.support.media_fixtures import make_clip


def test_output_may_not_overwrite_an_input(tmp_path, monkeypatch):
    source = write_cv2(tmp_path / "a.png", random_pixels((4, 4, 3)))
    (tmp_path / "sub").mkdir()
    spellings = [source, tmp_path / "sub" / ".." / "a.png", str(source)]
    for spelling in spellings:
        with pytest.raises(OutputError, match="would overwrite the input"):
            check_output_path(spelling, [source])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match="would overwrite"):
        check_output_path("a.png", [source])
    with pytest.raises(OutputError, match="would overwrite"):
        write_image("a.png", random_pixels((4, 4, 3)), inputs=[str(source)])


def test_output_may_not_be_a_hard_link_to_an_input(tmp_path):
    source = write_cv2(tmp_path / "a.png", random_pixels((4, 4, 3)))
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


def test_output_may_not_be_an_input_or_a_symbolic_link_to_one(tmp_path):
    source = tmp_path / "in.mp4"
    source.write_bytes(b"video")
    link = tmp_path / "link.mp4"
    try:
        link.symlink_to(source)
    except OSError:
        pytest.skip("symbolic links not supported here")
    for output, inputs in [(source, [source]), (link, [source]), (source, [link])]:
        with pytest.raises(OutputError, match="would overwrite the input") as caught:
            check_output_location(output, inputs)
        assert str(output) in str(caught.value)
    assert check_output_location(tmp_path / "out.mp4", [source, link]) == tmp_path / "out.mp4"
    image = write_cv2(tmp_path / "a.png", random_pixels((4, 4, 3)))
    (tmp_path / "b.png").symlink_to(image)
    with pytest.raises(OutputError, match="would overwrite the input"):
        write_image(tmp_path / "b.png", random_pixels((4, 4, 3)), inputs=[image])


# --------------------------------------------------------------------------- AtomicOutput


@pytest.fixture
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """Run the test under the umask ``request.param``; the previous one comes back after."""
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002], indirect=True)
def test_outputs_get_the_mode_of_a_normally_created_file(tmp_path, umask):
    expected = 0o666 & ~umask
    with AtomicOutput(tmp_path / "plain.bin") as output:
        output.temp.write_bytes(b"data")
    assert _mode(tmp_path / "plain.bin") == expected

    image = write_image(tmp_path / "image.png", random_pixels((4, 4, 3)))
    assert _mode(image) == expected

    # A video written through the encoder into the temporary file keeps the mode too.
    clip = make_clip(tmp_path / "in.mp4", frames=3, size=(64, 48), audio=False)
    with VideoReader(clip) as reader, AtomicOutput(tmp_path / "video.mp4") as output:
        settings = EncoderSettings(quality=50, preset="ultrafast", hardware="off")
        with VideoWriter(output.temp, reader.description, settings, container_format="mp4") as writer:
            for item in reader.items(with_audio=False):
                assert isinstance(item, SourceFrame)
                writer.write_frame(item, None)
    assert _mode(tmp_path / "video.mp4") == expected
    normal = tmp_path / "normal.bin"
    normal.write_bytes(b"")  # what any program creating a file gets
    assert _mode(normal) == expected


def test_a_240_character_output_name_works(tmp_path):
    name = "x" * 236 + ".png"  # the file system allows 255 bytes: no room for a longer temporary name
    path = write_image(tmp_path / name, random_pixels((4, 4, 3)))
    assert path.name == name and len(name) == 240 and path.exists()
    with AtomicOutput(tmp_path / ("y" * 236 + ".mp4")) as output:
        assert output.temp.parent == tmp_path
        assert len(output.temp.name) <= 24
        output.temp.write_bytes(b"data")
    assert sorted(len(p.name) for p in tmp_path.iterdir()) == [240, 240]


def test_the_temporary_file_is_gone_after_commit_and_after_an_exception(tmp_path):
    target = tmp_path / "out.bin"
    with AtomicOutput(target) as output:
        temp = output.temp
        assert temp.parent == tmp_path and temp.name.startswith(".facedeck-") and temp.name.endswith(".part")
        assert temp.exists() and temp.read_bytes() == b""  # created up front, empty
        temp.write_bytes(b"new")
    assert target.read_bytes() == b"new" and not temp.exists()
    assert output.commit() == target  # committing again changes nothing

    with pytest.raises(RuntimeError, match="encoder broke"):
        with AtomicOutput(target) as output:
            output.temp.write_bytes(b"half")
            raise RuntimeError("encoder broke")
    assert not output.temp.exists()
    assert target.read_bytes() == b"new"  # the previous output is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_discard_never_raises_and_a_discarded_output_is_never_committed(tmp_path):
    output = AtomicOutput(tmp_path / "out.bin")
    output.temp.unlink()  # an encoder removed it already
    output.discard()
    output.discard()
    with pytest.raises(ValueError, match="discarded"):
        output.commit()
    assert list(tmp_path.iterdir()) == []


def test_the_temporary_file_never_takes_an_existing_name(tmp_path, monkeypatch):
    names = iter(["aaaaaaaa", "bbbbbbbb"])
    monkeypatch.setattr(secrets, "token_hex", lambda nbytes: next(names))
    existing = tmp_path / ".facedeck-aaaaaaaa.part"
    existing.write_bytes(b"another writer's")
    output = AtomicOutput(tmp_path / "out.png")
    assert output.temp.name == ".facedeck-bbbbbbbb.part"
    output.discard()
    assert existing.read_bytes() == b"another writer's"


def test_errors_name_the_output_never_the_temporary_file(tmp_path, monkeypatch):
    missing = tmp_path / "missing" / "out.mp4"
    with pytest.raises(OutputError) as caught:
        AtomicOutput(missing)
    message = str(caught.value)
    assert message.startswith(f"{missing}: ") and ".facedeck-" not in message and "\n" not in message

    target = tmp_path / "out.mp4"
    output = AtomicOutput(target)

    def full_disk(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device", str(src), None, str(dst))

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OutputError) as caught:
        output.commit()
    message = str(caught.value)
    assert message == f"{target}: cannot write the file (No space left on device)"
    assert not output.temp.exists() and list(tmp_path.iterdir()) == []
