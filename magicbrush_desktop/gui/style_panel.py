"""The Style panel: a gallery of looks and paintings, weight sliders, Run/Stop/Start over, Live, read-out.

The panel only collects choices. ``weights_changed`` fires (debounced) when a weight slider settles: a
running optimisation takes the new weights at its next step, and with Live on a finished one refines
from its picture (the style controller decides).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.imageio import is_image_path
from ..core.style.defaults import PAINTING_WEIGHTS, blended_weights
from ..core.style.settings import StyleSettings
from .imaging import to_pixmap
from .widgets import LogSlider

# Slider ranges around the normalised Gatys weights (each style has its own default α/β, see
# core/style/defaults.py; β of a few units): two decades either way is more than anyone needs.
CONTENT_RANGE = (1e-2, 1e2)
STYLE_RANGE = (1e-2, 1e3)
DEFAULT_CONTENT, DEFAULT_STYLE = PAINTING_WEIGHTS
WEIGHT_DEBOUNCE_MS = 350
THUMB = 72


class GalleryList(QListWidget):
    """Thumbnails of the available styles; dropping image files on it imports them."""

    files_dropped = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(QSize(THUMB + 24, THUMB + 34))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        # Drops land on the viewport, which must accept them itself (the view's flag is not enough).
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setMinimumHeight(2 * (THUMB + 34) + 8)

    @staticmethod
    def _paths(event) -> list[str]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls()
                if u.isLocalFile() and (Path(u.toLocalFile()).is_dir() or is_image_path(Path(u.toLocalFile())))]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if self._paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = self._paths(event)
        if paths:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)
        else:
            event.ignore()


class StylePanel(QWidget):
    """Style choices and controls; the main window owns the gallery data and the jobs."""

    run_requested = Signal()
    stop_requested = Signal()
    start_over_requested = Signal()
    weights_changed = Signal()  # debounced: a weight slider settled on a new value
    import_requested = Signal(list)  # paths of files/folders to add to the gallery
    add_style_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gallery = GalleryList()
        self.add_button = QPushButton("Add style\u2026")
        self.add_button.setToolTip("Import a painting (or a folder of them); you can also drop images on the gallery")
        self.second_combo = QComboBox()
        self.second_combo.setToolTip("Blend a second style into the first")
        self.blend_slider = QSlider(Qt.Orientation.Horizontal)
        self.blend_slider.setRange(0, 100)
        self.blend_slider.setValue(50)
        self.blend_slider.setToolTip("How much of the second style is mixed into the first: 0 % only the "
                                     "first, 100 % only the second")
        self.blend_label = QLabel("50 % of the second")
        self.blend_label.setMinimumWidth(self.blend_label.fontMetrics().horizontalAdvance("100 % of the second") + 4)
        self.content_weight = LogSlider(*CONTENT_RANGE, DEFAULT_CONTENT)
        self.content_weight.setToolTip("Content weight \u03b1: how much of the photo's structure is kept")
        self.style_weight = LogSlider(*STYLE_RANGE, DEFAULT_STYLE)
        self.style_weight.setToolTip("Style weight \u03b2: how strongly the painting's texture is imposed")
        self.reset_weights_button = QPushButton("Default weights")
        self.reset_weights_button.setToolTip("Back to the selected style's own weights (\u00d71)")
        self.steps = QSpinBox()
        self.steps.setRange(1, 2000)
        self.steps.setValue(100)
        self.size = QSpinBox()
        self.size.setRange(64, 4096)
        self.size.setSingleStep(64)
        self.size.setValue(512)
        self.size.setSuffix(" px")
        self.size.setToolTip("Optimisation size (longest side); the result is brought back to the photo's size")
        self.preserve = QCheckBox("Preserve the photo's colours")
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Repaint the current picture in the selected style (Ctrl+Shift+R)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.setToolTip("Stop at the next step; the picture reached is kept")
        self.start_over_button = QPushButton("Start over")
        self.start_over_button.setEnabled(False)
        self.start_over_button.setToolTip("Start again from the photo with the current weights")
        self.live = QCheckBox("Live: refine as the weights change")
        self.live.setChecked(True)
        self.live.setToolTip("After a run, moving a weight refines the picture reached (during a run it always "
                             "does); off: nothing starts until you press Run")
        self.loss_label = QLabel("Style taken on: \u2013 \u00b7 photo kept: \u2013")
        self.loss_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.loss_label.setWordWrap(True)

        blend_row = QHBoxLayout()
        blend_row.addWidget(self.blend_slider, 1)
        blend_row.addWidget(self.blend_label)
        form = QFormLayout()
        form.addRow("Blend with", self.second_combo)
        form.addRow("Blend amount", blend_row)
        form.addRow("Content weight", self.content_weight)
        form.addRow("Style weight", self.style_weight)
        form.addRow("", self.reset_weights_button)
        form.addRow("Steps", self.steps)
        form.addRow("Size", self.size)
        form.addRow(self.preserve)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.start_over_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.gallery, 1)
        layout.addWidget(self.add_button)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.live)
        layout.addWidget(self.loss_label)

        # Debounce: a slider drag emits dozens of values; restart only once it rests.
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(WEIGHT_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.weights_changed)
        self.content_weight.value_changed.connect(lambda _v: self._debounce.start())
        self.style_weight.value_changed.connect(lambda _v: self._debounce.start())
        self.blend_slider.valueChanged.connect(self._on_blend)
        self.run_button.clicked.connect(self.run_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.start_over_button.clicked.connect(self.start_over_requested)
        self.add_button.clicked.connect(self.add_style_clicked)
        self.gallery.files_dropped.connect(self.import_requested)
        self.second_combo.currentIndexChanged.connect(lambda _i: self._update_blend_enabled())
        self._update_blend_enabled()
        # Each style brings its own default weights (the CLI's too); the sliders read as factors of them.
        self.reset_weights_button.clicked.connect(lambda: self.reset_weights())
        self.gallery.currentItemChanged.connect(lambda *_: self.reset_weights(quiet=True))
        self.second_combo.currentIndexChanged.connect(lambda _i: self.reset_weights(quiet=True))
        self.reset_weights(quiet=True)

    # --- gallery ------------------------------------------------------------------------------------

    def set_entries(self, entries: list[tuple[str, str, str, np.ndarray | None]], select: str | None = None) -> None:
        """Fill the gallery with (key, name, tooltip, thumbnail RGB or None) and the blend combo."""
        keep = select or self.selected_style()
        second = self.second_combo.currentData()
        self.gallery.clear()
        self.second_combo.blockSignals(True)
        self.second_combo.clear()
        self.second_combo.addItem("(none)", None)
        for key, name, tip, thumb in entries:
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setToolTip(tip or name)
            if thumb is not None:
                item.setIcon(QIcon(to_pixmap(thumb)))
            self.gallery.addItem(item)
            self.second_combo.addItem(name, key)
            if key == keep:
                self.gallery.setCurrentItem(item)
        if self.gallery.currentItem() is None and self.gallery.count():
            self.gallery.setCurrentRow(0)
        index = self.second_combo.findData(second) if second else 0
        self.second_combo.setCurrentIndex(max(0, index))
        self.second_combo.blockSignals(False)
        self._update_blend_enabled()

    def selected_style(self) -> str | None:
        item = self.gallery.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def select_style(self, name: str) -> None:
        for row in range(self.gallery.count()):
            if self.gallery.item(row).data(Qt.ItemDataRole.UserRole) == name:
                self.gallery.setCurrentRow(row)
                return

    # --- values -------------------------------------------------------------------------------------

    def settings(self) -> StyleSettings | None:
        """The current choices, or None when no style is selected."""
        first = self.selected_style()
        if first is None:
            return None
        second = self.second_combo.currentData()
        if second and second != first:
            share = self.blend_slider.value() / 100.0
            styles, blend = (first, str(second)), (1.0 - share, share)
        else:
            styles, blend = (first,), (1.0,)
        return StyleSettings(styles, blend, self.content_weight.value(), self.style_weight.value(),
                             self.steps.value(), self.size.value(), self.preserve.isChecked())

    def default_weights(self) -> tuple[float, float]:
        """(α, β) the selected style (or blend) starts with: the same as ``magicbrush stylize``'s defaults."""
        s = self.settings()
        return blended_weights(s.styles, s.blend) if s is not None else PAINTING_WEIGHTS

    def reset_weights(self, *, quiet: bool = False) -> None:
        """Move both weight sliders to the selected style's defaults, which become their ×1.

        ``quiet``: no ``weights_changed`` (a new style is chosen, nothing to refine yet).
        """
        for slider, value in zip((self.content_weight, self.style_weight), self.default_weights()):
            slider.set_reference(value)
            slider.blockSignals(quiet)
            slider.set_value(value)
            slider.blockSignals(False)

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def show_readout(self, words: str, raw: str) -> None:
        """How far the style got, in words; the raw loss values in the tooltip."""
        self.loss_label.setText(words)
        self.loss_label.setToolTip(raw)

    def _on_blend(self, value: int) -> None:
        self.blend_label.setText(f"{value} % of the second")
        if self.second_combo.currentData():
            self._debounce.start()  # blend weights also warm-restart (the session's Grams are cached)

    def _update_blend_enabled(self) -> None:
        self.blend_slider.setEnabled(bool(self.second_combo.currentData()))
