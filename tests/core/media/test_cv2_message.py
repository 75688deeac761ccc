"""OpenCV's errors carry its source path, line and a trailing newline: users get the reason."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facedeck.core.media.messages import cv2_message


def test_an_opencv_error_becomes_one_line_without_opencvs_source_path():
    with pytest.raises(cv2.error) as caught:
        cv2.imencode(".png", np.zeros((0, 0, 3), np.uint8))
    assert "\n" in str(caught.value) and ".cpp" in str(caught.value)  # what users must not see
    message = cv2_message(caught.value)
    assert "\n" not in message and ".cpp" not in message
    assert message.startswith("OpenCV ") and caught.value.err in message
