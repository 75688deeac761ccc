"""Every stand-in builder follows the real model's signature as the packaged manifest states it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from facedeck.core.models.contract import signature_mismatch
from facedeck.core.models.manifest import load_manifest
from tests.standin_models.checks import open_session
from tests.support.models.color_key_detector import build_color_key_detector
from tests.support.models.detector import build_constant_detector
from tests.support.models.drawing import KEY_COLORS
from tests.support.models.landmarks import build_landmarks
from tests.support.models.recognizer import build_recognizer
from tests.support.models.restorer import build_restorer
from tests.support.models.swapper import build_swapper

BUILDERS: dict[str, tuple[str, Callable[[Path], object]]] = {
    **{
        f"constant detector, {form} outputs{', batch axis' if batch else ''}": (
            "det_10g",
            lambda path, form=form, batch=batch: build_constant_detector(
                path, [], form=form, batch_axis=batch
            ),
        )
        for form in (6, 9, 10, 15)
        for batch in (False, True)
    },
    "colour-key detector": ("det_10g", lambda path: build_color_key_detector(path, KEY_COLORS[:2])),
    "recogniser": ("w600k_r50", build_recognizer),
    "swapper": ("inswapper_128", build_swapper),
    "fp16 swapper": ("inswapper_128_fp16", lambda path: build_swapper(path, fp16=True)),
    "landmarks": ("2d106det", build_landmarks),
    "restorer": ("gfpgan_1.4", build_restorer),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_stand_in_satisfies_the_packaged_contract(tmp_path: Path, name: str) -> None:
    model_id, build = BUILDERS[name]
    path = tmp_path / "model.onnx"
    build(path)
    session = open_session(path)
    contract = load_manifest().models[model_id].contract
    assert signature_mismatch(contract, session.get_inputs(), session.get_outputs()) is None
