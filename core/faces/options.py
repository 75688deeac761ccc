"""What the user chooses for a swap, as plain data with its allowed values.

Kept apart from the session (which needs numpy and the model wrappers) so that a front
end can build its option parser, and a job can be described and checked, without
loading the engine: ``facedeck --headless --help`` imports this, not onnx.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ..limits import limits
from ..models.files import Role

DEFAULT_DISTANCE = 0.6
# SCRFD's coarsest feature map has stride 32: other canvas sizes misalign its anchor grid.
# Below 160 the canvas holds too few cells to find faces; above 2048 a frame costs seconds.
DETECTOR_SIZE_STEP = 32


class SelectionMode(str, enum.Enum):
    """``one``: the largest face; ``many``: every face; ``reference``: faces that look like a reference."""

    ONE = "one"
    MANY = "many"
    REFERENCE = "reference"


@dataclass(frozen=True)
class SwapOptions:
    """What the user chose for the swap itself; plain data every front end can build and store."""

    selection: SelectionMode = SelectionMode.ONE
    distance_threshold: float = field(default=DEFAULT_DISTANCE, metadata=limits(0.0, 2.0))
    mouth_mask: bool = False
    enhance: bool = False
    enhance_strength: int = field(default=80, metadata=limits(0, 100))
    mask_padding: float = field(default=0.1, metadata=limits(0.0, 0.5))
    mask_blur: float = field(default=0.15, metadata=limits(0.0, 0.5))
    detector_size: int = field(default=640, metadata=limits(160, 2048, multiple_of=DETECTOR_SIZE_STEP))
    detector_threshold: float = field(default=0.5, metadata=limits(0.01, 0.99))
    # a swapper file name (inswapper_128.onnx or its fp16 twin); None: the provider's default
    swapper_file: str | None = None

    def required_roles(self) -> list[Role]:
        roles = [Role.DETECTOR, Role.RECOGNIZER, Role.SWAPPER]
        if self.mouth_mask:
            roles.append(Role.LANDMARKS)
        if self.enhance:
            roles.append(Role.RESTORER)
        return roles
