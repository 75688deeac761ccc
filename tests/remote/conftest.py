"""Shared fixtures of the remote tests (handler, worker, server); all real, all on 127.0.0.1.

Session-scoped, so the three suites build them once:

- ``remote_models``: a stand-in model directory (tests/support/models, trusted the way a
  user trusts a file); ``remote_library``: a ModelLibrary on it (CPU);
- ``remote_media``: ``RemoteMedia`` files and bytes: a source photo with one face, a target
  photo with two, a photo without faces, a non-image named .jpg, a short clip (24 frames)
  and a long clip (240 frames, for cancelling in the middle); faces are drawn in the
  colours the stand-in detector finds;
- ``file_server``: a loopback HTTP server (tests/support/http_fixtures.MisbehavingServer);
  a test adds its own routes under a unique path (``file_server.add(f"/{name}/...", ...)``);
- ``s3_server``: moto's S3 server with one bucket (tests/support/s3_server.S3Server);
- ``make_handler``: builds a RemoteHandler on ``remote_library`` with short retry delays
  (keyword arguments go to the constructor); ``handler``: one such handler, module-scoped.

Wire inputs are built with tests/support/remote_jobs.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from facedeck.core.models.library import ModelLibrary
from facedeck.core.runtime.providers import select_provider
from facedeck.remote.fetching import FetchSettings
from facedeck.remote.handler import RemoteHandler
from tests.support.http_fixtures import MisbehavingServer
from tests.support.media_fixtures import make_clip
from tests.support.models.drawing import KEY_COLORS, draw_square_face
from tests.support.models.model_set import ModelSet, build_model_set
from tests.support.s3_server import S3Server

BLUE, GREEN, RED, YELLOW, MAGENTA, CYAN = KEY_COLORS
# seconds before each retry of a URL: production waits 2, 4 and 8 s
FAST_RETRIES = (0.05, 0.1, 0.2)


@dataclass(frozen=True)
class RemoteMedia:
    """Input files for remote jobs, with their bytes for inline (base64) jobs."""

    root: Path
    source: Path  # PNG, one face (yellow)
    target: Path  # PNG, two faces (red, larger; green)
    blank: Path  # PNG, no face
    clip: Path  # MP4, 24 frames, one moving red face, with audio
    long_clip: Path  # MP4, 240 frames, one moving red face

    def bytes(self, name: str) -> bytes:
        """The bytes of the file the attribute ``name`` names ("source", "clip", ...)."""
        return Path(getattr(self, name)).read_bytes()

    @property
    def not_an_image(self) -> bytes:
        """What a .jpg holding text reads as."""
        return b"<html><body>this is not a picture</body></html>\n" * 20


def _photo(path: Path, size: tuple[int, int], faces: list[tuple[Any, int, int, int]]) -> Path:
    image = np.full((size[1], size[0], 3), 128, np.uint8)
    for color, x0, y0, side in faces:
        draw_square_face(image, color, x0, y0, side)
    assert cv2.imwrite(str(path), image)
    return path


def _moving_face(index: int, image: np.ndarray) -> None:
    image[...] = 128
    draw_square_face(image, RED, 20 + (index % 60) * 3, 40, 60)


@pytest.fixture(scope="session")
def remote_models(tmp_path_factory: pytest.TempPathFactory) -> ModelSet:
    return build_model_set(
        tmp_path_factory.mktemp("remote-models"), swapper_mode="latent_color", with_restorer=False
    )


@pytest.fixture(scope="session")
def remote_library(remote_models: ModelSet) -> ModelLibrary:
    return ModelLibrary(remote_models.directory, select_provider("cpu"))


@pytest.fixture(scope="session")
def remote_media(tmp_path_factory: pytest.TempPathFactory) -> RemoteMedia:
    root = tmp_path_factory.mktemp("remote-media")
    return RemoteMedia(
        root=root,
        source=_photo(root / "source.png", (200, 200), [(YELLOW, 40, 40, 120)]),
        target=_photo(root / "target.png", (320, 240), [(RED, 30, 40, 100), (GREEN, 200, 120, 70)]),
        blank=_photo(root / "blank.png", (160, 120), []),
        clip=make_clip(root / "clip.mp4", frames=24, size=(320, 240), fps=24, draw=_moving_face),
        long_clip=make_clip(
            root / "long.mp4", frames=240, size=(320, 240), fps=24, draw=_moving_face, audio=False
        ),
    )


@pytest.fixture(scope="session")
def file_server() -> Iterator[MisbehavingServer]:
    with MisbehavingServer() as server:
        yield server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


@pytest.fixture
def unique() -> str:
    """A path segment no other test uses (routes and keys live for the whole session)."""
    return uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def make_handler(remote_library: ModelLibrary) -> Callable[..., RemoteHandler]:
    def make(**options: Any) -> RemoteHandler:
        options.setdefault("fetch", FetchSettings(retry_delays=FAST_RETRIES))
        options.setdefault("upload_retry_delays", FAST_RETRIES)
        return RemoteHandler(options.pop("library", remote_library), **options)

    return make


@pytest.fixture(scope="module")
def handler(make_handler: Callable[..., RemoteHandler]) -> RemoteHandler:
    return make_handler()
