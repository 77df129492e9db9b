"""The magic brush in the window: paint a stroke with the mouse, undo it, save and reload hints."""

from __future__ import annotations

import json

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QToolBar

from magicbrush_desktop.core.color import rgb_to_lab
from magicbrush_desktop.core.hints import read_sidecar, sidecar_path
from magicbrush_desktop.gui.brush_tool import HISTORIC_COLOURS

from .gui_support import open_photo, save_photo, wait_idle, write_grey_photo


def _colorized_window(make_window, qtbot, tmp_path, name: str = "old.png"):
    w = make_window()
    photo = write_grey_photo(tmp_path / name, width=160, height=120)
    assert open_photo(qtbot, w, photo)
    with qtbot.waitSignal(w.step_changed, timeout=30_000):
        w.colorize_panel.colorize_button.click()
    wait_idle(qtbot, w)
    return w, photo


def _canvas_point(w, fx: float, fy: float) -> QPoint:
    rect = w.hint_tool.photo_rect()
    return QPoint(round(rect.left() + fx * rect.width()), round(rect.top() + fy * rect.height()))


def _mean_a(image: np.ndarray, x0: float, x1: float) -> float:
    """Mean a* (red-green) over a band of columns, as fractions of the width."""
    lab = rgb_to_lab(image)
    w = image.shape[1]
    return float(lab[:, int(x0 * w):int(x1 * w), 1].mean())


def test_paint_a_stroke_undo_redo_and_tools(make_window, qtbot, tmp_path):
    w, _photo = _colorized_window(make_window, qtbot, tmp_path)
    tool = w.hint_tool
    automatic = w.step
    assert w.tabs.widget(w.tabs.count() - 1) is tool.panel
    assert tool.brush_action in w.findChild(QToolBar, "main_toolbar").actions() and tool.brush_action.shortcut().toString() == "B"

    qtbot.keyClick(w.canvas, Qt.Key.Key_B)  # the shortcut picks the brush
    assert tool.active() and w.tabs.currentWidget() is tool.panel
    red = next(i for i, (name, _hex) in enumerate(HISTORIC_COLOURS) if name == "Red dress")
    tool.panel.swatches[red].click()
    assert tool.panel.color().name() == "#b03a2e"
    tool.panel.size_slider.setValue(tool.panel.size_slider.maximum())

    # A drag on the canvas: press, moves, release = one stroke, one undo step, picture updated at once.
    canvas = w.canvas
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=_canvas_point(w, 0.2, 0.3))
    for fy in (0.4, 0.5, 0.6, 0.7):
        qtbot.mouseMove(canvas, _canvas_point(w, 0.2, fy))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=_canvas_point(w, 0.2, 0.7))
    assert len(tool.hints) == 1 and len(tool.hints.hints[0].points) >= 3
    assert abs(tool.hints.hints[0].spread - 0.1) < 0.01  # the Reach slider's default: the stroke's region
    assert w.undo_stack.undoText() == "Brush Stroke"
    assert w.step is not automatic and w.step.kind == "colorized"
    assert "1 colour hint" in w.canvas.after_caption
    full = w.current_image()
    assert full.shape == w.photo.rgb.shape  # composed at full resolution when asked
    assert _mean_a(full, 0.1, 0.3) > _mean_a(automatic.image, 0.1, 0.3) + 10
    assert tool.panel.count_label.text() == "1 hint"

    # The strength slider still works on top of the hints (it re-blends the hinted colour).
    w.colorize_panel.strength.setValue(0)
    qtbot.waitUntil(lambda: w.step.strength == 0.0, timeout=10_000)
    grey = w.current_image().astype(int)
    assert np.abs(grey[..., 0] - grey[..., 1]).max() <= 2
    w.undo_action.trigger()
    assert w.undo_stack.undoText() == "Brush Stroke"

    # Undo the stroke: hints and picture go back; redo brings both again.
    w.undo_action.trigger()
    assert len(tool.hints) == 0 and w.step is automatic
    w.redo_action.trigger()
    assert len(tool.hints) == 1 and "1 colour hint" in w.step.caption

    # Eyedropper: picks the colour of the result under the mouse.
    tool.eyedropper_action.setChecked(True)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=_canvas_point(w, 0.2, 0.5))
    picked = tool.panel.color()
    assert picked.red() > picked.green() and not tool.eyedropper_action.isChecked()
    assert len(tool.hints) == 1  # a pick paints nothing

    # A click paints a dot; the eraser removes hints under it; clear removes all: each one undo step.
    tool.panel.set_color(QColor("#1f5fa8"))
    tool.panel.reach_slider.setValue(tool.panel.reach_slider.maximum())
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=_canvas_point(w, 0.8, 0.5))
    assert len(tool.hints) == 2 and len(tool.hints.hints[1].points) == 1
    assert abs(tool.hints.hints[1].spread - 0.6) < 0.01
    tool.eraser_action.setChecked(True)
    assert tool.panel.eraser_check.isChecked()
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=_canvas_point(w, 0.8, 0.5))
    assert w.undo_stack.undoText() == "Erase Hints" and tool.hint_count() == 2 and tool.hints.hints[-1].erase
    tool.eraser_action.setChecked(False)
    count = w.undo_stack.count()
    tool.panel.clear_button.click()
    assert len(tool.hints) == 0 and w.undo_stack.count() == count + 1
    w.undo_action.trigger()
    assert len(tool.hints) == 3

    # Markers can be hidden; the overlay paints either way without error.
    tool.markers_action.setChecked(False)
    assert not tool.panel.markers_check.isChecked()
    tool.overlay.repaint()
    tool.markers_action.setChecked(True)
    tool.overlay.repaint()

    # Brush off: a drag pans again and paints nothing.
    qtbot.keyClick(w.canvas, Qt.Key.Key_B)
    assert not tool.active()
    before = len(tool.hints)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=_canvas_point(w, 0.5, 0.5))
    assert len(tool.hints) == before


def test_brush_needs_a_colorized_picture(make_window, qtbot, tmp_path):
    w = make_window()
    tool = w.hint_tool
    # No photo: the brush and its tools cannot be switched on (B does nothing).
    assert not tool.brush_action.isEnabled() and not tool.eraser_action.isEnabled()
    qtbot.keyClick(w.canvas, Qt.Key.Key_B)
    assert not tool.active()
    assert open_photo(qtbot, w, write_grey_photo(tmp_path / "old.png"))
    assert tool.brush_action.isEnabled() and tool.eyedropper_action.isEnabled()
    tool.brush_action.setChecked(True)
    assert not tool.paint_stroke([(0.5, 0.5)])
    assert "Colorize the photo first" in w.statusBar().currentMessage()
    assert w.undo_stack.count() == 0


def test_hints_saved_beside_output_and_reloaded_with_the_photo(make_window, qtbot, tmp_path):
    w, photo = _colorized_window(make_window, qtbot, tmp_path)
    tool = w.hint_tool
    tool.panel.set_color(QColor("#5b7f35"))
    assert tool.paint_stroke([(0.7, 0.2), (0.75, 0.3), (0.8, 0.4)])
    out = save_photo(qtbot, w, tmp_path / "out" / "old_colorized.png")
    sidecar = sidecar_path(out)
    assert sidecar.name == "old_colorized.hints.json" and sidecar.is_file()
    data = json.loads(sidecar.read_text())
    assert data["version"] == 1 and data["hints"][0]["color"] == "#5b7f35" and len(data["hints"][0]["points"]) == 3
    (back,) = read_sidecar(sidecar, w.photo.size).hints
    assert back.points == tool.hints.hints[0].points and back.hex == tool.hints.hints[0].hex
    saved = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(out).convert("RGB"))
    assert saved.shape == w.photo.rgb.shape

    # Opening the same photo again (in a fresh window) brings its hints back; colorizing applies them.
    w2 = make_window()
    assert open_photo(qtbot, w2, photo)
    assert len(w2.hint_tool.hints) == 1 and "hint" in w2.statusBar().currentMessage()
    with qtbot.waitSignal(w2.step_changed, timeout=30_000):
        w2.colorize_panel.colorize_button.click()
    wait_idle(qtbot, w2)
    assert np.abs(w2.current_image().astype(int) - saved.astype(int)).max() <= 2

    # A sidecar beside the photo (written by a script) wins; a broken one is reported, never a crash.
    sidecar_path(photo).write_text("{oops")
    w3 = make_window()
    assert open_photo(qtbot, w3, photo)
    message = w3.statusBar().currentMessage()
    assert "old.hints.json" in message and "not valid JSON" in message  # reported...
    assert len(w3.hint_tool.hints) == 1 and "1 colour hint loaded" in message  # ...and the app's copy used
    sidecar_path(photo).write_text(json.dumps({"version": 1, "hints": [
        {"x": 0.1, "y": 0.1, "radius": 0.02, "color": "#1f5fa8"}, {"x": 0.9, "y": 0.9, "color": "#b03a2e"}]}))
    assert open_photo(qtbot, w3, photo)
    assert w3.hint_tool.hint_count() == 2


def test_reference_photo_eyedropper(make_window, qtbot, tmp_path):
    from PIL import Image

    w = make_window()
    ref = tmp_path / "ref.png"
    Image.fromarray(np.full((40, 60, 3), (30, 160, 70), np.uint8)).save(ref)
    tool = w.hint_tool
    assert tool.open_reference(ref)
    view = tool.panel.reference
    assert view.has_image()
    view.resize(200, 160)
    view._rescale()
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 80))
    assert tool.panel.color().name() == "#1ea046"
    assert not tool.open_reference(tmp_path / "missing.png")
