"""The engine the tracking tests detect and embed with, built once per test module."""

from __future__ import annotations

import pytest

from facedeck.core.faces.engine import FaceSwapEngine
from tests.support.tracking_scenes import build_engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> FaceSwapEngine:
    return build_engine(tmp_path_factory.mktemp("models"))
