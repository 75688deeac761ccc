"""Model files checked against their contract when the library loads them, and failing runs, in one line.

Real onnxruntime sessions of stand-ins that break the contract (tests/support/models/faulty.py),
trusted the way ``models import --trust`` trusts them, loaded through ModelLibrary.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from facedeck.core.errors import ModelLoadError
from facedeck.core.models.library import ModelLibrary
from facedeck.core.models.store import ModelStore
from tests.support.models.detector import build_constant_detector
from tests.support.models.faulty import build_signature_model, build_swapper_failing_at_run, drop_last_output
from tests.support.models.graph import F16, F32
from tests.support.models.model_set import ModelSet, build_model_set

SWAPPER_SIGNATURE = [("target", F32, [1, 3, 128, 128]), ("source", F32, [1, 512])]
SWAPPER_OUTPUT = [("output", F32, [1, 3, 128, 128])]


@pytest.fixture(scope="module")
def model_set(tmp_path_factory: pytest.TempPathFactory) -> ModelSet:
    return build_model_set(tmp_path_factory.mktemp("models") / "good", with_landmarks=False)


def library_with(model_set: ModelSet, tmp_path: Path, model_id: str, build) -> ModelLibrary:  # noqa: ANN001
    """A copy of the good models with ``model_id``'s file replaced by ``build(path)``, trusted."""
    directory = tmp_path / "models"
    shutil.copytree(model_set.directory, directory)
    store = ModelStore(directory)
    faulty = build(tmp_path / "faulty.onnx")
    store.import_file(model_id, faulty, trust=True)
    return ModelLibrary(directory, "cpu", store=store)


def load_error(library: ModelLibrary, load) -> str:  # noqa: ANN001
    with pytest.raises(ModelLoadError) as caught:
        load(library)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_the_good_stand_ins_satisfy_every_contract(model_set: ModelSet) -> None:
    library = ModelLibrary(model_set.directory, "cpu")
    library.detector(), library.recognizer(), library.swapper(), library.restorer()
    assert library.swapper().spec.id == "inswapper_128"


def test_float16_input_is_refused_naming_file_model_and_difference(
    model_set: ModelSet, tmp_path: Path
) -> None:
    def half_target(path: Path) -> Path:
        return build_signature_model(
            path, [("target", F16, [1, 3, 128, 128]), SWAPPER_SIGNATURE[1]], SWAPPER_OUTPUT
        )

    library = library_with(model_set, tmp_path, "inswapper_128", half_target)
    assert load_error(library, ModelLibrary.swapper) == (
        "inswapper_128.onnx (inswapper_128): input 'target' expects float32 [1,3,128,128], "
        "this file takes float16 [1,3,128,128]"
    )


def test_wrong_shapes_and_a_missing_output_are_refused(model_set: ModelSet, tmp_path: Path) -> None:
    def small_embedding(path: Path) -> Path:
        return build_signature_model(path, [("input.1", F32, ["n", 3, 112, 112])], [("683", F32, ["n", 128])])

    library = library_with(model_set, tmp_path / "r", "w600k_r50", small_embedding)
    assert load_error(library, ModelLibrary.recognizer) == (
        "w600k_r50.onnx (w600k_r50): output 1 ('683') expects float32 [N,512], "
        "this file gives float32 [1,128]"
    )

    def eight_outputs(path: Path) -> Path:
        return drop_last_output(build_constant_detector(path, [], form=9).path)

    library = library_with(model_set, tmp_path / "d", "det_10g", eight_outputs)
    assert load_error(library, ModelLibrary.detector) == (
        "det_10g.onnx (det_10g): expects 6, 9, 10 or 15 outputs, this file gives 8"
    )

    def big_restorer(path: Path) -> Path:
        tensor = [(name, F32, [1, 3, 1024, 1024]) for name in ("input", "output")]
        return build_signature_model(path, tensor[:1], tensor[1:])

    library = library_with(model_set, tmp_path / "g", "gfpgan_1.4", big_restorer)
    assert load_error(library, ModelLibrary.restorer) == (
        "GFPGANv1.4.onnx (gfpgan_1.4): input 'input' expects float32 [1,3,512,512], "
        "this file takes float32 [1,3,1024,1024]"
    )


def test_a_swapper_without_an_emap_is_refused(model_set: ModelSet, tmp_path: Path) -> None:
    def no_emap(path: Path) -> Path:
        return build_signature_model(path, SWAPPER_SIGNATURE, SWAPPER_OUTPUT)

    library = library_with(model_set, tmp_path, "inswapper_128", no_emap)
    assert load_error(library, ModelLibrary.swapper) == (
        "inswapper_128.onnx (inswapper_128): not an inswapper model: its last initializer (the emap) "
        "has shape [1,3,128,128], expected [512,512]"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the file is empty or not an ONNX model"),
        (b"PK\x03\x04 a zip, not a model", "not an ONNX model, or the file is corrupt or truncated"),
    ],
    ids=["empty", "zip"],
)
def test_files_onnxruntime_cannot_read(
    model_set: ModelSet, tmp_path: Path, content: bytes, reason: str
) -> None:
    def write(path: Path) -> Path:
        path.write_bytes(content)
        return path

    library = library_with(model_set, tmp_path, "inswapper_128", write)
    assert load_error(library, ModelLibrary.swapper) == f"inswapper_128.onnx (inswapper_128): {reason}"


def test_a_truncated_model(model_set: ModelSet, tmp_path: Path) -> None:
    def truncated(path: Path) -> Path:
        path.write_bytes(model_set.swapper.path.read_bytes()[:5000])
        return path

    library = library_with(model_set, tmp_path, "inswapper_128", truncated)
    assert load_error(library, ModelLibrary.swapper) == (
        "inswapper_128.onnx (inswapper_128): not an ONNX model, or the file is corrupt or truncated"
    )


def test_failures_while_running_name_the_file_in_one_line(
    model_set: ModelSet, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    crop = np.full((128, 128, 3), 100, np.uint8)
    latent = np.zeros((1, 512), np.float32)
    library = library_with(
        model_set, tmp_path / "r", "inswapper_128", lambda p: build_swapper_failing_at_run(p, "reshape")
    )
    swapper = library.swapper()  # its open dims pass the contract
    with pytest.raises(ModelLoadError) as caught:
        swapper.swap_crop(crop, latent)
    assert str(caught.value) == (
        "inswapper_128.onnx (inswapper_128): inference failed: a Reshape node failed: The input tensor "
        "cannot be reshaped to the requested shape. Input shape:{1,3,128,128}, requested shape:{1,3,100,100}"
    )
    assert capfd.readouterr().err == ""  # onnxruntime's own log line is not printed as well

    library = library_with(
        model_set, tmp_path / "h", "inswapper_128", lambda p: build_swapper_failing_at_run(p, "half_size")
    )
    with pytest.raises(ModelLoadError) as caught:
        library.swapper().swap_crop(crop, latent)
    assert str(caught.value) == (
        "inswapper_128.onnx (inswapper_128): output 'output' came back as float32 [1,3,64,64], "
        "expected float32 [1,3,128,128]"
    )
