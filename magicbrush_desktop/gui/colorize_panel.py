"""The Colorize panel: model picker, render size, live colour strength, device and the Colorize button.

The panel only collects choices and emits signals; the main window runs the jobs.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.defaults import DEFAULT_RENDER_SIZE, DEVICE_CHOICES, MAX_RENDER_SIZE, MIN_RENDER_SIZE
from ..core.models import ModelInfo, default_model_name, list_models
from .model_info import ORIGIN_LABEL, tooltip
from .widgets import ElidingComboBox

STRENGTH_TICKS = 200  # slider 0..200 = strength 0.00..2.00
STRENGTH_TIP = "Colour strength: 0 grey, 1 as predicted, 2 twice as saturated. Updates live, without running " \
    "the model again."


class ColorizePanel(QWidget):
    """Choices for colorization; ``strength_changed`` fires live while the slider moves."""

    colorize_requested = Signal()
    strength_changed = Signal(float)
    strength_committed = Signal(float)  # slider released or set by keyboard: make it a history step

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_combo = ElidingComboBox()
        self.model_combo.setToolTip("Shipped models and the ones you trained (Tools \u25b8 Train)")
        self.model_combo.currentIndexChanged.connect(lambda _i: self._update_model_tooltip())
        # A long model name must not widen the whole Tools dock: the picker elides in the middle, its tooltip
        # tells all.
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(14)
        self.render_size = QSpinBox()
        self.render_size.setRange(MIN_RENDER_SIZE, MAX_RENDER_SIZE)
        self.render_size.setSingleStep(32)
        self.render_size.setValue(DEFAULT_RENDER_SIZE)
        self.render_size.setSuffix(" px")
        self.render_size.setToolTip(
            "Size (longest side) at which colour is predicted; it is then laid onto the photo's own "
            "full-resolution detail. Larger: finer colour, slower."
        )
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, STRENGTH_TICKS)
        self.strength.setValue(100)
        self.strength.setToolTip(STRENGTH_TIP)
        self.strength_label = QLabel("1.00")
        self.strength_label.setMinimumWidth(self.strength_label.fontMetrics().horizontalAdvance("0.00") + 6)
        self.device_combo = QComboBox()
        self._fill_devices()
        self.colorize_button = QPushButton("Colorize")
        self.colorize_button.setDefault(True)
        self.colorize_button.setToolTip("Predict colours for the photo (Ctrl+R)")

        strength_row = QHBoxLayout()
        strength_row.addWidget(self.strength, 1)
        strength_row.addWidget(self.strength_label)
        form = QFormLayout()
        form.addRow("Model", self.model_combo)
        form.addRow("Render size", self.render_size)
        form.addRow("Colour strength", strength_row)
        form.addRow("Device", self.device_combo)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.colorize_button)
        layout.addStretch(1)

        self.colorize_button.clicked.connect(self.colorize_requested)
        self.strength.valueChanged.connect(self._on_strength)
        self.strength.sliderReleased.connect(lambda: self.strength_committed.emit(self.strength_value()))
        self.refresh_models()

    def _fill_devices(self) -> None:
        labels = {"auto": "Auto", "cpu": "CPU", "cuda": "CUDA (GPU)"}
        for name in DEVICE_CHOICES:
            self.device_combo.addItem(labels.get(name, name), name)
        # Whether CUDA works is known once torch has loaded (in the background, see preload.py): until then
        # the entry is off, and set_cuda_available() turns it on.
        self.set_cuda_available(None)

    def set_cuda_available(self, available: bool | None) -> None:
        """Enable the CUDA entry (True), or disable it: no GPU (False) or not known yet (None)."""
        model = self.device_combo.model()
        assert isinstance(model, QStandardItemModel)
        index = DEVICE_CHOICES.index("cuda")
        item = model.item(index)
        # Disabled, not hidden: users should see that GPU support exists and why it is off.
        item.setEnabled(bool(available))
        tip = ("" if available else "Looking for a CUDA GPU\u2026" if available is None
               else "No CUDA GPU was found (or this PyTorch build has no CUDA support)")
        item.setToolTip(tip)
        self.device_combo.setItemData(index, tip or None, Qt.ItemDataRole.ToolTipRole)
        self._cuda = available
        if available and getattr(self, "_wanted_device", None) == "cuda":
            self.set_device("cuda")  # the saved choice, held back until CUDA was known to work

    # --- values -------------------------------------------------------------------------------------

    def refresh_models(self, select: str | None = None) -> list[ModelInfo]:
        """Re-list models (after training installs one); keeps or sets the selection."""
        current = select or self.model_name()
        models = list_models()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for info in models:
            self.model_combo.addItem(f"{info.name} ({ORIGIN_LABEL.get(info.origin, info.origin)})", info.name)
            # Each model's validation figures and licence, on hover in the list and on the picker.
            self.model_combo.setItemData(self.model_combo.count() - 1, tooltip(info), Qt.ItemDataRole.ToolTipRole)
        wanted = current or default_model_name()
        index = self.model_combo.findData(wanted) if wanted else -1
        self.model_combo.setCurrentIndex(index if index >= 0 else 0)
        self.model_combo.blockSignals(False)
        self._update_model_tooltip()
        self.colorize_button.setEnabled(bool(models))
        if not models:
            self.colorize_button.setToolTip("No colorization model is installed; train one (Tools \u25b8 Train)")
        return models

    def _update_model_tooltip(self) -> None:
        tip = self.model_combo.currentData(Qt.ItemDataRole.ToolTipRole)
        self.model_combo.setToolTip(f"{tip}\n\nShipped models and the ones you trained (Tools \u25b8 Train)"
                                    if tip else "Shipped models and the ones you trained (Tools \u25b8 Train)")

    def model_name(self) -> str | None:
        data = self.model_combo.currentData()
        return str(data) if data else None

    def device(self) -> str:
        return str(self.device_combo.currentData() or "auto")

    def set_device(self, name: str) -> None:
        """Select a device; CUDA only once it is known to work (a saved choice waits for that)."""
        self._wanted_device = name
        index = self.device_combo.findData(name)
        if index >= 0 and (name != "cuda" or self._cuda):
            self.device_combo.setCurrentIndex(index)

    def strength_value(self) -> float:
        return self.strength.value() / 100.0

    def set_strength(self, value: float, *, emit: bool = False) -> None:
        self.strength.blockSignals(not emit)
        self.strength.setValue(round(value * 100))
        self.strength.blockSignals(False)
        self.strength_label.setText(f"{self.strength_value():.2f}")

    def set_strength_available(self, available: bool, why_not: str = "") -> None:
        """Turn the strength slider on or off; ``why_not`` (when off) becomes its tooltip."""
        self.strength.setEnabled(available)
        self.strength.setToolTip(STRENGTH_TIP if available or not why_not else why_not)

    def _on_strength(self, _ticks: int) -> None:
        self.strength_label.setText(f"{self.strength_value():.2f}")
        self.strength_changed.emit(self.strength_value())
        if not self.strength.isSliderDown():
            # Keyboard, wheel or a programmatic move: there is no release, so it is final right away.
            self.strength_committed.emit(self.strength_value())
