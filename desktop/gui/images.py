"""ndarray -> QImage/QPixmap. Called on the GUI thread only: workers hand over arrays."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap


def bgr_to_qimage(frame: np.ndarray) -> QImage:
    """A QImage owning a copy of the BGR uint8 ``frame`` (the array may be reused afterwards).

    Qt reads BGR rows itself (Format_BGR888): a 1080p frame takes under 1 ms here, where
    reversing the channels in numpy first took 13-20 ms of the GUI thread.
    """
    pixels = np.ascontiguousarray(frame)
    height, width = pixels.shape[:2]
    # copy(): QImage would otherwise point into ``pixels``, which Python may free
    return QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_BGR888).copy()


def bgr_to_pixmap(frame: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(bgr_to_qimage(frame))
