"""ndarray -> QImage/QPixmap. Called on the GUI thread only: workers hand over arrays."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap


def bgr_to_qimage(frame: np.ndarray) -> QImage:
    """A QImage owning a copy of the BGR uint8 ``frame`` (the array may be reused afterwards)."""
    rgb = np.ascontiguousarray(frame[:, :, ::-1])
    height, width = rgb.shape[:2]
    # copy(): QImage would otherwise point into ``rgb``, which Python frees
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def bgr_to_pixmap(frame: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(bgr_to_qimage(frame))
