"""Small manifests whose pins match files the tests generate."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass
class Payload:
    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def payload(name: str, size: int, seed: int) -> Payload:
    return Payload(name, np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes())


def zip_of(members: list[Payload], folder: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as bundle:
        for member in members:
            bundle.writestr(folder + member.name, member.data)
        bundle.writestr(folder + "unused_extra.onnx", b"not wanted")
    return buffer.getvalue()


@lru_cache(maxsize=1)
def _packaged_contracts() -> dict[str, object]:
    """The packaged manifest's ``contract`` per file name and per role, as raw TOML data."""
    data = tomllib.loads(resources.files("facedeck.models").joinpath("manifest.toml").read_text("utf-8"))
    contracts: dict[str, object] = {}
    for entry in data.get("models", []):
        contracts.setdefault(entry["file"], entry["contract"])
        contracts.setdefault(entry["role"], entry["contract"])
    return contracts


def _toml(value: object) -> str:
    """``value`` as an inline TOML value (strings, numbers, booleans, arrays, inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(key)} = {_toml(item)}" for key, item in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def contract_line(file_name: str, role: str) -> str:
    """The packaged manifest's contract for this file (or role), whatever form it has: the test
    manifests name real files and roles, so they carry the real contracts."""
    contracts = _packaged_contracts()
    return f"contract = {_toml(contracts.get(file_name, contracts[role]))}"


def write_manifest(
    path: Path, base_url: str, direct: list[Payload], pack: Payload | None, pack_members: list[Payload]
) -> Path:
    """A manifest with detector/recognizer in a pack and the others as direct files."""
    roles = {
        "det_10g.onnx": "detector",
        "w600k_r50.onnx": "recognizer",
        "2d106det.onnx": "landmarks",
        "inswapper_128.onnx": "swapper",
        "inswapper_128_fp16.onnx": "swapper",
        "GFPGANv1.4.onnx": "restorer",
    }
    lines = [
        "[licenses.test-nc]",
        'short = "Test NC"',
        'name = "Test licence, non-commercial"',
        'summary = "for tests only"',
        'url = "http://127.0.0.1/licence"',
        "",
    ]
    if pack is not None:
        members = ", ".join(f'"{Path(m.name).stem}"' for m in pack_members)
        lines += [
            "[[packs]]",
            'id = "testpack"',
            f'file = "{pack.name}"',
            f"size = {len(pack.data)}",
            f'sha256 = "{pack.sha256}"',
            'license = "test-nc"',
            f'urls = ["{base_url}/{pack.name}"]',
            f"members = [{members}]",
            "",
        ]
    for item, in_pack in [(m, True) for m in pack_members] + [(d, False) for d in direct]:
        role = roles.get(item.name, "detector")
        lines += [
            "[[models]]",
            f'id = "{Path(item.name).stem}"',
            f'file = "{item.name}"',
            f'role = "{role}"',
            f"size = {len(item.data)}",
            f'sha256 = "{item.sha256}"',
            'license = "test-nc"',
            'purpose = "test"',
            contract_line(item.name, role),
            'pack = "testpack"' if in_pack else f'urls = ["{base_url}/{item.name}"]',
            "default = true",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
