"""The magic brush in the window: strokes become colour hints, each one undo step, shown within a blink.

A stroke's hints are spread by the core (:class:`~magicbrush_desktop.core.hints.HintPropagator`, at the
render size) and composed at screen size for the canvas; the full-resolution picture is composed only when
something needs it (save, export, stylize), through :meth:`HintsController.full_image`. Hints live with the
photo: a sidecar beside the photo (``NAME.hints.json``) or the app's own copy in the user data folder is
loaded when the photo opens, and saving a result writes the sidecar beside the output too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QAction, QColor, QKeySequence, QUndoCommand
from PySide6.QtWidgets import QFileDialog, QToolBar

from ..core.errors import MagicBrushError
from ..core.hints import (
    Hint,
    HintError,
    HintPropagator,
    HintSet,
    color_to_lab,
    compose_preview,
    read_sidecar,
    render_lightness,
    sidecar_path,
    write_sidecar,
)
from ..core.imageio import READ_EXTENSIONS, Photo, read_photo, resize_image
from ..core.paths import user_data_dir
from ..core.sizing import fit_longest_side
from .brush_tool import BrushPanel, HintOverlay, brush_icon, pick_color
from .imaging import thumbnail

if TYPE_CHECKING:
    from ..core.colorize import ChromaPrediction
    from .history import Step
    from .main_window import MainWindow

log = logging.getLogger(__name__)

GAP = 12.0  # the canvas's side-by-side gap (logical pixels)
FULL_CACHE = 2  # full-resolution pictures kept (a 40 MP one is 120 MB)


def hint_store_path(photo_path: Path) -> Path:
    """The app's own copy of a photo's hints (works for read-only photo folders too)."""
    key = hashlib.sha1(str(Path(photo_path).resolve()).encode("utf-8")).hexdigest()[:16]
    return user_data_dir() / "hints" / f"{Path(photo_path).stem}-{key}.hints.json"


class HintCommand(QUndoCommand):
    """One stroke (or Clear): the hints and the picture before and after."""

    def __init__(self, controller: "HintsController", before: "Step", after: "Step", text: str,
                 hints_before: HintSet, hints_after: HintSet) -> None:
        super().__init__(text)
        self._c = controller
        self.before, self.after = before, after
        self.hints_before, self.hints_after = hints_before, hints_after

    def redo(self) -> None:
        self._c.set_hints(self.hints_after)
        self._c.window._apply_step(self.after)

    def undo(self) -> None:
        self._c.set_hints(self.hints_before)
        self._c.window._apply_step(self.before)


class HintsController(QObject):
    """Owns the current photo's hints, the Brush panel, the overlay and the brush actions."""

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window
        self.photo: Photo | None = None
        self.hints = HintSet()
        self.stroke: Hint | None = None
        self._base_of: dict[int, tuple[ChromaPrediction, ChromaPrediction]] = {}
        self._propagator: tuple[ChromaPrediction, HintPropagator] | None = None
        self._previews: dict[int, "Step"] = {}
        self._full: OrderedDict[int, tuple["Step", np.ndarray]] = OrderedDict()
        self._display_l: tuple[int, int, np.ndarray] | None = None

        self.panel = BrushPanel()
        self.overlay = HintOverlay(window.canvas, self)
        window.canvas.installEventFilter(self)

        self.brush_action = QAction("Magic &Brush", window, checkable=True)
        self.brush_action.setShortcut(QKeySequence("B"))
        self.brush_action.setIcon(brush_icon())
        self.brush_action.setToolTip("Magic brush (B): paint a colour where the automatic one is wrong")
        self.brush_action.setStatusTip("Paint colour hints on the colorized photo")
        self.brush_action.toggled.connect(self._on_brush_toggled)
        self.eraser_action = QAction("&Eraser", window, checkable=True)
        self.eraser_action.setShortcut(QKeySequence("E"))
        self.eraser_action.toggled.connect(self.panel.eraser_check.setChecked)
        self.panel.eraser_check.toggled.connect(self.eraser_action.setChecked)
        self.panel.eraser_check.toggled.connect(lambda on: on and self.brush_action.setChecked(True))
        self.eyedropper_action = QAction("Eye&dropper", window, checkable=True)
        self.eyedropper_action.setShortcut(QKeySequence("I"))
        self.eyedropper_action.toggled.connect(self.panel.eyedropper_button.setChecked)
        self.panel.eyedropper_button.toggled.connect(self.eyedropper_action.setChecked)
        self.panel.eyedropper_button.toggled.connect(lambda on: on and self.brush_action.setChecked(True))
        self.clear_action = QAction("&Clear Hints", window)
        self.clear_action.triggered.connect(lambda _c=False: self.clear())
        self.markers_action = QAction("Show &Hints", window, checkable=True)
        self.markers_action.setChecked(True)
        self.markers_action.toggled.connect(self.panel.markers_check.setChecked)
        self.panel.markers_check.toggled.connect(self.markers_action.setChecked)
        self.panel.markers_check.toggled.connect(lambda _on: self.overlay.update())
        self.panel.clear_requested.connect(self.clear)
        self.panel.reference_requested.connect(self.reference_dialog)
        self.panel.color_changed.connect(lambda _c: self.eyedropper_action.setChecked(False))
        for action in (self.brush_action, self.eraser_action, self.eyedropper_action):
            # Single-letter shortcuts must not fire while typing in a field: window-wide, but widgets
            # with text input take their own keys first.
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            window.addAction(action)
        window.tabs.addTab(self.panel, "Brush")
        toolbar = window.findChild(QToolBar, "main_toolbar")
        if toolbar is not None:
            toolbar.addSeparator()
            toolbar.addAction(self.brush_action)
        menu = getattr(window, "image_menu", None)
        if menu is not None:
            menu.addSeparator()
            for action in self.actions():
                menu.addAction(action)
        window.photo_changed.connect(self._on_photo_changed)
        window.step_changed.connect(lambda _k: self._update())
        self._update()

    # --- wiring into the window (called by MainWindow) ---------------------------------------------

    def actions(self) -> list[QAction]:
        return [self.brush_action, self.eraser_action, self.eyedropper_action, self.clear_action,
                self.markers_action]

    def prepare_colorize(self, photo: Photo) -> Callable[[ChromaPrediction], ChromaPrediction]:
        """For the colorize worker: a function that lays this photo's current hints on a new prediction."""
        current = photo is self.photo
        hints = self.hints if current else HintSet()
        side = self.window._screen_side()

        def apply(chroma: ChromaPrediction) -> ChromaPrediction:
            # Built here, in the worker, so the first stroke does not pay for them. The UI thread reads
            # them only after the job has finished.
            prop = HintPropagator(render_lightness(photo.lightness, chroma), chroma)
            if current:
                self._propagator = (chroma, prop)
                self._display_l = (id(photo), side, self._screen_lightness(photo, side))
            if not hints:
                return chroma
            hinted = prop.apply(hints)
            self._base_of[id(hinted)] = (hinted, chroma)
            return hinted

        return apply

    def _is_preview(self, step: "Step") -> bool:
        """Whether ``step`` holds a screen-size preview (a brush step) rather than its full picture."""
        return self._previews.get(id(step)) is step and self.photo is not None

    def _cached_full(self, step: "Step") -> np.ndarray | None:
        cached = self._full.get(id(step))
        return cached[1] if cached is not None and cached[0] is step else None

    def full_image(self, step: "Step | None") -> np.ndarray | None:
        """The step's picture at full resolution (a brush step holds a screen-size preview until asked)."""
        if step is None:
            return None
        if not self._is_preview(step):
            return step.image
        image = self._cached_full(step)
        if image is None:
            image = self.full_image_later(step)()
            self._full[id(step)] = (step, image)
            while len(self._full) > FULL_CACHE:
                self._full.popitem(last=False)
        return image

    def full_image_later(self, step: "Step") -> Callable[[], np.ndarray]:
        """For a worker (a save): a function returning the step's full-resolution picture, so a brush
        step's is composed there, not on the UI thread. It reads nothing of this controller when called
        (what it needs is taken now), so any thread may call it while the user goes on painting."""
        image = step.image if not self._is_preview(step) else self._cached_full(step)
        if image is not None:
            return lambda: image
        assert self.photo is not None
        lightness, chroma, strength = self.photo.lightness, step.chroma, step.strength

        def compose_full() -> np.ndarray:
            from ..core.colorize import compose

            return compose(lightness, chroma, strength)

        return compose_full

    def sidecar_writer(self) -> Callable[[Path], str | None]:
        """For a save job: a function that writes the current hints beside an output it is given
        (``OUTPUT.hints.json``; nothing without hints) on any thread, and returns why it could not, or None.
        The hints are taken now: strokes painted while the picture is written belong to the next save."""
        hints = self.hints

        def write(output: Path) -> str | None:
            if not hints:
                return None
            try:
                write_sidecar(sidecar_path(output), hints)
            except (OSError, MagicBrushError) as exc:
                return f"hints not saved beside {output.name}: {exc}"
            return None

        return write

    # --- state ---------------------------------------------------------------------------------------

    def active(self) -> bool:
        return self.brush_action.isChecked()

    def radius(self) -> float:
        return self.panel.radius()

    def markers_visible(self) -> bool:
        return self.markers_action.isChecked()

    def hint_count(self) -> int:
        return sum(1 for h in self.hints.hints if not h.erase)

    def set_hints(self, hints: HintSet) -> None:
        """Replace the hints (undo/redo and loading go through here) and keep the app's copy."""
        self.hints = hints
        self._update()
        if self.photo is not None and self.photo.path is not None:
            store = hint_store_path(self.photo.path)
            try:
                if hints.hints:
                    write_sidecar(store, hints)
                else:
                    store.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("could not keep the hints: %s", exc)

    def _update(self) -> None:
        self.panel.set_count(self.hint_count())
        self.clear_action.setEnabled(bool(self.hints.hints))
        # Nothing to paint on without a photo: the tools wait for one (hints may go on before colorizing).
        has_photo = self.photo is not None
        if not has_photo:
            for action in (self.eraser_action, self.eyedropper_action, self.brush_action):
                action.setChecked(False)
        for action in (self.brush_action, self.eraser_action, self.eyedropper_action):
            action.setEnabled(has_photo)
        self.overlay.update()

    def _on_brush_toggled(self, on: bool) -> None:
        if on:
            self.window.tabs.setCurrentWidget(self.panel)
            self.window.canvas.setCursor(Qt.CursorShape.CrossCursor)
        else:
            self.window.canvas.unsetCursor()
            self.stroke = None
        self.overlay.update()

    def _on_photo_changed(self) -> None:
        photo = self.window.photo
        self.photo = photo
        self._base_of.clear()
        self._previews.clear()
        self._full.clear()
        self._propagator = None
        self._display_l = None
        self.stroke = None
        self.hints = HintSet()
        messages: list[str] = []
        if photo is not None and photo.path is not None:
            # A sidecar beside the photo (perhaps written by a script) first, then the app's own copy.
            for path in (sidecar_path(photo.path), hint_store_path(photo.path)):
                if not path.is_file():
                    continue
                try:
                    self.hints = read_sidecar(path, photo.size)
                except HintError as exc:
                    messages.append(str(exc))
                    continue
                n = self.hint_count()
                messages.append(f"{n} colour hint{'s' if n != 1 else ''} loaded from {path.name}; "
                                "they apply when you colorize")
                break
            else:
                if messages:
                    messages.append("the automatic colours are used")
        if messages:
            self.window.statusBar().showMessage("; ".join(messages), 15000)
        self._update()

    # --- painting ------------------------------------------------------------------------------------

    def photo_rect(self) -> QRectF:
        """Where the result is drawn on the canvas (the right picture when side by side)."""
        canvas = self.window.canvas
        if not canvas.has_photo():
            return QRectF()
        rect = canvas._photo_rect()
        if canvas.is_side_by_side():
            rect = rect.translated(rect.width() + GAP, 0)
        return rect

    def to_photo(self, pos: QPointF) -> tuple[float, float] | None:
        rect = self.photo_rect()
        if rect.isEmpty():
            return None
        fx, fy = (pos.x() - rect.left()) / rect.width(), (pos.y() - rect.top()) / rect.height()
        return fx, fy

    def can_paint(self) -> str | None:
        """None when strokes can be painted now, else why not."""
        w = self.window
        if w.photo is None:
            return "Open a photo first."
        if w.step is None or w.step.kind != "colorized" or w.step.chroma is None or w.colorization.colorizer is None:
            if w.step is not None and w.step.kind == "stylized":
                return "The brush paints the colorized picture: undo the style first (Ctrl+Z)."
            return "Colorize the photo first (Ctrl+R), then paint where the colours are wrong."
        return None

    def _lab(self) -> tuple[float, float, float]:
        c = self.panel.color()
        return color_to_lab((c.red(), c.green(), c.blue()))

    def begin_stroke(self, fx: float, fy: float) -> bool:
        why = self.can_paint()
        if why:
            self.window.statusBar().showMessage(why, 6000)
            return False
        pt = (min(1.0, max(0.0, fx)), min(1.0, max(0.0, fy)))
        erase = self.panel.eraser_check.isChecked()
        self.stroke = Hint((pt,), self.radius(), (0.0, 0.0, 0.0) if erase else self._lab(), erase,
                           None if erase else round(self.panel.reach(), 4))
        self.overlay.update()
        return True

    def extend_stroke(self, fx: float, fy: float) -> None:
        if self.stroke is None:
            return
        pt = (min(1.0, max(0.0, fx)), min(1.0, max(0.0, fy)))
        last = self.stroke.points[-1]
        photo = self.window.photo
        aspect_w, aspect_h = (photo.size if photo is not None else (1, 1))
        side = max(aspect_w, aspect_h)
        dist = np.hypot((pt[0] - last[0]) * aspect_w / side, (pt[1] - last[1]) * aspect_h / side)
        if dist >= self.stroke.radius * 0.3:
            self.stroke = dataclasses.replace(self.stroke, points=self.stroke.points + (pt,))
            self.overlay.update()

    def end_stroke(self) -> None:
        stroke, self.stroke = self.stroke, None
        if stroke is None:
            return
        if stroke.erase and not self.hints.hints:
            self.overlay.update()
            return
        size = self.window.photo.size if self.window.photo is not None else None
        self.commit(HintSet(self.hints.hints + [stroke], size), "Erase Hints" if stroke.erase else "Brush Stroke")

    def paint_stroke(self, points: list[tuple[float, float]]) -> bool:
        """Paint one stroke through photo points in 0..1 (what a mouse drag does; for scripts and tests)."""
        if not points or not self.begin_stroke(*points[0]):
            return False
        for pt in points[1:]:
            self.extend_stroke(*pt)
        self.end_stroke()
        return True

    def clear(self) -> None:
        if not self.hints.hints or self.can_paint():
            if self.hints.hints and self.can_paint():
                self.set_hints(HintSet())  # no colorized picture to change: just forget them
            return
        self.commit(HintSet([], self.hints.image_size), "Clear Hints")

    def commit(self, hints: HintSet, text: str) -> None:
        """Make ``hints`` the current ones as one undo step, showing the updated picture at screen size."""
        w = self.window
        step = w.step
        assert step is not None and w.photo is not None
        base = self.base_chroma(step.chroma)
        after = self.preview_step(step, base, hints)
        w.undo_stack.push(HintCommand(self, step, after, text, self.hints, hints))

    def base_chroma(self, chroma: ChromaPrediction) -> ChromaPrediction:
        """The automatic prediction a (possibly hinted) prediction was made from."""
        entry = self._base_of.get(id(chroma))
        return entry[1] if entry is not None and entry[0] is chroma else chroma

    def propagator(self, base: ChromaPrediction) -> HintPropagator:
        if self._propagator is None or self._propagator[0] is not base:
            assert self.window.photo is not None
            self._propagator = (base, HintPropagator(render_lightness(self.window.photo.lightness, base), base))
        return self._propagator[1]

    def display_lightness(self) -> np.ndarray:
        """The photo's L* at screen size (cached: resizing 12 MP costs more than the whole update)."""
        photo = self.window.photo
        assert photo is not None
        side = self.window._screen_side()
        if self._display_l is not None and self._display_l[:2] == (id(photo), side):
            return self._display_l[2]
        l = self._screen_lightness(photo, side)
        self._display_l = (id(photo), side, l)
        return l

    @staticmethod
    def _screen_lightness(photo: Photo, side: int) -> np.ndarray:
        """The photo's L* ((h, w) float32, 0..100) shrunk to at most ``side`` px on its longer side."""
        return resize_image(photo.lightness, fit_longest_side(*photo.lightness.shape, side, enlarge=False))

    def preview_step(self, step: "Step", base: ChromaPrediction, hints: HintSet) -> "Step":
        chroma = self.propagator(base).apply(hints) if hints else base
        self._base_of[id(chroma)] = (chroma, base)
        preview = compose_preview(self.display_lightness(), chroma, step.strength)
        n = sum(1 for h in hints.hints if not h.erase)
        caption = f"Colorized, {n} colour hint{'s' if n != 1 else ''}" if n else "Colorized"
        after = dataclasses.replace(step, image=preview, chroma=chroma, caption=caption)
        self._previews[id(after)] = after
        return after

    def pick_at(self, fx: float, fy: float) -> QColor | None:
        """Eyedropper on the picture shown (the result, else the photo)."""
        w = self.window
        image = w.step.image if w.step is not None else (w.photo.rgb if w.photo is not None else None)
        if image is None or not (0 <= fx <= 1 and 0 <= fy <= 1):
            return None
        color = pick_color(image, fx, fy)
        self.panel.set_color(color)
        return color

    def reference_dialog(self) -> None:
        patterns = " ".join(f"*{ext}" for ext in sorted(READ_EXTENSIONS))
        path, _ = QFileDialog.getOpenFileName(self.window, "Open a colour reference photo", "",
                                              f"Images ({patterns})")
        if path:
            self.open_reference(path)

    def open_reference(self, path: str | Path) -> bool:
        try:
            photo = read_photo(path)
        except MagicBrushError as exc:
            self.window.show_error("Cannot open the reference photo", str(exc))
            return False
        self.panel.reference.set_image(thumbnail(photo.rgb, 640))
        return True

    # --- canvas events -------------------------------------------------------------------------------

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if obj is not self.window.canvas:
            return False
        kind = event.type()
        if kind == QEvent.Type.Resize:
            self.overlay.resize(self.window.canvas.size())
            self.overlay.raise_()
            return False
        if not self.active():
            return False
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            pt = self.to_photo(event.position())
            if pt is None or not (0 <= pt[0] <= 1 and 0 <= pt[1] <= 1):
                return False
            if self.eyedropper_action.isChecked():
                self.pick_at(*pt)
            else:
                self.begin_stroke(*pt)
            return True
        if kind == QEvent.Type.MouseMove:
            self.overlay.cursor_pos = event.position()
            if self.stroke is not None:
                pt = self.to_photo(event.position())
                if pt is not None:
                    self.extend_stroke(*pt)
                return True
            self.overlay.update()
            return False
        if kind == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton \
                and self.stroke is not None:
            self.end_stroke()
            return True
        if kind == QEvent.Type.Leave:
            self.overlay.cursor_pos = None
            self.overlay.update()
        return False
