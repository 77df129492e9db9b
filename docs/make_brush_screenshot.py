"""Regenerate docs/brush.png: the real window under Xvfb, a colorized old photo corrected with the brush.

    MAGICBRUSH_HOME=/tmp/shot xvfb-run -s "-screen 0 1400x900x24" python docs/make_brush_screenshot.py \
        ../shared/data/old-bw/1908FamilyPhoto.jpg docs/brush.png

The strokes (photo coordinates 0..1, colours from the Brush palette) are the ones below: the father's
jacket and trousers navy, the boy's smock brick red, the bench's wood brown.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtGui import QColor  # noqa: E402

from magicbrush_desktop.gui.app import make_application  # noqa: E402
from magicbrush_desktop.gui.brush_tool import ticks_from_radius  # noqa: E402
from magicbrush_desktop.gui.main_window import MainWindow  # noqa: E402

STROKES = [
    ("#1f2d52", 0.012, [(0.69, 0.33), (0.70, 0.40), (0.72, 0.47), (0.74, 0.52)]),  # jacket: navy
    ("#1f2d52", 0.010, [(0.78, 0.62), (0.82, 0.66), (0.85, 0.70)]),  # trousers: navy
    ("#9c4632", 0.010, [(0.55, 0.45), (0.57, 0.50), (0.60, 0.55)]),  # the boy's smock: brick
    ("#7a5233", 0.008, [(0.47, 0.78), (0.55, 0.78), (0.62, 0.78)]),  # the bench: wood
]


def main(photo: str, out: str) -> int:
    app = make_application()
    window = MainWindow()
    window.resize(1360, 860)
    window.show()
    if not window.open_path(photo, wait=True):  # read now: the script works on it at once
        return 1
    status = {"rc": 1}
    tool = window.hint_tool

    def paint(kind: str) -> None:
        if kind != "colorized" or tool.hints:
            return
        tool.brush_action.setChecked(True)
        for color, radius, points in STROKES:
            tool.panel.set_color(QColor(color))
            tool.panel.size_slider.setValue(ticks_from_radius(radius))
            tool.paint_stroke(points)
        window.canvas.set_divider(0.0)
        QTimer.singleShot(800, lambda: (window.grab().save(out), status.update(rc=0), app.quit()))

    window.step_changed.connect(paint)
    QTimer.singleShot(500, window.colorize)
    QTimer.singleShot(180_000, app.quit)  # never hang a build
    app.exec()
    return status["rc"]


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
