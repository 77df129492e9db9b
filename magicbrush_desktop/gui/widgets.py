"""Small reusable widgets: a log-scale slider with a numeric read-out."""

from __future__ import annotations

import math

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QWidget,
)

FRAME_ALLOWANCE = (16, 48)  # window-manager frame and title bar, outside a window's own size


def available_geometry(widget: QWidget) -> QRect | None:
    """The free area (less task bars) of the screen the widget is on, or of the primary screen."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else None


def size_within_screen(widget: QWidget, default: tuple[int, int],
                       minimum: tuple[int, int] = (320, 240)) -> tuple[int, int]:
    """``default`` (width, height), cut down to the screen's free area less a window frame."""
    width, height = default
    avail = available_geometry(widget)
    if avail is not None and avail.width() > 0:
        width = min(width, avail.width() - FRAME_ALLOWANCE[0])
        height = min(height, avail.height() - FRAME_ALLOWANCE[1])
    return max(width, minimum[0]), max(height, minimum[1])


LOG_SLIDER_TICKS = 400  # slider resolution: ~1.7 % per tick over 4 decades


class LogSlider(QWidget):
    """A horizontal slider over ``[low, high]`` on a log scale, showing its value as e.g. ``1.0e+03``, or,
    once :meth:`set_reference` gave it a default, as a factor of it (``×0.5``, ``×1``, ``×2``).

    ``value_changed`` fires on every move (the caller debounces heavy reactions).
    """

    value_changed = Signal(float)

    def __init__(self, low: float, high: float, value: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if not 0 < low < high:
            raise ValueError("LogSlider needs 0 < low < high")
        self._lo, self._hi = math.log10(low), math.log10(high)
        self._reference: float | None = None
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, LOG_SLIDER_TICKS)
        self.readout = QLabel()
        self.readout.setMinimumWidth(self.readout.fontMetrics().horizontalAdvance("8.88e+08") + 4)
        self.readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.readout)
        self.slider.valueChanged.connect(self._on_move)
        self.set_value(value)

    def _to_ticks(self, value: float) -> int:
        frac = (math.log10(value) - self._lo) / (self._hi - self._lo)
        return round(min(1.0, max(0.0, frac)) * LOG_SLIDER_TICKS)

    def value(self) -> float:
        frac = self.slider.value() / LOG_SLIDER_TICKS
        return 10 ** (self._lo + frac * (self._hi - self._lo))

    def set_value(self, value: float) -> None:
        """Move to ``value`` (clamped to the range); emits ``value_changed`` if it moved."""
        self.slider.setValue(self._to_ticks(max(value, 1e-300)))
        self._show()

    def _on_move(self, _ticks: int) -> None:
        self._show()
        self.value_changed.emit(self.value())

    def set_reference(self, value: float | None) -> None:
        """Show values as factors of ``value`` (a default); None: show them as plain numbers."""
        self._reference = value
        self._show()

    def reference(self) -> float | None:
        return self._reference

    def _show(self) -> None:
        v = self.value()
        plain = f"{v:.2g}" if 0.01 <= v < 1000 else f"{v:.1e}"
        if self._reference:
            self.readout.setText(f"\u00d7{v / self._reference:.2g}")
            self.readout.setToolTip(f"{plain} (default {self._reference:.3g})")
        else:
            self.readout.setText(plain)


class ElidingComboBox(QComboBox):
    """A combo box that shortens a long current item in the middle ("magicbrush-co…v1 (shipped)") instead of
    cutting its end off, so both a name's start and its last words stay readable in a narrow dock; the
    drop-down list is as wide as its longest item."""

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt's name
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        option.currentText = self.elided_text(field.width())
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)

    def elided_text(self, width: int) -> str:
        """The current item's text as it fits ``width`` pixels."""
        return self.fontMetrics().elidedText(self.currentText(), Qt.TextElideMode.ElideMiddle, max(width, 0))

    def showPopup(self) -> None:  # noqa: N802 - Qt's name
        view = self.view()
        widest = max((self.fontMetrics().horizontalAdvance(self.itemText(i)) for i in range(self.count())), default=0)
        scrollbar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        view.setMinimumWidth(widest + 2 * view.frameWidth() + scrollbar + 16)
        view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        super().showPopup()
