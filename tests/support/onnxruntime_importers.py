"""Stand-ins for importlib.import_module("onnxruntime"): one that works, one that fails as told."""

from __future__ import annotations

from types import ModuleType

import onnxruntime


def importer_ok(name: str) -> ModuleType:
    assert name == "onnxruntime"
    return onnxruntime


def importer_failing(error: BaseException):
    def importer(name: str) -> ModuleType:
        assert name == "onnxruntime"
        raise error

    return importer
