"""Output locations (never over an input) and AtomicOutput: temporary file, rename, mode."""

from __future__ import annotations

import os

import pytest

from facedeck.core.errors import OutputError
from facedeck.core.media.image_writer import write_image
from facedeck.core.media.output import check_output_path
from tests.core.media.image_helpers import (
    random_pixels,
    write_cv2,
)


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
