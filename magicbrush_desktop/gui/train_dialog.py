"""The Train dialog: train a colorizer on a folder of colour photos, with live charts and samples.

It drives the same core generator as ``magicbrush train`` (:func:`..core.train.train`). Losses per step
and validation scores per epoch are charted with QtCharts; the epoch sample grids appear as they
improve. Stop saves ``last.pt`` (the core does it when the generator is closed) so Resume continues;
a finished run is installed into the user's models folder and shows up in the model picker.
"""

from __future__ import annotations

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
    QVBoxLayout,
    QWidget,
)

from ..core.errors import MagicBrushError
from ..core.events import Finished, Metrics, Preview, Progress
from ..core.models import install_trained_model
from ..core.paths import user_data_dir
from ..core.train import TrainConfig, train
from .imaging import to_pixmap
from .job_status import EtaClock, format_eta
from .worker import FINISHED, Job

LOSS_SERIES = ("D_real", "D_fake", "G_GAN", "G_L1")
VAL_SERIES = ("psnr", "colourfulness")
MAX_POINTS = 2000  # older loss points are thinned so a long run stays smooth to chart
NETWORKS = {"vgg_resunet": "VGG ResU-Net (best, pretrained encoder)", "resunet": "ResU-Net (small, from scratch)",
            "unet": "U-Net"}


def _default(name: str) -> Any:
    """The core's default for a TrainConfig field (the seeds' hyper-parameters live there, not here)."""
    for f in fields(TrainConfig):
        if f.name == name:
            return f.default
    raise KeyError(name)


def runs_dir() -> Path:
    return user_data_dir() / "runs"


class LiveChart(QChartView):
    """A line chart with one series per name and axes that follow the data."""

    def __init__(self, title: str, names: tuple[str, ...], x_title: str, parent: QWidget | None = None) -> None:
        chart = QChart()
        chart.setTitle(title)
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        super().__init__(chart, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(200)
        self.x_axis = QValueAxis()
        self.x_axis.setTitleText(x_title)
        self.x_axis.setLabelFormat("%d")
        self.y_axis = QValueAxis()
        chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        self.series: dict[str, QLineSeries] = {}
        for name in names:
            s = QLineSeries()
            s.setName(name)
            chart.addSeries(s)
            s.attachAxis(self.x_axis)
            s.attachAxis(self.y_axis)
            self.series[name] = s
        self._y = (math.inf, -math.inf)
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
            self._y = (min(self._y[0], v), max(self._y[1], v))
        self._x = max(self._x, x)
        lo, hi = self._y
        if math.isfinite(lo):
            pad = (hi - lo) * 0.05 or 1.0
            self.y_axis.setRange(lo - pad, hi + pad)
        self.x_axis.setRange(0, max(1.0, self._x))

    def clear(self) -> None:
        for s in self.series.values():
            s.clear()
        self._y, self._x = (math.inf, -math.inf), 0.0

    def point_count(self, name: str) -> int:
        return self.series[name].count()


class TrainDialog(QDialog):
    """Settings, Start/Stop/Resume, live charts and samples for a colorizer training run."""

    model_installed = Signal(str)  # the name under which the finished model was installed
    run_ended = Signal(str)  # job outcome

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train a Colorizer \u2013 Magic Brush")
        self.setModal(False)
        self.resize(1000, 720)
        self.job: Job | None = None
        self.result_path: Path | None = None
        self.installed_path: Path | None = None
        # Extra TrainConfig fields (e.g. generator_kwargs for a tiny network); not shown in the form.
        self.extra_config: dict[str, Any] = {}
        self._clock = EtaClock()

        self.folder = QLineEdit()
        self.folder.setPlaceholderText("a folder of colour photos")
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
        self.lr_g = self._lr_box(_default("lr_g"))
        self.lr_g.setToolTip("Generator learning rate (seed 000's best: 0.0002)")
        self.lr_d = self._lr_box(_default("lr_d"))
        self.lr_d.setToolTip("Discriminator learning rate (seed 000's best: 0.001)")
        self.lambda_l1 = QDoubleSpinBox()
        self.lambda_l1.setRange(0, 10000)
        self.lambda_l1.setValue(_default("lambda_l1"))
        self.soft_labels = QCheckBox("Soft labels (seed 001: helps balance D and G)")
        self.soft_labels.setChecked(_default("soft_labels"))
        self.val_split = QDoubleSpinBox()
        self.val_split.setRange(0.01, 0.5)
        self.val_split.setSingleStep(0.05)
        self.val_split.setValue(_default("val_split"))
        self.start_button = QPushButton("Start")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current step; progress is saved so you can resume")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the stopped run of this name")
        self.progress = QProgressBar()
        self.eta_label = QLabel()
        self.status = QLabel("Choose a folder of colour photos and a name.")
        self.status.setWordWrap(True)
        self.loss_chart = LiveChart("Losses per step", LOSS_SERIES, "step")
        self.val_chart = LiveChart("Validation per epoch", VAL_SERIES, "epoch")
        self.sample = QLabel("Samples appear after each epoch")
        self.sample.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sample.setMinimumSize(280, 200)

        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Photos", folder_row)
        form.addRow("Model name", self.name)
        form.addRow("Network", self.network)
        form.addRow("Epochs", self.epochs)
        form.addRow("Image size", self.image_size)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Generator lr", self.lr_g)
        form.addRow("Discriminator lr", self.lr_d)
        form.addRow("\u03bb L1", self.lambda_l1)
        form.addRow(self.soft_labels)
        form.addRow("Validation split", self.val_split)
        buttons = QHBoxLayout()
        for w in (self.start_button, self.stop_button, self.resume_button):
            buttons.addWidget(w)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addLayout(buttons)
        left.addWidget(self.status)
        left.addStretch(1)
        grid = QGridLayout()
        grid.addWidget(self.loss_chart, 0, 0)
        grid.addWidget(self.val_chart, 0, 1)
        grid.addWidget(self.sample, 1, 0, 1, 2)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.eta_label)
        right = QVBoxLayout()
        right.addLayout(grid, 1)
        right.addLayout(progress_row)
        layout = QHBoxLayout(self)
        layout.addLayout(left)
        layout.addLayout(right, 1)

        browse.clicked.connect(self._browse)
        self.start_button.clicked.connect(lambda: self.start(resume=False))
        self.resume_button.clicked.connect(lambda: self.start(resume=True))
        self.stop_button.clicked.connect(self.stop)
        self.name.textChanged.connect(lambda _t: self._update_buttons())
        self._update_buttons()

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
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in self.name.text().strip()) or "run"
        return runs_dir() / safe

    def config(self) -> TrainConfig:
        values: dict[str, Any] = dict(
            data_dir=self.folder.text().strip(), run_dir=str(self.run_dir()), epochs=self.epochs.value(),
            image_size=self.image_size.value(), batch_size=self.batch_size.value(), lr_g=self.lr_g.value(),
            lr_d=self.lr_d.value(), lambda_l1=self.lambda_l1.value(), soft_labels=self.soft_labels.isChecked(),
            val_split=self.val_split.value(), generator=str(self.network.currentData()), device=self._device(),
        )
        values.update(self.extra_config)
        return TrainConfig(**values)

    def _device(self) -> str:
        panel = getattr(self.parent(), "colorize_panel", None)
        return panel.device() if panel is not None else "auto"

    def _update_buttons(self) -> None:
        running = self.job is not None
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.resume_button.setEnabled(not running and (self.run_dir() / "last.pt").is_file())

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
        if not resume:
            self.loss_chart.clear()
            self.val_chart.clear()
        self.result_path = None
        self._clock.restart()
        self.job = Job(lambda: train(config, resume=resume), "training", self)
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

    def stop(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Stopping after this step (saving progress)\u2026")
            self.stop_button.setEnabled(False)

    def stop_and_wait(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job.wait()

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
                f" (photos {event.values.get('colourfulness_real', 0):.1f})"
            )

    def _on_preview(self, event: Preview) -> None:
        pix = to_pixmap(event.image)
        self.sample.setPixmap(pix.scaled(self.sample.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.SmoothTransformation))
        self.sample.setToolTip(event.caption)

    def _on_finished(self, event: Finished) -> None:
        self.result_path = Path(event.result)

    def _on_ended(self, outcome: str) -> None:
        if self.job is not None:
            self.job.wait()
            self.job.deleteLater()
        self.job = None
        if outcome == FINISHED and self.result_path is not None:
            try:
                self.installed_path = install_trained_model(self.result_path, self.name.text().strip())
            except (MagicBrushError, OSError) as exc:
                self._error("Could not install the model", str(exc))
            else:
                self.status.setText(f"Finished. The model '{self.installed_path.stem}' is now in the model picker.")
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
