"""One frame on screen with its faces outlined and numbered; a click on a face picks it."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

Box = tuple[float, float, float, float]

FACE_COLOUR = QColor(80, 200, 255)
CHOSEN_COLOUR = QColor(255, 170, 40)


class FrameCanvas(QWidget):
    """Paints a pixmap scaled to fit, with numbered face boxes (1: the largest face)."""

    faceClicked = Signal(int)  # face number from 0 (largest first), as a job's ``face`` counts

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self._pixmap: QPixmap | None = None
        self._faces: list[Box] = []
        self._labels: dict[int, str] = {}
        self._chosen: int | None = None
        self._placeholder = ""
        self.setMinimumSize(QSize(240, 180))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    # ----- content ------------------------------------------------------------------------
    def set_frame(self, pixmap: QPixmap | None, faces: list[Box]) -> None:
        self._pixmap = pixmap
        self._faces = list(faces)
        self.update()

    def set_labels(self, labels: dict[int, str], chosen: int | None) -> None:
        """Text next to a face's number (the source mapped onto it) and the face picked."""
        self._labels = dict(labels)
        self._chosen = chosen
        self.update()

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def has_frame(self) -> bool:
        return self._pixmap is not None

    def pixmap(self) -> QPixmap | None:
        return self._pixmap

    def faces(self) -> list[Box]:
        return list(self._faces)

    # ----- geometry -----------------------------------------------------------------------
    def _image_rect(self) -> QRectF:
        """Where the pixmap is drawn: scaled to fit, centred, aspect kept."""
        if self._pixmap is None or self._pixmap.isNull():
            return QRectF()
        pw, ph = self._pixmap.width(), self._pixmap.height()
        scale = min(self.width() / pw, (self.height() - 20) / ph)
        w, h = pw * scale, ph * scale
        return QRectF((self.width() - w) / 2, 20 + (self.height() - 20 - h) / 2, w, h)

    def to_widget(self, box: Box) -> QRectF:
        rect = self._image_rect()
        assert self._pixmap is not None
        scale = rect.width() / self._pixmap.width()
        x0, y0, x1, y1 = box
        return QRectF(rect.x() + x0 * scale, rect.y() + y0 * scale, (x1 - x0) * scale, (y1 - y0) * scale)

    def face_at(self, point: QPointF) -> int | None:
        if self._pixmap is None:
            return None
        # the smallest box under the point wins: a small face inside a big one stays reachable
        hits = [
            (box[2] - box[0], number)
            for number, box in enumerate(self._faces)
            if self.to_widget(box).contains(point)
        ]
        return min(hits)[1] if hits else None

    # ----- events -------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        number = self.face_at(event.position())
        if number is not None:
            self.faceClicked.emit(number)
        super().mousePressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), self.palette().window())
            painter.drawText(QRectF(0, 0, self.width(), 18), Qt.AlignmentFlag.AlignCenter, self.title)
            if self._pixmap is None:
                flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
                painter.drawText(self.rect(), flags, self._placeholder)
            else:
                self._paint_frame(painter)
        finally:
            painter.end()

    def _paint_frame(self, painter: QPainter) -> None:
        assert self._pixmap is not None
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(self._image_rect(), self._pixmap, QRectF(self._pixmap.rect()))
        font = QFont(painter.font())
        font.setBold(True)
        painter.setFont(font)
        for number, box in enumerate(self._faces):
            colour = CHOSEN_COLOUR if number == self._chosen else FACE_COLOUR
            painter.setPen(QPen(colour, 2))
            rect = self.to_widget(box)
            painter.drawRect(rect)
            text = str(number + 1)
            if number in self._labels:
                text += f" \u2190 {self._labels[number]}"
            label = QRectF(rect.x(), rect.y() - 18, max(24.0, 8.0 * len(text) + 8), 18)
            painter.fillRect(label, colour)
            painter.setPen(QColor(0, 0, 0))
            painter.drawText(label, Qt.AlignmentFlag.AlignCenter, text)

    @Slot()
    def clear(self) -> None:
        self.set_frame(None, [])
