"""Toolbar and menu icons, drawn with QPainter (no third-party art, crisp at any scale).

The system icon theme is used when it has the icon (so the app matches the desktop); otherwise a
simple line drawing in the palette's text colour. Every icon is drawn on a 24-unit grid.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

SIZES = (16, 24, 32, 48)

# Freedesktop theme names tried first.
THEME_NAMES = {
    "open": "document-open",
    "save": "document-save",
    "export": "document-save-as",
    "undo": "edit-undo",
    "redo": "edit-redo",
    "stop": "process-stop",
    "fit": "zoom-fit-best",
    "zoom-in": "zoom-in",
    "zoom-out": "zoom-out",
}


def _pen(p: QPainter, colour: QColor, width: float = 1.8) -> None:
    pen = QPen(colour, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)


def _arrow_head(p: QPainter, tip: QPointF, dx: float, dy: float) -> None:
    p.drawLine(tip, tip + QPointF(dx, -dy))
    p.drawLine(tip, tip + QPointF(dx, dy))


def _open(p: QPainter, c: QColor) -> None:
    _pen(p, c)
    path = QPainterPath(QPointF(3, 19))
    for x, y in ((3, 5), (9, 5), (11, 7), (19, 7), (19, 10)):
        path.lineTo(x, y)
    p.drawPath(path)
    p.drawPolygon(QPolygonF([QPointF(3, 19), QPointF(6.5, 10), QPointF(22, 10), QPointF(18.5, 19)]))


def _export(p: QPainter, c: QColor) -> None:
    _pen(p, c)
    p.drawLine(QPointF(12, 3), QPointF(12, 15))
    p.drawLine(QPointF(7.5, 10.5), QPointF(12, 15))
    p.drawLine(QPointF(16.5, 10.5), QPointF(12, 15))
    path = QPainterPath(QPointF(4, 14))
    path.lineTo(4, 20)
    path.lineTo(20, 20)
    path.lineTo(20, 14)
    p.drawPath(path)


def _curve(p: QPainter, c: QColor, mirror: bool) -> None:
    _pen(p, c)
    p.save()
    if mirror:
        p.translate(24, 0)
        p.scale(-1, 1)
    path = QPainterPath(QPointF(5, 10))
    path.cubicTo(QPointF(9, 5), QPointF(20, 5), QPointF(20, 13))
    path.cubicTo(QPointF(20, 18), QPointF(15, 20), QPointF(11, 20))
    p.drawPath(path)
    p.drawLine(QPointF(5, 10), QPointF(5, 4))
    p.drawLine(QPointF(5, 10), QPointF(11, 10))
    p.restore()


def _colorize(p: QPainter, c: QColor) -> None:
    # A circle: grey on the left half, colour on the right (what the app does).
    rect = QRectF(3, 3, 18, 18)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(150, 150, 150))
    p.drawPie(rect, 90 * 16, 180 * 16)
    for i, colour in enumerate(("#e8505b", "#ffb347", "#3a6ee8")):
        p.setBrush(QColor(colour))
        p.drawPie(rect, (90 - 60 * (i + 1)) * 16, 60 * 16)
    _pen(p, c, 1.4)
    p.drawEllipse(rect)


def _stylize(p: QPainter, c: QColor) -> None:
    # A brush, handle to the upper right, a curl of paint below.
    _pen(p, c, 2.2)
    p.drawLine(QPointF(20, 4), QPointF(11, 13))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#e8505b"))
    tip = QPainterPath(QPointF(11.5, 12.5))
    tip.cubicTo(QPointF(8, 11), QPointF(5, 14), QPointF(6, 16))
    tip.cubicTo(QPointF(6, 19), QPointF(3, 20), QPointF(3, 20))
    tip.cubicTo(QPointF(8, 21), QPointF(12, 19), QPointF(12, 15))
    tip.closeSubpath()
    p.drawPath(tip)


def _side(p: QPainter, c: QColor) -> None:
    _pen(p, c)
    p.drawRoundedRect(QRectF(2.5, 6, 8.5, 12), 1.5, 1.5)
    p.drawRoundedRect(QRectF(13, 6, 8.5, 12), 1.5, 1.5)


def _compare(p: QPainter, c: QColor) -> None:
    _pen(p, c)
    p.drawRoundedRect(QRectF(3, 5, 18, 14), 1.5, 1.5)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c)
    p.drawRect(QRectF(3.5, 5.5, 8.5, 13))
    _pen(p, c)
    p.drawLine(QPointF(12, 2.5), QPointF(12, 21.5))


def _fit(p: QPainter, c: QColor) -> None:
    _pen(p, c)
    for x, y, sx, sy in ((3, 3, 1, 1), (21, 3, -1, 1), (3, 21, 1, -1), (21, 21, -1, -1)):
        p.drawLine(QPointF(x, y), QPointF(x + 6 * sx, y))
        p.drawLine(QPointF(x, y), QPointF(x, y + 6 * sy))
    p.drawRect(QRectF(8, 8, 8, 8))


def _stop(p: QPainter, c: QColor) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#d9534f"))
    p.drawRoundedRect(QRectF(5, 5, 14, 14), 2.5, 2.5)


def _save(p: QPainter, c: QColor) -> None:
    _pen(p, c)
    p.drawRoundedRect(QRectF(4, 4, 16, 16), 2, 2)
    p.drawRect(QRectF(8, 4, 8, 5))
    p.drawRect(QRectF(7, 13, 10, 7))


def _magnifier(p: QPainter, c: QColor, sign: str) -> None:
    _pen(p, c)
    p.drawEllipse(QRectF(3, 3, 13, 13))
    p.drawLine(QPointF(14, 14), QPointF(21, 21))
    p.drawLine(QPointF(6.5, 9.5), QPointF(12.5, 9.5))
    if sign == "+":
        p.drawLine(QPointF(9.5, 6.5), QPointF(9.5, 12.5))


PAINTERS: dict[str, Callable[[QPainter, QColor], None]] = {
    "open": _open,
    "save": _save,
    "export": _export,
    "undo": lambda p, c: _curve(p, c, False),
    "redo": lambda p, c: _curve(p, c, True),
    "colorize": _colorize,
    "stylize": _stylize,
    "side-by-side": _side,
    "compare": _compare,
    "fit": _fit,
    "stop": _stop,
    "zoom-in": lambda p, c: _magnifier(p, c, "+"),
    "zoom-out": lambda p, c: _magnifier(p, c, "-"),
}


def draw(name: str, size: int, colour: QColor | None = None) -> QPixmap:
    """The icon ``name`` drawn at ``size`` × ``size`` device pixels."""
    if colour is None:
        app = QGuiApplication.instance()
        colour = app.palette().windowText().color() if app is not None else QColor(40, 40, 40)
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / 24.0, size / 24.0)
    PAINTERS[name](p, colour)
    p.end()
    return pix


def action_icon(name: str) -> QIcon:
    """The theme's icon for ``name`` if the desktop has one, else our drawing (normal and disabled)."""
    theme = THEME_NAMES.get(name)
    if theme and QIcon.hasThemeIcon(theme):
        return QIcon.fromTheme(theme)
    icon = QIcon()
    for s in SIZES:
        icon.addPixmap(draw(name, s), QIcon.Mode.Normal)
    return icon
