"""The Train dialog: train a colorizer on a folder of colour photos, with live charts and samples.

It drives the same core generator as ``magicbrush train`` (:func:`..core.train.train`). Losses per step
and validation scores per epoch are charted with QtCharts; the epoch sample grids appear as they
improve. Stop saves ``last.pt`` (the core does it when the generator is closed) so Resume continues;
a finished run is installed into the user's models folder and shows up in the model picker.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path
from typing import Any

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QValueAxis
from PySide6.QtCore import QMargins, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import MagicBrushError
from ..core.events import Finished, Metrics, Preview, Progress
from ..core.files import safe_stem
from ..core.models import install_trained_model, list_models
from ..core.paths import user_data_dir, user_models_dir
from ..core.train_config import TrainConfig
from .imaging import to_pixmap
from .job_status import EtaClock, format_eta
from .settings import window_settings
from .widgets import size_within_screen
from .worker import FINISHED, Job

LOSS_SERIES = ("D_real", "D_fake", "G_GAN", "G_L1")
VAL_SERIES = ("psnr", "colourfulness")
# Plain words on the charts; the technical names are in the chart tooltips.
SERIES_LABELS = {  # short: four of them share the legend's width
    "D_real": "Critic: real",
    "D_fake": "Critic: made",
    "G_GAN": "Fooling it",
    "G_L1": "Colour error",
    "psnr": "Closeness (dB)",
    "colourfulness": "Colourfulness",
}
LOSS_TOOLTIP = ("Training losses, lower is better.\nCritic: real / made = D_real / D_fake: the discriminator "
                "(critic) on real and on generated colour.\nFooling it = G_GAN: the generator's adversarial loss;"
                " Colour error = G_L1: its L1 distance from the true a*b* colours, times \u03bb.")
VAL_TOOLTIP = ("Validation after each epoch, on photos kept out of training.\nLeft axis: closeness, PSNR in dB "
               "(higher = closer to the originals). Right axis: colourfulness (Hasler\u2013S\u00fcsstrunk; real "
               "photos score about 40).")
SAMPLE_COLUMNS = ("Input (grey)", "Result", "Original")
MAX_POINTS = 2000  # older loss points are thinned so a long run stays smooth to chart
# Narrower than this, a chart's tick labels turn into "..." and its legend words are cut (seen under Xvfb):
# the charts go one above the other instead of side by side.
LOSS_CHART_MIN_WIDTH = 340
VAL_CHART_MIN_WIDTH = 270
CHART_MIN_HEIGHT = 200
STACKED_CHART_MIN_HEIGHT = 230
ADVANCED_KEY = "train_dialog/advanced_shown"  # (window.ini) whether the Advanced settings are unfolded
DEFAULT_SIZE = (1200, 760)  # side by side room for both charts; never more than the screen's free area
NETWORKS = {"vgg_resunet": "VGG ResU-Net (best, pretrained encoder)", "resunet": "ResU-Net (small, from scratch)",
            "unet": "U-Net"}
# A continued model's network as the greyed Network row shows it: what it is, not how a new one starts.
CONTINUED_NETWORKS = {"vgg_resunet": "VGG ResU-Net (pretrained encoder)", "resunet": "ResU-Net (small)",
                      "unet": "U-Net"}


def _default(name: str) -> Any:
    """The core's default for a TrainConfig field (the hyper-parameters and their sources live there)."""
    for f in fields(TrainConfig):
        if f.name == name:
            return f.default
    raise KeyError(name)


def runs_dir() -> Path:
    return user_data_dir() / "runs"


def _nice_step(span: float, ticks: int = 5) -> float:
    """A 1-2-5 tick interval giving about ``ticks`` ticks over ``span``."""
    raw = max(span, 1e-9) / ticks
    base = 10 ** math.floor(math.log10(raw))
    return next(m * base for m in (1, 2, 5, 10) if m * base >= raw)


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step))) if step < 1 else 0


class LiveChart(QChartView):
    """A line chart with one series per name and axes that follow the data.

    ``right`` names series drawn against a second y axis on the right (own range and units); ``labels``
    gives the legend's words for each name. Ticks fall on round numbers, whole numbers on the x axis.
    """

    def __init__(self, title: str, names: tuple[str, ...], x_title: str, parent: QWidget | None = None, *,
                 labels: dict[str, str] | None = None, right: tuple[str, ...] = (),
                 y_titles: tuple[str, str] = ("", "")) -> None:
        chart = QChart()
        chart.setTitle(title)
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        super().__init__(chart, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(CHART_MIN_HEIGHT)
        self.x_axis = QValueAxis()
        self.x_axis.setTitleText(x_title)
        self.x_axis.setLabelFormat("%d")
        self.x_axis.setTickType(QValueAxis.TickType.TicksDynamic)
        self.x_axis.setTickAnchor(0)
        self.x_axis.setTickInterval(1)
        self.y_axis = QValueAxis()
        self.y_axis.setTitleText(y_titles[0])
        chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        self.y_right: QValueAxis | None = None
        if right:
            self.y_right = QValueAxis()
            self.y_right.setTitleText(y_titles[1])
            chart.addAxis(self.y_right, Qt.AlignmentFlag.AlignRight)
        self.series: dict[str, QLineSeries] = {}
        self._axis_of: dict[str, QValueAxis] = {}
        for name in names:
            s = QLineSeries()
            s.setName((labels or {}).get(name, name))
            chart.addSeries(s)
            axis = self.y_right if name in right and self.y_right is not None else self.y_axis
            s.attachAxis(self.x_axis)
            s.attachAxis(axis)
            self.series[name] = s
            self._axis_of[name] = axis
        self._ranges: dict[int, tuple[float, float]] = {}
        self._x = 0.0

    def add(self, x: float, values: dict[str, float]) -> None:
        for name, s in self.series.items():
            v = values.get(name)
            if v is None or not math.isfinite(v):
                continue
            if s.count() >= MAX_POINTS:
                # Thin the oldest half by two: the shape of the curve survives, the cost stays flat.
                pts = s.points()
                s.replace(pts[: len(pts) // 2 : 2] + pts[len(pts) // 2 :])
            s.append(x, v)
            axis = self._axis_of[name]
            lo, hi = self._ranges.get(id(axis), (math.inf, -math.inf))
            self._ranges[id(axis)] = (min(lo, v), max(hi, v))
        self._x = max(self._x, x)
        for axis in {id(a): a for a in self._axis_of.values()}.values():
            lo, hi = self._ranges.get(id(axis), (math.inf, -math.inf))
            if not math.isfinite(lo):
                continue
            pad = (hi - lo) * 0.08 or max(abs(hi) * 0.05, 0.5)
            step = _nice_step(hi - lo + 2 * pad)
            axis.setRange(math.floor((lo - pad) / step) * step, math.ceil((hi + pad) / step) * step)
            axis.setTickType(QValueAxis.TickType.TicksDynamic)
            axis.setTickAnchor(0)
            axis.setTickInterval(step)
            axis.setLabelFormat(f"%.{_decimals(step)}f")
        x_max = max(1.0, self._x)
        x_step = max(1, math.ceil(_nice_step(x_max, 6)))
        self.x_axis.setTickInterval(x_step)
        self.x_axis.setRange(0, math.ceil(x_max / x_step) * x_step)

    def clear(self) -> None:
        for s in self.series.values():
            s.clear()
        self._ranges, self._x = {}, 0.0

    def axis_of(self, name: str) -> QValueAxis:
        return self._axis_of[name]

    def point_count(self, name: str) -> int:
        return self.series[name].count()


class TrainDialog(QDialog):
    """Settings, Start/Stop/Resume, live charts and samples for a colorizer training run."""

    model_installed = Signal(str)  # the name under which the finished model was installed
    run_ended = Signal(str)  # job outcome
    estimate_finished = Signal(str)  # outcome of a time estimate

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train a Colorizer \u2013 Magic Brush")
        self.setModal(False)
        self.resize(*size_within_screen(self, DEFAULT_SIZE, minimum=(640, 480)))
        self.job: Job | None = None
        self.result_path: Path | None = None
        self.installed_path: Path | None = None
        self.estimate_seconds: float | None = None
        # Extra TrainConfig fields (e.g. generator_kwargs for a tiny network); not shown in the form.
        self.extra_config: dict[str, Any] = {}
        self._clock = EtaClock()

        self.folder = QLineEdit()
        self.folder.setPlaceholderText("a folder of colour photos")
        self.folder.setToolTip("Your own colour photos: the model learns to colour photos like these")
        browse = QPushButton("Browse\u2026")
        self.name = QLineEdit("my-colorizer")
        self.network = QComboBox()
        for key, label in NETWORKS.items():
            self.network.addItem(label, key)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 10000)
        self.epochs.setValue(_default("epochs"))
        self.image_size = QSpinBox()
        self.image_size.setRange(32, 1024)
        self.image_size.setSingleStep(32)
        self.image_size.setValue(_default("image_size"))
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 512)
        self.batch_size.setValue(_default("batch_size"))
        self.epochs.setToolTip("Passes over all your photos. More: better colours, longer training")
        self.image_size.setToolTip("Photos are cut to squares of this size for training; larger is slower")
        self.batch_size.setToolTip("Photos per training step (batch size); larger needs more memory")
        self.lr_g = self._lr_box(_default("lr_g"))
        self.lr_g.setToolTip(f"Generator learning rate lr_G (default {_default('lr_g'):g}, the best of our "
                             "learning-rate search): how big a step the colouring network takes")
        self.lr_d = self._lr_box(_default("lr_d"))
        self.lr_d.setToolTip(f"Discriminator learning rate lr_D (default {_default('lr_d'):g}): how fast the "
                             "critic that tells real from generated colour learns")
        self.lambda_l1 = QDoubleSpinBox()
        self.lambda_l1.setRange(0, 10000)
        self.lambda_l1.setValue(_default("lambda_l1"))
        self.lambda_l1.setToolTip("\u03bb L1: weight of the L1 distance to the true colours against the "
                                  "adversarial loss. Higher: safer but greyer colours; lower: bolder, riskier")
        self.soft_labels = QCheckBox("Gentler critic")
        self.soft_labels.setToolTip("Soft labels: the discriminator aims at 0.9 / 0.1 instead of 1 / 0, which "
                                    "keeps the critic and the colourer balanced (it helped in our tests)")
        self.soft_labels.setChecked(_default("soft_labels"))
        self.steady = QCheckBox("Steadier colours")
        self.steady.setToolTip(f"Weight averaging (EMA, decay {_default('ema_decay')}): the model kept is the moving "
                               "average of the colourer's recent weights, which colours more steadily than "
                               "the last step alone (it helped in our tests)")
        self.steady.setChecked(True)
        self.val_split = QSpinBox()  # in per cent: "10 %" reads better than "0.10"
        self.val_split.setToolTip("Share of your photos kept out of training to check progress (validation "
                                  "split)")
        self.val_split.setRange(1, 50)
        self.val_split.setSingleStep(5)
        self.val_split.setSuffix(" %")
        self.val_split.setValue(round(100 * _default("val_split")))
        self.network.setToolTip("The generator network: the pretrained VGG encoder learns fastest")
        self.start_from = QComboBox()
        self._chosen_network: int | None = None  # the Network choice while a continued model shows its own
        self._chosen_classes: bool | None = None  # likewise the Colour classes tick
        self.refresh_start_from()
        self.start_from.setToolTip("Continue a model you have (a shipped one or your own) on your photos: it "
                                   "starts from the colours it already knows, so fewer epochs go further. Its "
                                   "network is kept (--init)")
        self.old_photo_look = QSpinBox()  # in per cent, like the photos kept for checking
        self.old_photo_look.setRange(0, 100)
        self.old_photo_look.setSingleStep(10)
        self.old_photo_look.setSuffix(" %")
        self.old_photo_look.setValue(round(100 * _default("degrade")))
        self.old_photo_look.setToolTip("Share of training photos given an old-photo look (film grain, blur, JPEG, "
                                       "fading, scanned borders), so the model learns to colour real scans "
                                       "(degrade; 50 % in the recipe of our v2 runs)")
        self.colour_classes = QCheckBox("Colour classes")
        self.colour_classes.setToolTip("VGG ResU-Net: predict how likely each of 529 colours is, shown as their "
                                       "annealed mean (Zhang et al. 2016), instead of one colour: fewer "
                                       "blotches on plain walls and tents (--head classes)")
        self.colour_classes.setChecked(_default("head") == "classes")
        self.rare_colours = QCheckBox("Favour rare colours")
        self.rare_colours.setToolTip("With colour classes: count rare, saturated colours more in training so "
                                     "clothes and signs do not all turn brown (class rebalancing, mix 0.5)")
        self.rare_colours.setChecked(bool(_default("rebalance")))
        self.advanced_toggle = QToolButton()
        self.advanced_toggle.setText("Advanced settings")
        self.advanced_toggle.setToolTip("Batch size, learning speeds, the colour and critic terms, and the "
                                        "photos kept for checking")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setAutoRaise(True)
        self.start_button = QPushButton("Start")
        self.estimate_button = QPushButton("Estimate time")
        self.estimate_button.setToolTip("Train a few steps on your photos and settings, then estimate how long "
                                        "the whole run takes (nothing is kept)")
        self.estimate_label = QLabel()
        self.estimate_label.setWordWrap(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current step; progress is saved so you can resume")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the stopped run of this name")
        self.progress = QProgressBar()
        self.eta_label = QLabel()
        self.status = QLabel("Choose a folder of colour photos and a name.")
        self.status.setWordWrap(True)
        self.loss_chart = LiveChart("Training losses (lower is better)", LOSS_SERIES, "step", labels=SERIES_LABELS)
        self.loss_chart.setToolTip(LOSS_TOOLTIP)
        # The left axis says only its unit: the legend names the series, and "closeness (dB)" was cut to
        # "closeness (..." on a stacked chart in a 900 px wide dialog (seen under Xvfb).
        self.val_chart = LiveChart("Checked on held-out photos", VAL_SERIES, "epoch", labels=SERIES_LABELS,
                                   right=("colourfulness",), y_titles=("dB", "colourfulness"))
        self.val_chart.setToolTip(VAL_TOOLTIP)
        self.sample = QLabel("Samples appear after each epoch")
        self.sample.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.sample.setMinimumSize(280, 170)
        self._sample_pixmap = None  # the last sample grid at full size, rescaled as the dialog resizes
        self.sample_headers = [QLabel(text) for text in SAMPLE_COLUMNS]
        for header in self.sample_headers:
            header.setAlignment(Qt.AlignmentFlag.AlignCenter)
        close_box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close_box.setToolTip("Hide this window; a running training goes on (the app's Quit stops it)")
        close_box.rejected.connect(self.close)
        self.close_button = close_box.button(QDialogButtonBox.StandardButton.Close)

        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Photos", folder_row)
        form.addRow("Model name", self.name)
        form.addRow("Start from", self.start_from)
        form.addRow("Network", self.network)
        self._form = form
        form.addRow("Epochs", self.epochs)
        form.addRow("Image size", self.image_size)
        form.addRow("Old-photo look", self.old_photo_look)
        form.addRow(self.colour_classes)
        form.addRow(self.rare_colours)
        form.addRow(self.advanced_toggle)
        # The optimiser's settings are folded away: their defaults are our tested recipe, and a family
        # training on its album should not meet learning rates first. Opened once, they stay open.
        self._advanced_rows = (self.batch_size, self.lr_g, self.lr_d, self.lambda_l1, self.soft_labels,
                               self.steady, self.val_split)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Learning speed, colourer", self.lr_g)
        form.addRow("Learning speed, critic", self.lr_d)
        form.addRow("Stick to true colours", self.lambda_l1)
        form.addRow(self.soft_labels)
        form.addRow(self.steady)
        form.addRow("Photos kept for checking", self.val_split)
        for row in range(form.rowCount()):  # the technical term of each setting is in its label's tooltip
            label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if label is not None and field is not None and field.widget() and label.widget():
                label.widget().setToolTip(field.widget().toolTip())
        # Every label as wide as the widest, folded or not, so unfolding Advanced settings does not
        # shift the fields and charts sideways (its "Learning speed, colourer" is the longest).
        labels = [form.itemAt(row, QFormLayout.ItemRole.LabelRole) for row in range(form.rowCount())]
        labels = [item.widget() for item in labels if item is not None and item.widget() is not None]
        widest = max(w.sizeHint().width() for w in labels)
        for w in labels:
            w.setMinimumWidth(widest)
        buttons = QHBoxLayout()
        for w in (self.start_button, self.stop_button, self.resume_button):
            buttons.addWidget(w)
        estimate_row = QHBoxLayout()
        estimate_row.addWidget(self.estimate_button)
        estimate_row.addWidget(self.estimate_label, 1)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addLayout(estimate_row)
        left.addLayout(buttons)
        left.addWidget(self.status)
        left.addStretch(1)
        # Column captions over the grid, as wide as the grid picture (set when a sample arrives).
        self.sample_header_bar = QWidget()
        headers = QHBoxLayout(self.sample_header_bar)
        headers.setContentsMargins(0, 0, 0, 0)
        headers.setSpacing(0)
        for header in self.sample_headers:
            headers.addWidget(header, 1)
        self.sample_header_bar.hide()
        samples = QVBoxLayout()
        samples.addWidget(self.sample_header_bar, 0, Qt.AlignmentFlag.AlignHCenter)
        samples.addWidget(self.sample, 1)
        self._chart_grid = grid = QGridLayout()
        self._samples_layout = samples
        self.charts_side_by_side: bool | None = None
        self._arrange_charts(side_by_side=True)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.eta_label)
        progress_row.addWidget(close_box)  # bottom right, where a dialog's buttons are
        right = QVBoxLayout()
        right.addLayout(grid, 1)
        right.addLayout(progress_row)
        layout = QHBoxLayout(self)
        layout.addLayout(left)
        layout.addLayout(right, 1)
        self._left_layout = left

        browse.clicked.connect(self._browse)
        self.start_button.clicked.connect(lambda: self.start(resume=False))
        self.resume_button.clicked.connect(lambda: self.start(resume=True))
        self.stop_button.clicked.connect(self.stop)
        self.estimate_button.clicked.connect(self.estimate)
        self.name.textChanged.connect(lambda _t: self._update_buttons())
        self.epochs.valueChanged.connect(lambda _v: self._update_buttons())
        self.start_from.currentIndexChanged.connect(lambda _i: self._update_model_options())
        self.network.currentIndexChanged.connect(lambda _i: self._update_model_options())
        self.colour_classes.toggled.connect(lambda _on: self._update_model_options())
        self._update_model_options()
        opened = window_settings().value(ADVANCED_KEY, False)
        self.advanced_toggle.setChecked(opened in (True, "true", "1"))
        self._show_advanced(self.advanced_toggle.isChecked())
        self.advanced_toggle.toggled.connect(self._show_advanced)
        self.advanced_toggle.toggled.connect(lambda shown: window_settings().setValue(ADVANCED_KEY, shown))
        self.estimate_job: Job | None = None
        self._replace_ok = False
        self._resumed = False
        self._update_buttons()

    def _show_advanced(self, shown: bool) -> None:
        for widget in self._advanced_rows:
            self._form.setRowVisible(widget, shown)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    @staticmethod
    def _lr_box(value: float) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setDecimals(6)
        box.setRange(1e-6, 1.0)
        box.setSingleStep(1e-4)
        box.setValue(value)
        return box

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of colour photos", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def run_dir(self) -> Path:
        return runs_dir() / safe_stem(self.name.text(), "run")

    def refresh_start_from(self) -> None:
        """The models one can continue: every installed one (a model trained here included), keeping the
        current choice where it is still installed."""
        current = self.start_from.currentData() or ""
        self._model_paths = {info.name: info.path for info in list_models()}
        self._architectures: dict[str, dict[str, Any] | None] = {}
        self.start_from.blockSignals(True)
        self.start_from.clear()
        self.start_from.addItem("A new network", "")
        for name in self._model_paths:
            self.start_from.addItem(name, name)
        self.start_from.setCurrentIndex(max(0, self.start_from.findData(current)))
        self.start_from.blockSignals(False)

    def showEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt's override
        self.refresh_start_from()
        self._update_model_options()
        super().showEvent(event)

    def continued_architecture(self) -> dict[str, Any] | None:
        """The network ({"name", "kwargs"}) of the model chosen in Start from; None when starting a new
        network or when the file cannot be read (training then reports why)."""
        name = self.start_from.currentData() or ""
        if not name or name not in self._model_paths:
            return None
        if name not in self._architectures:
            from ..core.checkpoint import read_architecture  # (torch: only once a model is chosen)

            try:
                self._architectures[name] = read_architecture(self._model_paths[name])
            except MagicBrushError:
                self._architectures[name] = None
        return self._architectures[name]

    def _update_model_options(self) -> None:
        """A model to continue brings its own network: the Network row shows it, greyed (or hides, should
        its file be unreadable), and a model that already predicts colour classes shows Colour classes
        ticked and greyed. Colour classes need the VGG ResU-Net, and only colour classes can be
        rebalanced. A box that does not apply is unticked as well as greyed."""
        continuing = bool(self.start_from.currentData())
        arch = self.continued_architecture() if continuing else None
        self.network.blockSignals(True)
        if arch is not None:
            if self._chosen_network is None:  # remember the user's choice for "A new network"
                self._chosen_network = self.network.currentIndex()
            self.network.setCurrentIndex(max(0, self.network.findData(arch["name"])))
        elif not continuing and self._chosen_network is not None:
            self.network.setCurrentIndex(self._chosen_network)
            self._chosen_network = None
        for index in range(self.network.count()):
            labels = CONTINUED_NETWORKS if arch is not None else NETWORKS
            self.network.setItemText(index, labels[self.network.itemData(index)])
        if arch is not None and arch["name"] == "vgg_resunet" and not arch["kwargs"].get("freeze_encoder", True):
            self.network.setItemText(self.network.currentIndex(), "VGG ResU-Net (fine-tuned encoder)")
        self.network.blockSignals(False)
        if hasattr(self, "_form"):
            self._form.setRowVisible(self.network, not continuing or arch is not None)
        self.network.setEnabled(not continuing)
        self.network.setToolTip(
            f"The network of {self.start_from.currentText()}: a continued model keeps its own" if continuing
            else "The generator network: the pretrained VGG encoder learns fastest")
        label = self._form.labelForField(self.network) if hasattr(self, "_form") else None
        if label is not None:  # (the labels copy their field's tooltip once, when the form is built)
            label.setToolTip(self.network.toolTip())
        has_classes = arch is not None and arch["kwargs"].get("head") == "classes"
        if has_classes and self._chosen_classes is None:  # the user's tick comes back with a new network
            self._chosen_classes = self.colour_classes.isChecked()
        elif not has_classes and self._chosen_classes is not None:
            chosen, self._chosen_classes = self._chosen_classes, None
            self.colour_classes.setChecked(chosen)
        if has_classes:
            self.colour_classes.setChecked(True)
        self.colour_classes.setEnabled(not has_classes and (
            (continuing and arch is None) or self.network.currentData() == "vgg_resunet"))
        if not self.colour_classes.isEnabled() and not has_classes:
            self.colour_classes.setChecked(False)
        self.rare_colours.setEnabled(self.colour_classes.isChecked())
        if not self.rare_colours.isEnabled():
            self.rare_colours.setChecked(False)

    def config(self) -> TrainConfig:
        classes = self.colour_classes.isChecked()  # (unticked wherever it does not apply)
        values: dict[str, Any] = dict(
            data_dir=self.folder.text().strip(), run_dir=str(self.run_dir()), epochs=self.epochs.value(),
            image_size=self.image_size.value(), batch_size=self.batch_size.value(), lr_g=self.lr_g.value(),
            lr_d=self.lr_d.value(), lambda_l1=self.lambda_l1.value(), soft_labels=self.soft_labels.isChecked(),
            val_split=self.val_split.value() / 100, generator=str(self.network.currentData()), device=self._device(),
            # From scratch the average's decay ramps up over the first steps, and a continued model's
            # average starts from its trained weights (core.train.average_decay): a short run is safe
            # with the long-run default either way.
            ema_decay=_default("ema_decay") if self.steady.isChecked() else 0.0,
            init=str(self.start_from.currentData() or ""), degrade=self.old_photo_look.value() / 100,
            head="classes" if classes else "",
            rebalance=0.5 if classes and self.rare_colours.isChecked() else 0.0,
        )
        values.update(self.extra_config)
        return TrainConfig(**values)

    def _device(self) -> str:
        panel = getattr(self.parent(), "colorize_panel", None)
        return panel.device() if panel is not None else "auto"

    def finished_epochs(self) -> int | None:
        """Epochs a run of this name completed when it finished all of them, else None (stopped or none).

        Read from the run's ``config.json`` and the tail of its ``log.jsonl`` (cheap: no checkpoint load).
        """
        run = self.run_dir()
        try:
            planned = int(json.loads((run / "config.json").read_text(encoding="utf-8")).get("epochs", 0))
            with open(run / "log.jsonl", "rb") as fh:
                fh.seek(0, 2)
                fh.seek(max(0, fh.tell() - 16384))
                tail = fh.read().decode("utf-8", "replace").splitlines()
        except (OSError, ValueError, AttributeError):
            return None
        for line in reversed(tail):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("kind") == "val":
                done = int(entry.get("epoch", 0))
                return done if done >= planned > 0 else None
        return None

    def can_resume(self) -> bool:
        """A stopped run can continue; a finished one only when more epochs are asked for."""
        if not (self.run_dir() / "last.pt").is_file():
            return False
        finished = self.finished_epochs()
        return finished is None or self.epochs.value() > finished

    def _update_buttons(self) -> None:
        running = self.job is not None
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.estimate_button.setEnabled(not running and self.estimate_job is None)
        self.resume_button.setEnabled(not running and self.can_resume())
        finished = self.finished_epochs() if not running else None
        self.resume_button.setToolTip(
            f"This run finished its {finished} epochs; raise Epochs to continue it" if finished
            and not self.resume_button.isEnabled() else "Continue the stopped run of this name")

    # --- running ------------------------------------------------------------------------------------

    def start(self, resume: bool = False) -> bool:
        """Start (or resume) training in a worker; False with a dialog if the settings are unusable."""
        if self.job is not None:
            return False
        if not resume and not Path(self.folder.text().strip()).is_dir():
            self._error("Cannot start training", "Choose a folder of colour photos.")
            return False
        if not self.name.text().strip():
            self._error("Cannot start training", "Give the model a name.")
            return False
        config = self.config()
        overwrite = False
        if not resume:
            if not self._confirm_replace():
                return False
            overwrite = self._replace_ok
            self.loss_chart.clear()
            self.val_chart.clear()
        self.result_path = None
        # A resumed run's model replaces the one its earlier session installed under this name.
        self._resumed = resume
        self._clock.restart()

        def job():
            # Imported here, on the worker thread: core.train imports torch, a long stall on the UI thread.
            from ..core.train import train

            return train(config, resume=resume, overwrite=overwrite)

        self.job = Job(job, "training", self)
        self.job.progress.connect(self._on_progress)
        self.job.metrics.connect(self._on_metrics)
        self.job.preview.connect(self._on_preview)
        self.job.finished_event.connect(self._on_finished)
        self.job.failed.connect(lambda msg: self._error("Training stopped", msg))
        self.job.ended.connect(self._on_ended)
        self.status.setText("Resuming\u2026" if resume else "Reading photos\u2026")
        self.job.start()
        self._update_buttons()
        return True

    def _confirm_replace(self) -> bool:
        """A new run under a name already used (an earlier run or model) replaces it: ask once."""
        run = self.run_dir()
        model = user_models_dir() / f"{run.name}.pt"
        used = model.is_file() or (run.is_dir() and any(run.iterdir()))
        self._replace_ok = used
        if not used:
            return True
        answer = QMessageBox.question(
            self, "Replace the earlier run?",
            f"A model or training run named \u201c{run.name}\u201d already exists. Start again and replace it?"
            "\n\nTo keep it, choose another model name (or Resume it).",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def estimate(self) -> bool:
        """Measure a few training steps in a worker and show how long the whole run would take."""
        from ..core.train_estimate import estimate_training, format_duration

        if self.job is not None or self.estimate_job is not None:
            return False
        if not Path(self.folder.text().strip()).is_dir():
            self._error("Cannot estimate", "Choose a folder of colour photos.")
            return False
        config = self.config()
        self.estimate_label.setText("Measuring a few steps\u2026")
        job = Job(lambda: estimate_training(config), "estimate", self)

        def done(event: Finished) -> None:
            info = event.summary
            self.estimate_seconds = float(event.result)
            self.estimate_label.setText(
                f"{format_duration(event.result)} for {config.epochs} epoch(s) "
                f"({info['per_step']:.2f} s per step, {info['steps_per_epoch']} steps per epoch)")

        def ended(outcome: str) -> None:
            job.wait()
            job.deleteLater()
            self.estimate_job = None
            if outcome != FINISHED and self.estimate_label.text().endswith("\u2026"):
                self.estimate_label.setText("No estimate (stopped).")
            self._update_buttons()
            self.estimate_finished.emit(outcome)

        job.finished_event.connect(done)
        job.failed.connect(lambda msg: self.estimate_label.setText(f"No estimate: {msg}"))
        job.ended.connect(ended)
        self.estimate_job = job
        job.start()
        self._update_buttons()
        return True

    def stop(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Stopping after this step (saving progress)\u2026")
            self.stop_button.setEnabled(False)

    def stop_and_wait(self) -> None:
        for job in (self.job, self.estimate_job):
            if job is not None:
                job.cancel()
                job.wait()

    def _on_progress(self, event: Progress) -> None:
        if event.message:
            self.status.setText(event.message)
        if event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
            eta = self._clock.eta(event.fraction)
            self.eta_label.setText(f"ETA {format_eta(eta)}" if eta is not None else "")

    def _on_metrics(self, event: Metrics) -> None:
        if event.kind == "train":
            self.loss_chart.add(event.step, event.values)
        elif event.kind == "val":
            self.val_chart.add(event.values.get("epoch", event.step), event.values)
            self.status.setText(
                f"epoch {int(event.values.get('epoch', 0))}: PSNR {event.values.get('psnr', 0):.2f} dB, "
                f"SSIM {event.values.get('ssim', 0):.3f}, colourfulness {event.values.get('colourfulness', 0):.1f}"
                f" (photos {event.values.get('colourfulness_real', 0):.1f}), false colour "
                f"{100 * event.values.get('false_colour', 0):.1f} %"
            )

    def _on_preview(self, event: Preview) -> None:
        self._sample_pixmap = to_pixmap(event.image)
        self._show_sample()
        self.sample_header_bar.show()
        self.sample.setToolTip(event.caption)

    def _show_sample(self) -> None:
        """The last sample grid, as large as its place allows (called again when the place changes size)."""
        if self._sample_pixmap is None:
            return
        scaled = self._sample_pixmap.scaled(self.sample.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.SmoothTransformation)
        self.sample.setPixmap(scaled)
        self.sample_header_bar.setFixedWidth(round(scaled.width() / max(scaled.devicePixelRatio(), 1.0)))

    def _arrange_charts(self, side_by_side: bool) -> None:
        """Lay the two charts side by side (samples below both) or one above the other (samples below)."""
        if side_by_side == self.charts_side_by_side:
            return
        grid = self._chart_grid
        for w in (self.loss_chart, self.val_chart):
            grid.removeWidget(w)
        grid.removeItem(self._samples_layout)
        for row in range(3):
            grid.setRowStretch(row, 0)
        if side_by_side:
            grid.addWidget(self.loss_chart, 0, 0)
            grid.addWidget(self.val_chart, 0, 1)
            grid.addLayout(self._samples_layout, 1, 0, 1, 2)
            grid.setColumnStretch(0, 3)  # four loss curves need more legend room than two validation ones
            grid.setColumnStretch(1, 2)
        else:
            grid.addWidget(self.loss_chart, 0, 0, 1, 2)
            grid.addWidget(self.val_chart, 1, 0, 1, 2)
            grid.addLayout(self._samples_layout, 2, 0, 1, 2)
            grid.setColumnStretch(0, 1)
            grid.setColumnStretch(1, 1)
            grid.setRowStretch(2, 1)
        # Shorter than this, the validation chart's vertical axis titles and right-hand ticks are cut.
        for chart in (self.loss_chart, self.val_chart):
            chart.setMinimumHeight(CHART_MIN_HEIGHT if side_by_side else STACKED_CHART_MIN_HEIGHT)
        self.charts_side_by_side = side_by_side

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        margins = self.layout().contentsMargins()
        room = (event.size().width() - margins.left() - margins.right() - self.layout().spacing()
                - self._left_layout.sizeHint().width())
        self._arrange_charts(room >= LOSS_CHART_MIN_WIDTH + VAL_CHART_MIN_WIDTH + self._chart_grid.spacing())
        self._show_sample()

    def _on_finished(self, event: Finished) -> None:
        self.result_path = Path(event.result)

    def _on_ended(self, outcome: str) -> None:
        if self.job is not None:
            self.job.wait()
            self.job.deleteLater()
        self.job = None
        if outcome == FINISHED and self.result_path is not None:
            try:
                self.installed_path = install_trained_model(
                    self.result_path, self.name.text().strip(), force=self._replace_ok or self._resumed,
                    description=f"Trained by you on {Path(self.folder.text().strip()).name or 'your photos'}, "
                                f"{self.epochs.value()} epoch(s) at {self.image_size.value()} px")
            except (MagicBrushError, OSError) as exc:
                self._error("Could not install the model", str(exc))
            else:
                self.status.setText(
                    f"Finished. \u201c{self.installed_path.stem}\u201d is now in the Colorize tab's model picker "
                    "(the model in use is unchanged: pick it there to try it).")
                self.refresh_start_from()  # the new model can be continued at once
                self.model_installed.emit(self.installed_path.stem)
        elif outcome == "cancelled":
            self.status.setText("Stopped; progress saved. Resume continues from here.")
        self._update_buttons()
        self.run_ended.emit(outcome)

    def _error(self, title: str, message: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        # Training keeps going when the dialog is hidden; the app's close stops it (saving last.pt).
        super().closeEvent(event)
