"""Media formats: which paths are videos, which containers outputs get."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from facedeck.core.errors import OutputError
from facedeck.core.media.formats import container_format_for, is_video_input, is_video_output
from tests.support.media_fixtures import (
    make_animated,
)


def test_video_inputs_and_outputs_by_name(tmp_path: Path) -> None:
    for name in ("a.mp4", "a.MOV", "a.mkv", "a.avi", "a.webm", "a.gif"):
        assert is_video_input(name), name
        assert is_video_output(name), name
    assert not is_video_input("a.png")
    assert not is_video_output("a.jpg")
    assert is_video_output("a.webp")

    animated = make_animated(tmp_path / "moving.webp", frames=3)
    still = tmp_path / "still.webp"
    Image.new("RGB", (8, 8), "red").save(still)
    assert is_video_input(animated)
    assert not is_video_input(still)  # a still WebP is an image
    assert not is_video_input(tmp_path / "missing.webp")


def test_container_format_for_output_names() -> None:
    assert container_format_for("out.mp4") == "mp4"
    assert container_format_for("out.MKV") == "matroska"
    assert container_format_for("out.webp") == "webp"
    with pytest.raises(OutputError, match="cannot write .flv"):
        container_format_for("out.flv")
