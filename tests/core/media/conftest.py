"""Fixtures shared by the video tests: small real clips and bad inputs, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.media.video_helpers import SMALL
from tests.support.media_fixtures import make_clip, write_bad_videos


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small input per container, built once for the whole module."""
    folder = tmp_path_factory.mktemp("clips")
    return {
        "mp4": make_clip(folder / "in.mp4", frames=24, size=SMALL),
        "mov": make_clip(folder / "in.mov", frames=24, size=SMALL, audio_codec="pcm_s16le"),
        "mkv": make_clip(folder / "in.mkv", frames=24, size=SMALL),
        "avi": make_clip(folder / "in.avi", frames=24, size=SMALL, audio_codec="libmp3lame"),
        "webm": make_clip(folder / "in.webm", frames=24, size=SMALL),
        "vfr": make_clip(folder / "vfr.mkv", frames=30, size=SMALL, vfr=True),
        "two_audio": make_clip(folder / "two.mkv", frames=12, size=SMALL, audio_tracks=2),
    }


@pytest.fixture(scope="session")
def bad_videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_bad_videos(tmp_path_factory.mktemp("bad"))
