"""draw_square_face paints exactly what a filled cv2 rectangle paints."""

from __future__ import annotations

import cv2
import numpy as np

from tests.support.models.drawing import KEY_COLORS, draw_square_face


def test_cv2_drawn_square_matches_helper() -> None:
    image = np.zeros((64, 64, 3), np.uint8)
    cv2.rectangle(image, (5, 6), (5 + 20 - 1, 6 + 20 - 1), KEY_COLORS[0], thickness=-1)
    other = draw_square_face(np.zeros((64, 64, 3), np.uint8), KEY_COLORS[0], 5, 6, 20)
    np.testing.assert_array_equal(image, other)
