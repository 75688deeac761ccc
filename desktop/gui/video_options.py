"""Video-only options: trim, face tracking, audio and the encoder, as the CLI's video group.

The group is enabled only while the target is a video (the document's ``kind``): the job
of an image carries the same tracker and output fields but ignores them, and its trim is
left out, as a CLI batch swaps its images whole. Times are seconds, checked twice as the
CLI checks them: end after start here and at ``document.job()``, and both within the video
when the job opens it (the duration may be unknown until then; ``set_duration`` narrows
the boxes once the preview knows it).
"""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QWidget,
)

from ...core.jobs.spec import HARDWARE_ENCODERS, JobKind, OutputSpec, TrackerOptions, Trim
from ...core.jobs.timecode import format_time
from ...core.limits import field_limits
from ..job_document import TARGET, JobDocument

ERROR_STYLE = "color: #b00020;"  # the models dialog's error colour


def _seconds_box(name: str) -> QDoubleSpinBox:
    low, high = field_limits(Trim, name)["range"]
    box = QDoubleSpinBox()
    box.setRange(float(low), float(high))
    box.setDecimals(2)
    box.setSingleStep(0.5)
    box.setAccelerated(True)  # held arrows cross a long video in seconds, not minutes
    return box


class VideoOptions(QGroupBox):
    """Trim start/end, detect every N frames, smoothing, keep audio, hardware encoder, encoder threads."""

    def __init__(self, document: JobDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Video"))
        self.document = document
        self.start = _seconds_box("start")
        self.end = _seconds_box("end")
        # end 0 is never after a start, so the minimum stands for "no end": the whole rest
        self.end.setSpecialValueText(self.tr("to the end"))
        for box in (self.start, self.end):
            box.setSuffix(self.tr(" s"))
        self.trim_error = QLabel()
        self.trim_error.setWordWrap(True)
        self.trim_error.setStyleSheet(ERROR_STYLE)
        self.trim_error.hide()
        self.detect_every = QSpinBox()
        low, high = field_limits(TrackerOptions, "detect_every")["range"]
        self.detect_every.setRange(int(low), int(high))
        self.detect_every.setSuffix(self.tr(" frames"))
        self.detect_every.setToolTip(
            self.tr("Run face detection every N frames and track the faces in between")
        )
        self.smoothing = QCheckBox(self.tr("Smooth face movement"))
        self.audio = QCheckBox(self.tr("Keep the audio"))
        self.hardware = QComboBox()
        labels = {
            "auto": self.tr("Automatic"),
            "off": self.tr("Software only"),
            "nvenc": self.tr("NVENC only"),
        }
        for value in HARDWARE_ENCODERS:
            self.hardware.addItem(labels.get(value, value), value)
        self.hardware.setToolTip(
            self.tr("Automatic: the NVIDIA GPU's encoder (NVENC) when it works, else software")
        )
        self.threads = QSpinBox()
        low, high = field_limits(OutputSpec, "encoder_threads")["range"]
        self.threads.setRange(int(low) - 1, int(high))
        self.threads.setSpecialValueText(self.tr("automatic"))  # the minimum - 1 stands for None
        self.threads.setToolTip(self.tr("Threads for a software encoder; 1 can be faster with a fast preset"))
        self._layout()
        self.show_document()
        self._connect()

    def _layout(self) -> None:
        form = QFormLayout(self)
        form.addRow(self.tr("Start at"), self.start)
        form.addRow(self.tr("End at"), self.end)
        form.addRow(self.trim_error)
        form.addRow(self.tr("Detect faces every"), self.detect_every)
        form.addRow(self.smoothing)
        form.addRow(self.audio)
        form.addRow(self.tr("Hardware encoder"), self.hardware)
        form.addRow(self.tr("Encoder threads"), self.threads)

    def _connect(self) -> None:
        self.start.valueChanged.connect(self._trim_changed)
        self.end.valueChanged.connect(self._trim_changed)
        self.detect_every.valueChanged.connect(self._tracker_changed)
        self.smoothing.toggled.connect(self._tracker_changed)
        self.audio.toggled.connect(self._output_changed)
        self.hardware.currentIndexChanged.connect(self._output_changed)
        self.threads.valueChanged.connect(self._output_changed)
        self.document.subscribe(self._document_changed)

    # ----- the document into the widgets ------------------------------------------------------
    def show_document(self) -> None:
        """Every widget from the document (signals blocked: showing is no edit)."""
        document = self.document
        widgets = (
            self.start,
            self.end,
            self.detect_every,
            self.smoothing,
            self.audio,
            self.hardware,
            self.threads,
        )
        for widget in widgets:
            widget.blockSignals(True)
        trim = document.trim or Trim()
        self.start.setValue(trim.start)
        self.end.setValue(self.end.minimum() if trim.end is None else trim.end)
        self.detect_every.setValue(document.tracker.detect_every)
        self.smoothing.setChecked(document.tracker.smoothing)
        self.audio.setChecked(document.output.audio)
        self.hardware.setCurrentIndex(max(0, self.hardware.findData(document.output.hardware)))
        threads = document.output.encoder_threads
        self.threads.setValue(self.threads.minimum() if threads is None else threads)
        for widget in widgets:
            widget.blockSignals(False)
        self.setEnabled(document.kind is JobKind.VIDEO)
        self._show_trim_problem()

    def set_duration(self, seconds: float | None) -> None:
        """The target video's length when known (None: unknown): the time boxes stop there."""
        high = float(field_limits(Trim, "end")["range"][1])
        limit = high if not seconds or seconds <= 0 else min(high, round(seconds, 2))
        for box in (self.start, self.end):
            box.setMaximum(limit)  # a value beyond it is clamped, and the document follows

    def _document_changed(self, what: str) -> None:
        if what == TARGET:
            self.set_duration(None)  # the new video's length is not known yet
            self.show_document()

    # ----- the widgets into the document ------------------------------------------------------
    @Slot()
    def _trim_changed(self) -> None:
        end = self.end.value()  # shown with 2 decimals: the document gets what is shown
        self.document.set_trim(
            round(self.start.value(), 2), None if end <= self.end.minimum() else round(end, 2)
        )
        self._show_trim_problem()

    def _show_trim_problem(self) -> None:
        problem = self.document.trim_problem()
        trim = self.document.trim
        if problem is None or trim is None or trim.end is None:
            self.trim_error.clear()
            self.trim_error.hide()
            return
        self.trim_error.setText(
            self.tr("The end ({0}) must come after the start ({1}).").format(
                format_time(trim.end), format_time(trim.start)
            )
        )
        self.trim_error.show()

    @Slot()
    def _tracker_changed(self) -> None:
        self.document.set_tracker(
            detect_every=self.detect_every.value(), smoothing=self.smoothing.isChecked()
        )

    @Slot()
    def _output_changed(self) -> None:
        threads = self.threads.value()
        self.document.set_output_options(
            audio=self.audio.isChecked(),
            hardware=self.hardware.currentData(),
            encoder_threads=None if threads == self.threads.minimum() else threads,
        )
