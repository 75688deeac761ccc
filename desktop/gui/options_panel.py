"""Swap, swapper, detector, provider and output options: widgets that edit the document.

The video-only group (trim, tracker, audio, hardware encoder) is its own module,
video_options.py; this panel stacks it under the others.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.faces.options import DETECTOR_SIZE_STEP, SwapOptions
from ...core.jobs.spec import VIDEO_CODECS, OutputSpec
from ...core.limits import field_limits
from ...core.models.files import Role, find_role_file
from ...core.models.library import default_swapper_file
from ...core.models.manifest import load_manifest
from ..job_document import JobDocument
from .video_options import VideoOptions

CODECS = VIDEO_CODECS
AUTOMATIC = ""  # the swapper combo's data for "no swapper_file": the provider's default


def narrow_combo(combo: QComboBox) -> None:
    """A combo whose long item texts do not widen the options column; its list shows them whole."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(12)
    view = combo.view()
    view.setMinimumWidth(view.sizeHintForColumn(0) + 2 * view.frameWidth())


def _spin(cls: type, name: str, value: int) -> QSpinBox:
    low, high = field_limits(cls, name)["range"]
    box = QSpinBox()
    box.setRange(int(low), int(high))
    box.setValue(value)
    return box


def _double(cls: type, name: str, value: float, step: float) -> QDoubleSpinBox:
    low, high = field_limits(cls, name)["range"]
    box = QDoubleSpinBox()
    box.setRange(float(low), float(high))
    box.setSingleStep(step)
    box.setDecimals(2)
    box.setValue(value)
    return box


class OptionsPanel(QWidget):
    """Each widget writes one field of the document's SwapOptions or OutputSpec; the video
    group (``video``) writes the tracker, the trim and the video output fields."""

    def __init__(
        self,
        document: JobDocument,
        providers: list[str],
        active: str,
        parent: QWidget | None = None,
        *,
        models_dir: Path | None = None,
    ):
        super().__init__(parent)
        self.document = document
        self.active_provider = active
        options = document.options
        self.swapper = QComboBox()
        self.refresh_swappers(models_dir)
        self.enhance = QCheckBox(self.tr("Enhance the face (GFPGAN)"))
        self.enhance.setChecked(options.enhance)
        self.strength = _spin(SwapOptions, "enhance_strength", options.enhance_strength)
        self.mouth_mask = QCheckBox(self.tr("Keep the target's mouth"))
        self.mouth_mask.setChecked(options.mouth_mask)
        self.mask_blur = _double(SwapOptions, "mask_blur", options.mask_blur, 0.01)
        self.mask_padding = _double(SwapOptions, "mask_padding", options.mask_padding, 0.01)
        self.detector_size = _spin(SwapOptions, "detector_size", options.detector_size)
        self.detector_size.setSingleStep(DETECTOR_SIZE_STEP)
        self.detector_threshold = _double(SwapOptions, "detector_threshold", options.detector_threshold, 0.05)
        self.provider = QComboBox()
        self.provider.addItem(self.tr("auto ({0})").format(active), "auto")
        for name in providers:
            self.provider.addItem(name, name)
        self.provider.setToolTip(self.tr("Applies the next time FaceDeck starts"))
        self.codec = QComboBox()
        for codec in CODECS:
            self.codec.addItem(codec, codec)
        self.quality = QSpinBox()
        low, high = field_limits(OutputSpec, "quality")["range"]
        self.quality.setRange(int(low) - 1, int(high))
        self.quality.setSpecialValueText(self.tr("default"))  # the minimum - 1 stands for None
        output = document.output
        self.codec.setCurrentIndex(max(0, self.codec.findData(output.codec)))
        self.quality.setValue(int(low) - 1 if output.quality is None else output.quality)
        self.preset = QLineEdit(output.preset or "")
        self.preset.setPlaceholderText(self.tr("codec default (e.g. medium, fast)"))
        self.video = VideoOptions(document)
        self._layout()
        self._connect()

    def _layout(self) -> None:
        swap = QGroupBox(self.tr("Swap"))
        form = QFormLayout(swap)
        # label above, combo across the group: "Automatic (inswapper_128_fp16)" is not cut off
        form.addRow(QLabel(self.tr("Swapper model")))
        form.addRow(self.swapper)
        form.addRow(self.enhance)
        form.addRow(self.tr("Enhance strength"), self.strength)
        form.addRow(self.mouth_mask)
        form.addRow(self.tr("Mask blur"), self.mask_blur)
        form.addRow(self.tr("Mask padding"), self.mask_padding)
        detector = QGroupBox(self.tr("Detector and device"))
        form = QFormLayout(detector)
        form.addRow(self.tr("Detector size"), self.detector_size)
        form.addRow(self.tr("Detector threshold"), self.detector_threshold)
        form.addRow(self.tr("Execution provider"), self.provider)
        video = QGroupBox(self.tr("Video output"))
        form = QFormLayout(video)
        form.addRow(self.tr("Codec"), self.codec)
        form.addRow(self.tr("Quality"), self.quality)
        form.addRow(self.tr("Preset"), self.preset)
        layout = QVBoxLayout(self)
        for group in (swap, detector, video, self.video):
            layout.addWidget(group)
        layout.addStretch()

    def refresh_swappers(self, models_dir: Path | None) -> None:
        """List the manifest's swappers, each marked present or missing in ``models_dir``.

        None: where the models are is not known here, so no mark. Call it again when files
        may have come or gone (after the models dialog).
        """
        specs = load_manifest().for_role("swapper")
        default = default_swapper_file(self.active_provider)
        if models_dir is not None:  # the library takes the other swapper when the default is not there
            found = find_role_file(Path(models_dir), Role.SWAPPER, default)
            default = found.name if found is not None else default
        default_id = next((spec.id for spec in specs if spec.file == default), default)
        self.swapper.blockSignals(True)  # refilling is no choice of the user's
        self.swapper.clear()
        self.swapper.addItem(self.tr("Automatic ({0})").format(default_id), AUTOMATIC)
        self.swapper.setItemData(
            0, self.tr("The provider's default: fp16 on a GPU, else fp32"), Qt.ItemDataRole.ToolTipRole
        )
        for spec in specs:
            label = spec.id
            if models_dir is not None:
                present = (Path(models_dir) / spec.file).is_file()
                label = (self.tr("{0} (present)") if present else self.tr("{0} (missing)")).format(spec.id)
            self.swapper.addItem(label, spec.file)
            self.swapper.setItemData(self.swapper.count() - 1, spec.purpose, Qt.ItemDataRole.ToolTipRole)
        chosen = self.document.options.swapper_file
        self.swapper.setCurrentIndex(max(0, self.swapper.findData(chosen or AUTOMATIC)))
        self.swapper.blockSignals(False)
        narrow_combo(self.swapper)

    def _connect(self) -> None:
        self.swapper.currentIndexChanged.connect(self._swap_changed)
        self.enhance.toggled.connect(self._swap_changed)
        self.mouth_mask.toggled.connect(self._swap_changed)
        for box in (self.strength, self.detector_size):
            box.valueChanged.connect(self._swap_changed)
        for double in (self.mask_blur, self.mask_padding, self.detector_threshold):
            double.valueChanged.connect(self._swap_changed)
        self.codec.currentIndexChanged.connect(self._output_changed)
        self.quality.valueChanged.connect(self._output_changed)
        self.preset.editingFinished.connect(self._output_changed)

    @Slot()
    def _swap_changed(self) -> None:
        size = self.detector_size.value()
        size -= size % DETECTOR_SIZE_STEP  # typed values snap to what the detector accepts
        self.document.set_options(
            swapper_file=self.swapper.currentData() or None,
            enhance=self.enhance.isChecked(),
            enhance_strength=self.strength.value(),
            mouth_mask=self.mouth_mask.isChecked(),
            mask_blur=round(self.mask_blur.value(), 2),
            mask_padding=round(self.mask_padding.value(), 2),
            detector_size=max(size, self.detector_size.minimum()),
            detector_threshold=round(self.detector_threshold.value(), 2),
        )

    @Slot()
    def _output_changed(self) -> None:
        quality = self.quality.value()
        self.document.set_output_options(
            codec=self.codec.currentData(),
            quality=None if quality < self.quality.minimum() + 1 else quality,
            preset=self.preset.text().strip() or None,
        )
