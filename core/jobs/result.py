"""What a finished job answers: JSON-safe, the same shape for a local run and a remote one."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any


@dataclass
class JobResult:
    """The outcome of ``run_job``. ``output_data`` holds the encoded file when no path was given."""

    kind: str
    output_format: str
    faces_found: int
    faces_swapped: int
    seconds: float
    provider: str
    output_path: str | None = None
    output_data: bytes | None = None
    frames: int | None = None  # videos: frames written
    frames_with_swaps: int | None = None
    skipped_frames: int | None = None  # corrupt frames the decoder skipped
    encoder: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only: the bytes as base64, timings rounded to microseconds."""
        data: dict[str, Any] = {
            "kind": self.kind,
            "output": {"format": self.output_format},
            "faces_found": self.faces_found,
            "faces_swapped": self.faces_swapped,
            "seconds": round(self.seconds, 6),
            "provider": self.provider,
            "timings": {name: round(value, 6) for name, value in self.timings.items()},
            "warnings": list(self.warnings),
        }
        if self.output_path is not None:
            data["output"]["path"] = self.output_path
        if self.output_data is not None:
            data["output"]["data"] = base64.b64encode(self.output_data).decode("ascii")
        for name in ("frames", "frames_with_swaps", "skipped_frames", "encoder"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data
