"""The batch dialog: many photos or folders -> an output folder, colorized and/or stylized.

Planning and processing are the core's (:func:`..core.batch.plan_batch`, :func:`..core.batch.run_batch`);
this dialog collects the inputs, shows each file's status, overall progress and ETA, and a summary of
failures. Stop finishes the current file (outputs are written atomically, so nothing is partial);
"skip files already done" makes a re-run resume where the last one stopped.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.batch import BatchItem, plan_batch, run_batch
from ..core.errors import MagicBrushError
from ..core.events import FileDone, Finished, Progress
from ..core.imageio import SAVE_FORMATS
from .job_status import EtaClock, format_eta
from .worker import Job

STATUS_WAITING, STATUS_WORKING, STATUS_DONE, STATUS_SKIPPED = "waiting", "working\u2026", "done", "already done"


class BatchDialog(QDialog):
    """Inputs, output, options, a file table with statuses, progress/ETA, Start/Stop and a summary.

    The parent must offer ``batch_process(colorize, stylize)`` (the main window does), which returns
    the photo -> picture function with the current settings.
    """

    batch_finished = Signal(dict)  # the core's summary

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch \u2013 Magic Brush")
        self.setModal(False)
        self.resize(760, 560)
        self.job: Job | None = None
        self.items: list[BatchItem] = []
        self.summary: dict | None = None
        self._rows: dict[Path, int] = {}
        self._clock = EtaClock()

        self.inputs = QListWidget()
        self.inputs.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.inputs.setToolTip("Photos and folders to process")
        add_files = QPushButton("Add photos\u2026")
        add_folder = QPushButton("Add folder\u2026")
        remove = QPushButton("Remove")
        self.recursive = QCheckBox("Include sub-folders")
        self.output = QLineEdit()
        self.output.setPlaceholderText("folder for the results")
        browse = QPushButton("Browse\u2026")
        self.format_combo = QComboBox()
        self.format_combo.addItem("Same as the source", None)
        for key in SAVE_FORMATS:
            self.format_combo.addItem(key.upper(), key)
        self.skip_done = QCheckBox("Skip photos already done (resume)")
        self.skip_done.setChecked(True)
        self.do_colorize = QCheckBox("Colorize")
        self.do_colorize.setChecked(True)
        self.do_stylize = QCheckBox("Stylize with the current style")
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Photo", "Status"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.progress = QProgressBar()
        self.eta_label = QLabel()
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.start_button = QPushButton("Start")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Finish the current photo, then stop (nothing is left half-written)")
        self.stop_button.setEnabled(False)
        close = QPushButton("Close")

        input_buttons = QVBoxLayout()
        for w in (add_files, add_folder, remove, self.recursive):
            input_buttons.addWidget(w)
        input_buttons.addStretch(1)
        input_row = QHBoxLayout()
        input_row.addWidget(self.inputs, 1)
        input_row.addLayout(input_buttons)
        out_row = QHBoxLayout()
        out_row.addWidget(self.output, 1)
        out_row.addWidget(browse)
        todo_row = QHBoxLayout()
        todo_row.addWidget(self.do_colorize)
        todo_row.addWidget(self.do_stylize)
        todo_row.addStretch(1)
        form = QFormLayout()
        form.addRow("Output folder", out_row)
        form.addRow("Format", self.format_combo)
        form.addRow("Do", todo_row)
        form.addRow(self.skip_done)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.eta_label)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for w in (self.start_button, self.stop_button, close):
            buttons.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Photos and folders"))
        layout.addLayout(input_row)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addLayout(progress_row)
        layout.addWidget(self.summary_label)
        layout.addLayout(buttons)

        add_files.clicked.connect(self._add_files)
        add_folder.clicked.connect(self._add_folder)
        remove.clicked.connect(self._remove_selected)
        browse.clicked.connect(self._browse_output)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        close.clicked.connect(self.close)

    # --- inputs -------------------------------------------------------------------------------------

    def add_inputs(self, paths: list[Path]) -> None:
        known = {self.inputs.item(i).text() for i in range(self.inputs.count())}
        for path in paths:
            text = str(Path(path))
            if text not in known:
                self.inputs.addItem(text)
                known.add(text)
        if not self.output.text() and paths:
            first = Path(paths[0])
            base = first if first.is_dir() else first.parent
            self.output.setText(str(base.parent / f"{base.name}_magicbrush"))

    def input_paths(self) -> list[Path]:
        return [Path(self.inputs.item(i).text()) for i in range(self.inputs.count())]

    def _add_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add photos")
        self.add_inputs([Path(f) for f in files])

    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder")
        if folder:
            self.add_inputs([Path(folder)])

    def _remove_selected(self) -> None:
        for item in self.inputs.selectedItems():
            self.inputs.takeItem(self.inputs.row(item))

    def _browse_output(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", self.output.text())
        if folder:
            self.output.setText(folder)

    # --- running ------------------------------------------------------------------------------------

    def _error(self, title: str, message: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def start(self) -> bool:
        """Plan and start the batch; returns False (with a dialog) when the settings cannot work."""
        if self.job is not None:
            return False
        fmt = self.format_combo.currentData()
        try:
            if not self.input_paths():
                raise MagicBrushError("add photos or folders to process")
            if not self.output.text().strip():
                raise MagicBrushError("choose an output folder")
            items = plan_batch(self.input_paths(), Path(self.output.text().strip()).expanduser(),
                               recursive=self.recursive.isChecked(), fmt=fmt)
            if not items:
                raise MagicBrushError("no photos were found in the chosen folders")
            process = self.parent().batch_process(self.do_colorize.isChecked(), self.do_stylize.isChecked())
        except MagicBrushError as exc:
            self._error("Cannot start the batch", str(exc))
            return False
        self.items = items
        self.summary = None
        self._fill_table(items)
        self.progress.setRange(0, len(items))
        self.progress.setValue(0)
        self.summary_label.clear()
        self._clock.restart()
        skip = self.skip_done.isChecked()
        quality = getattr(getattr(self.parent(), "app_settings", None), "quality", 95)

        def job():
            return run_batch(items, process, skip_existing=skip, fmt=fmt, quality=quality)

        self.job = Job(job, "batch", self)
        self.job.progress.connect(self._on_progress)
        self.job.file_done.connect(self._on_file_done)
        self.job.finished_event.connect(self._on_finished)
        self.job.failed.connect(lambda msg: self._error("The batch stopped", msg))
        self.job.ended.connect(self._on_ended)
        self._set_running(True)
        self.job.start()
        return True

    def stop(self) -> None:
        """Stop after the current photo."""
        if self.job is not None:
            self.job.cancel()
            self.stop_button.setEnabled(False)
            self.summary_label.setText("Stopping after the current photo\u2026")

    def stop_and_wait(self) -> None:
        """Used when the app closes: stop, and wait for the current photo to finish."""
        if self.job is not None:
            self.job.cancel()
            self.job.wait()

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def _fill_table(self, items: list[BatchItem]) -> None:
        self.table.setRowCount(len(items))
        self._rows = {}
        for row, item in enumerate(items):
            self.table.setItem(row, 0, QTableWidgetItem(str(item.source)))
            self.table.setItem(row, 1, QTableWidgetItem(STATUS_WAITING))
            self._rows[item.source] = row

    def status_of(self, source: Path) -> str:
        row = self._rows[Path(source)]
        return self.table.item(row, 1).text()

    def _on_progress(self, event: Progress) -> None:
        if event.total:
            self.progress.setMaximum(event.total)
            self.progress.setValue(event.done)
            eta = self._clock.eta(event.fraction)
            self.eta_label.setText(f"ETA {format_eta(eta)}" if eta is not None else "")
        if event.done < len(self.items):
            row = event.done
            self.table.item(row, 1).setText(STATUS_WORKING)
            self.table.scrollToItem(self.table.item(row, 0))

    def _on_file_done(self, event: FileDone) -> None:
        row = self._rows.get(Path(event.source))
        if row is None:
            return
        if event.error:
            text = f"failed: {event.error}"
        elif event.skipped:
            text = STATUS_SKIPPED
        else:
            text = STATUS_DONE
        cell = self.table.item(row, 1)
        cell.setText(text)
        cell.setToolTip(text)

    def _on_finished(self, event: Finished) -> None:
        self.summary = dict(event.summary)
        failed = self.summary.get("failed", [])
        text = f"Done: {self.summary.get('done', 0)} written, {self.summary.get('skipped', 0)} already done"
        if failed:
            text += f", {len(failed)} failed:\n" + "\n".join(f"\u2022 {Path(n).name}: {r}" for n, r in failed)
        self.summary_label.setText(text)
        self.eta_label.clear()
        self.batch_finished.emit(self.summary)

    def _on_ended(self, outcome: str) -> None:
        if self.job is not None:
            self.job.wait()
            self.job.deleteLater()
        self.job = None
        self._set_running(False)
        if outcome == "cancelled":
            left = sum(1 for r in range(self.table.rowCount())
                       if self.table.item(r, 1).text() in (STATUS_WAITING, STATUS_WORKING))
            for r in range(self.table.rowCount()):
                if self.table.item(r, 1).text() == STATUS_WORKING:
                    self.table.item(r, 1).setText(STATUS_WAITING)
            self.summary_label.setText(f"Stopped. {left} photo(s) not done yet; Start again to resume.")

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        # Closing the dialog does not kill a running batch silently: it keeps going in the background
        # (its progress reappears when the dialog is shown again); the app's close stops it.
        super().closeEvent(event)
