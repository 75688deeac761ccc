"""The models the tracking tests detect and embed with, built once per test module."""

from __future__ import annotations

import pytest

from tests.support.tracking_scenes import SceneModels, build_scene_models


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> SceneModels:
    return build_scene_models(tmp_path_factory.mktemp("models"))
