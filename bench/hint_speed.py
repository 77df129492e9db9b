"""Stroke-to-screen time of the magic brush on a large photo, through the real window.

Opens a photo scaled to 12 MP (4000 x 3000) in the desktop window (offscreen Qt), colorizes it with the
shipped model, then paints strokes one after another and times each from "mouse released" (the stroke
handed to the controller) to the canvas having repainted the updated picture. It also times the parts:
the propagation at render size, the screen-size composition, and the full-resolution composition that
only saving, exporting or stylizing pays.

    QT_QPA_PLATFORM=offscreen python bench/hint_speed.py [PHOTO] [--strokes 12] [--megapixels 12]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photo", nargs="?", type=Path,
                        default=REPO.parent / "shared" / "data" / "old-bw" / "1908FamilyPhoto.jpg")
    parser.add_argument("--strokes", type=int, default=12)
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--window", default="1400x900", help="window size (the canvas is most of it)")
    args = parser.parse_args()

    import cv2
    import torch
    from PIL import Image
    from PySide6.QtWidgets import QApplication

    torch.set_num_threads(2)
    os.environ.setdefault("MAGICBRUSH_HOME", tempfile.mkdtemp(prefix="mb-bench-"))
    from magicbrush_desktop.core import hints as H
    from magicbrush_desktop.core.colorize import compose
    from magicbrush_desktop.gui.main_window import MainWindow

    # The photo, scaled to the asked size (4:3 at 12 MP = 4000 x 3000).
    src = np.asarray(Image.open(args.photo).convert("L"))
    h0, w0 = src.shape
    scale = (args.megapixels * 1e6 / (w0 * h0)) ** 0.5
    big = cv2.resize(src, (round(w0 * scale), round(h0 * scale)), interpolation=cv2.INTER_CUBIC)
    path = Path(tempfile.mkdtemp(prefix="mb-bench-")) / "big.png"
    Image.fromarray(big).save(path, compress_level=1)

    app = QApplication.instance() or QApplication([])
    w = MainWindow()
    width, height = (int(v) for v in args.window.split("x"))
    w.resize(width, height)
    w.show()
    app.processEvents()
    assert w.open_path(path, wait=True)  # read now: the bench strokes it at once
    w.colorize()
    while w.is_busy():
        app.processEvents()
        time.sleep(0.01)
    app.processEvents()
    assert w.step is not None and w.step.kind == "colorized", "colorizing failed"
    tool = w.hint_tool
    print(f"photo {big.shape[1]}x{big.shape[0]} ({big.size / 1e6:.1f} MP), canvas "
          f"{w.canvas.width()}x{w.canvas.height()}, screen side {w._screen_side()} px, "
          f"render {w.step.chroma.ab.shape[1]}x{w.step.chroma.ab.shape[0]}, torch threads {torch.get_num_threads()}")

    rng = np.random.default_rng(0)
    palette = ["#b03a2e", "#1f2d52", "#5b7f35", "#86aee0", "#e3b99f", "#9c4632"]
    tool.panel.size_slider.setValue(40)
    times = []
    for i in range(args.strokes):
        x, y = rng.uniform(0.1, 0.9, 2)
        pts = [(float(x + 0.02 * k), float(y + 0.01 * k)) for k in range(6)]
        from PySide6.QtGui import QColor

        tool.panel.set_color(QColor(palette[i % len(palette)]))
        tool.begin_stroke(*pts[0])
        for p in pts[1:]:
            tool.extend_stroke(*p)
        start = time.perf_counter()  # the mouse is released here
        tool.end_stroke()
        w.canvas.repaint()  # synchronous paint of the updated picture
        app.processEvents()
        times.append(time.perf_counter() - start)
    first = times[0]  # includes building the propagator's render-size lightness (once per colorization)
    rest = times[1:] or times
    print(f"stroke-to-screen over {len(times)} strokes: first {1000 * first:.0f} ms, then median "
          f"{1000 * statistics.median(rest):.0f} ms, max {1000 * max(rest):.0f} ms "
          f"(with {len(tool.hints)} hints at the end)")

    # The parts, on the same state.
    base = tool.base_chroma(w.step.chroma)
    prop = tool.propagator(base)
    t = time.perf_counter()
    chroma = prop.apply(tool.hints)
    t_cached = time.perf_counter() - t
    fresh = H.HintPropagator(prop.l_low, base)
    t = time.perf_counter()
    fresh.apply(tool.hints)
    t_all = time.perf_counter() - t
    l_disp = tool.display_lightness()
    t = time.perf_counter()
    H.compose_preview(l_disp, chroma)
    t_screen = time.perf_counter() - t
    t = time.perf_counter()
    compose(w.photo.lightness, chroma)
    t_full = time.perf_counter() - t
    print(f"parts: propagation {1000 * t_cached:.0f} ms with cached hint maps ({1000 * t_all:.0f} ms computing all "
          f"{len(tool.hints)}), screen compose {l_disp.shape[1]}x{l_disp.shape[0]} {1000 * t_screen:.0f} ms, "
          f"full-resolution compose (save/export only) {1000 * t_full:.0f} ms")
    w.undo_stack.setClean()
    w.close()


if __name__ == "__main__":
    main()
