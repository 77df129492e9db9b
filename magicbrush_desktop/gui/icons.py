"""The app icon: drawn with QPainter (no third-party art), saved to ``resources/`` as PNG and SVG.

``python -m magicbrush_desktop.gui.icons`` regenerates the files. The design: a rounded tile, grey on
the upper left (the old photo) turning into colour on the lower right, crossed by a paint brush.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QLinearGradient, QPainter, QPainterPath, QPen, QPixmap

from ..core.paths import resources_dir

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICON_NAME = "magicbrush"

SVG = """<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">
  <defs>
    <linearGradient id="grey" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#f2f2f2"/><stop offset="1" stop-color="#5a5a5a"/>
    </linearGradient>
    <linearGradient id="colour" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#ffb347"/><stop offset="0.5" stop-color="#e8505b"/>
      <stop offset="1" stop-color="#3a6ee8"/>
    </linearGradient>
    <clipPath id="tile"><rect x="8" y="8" width="240" height="240" rx="48"/></clipPath>
  </defs>
  <g clip-path="url(#tile)">
    <rect x="8" y="8" width="240" height="240" fill="url(#grey)"/>
    <path d="M248 8 L248 248 L8 248 Z" fill="url(#colour)"/>
  </g>
  <rect x="8" y="8" width="240" height="240" rx="48" fill="none" stroke="#202020" stroke-opacity="0.35"
        stroke-width="4"/>
  <g transform="rotate(-45 128 128)">
    <rect x="116" y="26" width="24" height="112" rx="10" fill="#6b3e1f"/>
    <rect x="112" y="134" width="32" height="26" rx="4" fill="#c9c9c9"/>
    <path d="M112 160 L144 160 Q150 200 128 232 Q106 200 112 160 Z" fill="#fdf6e3"/>
    <path d="M116 196 Q128 214 140 196 Q138 216 128 232 Q118 216 116 196 Z" fill="#e8505b"/>
  </g>
</svg>
"""


def draw_icon(size: int) -> QImage:
    """The icon at ``size`` × ``size`` pixels (same design as :data:`SVG`, scaled from 256)."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / 256.0, size / 256.0)
    tile = QPainterPath()
    tile.addRoundedRect(QRectF(8, 8, 240, 240), 48, 48)
    grey = QLinearGradient(QPointF(8, 8), QPointF(248, 248))
    grey.setColorAt(0, QColor("#f2f2f2"))
    grey.setColorAt(1, QColor("#5a5a5a"))
    p.fillPath(tile, QBrush(grey))
    colour = QLinearGradient(QPointF(8, 8), QPointF(248, 248))
    colour.setColorAt(0, QColor("#ffb347"))
    colour.setColorAt(0.5, QColor("#e8505b"))
    colour.setColorAt(1, QColor("#3a6ee8"))
    half = QPainterPath()
    half.moveTo(248, 8)
    half.lineTo(248, 248)
    half.lineTo(8, 248)
    half.closeSubpath()
    p.fillPath(tile.intersected(half), QBrush(colour))
    p.setPen(QPen(QColor(32, 32, 32, 90), 4))
    p.drawPath(tile)
    p.translate(128, 128)
    p.rotate(-45)
    p.translate(-128, -128)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#6b3e1f"))
    p.drawRoundedRect(QRectF(116, 26, 24, 112), 10, 10)
    p.setBrush(QColor("#c9c9c9"))
    p.drawRoundedRect(QRectF(112, 134, 32, 26), 4, 4)
    bristles = QPainterPath()
    bristles.moveTo(112, 160)
    bristles.lineTo(144, 160)
    bristles.quadTo(150, 200, 128, 232)
    bristles.quadTo(106, 200, 112, 160)
    p.fillPath(bristles, QColor("#fdf6e3"))
    paint = QPainterPath()
    paint.moveTo(116, 196)
    paint.quadTo(128, 214, 140, 196)
    paint.quadTo(138, 216, 128, 232)
    paint.quadTo(118, 216, 116, 196)
    p.fillPath(paint, QColor("#e8505b"))
    p.end()
    return image


def app_icon() -> QIcon:
    """The app icon: the SVG/PNGs from ``resources/`` when present, else drawn now (HiDPI-sharp)."""
    icon = QIcon()
    folder = resources_dir()
    pngs = [folder / f"{ICON_NAME}-{s}.png" for s in ICON_SIZES]
    if all(p.is_file() for p in pngs):
        for png in pngs:
            icon.addFile(str(png))
        return icon
    for s in ICON_SIZES:
        icon.addPixmap(QPixmap.fromImage(draw_icon(s)))
    return icon


def write_icons(folder: Path | None = None) -> list[Path]:
    """Write the SVG and a PNG per size into ``folder`` (default ``resources/``)."""
    folder = folder or resources_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / f"{ICON_NAME}.svg"]
    written[0].write_text(SVG, encoding="utf-8")
    for s in ICON_SIZES:
        path = folder / f"{ICON_NAME}-{s}.png"
        if not draw_icon(s).save(str(path)):
            raise OSError(f"could not write {path}")
        written.append(path)
    return written


if __name__ == "__main__":
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv)
    for path in write_icons():
        print(path)
