"""A manifest of the wrong structure: one sentence naming the manifest file and the bad entry.

Each case takes the packaged manifest, breaks one thing, writes it out and loads it the
way ``FACEDECK_MANIFEST`` makes FaceDeck load it.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest

from facedeck.core.errors import ManifestError
from facedeck.core.models.files import Role
from facedeck.core.models.manifest import MANIFEST_ENV, ROLES, load_manifest, load_manifest_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

Data = dict


def packaged() -> Data:
    return tomllib.loads(resources.files("facedeck.models").joinpath("manifest.toml").read_text("utf-8"))


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def write(path: Path, data: Data) -> Path:
    path.write_text("".join(f"{key} = {toml_value(value)}\n" for key, value in data.items()), "utf-8")
    return path


def model(data: Data, model_id: str) -> dict:
    return next(entry for entry in data["models"] if entry["id"] == model_id)


def swapper_input(data: Data) -> dict:
    return model(data, "inswapper_128")["contract"]["inputs"][0]


def test_the_packaged_manifest_reads_and_round_trips(tmp_path: Path) -> None:
    manifest = load_manifest_file(write(tmp_path / "manifest.toml", packaged()))
    assert list(manifest.models) == list(load_manifest().models)
    assert manifest.models["inswapper_128"].contract == load_manifest().models["inswapper_128"].contract
    assert set(ROLES) == {role.value for role in Role}  # the manifest's roles are the engine's


def drop(key: str) -> Callable[[dict], None]:
    return lambda entry: entry.pop(key)


def put(key: str, value: object) -> Callable[[dict], None]:
    return lambda entry: entry.__setitem__(key, value)


SWAPPER = "models[3] 'inswapper_128'"
# (how to break the manifest, what the message must say after "<path>: ")
FAULTS: dict[str, tuple[Callable[[Data], None], str]] = {
    "missing key": (lambda d: drop("sha256")(model(d, "inswapper_128")), f"{SWAPPER}: no 'sha256'"),
    "wrong type": (
        lambda d: put("size", "big")(model(d, "inswapper_128")),
        f"{SWAPPER}: 'size' must be a positive integer, not the string 'big'",
    ),
    "boolean size": (
        lambda d: put("size", True)(model(d, "inswapper_128")),
        f"{SWAPPER}: 'size' must be a positive integer, not a boolean",
    ),
    "unknown licence": (
        lambda d: put("license", "mit")(model(d, "inswapper_128")),
        f"{SWAPPER}: license 'mit' is not under [licenses]",
    ),
    "bad sha256": (
        lambda d: put("sha256", "abc123")(model(d, "inswapper_128")),
        f"{SWAPPER}: 'sha256' must be 64 hexadecimal digits, not 'abc123'",
    ),
    "contract input without dtype": (
        lambda d: drop("dtype")(swapper_input(d)),
        f"{SWAPPER}: contract input 'target': no 'dtype'",
    ),
    "contract unknown dtype": (
        lambda d: put("dtype", "float33")(swapper_input(d)),
        f"{SWAPPER}: contract input 'target': dtype 'float33' is not one of float32, float16",
    ),
    "contract bad dim": (
        lambda d: put("shape", [1, 3, -128, 128])(swapper_input(d)),
        f"{SWAPPER}: contract input 'target': shape dim 3 is the number -128",
    ),
    "contract input without name": (
        lambda d: drop("name")(swapper_input(d)),
        f"{SWAPPER}: contract input 1: no 'name'",
    ),
    "contract as free text": (
        lambda d: put("contract", "target float32 [1,3,128,128]")(model(d, "inswapper_128")),
        f"{SWAPPER}: contract must be a table with description, inputs and outputs, not a string",
    ),
    "contract without outputs": (
        lambda d: model(d, "inswapper_128")["contract"].pop("outputs"),
        f"{SWAPPER}: contract: no 'outputs'",
    ),
    "optional output not trailing": (
        lambda d: put("optional", True)(model(d, "det_10g")["contract"]["outputs"][0]),
        "models[0] 'det_10g': contract: only trailing outputs may be optional",
    ),
    "duplicate id": (
        lambda d: put("id", "inswapper_128")(model(d, "inswapper_128_fp16")),
        "models[4] 'inswapper_128': id 'inswapper_128' is also models[3]'s",
    ),
    "duplicate file": (
        lambda d: put("file", "inswapper_128.onnx")(model(d, "inswapper_128_fp16")),
        "models[4] 'inswapper_128_fp16': file 'inswapper_128.onnx' is also models[3]'s",
    ),
    "misspelt key": (
        lambda d: put("defualt", True)(model(d, "inswapper_128")),
        f"{SWAPPER}: unknown key 'defualt'",
    ),
    "unknown role": (
        lambda d: put("role", "upscaler")(model(d, "inswapper_128")),
        f"{SWAPPER}: role 'upscaler' is not one of detector, recognizer",
    ),
    "file outside the models folder": (
        lambda d: put("file", "../../inswapper_128.onnx")(model(d, "inswapper_128")),
        f"{SWAPPER}: 'file' must be a plain file name, not '../../inswapper_128.onnx'",
    ),
    "not an http URL": (
        lambda d: put("urls", ["file:///etc/passwd"])(model(d, "inswapper_128")),
        f"{SWAPPER}: URL 'file:///etc/passwd' is not an http(s) URL",
    ),
    "neither urls nor pack": (
        lambda d: drop("urls")(model(d, "inswapper_128")),
        f"{SWAPPER}: has neither 'urls' nor a 'pack'",
    ),
    "unknown pack member": (
        lambda d: d["packs"][0]["members"].append("w600k_r100"),
        "packs[0] 'buffalo_l': member 'w600k_r100' is not one of the [[models]]",
    ),
    "licence entry incomplete": (
        lambda d: d["licenses"]["insightface-noncommercial"].pop("url"),
        "licenses 'insightface-noncommercial': no 'url'",
    ),
    "models not a list": (
        lambda d: put("models", {"id": "x"})(d),
        "the manifest: 'models' must be a non-empty",
    ),
    "unknown top-level key": (lambda d: put("model", [])(d), "the manifest: unknown key 'model'"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_structural_fault_is_one_sentence_naming_file_and_entry(tmp_path: Path, fault: str) -> None:
    breaking, expected = FAULTS[fault]
    data = copy.deepcopy(packaged())
    breaking(data)
    path = write(tmp_path / "manifest.toml", data)
    with pytest.raises(ManifestError) as caught:
        load_manifest_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {expected}"), message
    assert "\n" not in message and caught.value.code == "manifest" and caught.value.path == str(path)


def test_unreadable_and_invalid_toml_files(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ManifestError, match=r"cannot read the model manifest .*nowhere\.toml: No such file"):
        load_manifest_file(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("[[models]]\nid = \n", "utf-8")
    with pytest.raises(ManifestError) as caught:
        load_manifest_file(broken)
    assert str(caught.value).startswith(f"{broken}: not valid TOML: ") and "line 2" in str(caught.value)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00models")
    with pytest.raises(ManifestError, match="not valid TOML"):
        load_manifest_file(binary)


def test_facedeck_manifest_points_load_manifest_at_another_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = packaged()
    model(data, "inswapper_128")["purpose"] = "a private mirror's swapper"
    monkeypatch.setenv(MANIFEST_ENV, str(write(tmp_path / "mirror.toml", data)))
    assert load_manifest().models["inswapper_128"].purpose == "a private mirror's swapper"
    drop("dtype")(swapper_input(data))
    monkeypatch.setenv(MANIFEST_ENV, str(write(tmp_path / "broken.toml", data)))
    with pytest.raises(
        ManifestError, match=r"broken\.toml: models\[3\] 'inswapper_128': contract input 'target'"
    ):
        load_manifest()
