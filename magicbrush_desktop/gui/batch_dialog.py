"""The batch dialog: many photos or folders -> an output folder, colorized and/or stylized.

Planning and processing are the core's (:func:`..core.batch.plan_batch`, :func:`..core.batch.run_batch`);
this dialog collects the inputs, shows each file's status, overall progress and ETA, and a summary of
failures. Stop finishes the current file (outputs are written atomically, so nothing is partial);
"skip files already done" makes a re-run resume where the last one stopped.
"""

from __future__ import annotations

import html

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
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

from ..core.batch import BatchItem, photos_below, plan_batch, run_batch
from ..core.errors import MagicBrushError
from ..core.events import FileDone, Finished, Progress
from ..core.imageio import SAVE_FORMATS
from .job_status import EtaClock, format_eta
from .worker import Job

STATUS_WAITING, STATUS_WORKING, STATUS_DONE, STATUS_SKIPPED = "waiting", "working\u2026", "done", "already done"
STATUS_FAILED = "failed"
MAX_LISTED_FAILURES = 5  # the summary names a few; every row's reason is in its tooltip and the details
REASON_ROLE = Qt.ItemDataRole.UserRole  # a failed row's full reason (the cell says just "failed")
NOTE_ROLE = Qt.ItemDataRole.UserRole + 1  # a finished row's note for the user, if any


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
        self.resize(820, 640)
        self.job: Job | None = None
        self.items: list[BatchItem] = []
        self.summary: dict | None = None
        self._left_out = ""  # what the last Start did not take (photos in sub-folders), said with its summary
        self._rows: dict[Path, int] = {}
        self._clock = EtaClock()

        self.inputs = QListWidget()
        self.inputs.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.inputs.setToolTip("Photos and folders to process")
        self.inputs.setMaximumHeight(110)  # the file table below is the main area
        self.inputs.setTextElideMode(Qt.TextElideMode.ElideMiddle)
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
        self.replace_existing = QCheckBox("Replace existing files in the output folder")
        self.replace_existing.setToolTip(
            "Off: a file already in the output folder is never replaced; the result gets a free name beside "
            "it (NAME_colorized.jpg). The photos themselves are never replaced.")
        # Skipping a done photo and replacing its output exclude each other: ticking one unticks the other.
        self.replace_existing.toggled.connect(lambda on: on and self.skip_done.setChecked(False))
        self.skip_done.toggled.connect(lambda on: on and self.replace_existing.setChecked(False))
        self.do_colorize = QCheckBox("Colorize")
        self.do_colorize.setChecked(True)
        self.do_stylize = QCheckBox("Stylize with the current style")
        self.settings_label = QLabel()
        self.settings_label.setWordWrap(True)
        self.settings_label.setToolTip("Set in the main window's Colorize and Style tabs")
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Photo", "Status"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # A fixed Status column: a long failure reason never widens it (it is in the tooltip and below).
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(1, self.fontMetrics().horizontalAdvance("already done") + 40)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setMinimumHeight(12 * self.table.verticalHeader().defaultSectionSize())
        self.details = QLabel("Select a photo to see its full path and any problem.")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.eta_label = QLabel()
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.start_button = QPushButton("Start")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Finish the current photo, then stop (nothing is left half-written)")
        self.stop_button.setEnabled(False)
        self.open_output_button = QPushButton("Open output folder")
        self.open_output_button.setToolTip("Show the results in your file manager")
        self.open_output_button.setEnabled(False)
        close = QPushButton("Close")
        # What a running batch was started with: locked until it ends, so the dialog never shows settings
        # other than the ones at work.
        self._settings_widgets = (self.inputs, add_files, add_folder, remove, self.recursive, self.output, browse,
                                  self.format_combo, self.do_colorize, self.do_stylize, self.skip_done,
                                  self.replace_existing)

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
        form.addRow("Using", self.settings_label)
        form.addRow(self.skip_done)
        form.addRow(self.replace_existing)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.eta_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_output_button)
        buttons.addStretch(1)
        for w in (self.start_button, self.stop_button, close):
            buttons.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Photos and folders"))
        layout.addLayout(input_row)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addLayout(progress_row)
        layout.addWidget(self.summary_label)
        layout.addLayout(buttons)

        add_files.clicked.connect(self._add_files)
        add_folder.clicked.connect(self._add_folder)
        remove.clicked.connect(self._remove_selected)
        browse.clicked.connect(self._browse_output)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.open_output_button.clicked.connect(self.open_output_folder)
        close.clicked.connect(self.close)
        self.table.currentCellChanged.connect(lambda row, _c, _pr, _pc: self._show_details(row))
        self.do_colorize.toggled.connect(lambda _on: self.update_settings_summary())
        self.do_stylize.toggled.connect(lambda _on: self.update_settings_summary())
        self.update_settings_summary()

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

    def update_settings_summary(self) -> None:
        """Say which model, strength and style the batch will use (the main window's current choices)."""
        describe = getattr(self.parent(), "batch_description", None)
        text = describe(self.do_colorize.isChecked(), self.do_stylize.isChecked()) if describe else ""
        self.settings_label.setText(text or "Nothing to do: tick Colorize and/or Stylize")

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.update_settings_summary()  # the main window's choices may have changed meanwhile
        super().showEvent(event)

    def output_folder(self) -> Path:
        return Path(self.output.text().strip()).expanduser()

    def open_output_folder(self) -> bool:
        folder = self.output_folder()
        return folder.is_dir() and QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def _show_details(self, row: int) -> None:
        if row < 0 or row >= len(self.items):
            return
        item = self.items[row]
        status = self.table.item(row, 1)
        reason = status.data(REASON_ROLE) if status is not None else None
        lines = [f"<b>{item.source.name}</b> \u2014 {item.source}", f"Result: {item.output}"]
        if reason:
            lines.append(f"<span style='color:#c0392b'>Failed: {reason}</span>")
        note = status.data(NOTE_ROLE) if status is not None else None
        if note:
            lines.append(f"Note: {html.escape(str(note))}")
        self.details.setText("<br>".join(lines))

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
        below = 0 if self.recursive.isChecked() else photos_below(self.input_paths())
        self._left_out = (f"{below}{'+' if below >= 10_000 else ''} photo(s) in sub-folders left out: tick "
                          "“Include sub-folders” to add them" if below else "")
        self.summary_label.setText(self._left_out)
        self._clock.restart()
        skip = self.skip_done.isChecked()
        overwrite = self.replace_existing.isChecked()
        quality = getattr(getattr(self.parent(), "app_settings", None), "quality", 95)
        provenance_of = getattr(self.parent(), "batch_provenance", None)
        provenance = provenance_of(self.do_colorize.isChecked(), self.do_stylize.isChecked()) if provenance_of else None
        self.open_output_button.setEnabled(False)

        def job():
            return run_batch(items, process, skip_existing=skip, fmt=fmt, quality=quality, provenance=provenance,
                             overwrite=overwrite)

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
        for widget in self._settings_widgets:
            widget.setEnabled(not running)

    def _fill_table(self, items: list[BatchItem]) -> None:
        self.table.setRowCount(len(items))
        self._rows = {}
        for row, item in enumerate(items):
            cell = QTableWidgetItem(str(item.source))  # elided in the middle: the file name stays visible
            cell.setToolTip(f"{item.source}\n\u2192 {item.output}")
            self.table.setItem(row, 0, cell)
            self.table.setItem(row, 1, QTableWidgetItem(STATUS_WAITING))
            self._rows[item.source] = row

    def status_of(self, source: Path) -> str:
        """The row's status, with the failure reason: "done", "failed: <reason>", ..."""
        row = self._rows[Path(source)]
        cell = self.table.item(row, 1)
        reason = cell.data(REASON_ROLE)
        return f"{cell.text()}: {reason}" if reason else cell.text()

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
        cell = self.table.item(row, 1)
        if event.error:
            cell.setText(STATUS_FAILED)
            cell.setToolTip(f"Failed: {event.error}")
            cell.setData(REASON_ROLE, event.error)
            cell.setForeground(Qt.GlobalColor.red)
        else:
            cell.setText(STATUS_SKIPPED if event.skipped else STATUS_DONE)
            note = getattr(event, "note", None)
            cell.setToolTip(note or cell.text())
            # A note (written under a free name, a damaged hints file ignored) shows in the details line.
            cell.setData(NOTE_ROLE, note)
        if row == self.table.currentRow():
            self._show_details(row)

    def _on_finished(self, event: Finished) -> None:
        self.summary = dict(event.summary)
        failed = self.summary.get("failed", [])
        text = f"Done: {self.summary.get('done', 0)} written, {self.summary.get('skipped', 0)} already done"
        if failed:
            shown = failed[:MAX_LISTED_FAILURES]
            text += f", {len(failed)} failed:\n" + "\n".join(f"\u2022 {Path(n).name}: {r}" for n, r in shown)
            if len(failed) > len(shown):
                text += f"\n\u2026 and {len(failed) - len(shown)} more (select a row for its reason)"
        renamed = self.summary.get("renamed", [])
        if renamed:
            text += (f"\n{len(renamed)} written under a new name: the usual name was taken by a file that was "
                     "kept (e.g. " + Path(renamed[0][1]).name + ")")
        if self.summary.get("stopped"):
            text = (f"Stopped: {self.summary['stopped']}. " + text + f"\n{len(self.summary.get('not_done', []))} "
                    "photo(s) not tried; free some space and Start again (photos already done are skipped).")
        if self._left_out:
            text += "\n" + self._left_out
        self.summary_label.setText(text)
        self.eta_label.clear()
        self.open_output_button.setEnabled(self.output_folder().is_dir())
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
