"""The photo canvas: zoom (wheel, fit, 100 %), pan, a before/after divider and side by side.

The canvas only draws; it never changes pictures. "Before" is the original photo, "after" the current
result (a colorized or stylized picture, or a live preview at a smaller size: every picture is drawn
into the photo's own rectangle, so a 512 px style preview lines up with the 4000 px original).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

ZOOM_STEP = 1.25
MIN_SCALE, MAX_SCALE = 0.02, 32.0
GAP = 12.0  # logical pixels between the two pictures in side-by-side mode
DIVIDER_GRAB = 8.0  # how close (logical px) a press must be to grab the divider
MARGIN = 16.0
DIVIDER_KEY_STEP, DIVIDER_KEY_FINE = 0.05, 0.01  # divider moves per Left/Right press (Shift: fine)


class PhotoCanvas(QWidget):
    """Draws the original and the result with a draggable divider, zoomable and pannable."""

    zoom_changed = Signal(float)  # 1.0 = one photo pixel per screen pixel
    divider_moved = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(320, 240)
        self._before: QPixmap | None = None
        self._after: QPixmap | None = None
        self._scale = 1.0  # logical pixels per photo pixel
        self._offset = QPointF(0, 0)  # top-left of the (first) picture in widget coordinates
        self._fit = True
        self._fit_upscale = False  # a fresh photo opens at <= 100 %; Fit to Window may enlarge it
        self._divider = 0.5
        self._side_by_side = False
        self._show_original = False
        self._drag: str | None = None
        self._drag_origin = QPointF()
        self._offset_origin = QPointF()
        self.after_caption = "After"

    # --- pictures -----------------------------------------------------------------------------------

    def set_photo(self, before: QImage | QPixmap | None, after: QImage | QPixmap | None = None) -> None:
        """Show a new photo (resets zoom to fit, never above 100 %: small photos stay sharp)."""
        self._before = _pixmap(before)
        self._after = _pixmap(after)
        self._fit = True
        self._fit_upscale = False
        self._relayout()
        self.update()

    def set_after(self, after: QImage | QPixmap | None, caption: str = "After") -> None:
        """Replace the result picture, keeping zoom and pan (previews stream through here)."""
        self._after = _pixmap(after)
        self.after_caption = caption
        self.update()

    def has_photo(self) -> bool:
        return self._before is not None

    # --- view state ---------------------------------------------------------------------------------

    def scale(self) -> float:
        """Logical pixels per photo pixel."""
        return self._scale

    def zoom_percent(self) -> float:
        """Zoom as users read it: 100 % = one photo pixel per physical screen pixel (HiDPI aware)."""
        return self._scale * self.devicePixelRatioF() * 100.0

    def is_side_by_side(self) -> bool:
        return self._side_by_side

    def set_side_by_side(self, on: bool) -> None:
        self._side_by_side = bool(on)
        if self._fit:
            self._relayout()
        self.update()

    def is_showing_original(self) -> bool:
        return self._show_original

    def set_show_original(self, on: bool) -> None:
        """Show only the original (the before/after toggle, ``\\`` as in Lightroom)."""
        self._show_original = bool(on)
        self.update()

    def divider(self) -> float:
        """Divider position, 0 (all "after") .. 1 (all "before"), as a fraction of the photo's width."""
        return self._divider

    def set_divider(self, fraction: float) -> None:
        self._divider = min(1.0, max(0.0, float(fraction)))
        self.divider_moved.emit(self._divider)
        self.update()

    def zoom_fit(self) -> None:
        self._fit = True
        self._fit_upscale = True
        self._relayout()
        self.update()

    def zoom_100(self) -> None:
        """One photo pixel per physical pixel, centred on the view's centre."""
        self._set_scale(1.0 / self.devicePixelRatioF(), self._view_centre())

    def zoom_in(self) -> None:
        self._set_scale(self._scale * ZOOM_STEP, self._view_centre())

    def zoom_out(self) -> None:
        self._set_scale(self._scale / ZOOM_STEP, self._view_centre())

    def _view_centre(self) -> QPointF:
        return QPointF(self.width() / 2, self.height() / 2)

    def _relayout(self) -> None:
        if self._before is None:
            return
        w, h = self._before.width(), self._before.height()
        avail_w = max(1.0, self.width() - 2 * MARGIN)
        avail_h = max(1.0, self.height() - 2 * MARGIN)
        if self._fit:
            content_w = 2 * w if self._side_by_side else w
            gap = GAP if self._side_by_side else 0.0
            self._scale = max(MIN_SCALE, min((avail_w - gap) / content_w, avail_h / h))
            if not self._fit_upscale:
                self._scale = min(self._scale, 1.0 / self.devicePixelRatioF())
            self.zoom_changed.emit(self.zoom_percent())
        total_w = (2 * w * self._scale + GAP) if self._side_by_side else w * self._scale
        self._offset = QPointF((self.width() - total_w) / 2, (self.height() - h * self._scale) / 2)

    def _set_scale(self, scale: float, anchor: QPointF) -> None:
        """Zoom keeping the photo point under ``anchor`` where it is."""
        if self._before is None:
            return
        scale = min(MAX_SCALE, max(MIN_SCALE, scale))
        ratio = scale / self._scale
        self._offset = anchor - (anchor - self._offset) * ratio
        self._scale = scale
        self._fit = False
        self.zoom_changed.emit(self.zoom_percent())
        self.update()

    def _photo_rect(self) -> QRectF:
        if self._before is None:
            return QRectF()
        return QRectF(self._offset.x(), self._offset.y(),
                      self._before.width() * self._scale, self._before.height() * self._scale)

    def _divider_x(self) -> float:
        rect = self._photo_rect()
        return rect.left() + rect.width() * self._divider

    def _split_active(self) -> bool:
        return self._before is not None and self._after is not None and not self._side_by_side

    # --- painting -----------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().color(self.backgroundRole()).darker(140))
        if self._before is None:
            p.setPen(self.palette().color(self.foregroundRole()))
            font = QFont(self.font())
            font.setPointSizeF(font.pointSizeF() * 1.3)
            p.setFont(font)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                       "Drop a photo here\nor use File \u25b8 Open (Ctrl+O)")
            return
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._scale < 2.0)
        rect = self._photo_rect()
        if self._show_original and self._after is not None:
            p.drawPixmap(rect, self._before, QRectF(self._before.rect()))
            self._label(p, rect.topLeft(), "Before (\\ shows the result)")
        elif self._side_by_side and self._after is not None:
            p.drawPixmap(rect, self._before, QRectF(self._before.rect()))
            right = rect.translated(rect.width() + GAP, 0)
            p.drawPixmap(right, self._after, QRectF(self._after.rect()))
            self._label(p, rect.topLeft(), "Before")
            self._label(p, right.topLeft(), self.after_caption)
        elif self._after is not None:
            p.drawPixmap(rect, self._after, QRectF(self._after.rect()))
            x = self._divider_x()
            # The original on the left of the divider, the result on the right.
            left = QRectF(rect.left(), rect.top(), x - rect.left(), rect.height())
            if left.width() > 0:
                src = QRectF(0, 0, self._before.width() * self._divider, self._before.height())
                p.drawPixmap(left, self._before, src)
            self._draw_divider(p, x, rect)
            # Each caption names its own side, so it shows only while that side has room for it.
            self._label(p, rect.topLeft(), "Before", within=left)
            self._label(p, QPointF(rect.right(), rect.top()), self.after_caption, right_aligned=True,
                        within=QRectF(x, rect.top(), rect.right() - x, rect.height()))
        else:
            p.drawPixmap(rect, self._before, QRectF(self._before.rect()))

    def _draw_divider(self, p: QPainter, x: float, rect: QRectF) -> None:
        top, bottom = max(rect.top(), 0.0), min(rect.bottom(), float(self.height()))
        p.setPen(QPen(QColor(255, 255, 255, 230), 2))
        p.drawLine(QPointF(x, top), QPointF(x, bottom))
        mid = (top + bottom) / 2
        p.setBrush(QColor(30, 30, 30, 200))
        p.drawEllipse(QPointF(x, mid), 11, 11)
        p.setPen(QPen(QColor(255, 255, 255), 2))
        for sign in (-1, 1):  # two small arrows: "drag me sideways"
            p.drawLine(QPointF(x + sign * 3, mid - 4), QPointF(x + sign * 7, mid))
            p.drawLine(QPointF(x + sign * 7, mid), QPointF(x + sign * 3, mid + 4))

    def _label(self, p: QPainter, at: QPointF, text: str, right_aligned: bool = False,
               within: QRectF | None = None) -> None:
        box = self.caption_box(p.fontMetrics(), at, text, right_aligned, within)
        if box is None:
            return
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 150))
        p.drawRoundedRect(box, 4, 4)
        p.setPen(QColor(255, 255, 255))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    @staticmethod
    def caption_box(metrics, at: QPointF, text: str, right_aligned: bool = False,  # noqa: ANN001
                    within: QRectF | None = None) -> QRectF | None:
        """Where a caption goes at a corner of the picture; None where it would stick out of ``within``."""
        w, h = metrics.horizontalAdvance(text) + 12, metrics.height() + 6
        x = at.x() - w - 6 if right_aligned else at.x() + 6
        box = QRectF(x, max(at.y(), 0.0) + 6, w, h)
        if within is not None and (box.left() < within.left() + 4 or box.right() > within.right() - 4):
            return None
        return box

    # --- interaction --------------------------------------------------------------------------------

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._fit:
            self._relayout()
        super().resizeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        """Left/Right move the divider (5 %, Shift 1 %), Home/End put it at an edge."""
        key = event.key()
        if self._split_active() and key in (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Home, Qt.Key.Key_End):
            step = DIVIDER_KEY_FINE if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else DIVIDER_KEY_STEP
            target = {Qt.Key.Key_Left: self._divider - step, Qt.Key.Key_Right: self._divider + step,
                      Qt.Key.Key_Home: 0.0, Qt.Key.Key_End: 1.0}[key]
            self.set_divider(target)
            event.accept()
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        steps = event.angleDelta().y() / 120.0
        if steps and self._before is not None:
            self._set_scale(self._scale * ZOOM_STEP**steps, event.position())
        event.accept()

    def _near_divider(self, pos: QPointF) -> bool:
        return self._split_active() and abs(pos.x() - self._divider_x()) <= DIVIDER_GRAB \
            and self._photo_rect().top() <= pos.y() <= self._photo_rect().bottom()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        pos = event.position()
        if event.button() == Qt.MouseButton.LeftButton and self._near_divider(pos):
            self._drag = "divider"
        elif event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton) and self._before:
            self._drag = "pan"
            self._drag_origin, self._offset_origin = pos, QPointF(self._offset)
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        pos = event.position()
        if self._drag == "divider":
            rect = self._photo_rect()
            self.set_divider((pos.x() - rect.left()) / rect.width() if rect.width() else 0.5)
        elif self._drag == "pan":
            self._offset = self._offset_origin + (pos - self._drag_origin)
            self._fit = False
            self.update()
        elif self._near_divider(pos):
            self.setCursor(Qt.CursorShape.SplitHCursor)
        else:
            self.setCursor(Qt.CursorShape.OpenHandCursor if self._before else Qt.CursorShape.ArrowCursor)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self._drag = None
        self.unsetCursor()
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self.zoom_fit()


def _pixmap(image: QImage | QPixmap | None) -> QPixmap | None:
    if image is None or isinstance(image, QPixmap):
        return image
    return QPixmap.fromImage(image)
