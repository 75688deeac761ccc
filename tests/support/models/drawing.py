"""Key-colour "faces" drawn into test images for the colour-key detector and the recogniser.

Not a model. :data:`KEY_COLORS` are saturated BGR colours that the stand-ins tell apart and
:func:`draw_square_face` paints one as a filled square: the colour-key detector
(:mod:`tests.support.models.color_key_detector`) reports it as a face, and its mean colour is
that face's identity for the recogniser stand-in (:mod:`tests.support.models.recognizer`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Saturated BGR key colours far from any grey and from the black letterbox padding
# (each differs from black by 255 in at least one channel).
KEY_COLORS: tuple[tuple[int, int, int], ...] = (
    (255, 0, 0),  # blue
    (0, 255, 0),  # green
    (0, 0, 255),  # red
    (0, 255, 255),  # yellow
    (255, 0, 255),  # magenta
    (255, 255, 0),  # cyan
)


def draw_square_face(image_bgr: np.ndarray, color: Sequence[int], x0: int, y0: int, side: int) -> np.ndarray:
    """Draw a key-colour "face" in place: ``image_bgr[y0:y0+side, x0:x0+side] = color``.

    The colour-key detector reports it as box ``[x0, y0, x0 + side, y0 + side]`` and
    keypoints ``color_key_detector.key_color_kps`` (exactly, when the image reaches the
    detector unscaled).
    Returns the image for chaining.
    """
    image_bgr[y0 : y0 + side, x0 : x0 + side] = np.asarray(color, dtype=image_bgr.dtype)
    return image_bgr


def drifting_face(index: int, image_bgr: np.ndarray) -> None:
    """Frame ``index`` of a clip with one red face drifting smoothly on grey (a ``make_clip``
    draw function). Smooth on purpose: a video cut into parts restarts face tracking at each
    part's first frame, and a face that jumped there would be placed differently than in
    one long run."""
    image_bgr[...] = 128
    draw_square_face(image_bgr, KEY_COLORS[2], int(40 + 30 * np.sin(index / 25)), 20, 48)
