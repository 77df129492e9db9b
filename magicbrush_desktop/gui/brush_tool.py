"""The magic brush's widgets: the Brush panel (palette, colour dialog, eyedropper, reference photo, size,
eraser, clear, markers) and the canvas overlay that draws hint markers and the stroke being painted.

They only draw and report; :mod:`.hints_controller` decides what a stroke does.
"""

from __future__ import annotations


import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .imaging import to_qimage

# Common colours of old photographs' subjects, for the palette (name, sRGB).
HISTORIC_COLOURS: tuple[tuple[str, str], ...] = (
    ("Fair skin", "#e3b99f"),
    ("Olive skin", "#c08e6b"),
    ("Brown skin", "#8d5b3e"),
    ("Navy", "#1f2d52"),
    ("Khaki", "#b3a26e"),
    ("Field grey", "#6b7163"),
    ("Brick", "#9c4632"),
    ("Burgundy", "#6e2230"),
    ("Grass", "#5b7f35"),
    ("Foliage", "#3f5a2a"),
    ("Sky", "#86aee0"),
    ("Sea", "#2f6e8e"),
    ("Wood", "#7a5233"),
    ("Sand", "#cdb48a"),
    ("Cream", "#efe3c6"),
    ("Red dress", "#b03a2e"),
)

# Brush radius as a fraction of the photo's longest side: slider ticks map log-wise onto this range.
MIN_RADIUS, MAX_RADIUS = 0.002, 0.08
SIZE_TICKS = 100
# How far a stroke's colour travels (a hint's "spread", fraction of the longest side), log-wise too.
MIN_REACH, MAX_REACH, DEFAULT_REACH = 0.03, 0.6, 0.1


def radius_from_ticks(ticks: int) -> float:
    return float(MIN_RADIUS * (MAX_RADIUS / MIN_RADIUS) ** (ticks / SIZE_TICKS))


def ticks_from_radius(radius: float) -> int:
    frac = np.log(max(radius, MIN_RADIUS) / MIN_RADIUS) / np.log(MAX_RADIUS / MIN_RADIUS)
    return int(round(min(1.0, max(0.0, frac)) * SIZE_TICKS))


def reach_from_ticks(ticks: int) -> float:
    return float(MIN_REACH * (MAX_REACH / MIN_REACH) ** (ticks / SIZE_TICKS))


def ticks_from_reach(reach: float) -> int:
    frac = np.log(max(reach, MIN_REACH) / MIN_REACH) / np.log(MAX_REACH / MIN_REACH)
    return int(round(min(1.0, max(0.0, frac)) * SIZE_TICKS))


def swatch_icon(color: QColor, size: int = 18) -> QIcon:
    pix = QPixmap(size, size)
    pix.fill(color)
    p = QPainter(pix)
    p.setPen(QPen(QColor(0, 0, 0, 140), 1))
    p.drawRect(0, 0, size - 1, size - 1)
    p.end()
    return QIcon(pix)


def brush_icon(size: int = 48) -> QIcon:
    """The Magic Brush toolbar icon: a round brush over a dab of red, drawn (no image files)."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    u = size / 24.0
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#b03a2e"))
    p.drawEllipse(QPointF(7 * u, 17 * u), 5 * u, 4 * u)  # the dab of colour
    p.setPen(QPen(QColor("#5a4632"), 2.6 * u, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawLine(QPointF(20.5 * u, 3.5 * u), QPointF(13 * u, 11 * u))  # the handle
    p.setPen(QPen(QColor("#c9a227"), 3.2 * u, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
    p.drawLine(QPointF(13.2 * u, 10.8 * u), QPointF(11.4 * u, 12.6 * u))  # the ferrule
    p.setPen(QPen(QColor("#b03a2e"), 3.6 * u, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawLine(QPointF(11 * u, 13 * u), QPointF(9 * u, 15 * u))  # the loaded tip
    p.end()
    return QIcon(pix)


class ReferenceView(QLabel):
    """A colour photo opened as a reference: clicking it picks the colour under the mouse."""

    color_picked = Signal(QColor)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumHeight(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Click to pick a colour from the reference photo")
        self._image: QImage | None = None
        self.hide()

    def set_image(self, rgb: np.ndarray | None) -> None:
        self._image = to_qimage(rgb) if rgb is not None else None
        self.setVisible(self._image is not None)
        self._rescale()

    def has_image(self) -> bool:
        return self._image is not None

    def _rescale(self) -> None:
        if self._image is None:
            self.clear()
            return
        side = max(120, self.width())
        self.setPixmap(QPixmap.fromImage(self._image).scaled(
            side, 160, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._rescale()

    def color_at(self, pos: QPointF) -> QColor | None:
        pix = self.pixmap()
        if self._image is None or pix is None or pix.isNull():
            return None
        x0 = (self.width() - pix.width()) / 2
        y0 = (self.height() - pix.height()) / 2
        fx, fy = (pos.x() - x0) / pix.width(), (pos.y() - y0) / pix.height()
        if not (0 <= fx < 1 and 0 <= fy < 1):
            return None
        return self._image.pixelColor(int(fx * self._image.width()), int(fy * self._image.height()))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        color = self.color_at(event.position())
        if color is not None:
            self.color_picked.emit(color)
        event.accept()


class BrushPanel(QWidget):
    """The Brush tab: what the next stroke paints with, and the hint-wide buttons."""

    color_changed = Signal(QColor)
    reference_requested = Signal()
    clear_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._color = QColor(HISTORIC_COLOURS[-1][1])
        layout = QVBoxLayout(self)

        intro = QLabel("Paint where the colours are wrong (B): the colour spreads over the similar "
                       "surfaces around the stroke; the rest keeps the automatic result.")
        intro.setWordWrap(True)
        layout.addWidget(intro)

        row = QHBoxLayout()
        self.current = QLabel()
        self.current.setFixedSize(36, 24)
        self.current.setObjectName("current_colour")
        row.addWidget(self.current)
        self.more_button = QPushButton("More colours\u2026")
        self.more_button.clicked.connect(self._choose_color)
        row.addWidget(self.more_button)
        self.eyedropper_button = QToolButton()
        self.eyedropper_button.setText("Eyedropper")
        self.eyedropper_button.setCheckable(True)
        self.eyedropper_button.setToolTip("Pick the brush colour from the picture (I)")
        row.addWidget(self.eyedropper_button)
        layout.addLayout(row)

        grid = QGridLayout()
        grid.setSpacing(3)
        self.swatches: list[QToolButton] = []
        for i, (name, hex_) in enumerate(HISTORIC_COLOURS):
            b = QToolButton()
            b.setIcon(swatch_icon(QColor(hex_)))
            b.setIconSize(QSize(20, 20))
            b.setToolTip(f"{name} ({hex_})")
            b.setObjectName(f"swatch_{i}")
            b.clicked.connect(lambda _c=False, h=hex_: self.set_color(QColor(h)))
            grid.addWidget(b, i // 8, i % 8)
            self.swatches.append(b)
        layout.addLayout(grid)

        size_row = QHBoxLayout()
        size_row.addWidget(QLabel("Size"))
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(0, SIZE_TICKS)
        self.size_slider.setValue(ticks_from_radius(0.01))
        self.size_label = QLabel()
        self.size_label.setMinimumWidth(self.size_label.fontMetrics().horizontalAdvance("8.8 %") + 4)
        self.size_slider.valueChanged.connect(lambda _v: self._show_size())
        size_row.addWidget(self.size_slider, 1)
        size_row.addWidget(self.size_label)
        layout.addLayout(size_row)
        reach_row = QHBoxLayout()
        reach_row.addWidget(QLabel("Reach"))
        self.reach_slider = QSlider(Qt.Orientation.Horizontal)
        self.reach_slider.setRange(0, SIZE_TICKS)
        self.reach_slider.setValue(ticks_from_reach(DEFAULT_REACH))
        self.reach_slider.setToolTip("How far the colour travels: from the region around the stroke (left) "
                                     "to similar surfaces anywhere in the photo (right)")
        self.reach_label = QLabel()
        self.reach_label.setMinimumWidth(self.size_label.minimumWidth())
        self.reach_slider.valueChanged.connect(lambda _v: self._show_size())
        reach_row.addWidget(self.reach_slider, 1)
        reach_row.addWidget(self.reach_label)
        layout.addLayout(reach_row)
        self._show_size()

        tools = QHBoxLayout()
        self.eraser_check = QCheckBox("Eraser")
        self.eraser_check.setToolTip("Strokes remove hints instead of painting (E)")
        tools.addWidget(self.eraser_check)
        self.markers_check = QCheckBox("Show hints")
        self.markers_check.setChecked(True)
        self.markers_check.setToolTip("Show the hints as small markers on the photo")
        tools.addWidget(self.markers_check)
        layout.addLayout(tools)

        buttons = QHBoxLayout()
        self.reference_button = QPushButton("Reference photo\u2026")
        self.reference_button.setToolTip("Open a colour photo to pick colours from")
        self.reference_button.clicked.connect(self.reference_requested)
        buttons.addWidget(self.reference_button)
        self.clear_button = QPushButton("Clear hints")
        self.clear_button.clicked.connect(self.clear_requested)
        buttons.addWidget(self.clear_button)
        layout.addLayout(buttons)
        self.reference = ReferenceView()
        self.reference.color_picked.connect(self.set_color)
        layout.addWidget(self.reference)
        self.count_label = QLabel("No hints")
        layout.addWidget(self.count_label)
        layout.addStretch(1)
        self.set_color(self._color)

    def color(self) -> QColor:
        return QColor(self._color)

    def set_color(self, color: QColor) -> None:
        if not color.isValid():
            return
        self._color = QColor(color)
        self.current.setPixmap(swatch_icon(self._color, 24).pixmap(36, 24))
        self.current.setToolTip(f"Brush colour {self._color.name()}")
        self.eraser_check.setChecked(False)
        self.color_changed.emit(QColor(self._color))

    def _choose_color(self) -> None:
        color = QColorDialog.getColor(self._color, self, "Brush colour")
        if color.isValid():
            self.set_color(color)

    def radius(self) -> float:
        """Brush radius as a fraction of the photo's longest side."""
        return radius_from_ticks(self.size_slider.value())

    def reach(self) -> float:
        """How far the next stroke's colour travels (its hint's spread)."""
        return reach_from_ticks(self.reach_slider.value())

    def _show_size(self) -> None:
        self.size_label.setText(f"{100 * self.radius():.1f} %")
        if hasattr(self, "reach_label"):
            self.reach_label.setText(f"{100 * self.reach():.0f} %")

    def set_count(self, n: int) -> None:
        self.count_label.setText("No hints" if n == 0 else f"{n} hint{'s' if n != 1 else ''}")
        self.clear_button.setEnabled(n > 0)


class HintOverlay(QWidget):
    """Transparent layer over the canvas: hint markers, the stroke being painted, the brush outline."""

    def __init__(self, canvas: QWidget, controller) -> None:  # noqa: ANN001 - HintsController
        super().__init__(canvas)
        self._canvas = canvas
        self._controller = controller
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.cursor_pos: QPointF | None = None
        self.resize(canvas.size())
        self.show()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        c = self._controller
        rect: QRectF = c.photo_rect()
        if rect.isEmpty():
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = max(rect.width(), rect.height())
        items = list(c.hints.hints) if c.markers_visible() else []
        if c.stroke is not None:
            items.append(c.stroke)
        for hint in items:
            pts = [QPointF(rect.left() + x * rect.width(), rect.top() + y * rect.height()) for x, y in hint.points]
            color = QColor(255, 255, 255) if hint.erase else QColor(hint.hex)
            width = max(2.0, 2 * hint.radius * side) if hint is c.stroke else 3.0
            if len(pts) > 1:
                p.setPen(QPen(QColor(0, 0, 0, 160), width + 2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                              Qt.PenJoinStyle.RoundJoin))
                p.drawPolyline(pts)
                p.setPen(QPen(color, width, Qt.PenStyle.DashLine if hint.erase else Qt.PenStyle.SolidLine,
                              Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
                p.drawPolyline(pts)
            else:
                r = max(4.0, hint.radius * side)
                p.setPen(QPen(QColor(0, 0, 0, 180), 1.5))
                p.setBrush(color)
                p.drawEllipse(pts[0], r, r)
            p.setBrush(Qt.BrushStyle.NoBrush)
        if c.active() and self.cursor_pos is not None and rect.contains(self.cursor_pos):
            r = c.radius() * side
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(QColor(0, 0, 0, 200), 1.5))
            p.drawEllipse(self.cursor_pos, r + 1, r + 1)
            p.setPen(QPen(QColor(255, 255, 255, 220), 1.0))
            p.drawEllipse(self.cursor_pos, r, r)
        p.end()


def pick_color(rgb: np.ndarray, fx: float, fy: float) -> QColor:
    """The colour at (fx, fy) in 0..1 of an (H, W, 3) picture (mean of a 3x3 neighbourhood)."""
    h, w = rgb.shape[:2]
    x, y = int(min(w - 1, max(0, fx * w))), int(min(h - 1, max(0, fy * h)))
    patch = rgb[max(0, y - 1):y + 2, max(0, x - 1):x + 2].reshape(-1, 3).mean(axis=0)
    return QColor(*(int(round(v)) for v in patch))


__all__ = ["brush_icon", "BrushPanel", "HintOverlay", "HISTORIC_COLOURS", "pick_color"]
