"""Wire inputs for remote jobs (docs/wire-format.md), as a caller writes them.

image_input(media(url=...), media(data=png_bytes))
video_input(media(data=png), media(url=clip_url), result={"upload_url": put_url})
"""

from __future__ import annotations

import base64
from typing import Any


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def media(*, url: str | None = None, data: bytes | None = None, name: str | None = None) -> dict[str, Any]:
    """A media reference on the wire: a URL or inline bytes (as base64)."""
    ref: dict[str, Any] = {}
    if url is not None:
        ref["url"] = url
    if data is not None:
        ref["data"] = b64(data)
    if name is not None:
        ref["name"] = name
    return ref


def swap_job(kind: str, source: dict[str, Any], target: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A SwapJob as JSON: one source photo onto the target's largest face (``fields`` added)."""
    return {"kind": kind, "target": target, "faces": {"sources": [{"media": source}]}, **fields}


def image_input(
    source: dict[str, Any], target: dict[str, Any], *, result: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {"job": swap_job("image", source, target, **fields)}
    if result is not None:
        payload["result"] = result
    return payload


def video_input(
    source: dict[str, Any], target: dict[str, Any], *, result: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    fields.setdefault("output", {"format": "mp4", "hardware": "off"})
    payload: dict[str, Any] = {"job": swap_job("video", source, target, **fields)}
    if result is not None:
        payload["result"] = result
    return payload
