"""The preview: original and swapped frames side by side, or one with a before/after toggle;
for a video, a slider and frame stepping that pick the frame the swap is shown on."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.live.types import LiveFrame, LiveStats
from ..preview import PreviewResult
from .frame_canvas import FrameCanvas
from .images import bgr_to_pixmap

SLIDER_STEPS_PER_SECOND = 1000  # the slider counts milliseconds
DEFAULT_FRAME_STEP = 1 / 25  # seconds, until the clip's own rate is known


class PreviewPanel(QWidget):
    """Shows PreviewResults; emits the face clicked and the video time asked for."""

    faceClicked = Signal(int)
    timeRequested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.original = FrameCanvas(self.tr("Original"))
        self.swapped = FrameCanvas(self.tr("Swapped"))
        self.original.set_placeholder(self.tr("Choose a target image or video"))
        self.swapped.set_placeholder(self.tr("Add a source photo to see the swap"))
        self.mode = QComboBox()
        self.mode.addItem(self.tr("Side by side"), "side")
        self.mode.addItem(self.tr("Before / after"), "toggle")
        self.show_original = QCheckBox(self.tr("Show original"))
        self.show_original.setEnabled(False)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.back = QToolButton(text="\u25c0")
        self.forward = QToolButton(text="\u25b6")
        self.back.setToolTip(self.tr("Previous frame"))
        self.forward.setToolTip(self.tr("Next frame"))
        self.time_label = QLabel()
        self.live_stats = QLabel()  # live mode's figures: fps, latency, frames dropped
        self.live_stats.hide()
        self.live = False
        self._frame_step = DEFAULT_FRAME_STEP
        self._shown_time = 0.0  # the time of the video frame on screen
        # the worker hands the same decoded array back while only options change: its
        # pixmap is made once, not on every preview (3 ms a 1080p frame on the GUI thread)
        self._original: tuple[np.ndarray, QPixmap] | None = None
        self._layout()
        self.original.faceClicked.connect(self.faceClicked)
        self.swapped.faceClicked.connect(self.faceClicked)
        self.mode.currentIndexChanged.connect(self._show_mode)
        self.show_original.toggled.connect(self._show_mode)
        self.slider.valueChanged.connect(self._slider_moved)
        self.back.clicked.connect(self._step_back)
        self.forward.clicked.connect(self._step_forward)
        self.set_video(False)

    def _layout(self) -> None:
        canvases = QHBoxLayout()
        canvases.addWidget(self.original)
        canvases.addWidget(self.swapped)
        self.video_bar = QWidget()
        video = QHBoxLayout(self.video_bar)
        video.setContentsMargins(0, 0, 0, 0)
        for widget in (self.back, self.slider, self.forward, self.time_label):
            video.addWidget(widget)
        top = QHBoxLayout()
        top.addWidget(self.mode)
        top.addWidget(self.show_original)
        top.addStretch()
        top.addWidget(self.live_stats)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(canvases, 1)
        layout.addWidget(self.video_bar)

    # ----- what to show ---------------------------------------------------------------------
    def set_video(self, video: bool, duration: float | None = None) -> None:
        self.video_bar.setVisible(video)
        if duration:
            self.slider.blockSignals(True)
            self.slider.setRange(0, int(duration * SLIDER_STEPS_PER_SECOND))
            self.slider.blockSignals(False)

    def set_frame_rate(self, rate: float | None) -> None:
        self._frame_step = 1.0 / rate if rate else DEFAULT_FRAME_STEP

    @Slot(object)
    def show_result(self, result: PreviewResult) -> None:
        """Called on the GUI thread: the arrays become pixmaps here."""
        if result.original is None:
            self._original = None
            self.original.set_frame(None, [])
            self.swapped.set_frame(None, [])
            return
        self.original.set_frame(self._original_pixmap(result.original), result.faces)
        swapped = None if result.swapped is None else bgr_to_pixmap(result.swapped)
        self.swapped.set_frame(swapped, result.faces)
        if result.duration:
            self.set_video(True, result.duration)
            self.slider.blockSignals(True)
            self.slider.setValue(int(result.time * SLIDER_STEPS_PER_SECOND))
            self._shown_time = result.time
            self.slider.blockSignals(False)
            self.time_label.setText(self.tr("{0:.2f} s").format(result.time))

    def _original_pixmap(self, frame: np.ndarray) -> QPixmap:
        if self._original is None or self._original[0] is not frame:
            self._original = (frame, bgr_to_pixmap(frame))
        return self._original[1]

    def show_file(self, frame: np.ndarray) -> None:
        """A finished result, shown alone as the swapped frame."""
        self.swapped.set_frame(bgr_to_pixmap(frame), [])

    def set_labels(self, labels: dict[int, str], chosen: int | None) -> None:
        self.original.set_labels(labels, chosen)
        self.swapped.set_labels(labels, chosen)

    def clear(self) -> None:
        self._original = None
        self.original.clear()
        self.swapped.clear()

    # ----- live mode -------------------------------------------------------------------------
    def set_live(self, live: bool) -> None:
        """Camera frames instead of the file's preview: no slider, the figures shown."""
        self.live = live
        self.clear()
        self.video_bar.setVisible(False)
        self.live_stats.setVisible(live)
        self.live_stats.clear()
        if live:
            self.original.set_placeholder(self.tr("Start live to see the camera"))
            self.swapped.set_placeholder(self.tr("Start live to see the swap"))
        else:
            self.original.set_placeholder(self.tr("Choose a target image or video"))
            self.swapped.set_placeholder(self.tr("Add a source photo to see the swap"))

    @Slot(object)
    def show_live(self, frame: LiveFrame) -> None:
        """One live frame: the camera's picture as the original, the swap beside it.

        Only the panes on screen are converted (one pixmap a frame in before/after mode).
        """
        if self.original.isVisible():
            self.original.set_frame(bgr_to_pixmap(frame.captured.image), [])
        if self.swapped.isVisible():
            self.swapped.set_frame(bgr_to_pixmap(frame.image), [])

    def show_live_stats(self, stats: LiveStats, not_shown: int = 0) -> None:
        text = self.tr("{0:.1f} fps \u00b7 {1:.0f} ms \u00b7 {2} dropped").format(
            stats.fps, 1000 * stats.latency_median, stats.dropped
        )
        details = [
            self.tr("Camera: {0:.1f} fps").format(stats.source_fps),
            self.tr("Latency: median {0:.0f} ms, 95% under {1:.0f} ms").format(
                1000 * stats.latency_median, 1000 * stats.latency_p95
            ),
            self.tr("Frames: {0} processed, {1} dropped before processing, {2} not drawn").format(
                stats.processed, stats.dropped, not_shown
            ),
            self.tr("Frames that failed and passed unswapped: {0}").format(stats.errors),
        ]
        if stats.last_error:
            details.append(stats.last_error)
        self.live_stats.setText(text)
        self.live_stats.setToolTip("\n".join(details))

    # ----- slots ----------------------------------------------------------------------------
    @Slot()
    def _show_mode(self) -> None:
        toggle = self.mode.currentData() == "toggle"
        self.show_original.setEnabled(toggle)
        before = self.show_original.isChecked()
        self.original.setVisible(not toggle or before)
        self.swapped.setVisible(not toggle or not before)

    @Slot(int)
    def _slider_moved(self, value: int) -> None:
        self.timeRequested.emit(value / SLIDER_STEPS_PER_SECOND)

    @Slot()
    def _step_back(self) -> None:
        self._step(-1)

    @Slot()
    def _step_forward(self) -> None:
        self._step(1)

    def _step(self, frames: int) -> None:
        # Aim at the middle of the next frame's span: the slider's milliseconds would land
        # on a frame boundary and round back onto the frame already shown.
        end = self.slider.maximum() / SLIDER_STEPS_PER_SECOND
        seconds = self._shown_time + (frames + 0.5) * self._frame_step
        seconds = min(max(0.0, seconds), end)
        self.slider.blockSignals(True)
        self.slider.setValue(int(seconds * SLIDER_STEPS_PER_SECOND))
        self.slider.blockSignals(False)
        self.timeRequested.emit(seconds)
