"""The canvas (zoom, pan, divider, side by side), the real shipped model in the window, and the
``magicbrush`` entry point's dispatch between the app and the CLI."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent

from magicbrush_desktop.gui.canvas import PhotoCanvas
from magicbrush_desktop.gui.imaging import from_qimage, to_qimage

from ..conftest import REPO, shared_path
from .gui_support import open_photo, wait_idle


@pytest.fixture
def canvas(qtbot):
    c = PhotoCanvas()
    qtbot.addWidget(c)
    c.resize(400, 300)
    c.show()
    qtbot.waitExposed(c)
    before = np.zeros((100, 200, 3), np.uint8)
    after = np.full((50, 100, 3), 255, np.uint8)  # a smaller preview is drawn over the same rectangle
    c.set_photo(to_qimage(before), to_qimage(after))
    return c


def test_canvas_fit_100_and_wheel_zoom(canvas, qtbot):
    fit = min((400 - 32) / 200, (300 - 32) / 100)
    assert canvas.scale() == pytest.approx(1.0)  # a small photo opens at 100 %, not enlarged (issue 13)
    canvas.zoom_fit()  # asking to fit does enlarge it
    assert canvas.scale() == pytest.approx(fit)
    canvas.zoom_100()
    assert canvas.zoom_percent() == pytest.approx(100.0)
    pos = QPointF(100, 100)
    wheel = QWheelEvent(pos, canvas.mapToGlobal(pos), QPoint(), QPoint(0, 120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    canvas.wheelEvent(wheel)
    assert canvas.zoom_percent() == pytest.approx(125.0)
    canvas.zoom_fit()
    assert canvas.scale() == pytest.approx(fit)


def test_canvas_divider_drag_shows_before_left_after_right(canvas, qtbot):
    img = from_qimage(canvas.grab().toImage())
    h, w = img.shape[:2]
    mid = h // 2
    # Default divider in the middle: black (before) left of it, white (after) right of it.
    assert img[mid, w // 2 - 40].max() < 30 and img[mid, w // 2 + 40].min() > 225
    x = canvas._divider_x()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(round(x), mid))
    qtbot.mouseMove(canvas, QPoint(round(x) + 80, mid))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(round(x) + 80, mid))
    assert canvas.divider() > 0.5
    img = from_qimage(canvas.grab().toImage())
    assert img[mid, w // 2 + 40].max() < 30  # more of the original now


def test_canvas_captions_stay_on_their_own_side_of_the_divider(canvas, qtbot):
    """Near an edge the narrow side's caption is hidden, not drawn over the other picture."""
    rect = canvas._photo_rect()
    rows = slice(round(rect.top()) + 7, round(rect.top()) + 22)  # where the captions sit
    canvas.set_divider(0.02)  # almost all result (white): "Before" has no room on its sliver of black
    img = from_qimage(canvas.grab().toImage()).astype(int)
    x = round(canvas._divider_x())
    assert img[rows, x + 3 : round(rect.left()) + 80].min() > 225
    canvas.set_divider(0.98)  # almost all original (black): the result's caption has no room
    img = from_qimage(canvas.grab().toImage()).astype(int)
    x = round(canvas._divider_x())
    assert img[rows, x - 100 : x - 3].max() < 30
    canvas.set_divider(0.5)  # both have room: "Before" in white letters on the black half
    img = from_qimage(canvas.grab().toImage()).astype(int)
    assert img[rows, round(rect.left()) + 6 : round(rect.left()) + 60].max() > 200


def test_canvas_pan_and_side_by_side(canvas, qtbot):
    canvas.zoom_100()
    rect = canvas._photo_rect()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    qtbot.mouseMove(canvas, QPoint(50, 40))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(50, 40))
    assert canvas._photo_rect().topLeft() - rect.topLeft() == QPointF(30, 20)
    canvas.set_side_by_side(True)
    canvas.zoom_fit()
    img = from_qimage(canvas.grab().toImage())
    row = img[img.shape[0] // 2]
    assert (row.max(axis=1) < 30).sum() > 50 and (row.min(axis=1) > 225).sum() > 50


@pytest.mark.slow
def test_real_shipped_model_colorizes_an_old_photo(make_window, qtbot):
    from magicbrush_desktop.core.models import list_models

    bundled = [m for m in list_models() if m.origin == "bundled"]
    if not bundled:
        pytest.skip("no shipped model in models/ yet (models/manifest.json lists none)")
    photo = shared_path("data", "old-bw", "CatWash1931.jpg")
    w = make_window()
    index = w.colorize_panel.model_combo.findData(bundled[0].name)
    w.colorize_panel.model_combo.setCurrentIndex(index)
    assert open_photo(qtbot, w, photo)
    with qtbot.waitSignal(w.step_changed, timeout=120_000):
        w.colorize()
    wait_idle(qtbot, w, 60_000)
    rgb = w.step.image.astype(np.int16)
    assert rgb.shape == w.photo.rgb.shape
    chroma = np.abs(rgb[..., 0] - rgb[..., 2]).mean()
    assert chroma > 2.0  # the shipped model adds visible colour to a grey photo


def _run_main(*args: str) -> subprocess.CompletedProcess:
    code = ("import sys; from magicbrush_desktop.__main__ import main; rc = main(sys.argv[1:]); "
            "print('QT-LOADED' if 'PySide6' in sys.modules else 'NO-QT'); sys.exit(rc)")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO,
                          env={"PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
                          timeout=120)


def test_subcommands_go_to_the_cli_without_loading_qt():
    result = _run_main("models", "list")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("NO-QT")


def test_bare_or_photo_arguments_open_the_app(monkeypatch):
    import magicbrush_desktop.__main__ as entry
    import magicbrush_desktop.gui.app as app

    opened = []
    monkeypatch.setattr(app, "run_app", lambda paths: opened.append(paths) or 0)
    assert entry.main([]) == 0
    assert entry.main(["photo.jpg", "other.png"]) == 0
    assert opened == [[], ["photo.jpg", "other.png"]]
    assert entry._wants_cli(["colorize", "x.jpg"]) and entry._wants_cli(["--version"])
