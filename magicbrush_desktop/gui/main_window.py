"""The main window: canvas, Colorize and Style panels, menus, undo/redo, status bar and jobs.

The window orchestrates; it computes nothing itself. Colorization and style transfer live in widget-free
controllers (:class:`.colorize_controller.ColorizeController`, :class:`.style_controller.StyleController`);
they, the batch, training, and reading and writing photos run core generators as :class:`.worker.Job` on
worker threads, so the UI thread never waits for a network, a compose or the disk. Errors arrive as
readable messages and are shown in a (non-blocking) dialog.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
from PySide6.QtCore import QByteArray, QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QWidget,
)

from ..core.errors import MagicBrushError
from ..core.files import same_file
from ..core.events import Finished
from ..core.imageio import READ_EXTENSIONS, Photo, is_image_path, read_photo, save_image
from ..core.pipeline import ColorizeResult, run_to_end
from ..core.provenance import Provenance
from . import prompts
from .action_icons import action_icon
from .canvas import PhotoCanvas
from .colorize_controller import ColorizeController
from .colorize_panel import ColorizePanel
from .export_dialog import ExportDialog
from .gallery import StyleGallery
from .history import STRENGTH_MERGE_ID, Step, StepCommand
from .icons import app_icon
from .imaging import to_qimage
from .job_status import JobStatus
from .settings import AppSettings, add_recent_file, recent_files, window_settings
from .style_controller import StyleController
from .style_panel import StylePanel
from .preload import TORCH, Preloader
from .worker import FINISHED, Job, JobFactory, readable_error
from .widgets import available_geometry, size_within_screen

if TYPE_CHECKING:  # torch-heavy: imported by the worker threads that use them, after the window shows
    from ..core.colorize import ChromaPrediction
    from ..core.style.engine import StyleEngine
    from ..core.style.settings import StyleSettings

log = logging.getLogger(__name__)

APP_TITLE = "Magic Brush"
DEFAULT_SIZE = (1280, 820)  # the first window, when the screen has room for it
DOCK_WIDTH, DOCK_MIN_WIDTH = 340, 260


class MainWindow(QMainWindow):
    """Magic Brush's main window.

    Args:
        style_engine: the VGG feature engine for style transfer; default: a real one, built on first use
            (tests pass one with a tiny random-weight network).
        gallery: the style gallery; default: the user's gallery.
    """

    photo_changed = Signal()
    step_changed = Signal(str)  # kind of the step now shown
    job_ended = Signal(str, str)  # job name, outcome
    open_ended = Signal(str, bool)  # the path open_path() read, whether it is the window's photo now
    save_ended = Signal(object)  # the Path written by save_to(), or None when writing failed

    def __init__(self, *, style_engine: StyleEngine | None = None, gallery: StyleGallery | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(APP_TITLE)
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.app_settings = AppSettings.load()

        self.photo: Photo | None = None
        self.step: Step | None = None
        self.save_path: Path | None = None
        self.undo_stack = QUndoStack(self)
        self.jobs: list[Job] = []
        self._no_cancel: set[Job] = set()  # jobs Stop leaves running (a save: half a file helps nobody)
        self._open_job: Job | None = None
        self._saving: tuple[Job, Photo, Step] | None = None  # the save job, the photo and step it writes
        self.preloader: Preloader | None = None  # start_preload(): torch, colorizer, VGG19 in the background
        self.batch_dialog = None
        self.train_dialog = None

        self.canvas = PhotoCanvas()
        self.setCentralWidget(self.canvas)
        self.colorize_panel = ColorizePanel()
        self.style_panel = StylePanel()
        self.gallery = gallery or StyleGallery()
        # Style transfer's engines, session, job and live weights live in a widget-free controller;
        # colorization's model cache, job and strength re-blends in another.
        self.style = StyleController(self.start_job, self.gallery, engine=style_engine,
                                     preloader=lambda: self.preloader, parent=self)
        self.colorization = ColorizeController(self.start_job, preloader=lambda: self.preloader, parent=self)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.colorize_panel, "Colorize")
        self.tabs.addTab(self.style_panel, "Style")
        self.dock = QDockWidget("Tools", self)
        self.dock.setObjectName("tools_dock")
        self.dock.setWidget(self.tabs)
        # Closable: View ▸ Tools (F9) hides and shows it, for a photo-only window.
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                              | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)

        self.job_status = JobStatus()
        self.zoom_label = QLabel()
        self.statusBar().addPermanentWidget(self.job_status)
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.canvas.zoom_changed.connect(lambda pct: self.zoom_label.setText(f"{pct:.0f} %"))

        self._build_actions()
        self._build_menus()
        self._connect_panels()
        from .hints_controller import HintsController  # the magic brush: its panel, overlay and actions

        self.hint_tool = HintsController(self)  # adds the Brush tab, toolbar button and Image menu entries
        self.colorize_panel.set_device(self.app_settings.device)
        if self.app_settings.model:
            self.colorize_panel.refresh_models(select=self.app_settings.model)
        if self.app_settings.render_size:
            self.colorize_panel.render_size.setValue(self.app_settings.render_size)
        self.refresh_gallery()
        self._restore_window_state()
        self._update_actions()
        if "torch" in sys.modules:  # already loaded (tests, a second window): CUDA's state is known
            self.colorize_panel.set_cuda_available(sys.modules["torch"].cuda.is_available())

    # --- construction -------------------------------------------------------------------------------

    def _action(self, text: str, slot: Callable, shortcut=None, tip: str = "", icon: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        if icon:
            action.setIcon(action_icon(icon))
        action.triggered.connect(lambda checked=False: slot())
        return action

    @staticmethod
    def _tooltip(action: QAction, tip: str) -> None:
        """Toolbar tooltip: what it does and its key, e.g. "Colorize the photo (Ctrl+R)"."""
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({keys})" if keys else tip)

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.open_action = self._action("&Open\u2026", self.open_dialog, K.Open, "Open a photo", "open")
        self.save_action = self._action("&Save", self.save, K.Save, "Save the result", "save")
        self.export_action = self._action("Save &As / Export\u2026", self.export_dialog, K.SaveAs,
                                          "Save the result in a chosen format and quality", "export")
        self.batch_action = self._action("&Batch\u2026", self.open_batch_dialog, "Ctrl+B",
                                         "Colorize or stylize many photos")
        self.quit_action = self._action("&Quit", self.close, K.Quit)
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence(K.Undo))
        self.undo_action.setIcon(action_icon("undo"))
        self.undo_action.setIconText("Undo")
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence(K.Redo), QKeySequence("Ctrl+Y")])
        self.redo_action.setIcon(action_icon("redo"))
        self.redo_action.setIconText("Redo")
        self.zoom_in_action = self._action("Zoom &In", self.canvas.zoom_in, K.ZoomIn, icon="zoom-in")
        self.zoom_out_action = self._action("Zoom &Out", self.canvas.zoom_out, K.ZoomOut, icon="zoom-out")
        self.fit_action = self._action("&Fit to Window", self.canvas.zoom_fit, "Ctrl+0", icon="fit")
        self.actual_action = self._action("&100 %", self.canvas.zoom_100, "Ctrl+1")
        self.side_action = QAction("&Side by Side", self, checkable=True)
        self.side_action.setShortcut(QKeySequence("Ctrl+T"))
        self.side_action.setIcon(action_icon("side-by-side"))
        self.side_action.toggled.connect(self.canvas.set_side_by_side)
        # The before/after toggle: "\" as in Lightroom (shows the original while on).
        self.original_action = QAction("Show &Original (Before)", self, checkable=True)
        self.original_action.setShortcut(QKeySequence("\\"))
        self.original_action.setIcon(action_icon("compare"))
        self.original_action.toggled.connect(self.canvas.set_show_original)
        self.colorize_action = self._action("&Colorize", self.colorize, "Ctrl+R", icon="colorize")
        self.stylize_action = self._action("&Stylize", self.run_style, "Ctrl+Shift+R", icon="stylize")
        self.stop_action = self._action("S&top", self.cancel_jobs, "Esc", "Stop the running job", "stop")
        self.train_action = self._action("&Train a Colorizer\u2026", self.open_train_dialog, None,
                                         "Train a colorization model on your own colour photos")
        self.about_action = self._action("&About Magic Brush", self.show_about)
        self.shortcuts_action = self._action("&Keyboard Shortcuts", self.show_shortcuts, "Ctrl+/",
                                             "Every key the app knows")
        self.dock.toggleViewAction().setShortcut(QKeySequence("F9"))
        self.dock.toggleViewAction().setText("&Tools Panel")
        for action, tip in ((self.open_action, "Open a photo"), (self.export_action, "Save As / Export"),
                            (self.colorize_action, "Colorize the photo"),
                            (self.stylize_action, "Stylize with the selected style"),
                            (self.side_action, "Side by side: before and after next to each other"),
                            (self.original_action, "Show the original (before/after toggle)"),
                            (self.fit_action, "Fit the photo to the window"),
                            (self.stop_action, "Stop the running job")):
            self._tooltip(action, tip)
        self.undo_stack.indexChanged.connect(self._on_history_index)
        self.undo_stack.cleanChanged.connect(lambda _clean: self._update_title())

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit = bar.addMenu("&Edit")
        edit.addAction(self.undo_action)
        edit.addAction(self.redo_action)
        view = bar.addMenu("&View")
        for a in (self.zoom_in_action, self.zoom_out_action, self.fit_action, self.actual_action):
            view.addAction(a)
        view.addSeparator()
        view.addAction(self.side_action)
        view.addAction(self.original_action)
        view.addSeparator()
        view.addAction(self.dock.toggleViewAction())
        image = bar.addMenu("&Image")
        self.image_menu = image
        for a in (self.colorize_action, self.stylize_action, self.stop_action):
            image.addAction(a)
        tools = bar.addMenu("&Tools")
        tools.addAction(self.batch_action)  # the README's Tools ▸ Batch
        tools.addAction(self.train_action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.shortcuts_action)
        help_menu.addSeparator()
        help_menu.addAction(self.about_action)
        # Icons only, with tooltips: every button keeps its width ("Undo Stylize (…)" is a tooltip).
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        toolbar.setIconSize(QSize(24, 24))
        toolbar.setMovable(False)
        self.toolbar = toolbar
        for group in ((self.open_action, self.export_action), (self.undo_action, self.redo_action),
                      (self.colorize_action, self.stylize_action, self.stop_action),
                      (self.original_action, self.side_action, self.fit_action)):
            if toolbar.actions():
                toolbar.addSeparator()
            for a in group:
                toolbar.addAction(a)

    def _connect_panels(self) -> None:
        cp = self.colorize_panel
        cp.colorize_requested.connect(self.colorize)
        cp.strength_changed.connect(self._on_strength_live)
        cp.strength_committed.connect(self._on_strength_committed)
        sp = self.style_panel
        sp.run_requested.connect(self.run_style)
        sp.stop_requested.connect(self.stop_style)
        sp.weights_changed.connect(self._on_style_weights_changed)
        sp.start_over_requested.connect(self.start_over_style)
        st = self.style
        st.preview.connect(lambda image, caption: self.canvas.set_after(to_qimage(image), caption))
        st.readout.connect(self.style_panel.show_readout)
        st.stylized.connect(self._style_result)
        st.running_changed.connect(lambda _running: self._update_actions())
        cz = self.colorization
        cz.colorized.connect(self._colorize_done)
        cz.strength_preview.connect(self._show_strength_preview)
        cz.strength_applied.connect(self._strength_applied)
        cz.running_changed.connect(lambda _running: self._update_actions())
        sp.import_requested.connect(self.import_styles)
        sp.add_style_clicked.connect(self.add_style_dialog)
        self.job_status.cancel_clicked.connect(self.cancel_jobs)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in recent_files():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda checked=False, p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(self.recent_menu.actions()))

    def _on_history_index(self, _index: int) -> None:
        self._update_actions()
        self._update_title()

    def _update_actions(self) -> None:
        has_photo = self.photo is not None
        has_result = self.step is not None and self.step.kind != "original"
        # One save at a time: a second one would race the first for the same file.
        self.save_action.setEnabled(has_result and not self.saving)
        self.export_action.setEnabled(has_photo and not self.saving)
        for action in (self.zoom_in_action, self.zoom_out_action, self.fit_action, self.actual_action,
                       self.side_action, self.original_action):
            action.setEnabled(has_photo)
        stoppable = any(job not in self._no_cancel for job in self.jobs)
        self.stop_action.setEnabled(stoppable)
        self.job_status.set_cancellable(stoppable)
        # While another photo is being read, nothing starts on the one shown: it is about to go.
        self.colorize_action.setEnabled(has_photo and not self.opening and not self.colorization.running
                                        and self.colorize_panel.model_name() is not None)
        self.colorize_panel.colorize_button.setEnabled(self.colorize_action.isEnabled())
        style_ok = has_photo and not self.opening and not self.style.running
        self.stylize_action.setEnabled(style_ok)
        self.style_panel.set_running(self.style.running)
        self.style_panel.run_button.setEnabled(style_ok)
        self.style_panel.start_over_button.setEnabled(
            self.style.running or self.style.has_picture_for(self._style_content()))
        stylized = self.step is not None and self.step.kind == "stylized"
        self.colorize_panel.set_strength_available(
            self._colorized_step() is not None,
            "Colour strength re-blends the colorized picture, and this one is stylized: undo the style "
            "(Ctrl+Z) to change the strength, then stylize again" if stylized else "")

    # --- opening ------------------------------------------------------------------------------------

    def open_dialog(self) -> None:
        patterns = " ".join(f"*{ext}" for ext in sorted(READ_EXTENSIONS))
        path, _ = QFileDialog.getOpenFileName(self, "Open a photo", self._last_folder(),
                                              f"Images ({patterns});;All files (*)")
        if path:
            self.open_path(path)

    def _last_folder(self) -> str:
        items = recent_files()
        return str(Path(items[0]).parent) if items else str(Path.home())

    @property
    def opening(self) -> bool:
        """Whether a photo is being read (open_path's job)."""
        return self._open_job is not None

    def open_path(self, path: str | Path, *, wait: bool = False) -> bool:
        """Open a photo: it is read in a worker (a 40 MP file takes seconds; the window stays responsive
        and the status bar says "Opening …"), then shown; ``photo_changed`` and ``open_ended`` follow, or
        a readable error dialog and ``open_ended(path, False)``.

        An unsaved result (or a style run in progress) is not dropped silently: the user is asked first.
        Returns False when the user kept the current photo, else True (the photo is on its way). With
        ``wait`` (scripts and benchmarks that have no event loop to wait in) the photo is read on the
        calling thread and True means it is shown.
        """
        if not self.confirm_leave("open"):
            return False
        if self.style.running or self.colorization.running:
            self.cancel_jobs(wait=True)
        if self._open_job is not None:
            self._open_job.cancel()  # the latest photo asked for wins; the earlier read is dropped
            self._open_job = None
        target = Path(path)

        def read():
            yield Finished(read_photo(target))

        if wait:
            finished, error = self._run_here(read, "open")
            return self._opened(path, finished.result if finished is not None else None, error)

        def wire(j: Job) -> None:
            j.ended.connect(lambda outcome, j=j: self._open_job_ended(j, outcome, path))

        self._open_job = self.start_job(read, "open", f"Opening {target.name}\u2026", wire,
                                        error_title="Cannot open the photo")
        self._update_actions()
        return True

    def _open_job_ended(self, job: Job, outcome: str, path: str | Path) -> None:
        if job is not self._open_job:
            return  # a newer open superseded it, or cancel_jobs(wait=True) forgot it
        self._open_job = None
        photo = job.result.result if outcome == FINISHED and job.result is not None else None
        # The job's failure dialog was shown by start_job; a cancelled read just keeps the photo shown.
        self._opened(path, photo, None)

    def _opened(self, path: str | Path, photo: Photo | None, error: str | None) -> bool:
        """A read ended: show ``photo``, or say why not (``error``, when no dialog said it yet)."""
        if photo is None:
            if error is not None:
                self.show_error("Cannot open the photo", error)
            self._update_actions()
            self.open_ended.emit(str(path), False)
            return False
        self.set_photo(photo)
        add_recent_file(path)
        self.open_ended.emit(str(path), True)
        return True

    @staticmethod
    def _run_here(factory: JobFactory, name: str) -> tuple[Finished | None, str | None]:
        """Run a job's generator on this thread, as a :class:`Job` would on its own: its ``Finished``,
        or None and a readable message (any failure is a message, never a traceback)."""
        try:
            return run_to_end(factory()), None
        except Exception as exc:  # noqa: BLE001 - the same rule as worker.Job
            log.error("%s failed:\n%s", name, traceback.format_exc())
            return None, readable_error(exc)

    def set_photo(self, photo: Photo) -> None:
        """Show a new photo: a fresh history whose first step is the original."""
        self.photo = photo
        self.save_path = None
        self.style.forget()
        self.colorization.forget()
        self.undo_stack.clear()
        self.step = Step("original", photo.rgb, caption="Original")
        self.canvas.set_photo(to_qimage(photo.rgb), None)
        self.original_action.setChecked(False)
        self._update_title()
        for note in photo.notes:
            self.statusBar().showMessage(note, 8000)
        self._update_actions()
        self.photo_changed.emit()

    # --- drag and drop ------------------------------------------------------------------------------

    @staticmethod
    def _dropped_paths(mime) -> list[Path]:
        if not mime.hasUrls():
            return []
        return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        paths = self._dropped_paths(event.mimeData())
        if paths and all(p.is_dir() or is_image_path(p) for p in paths):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = self._dropped_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.handle_dropped_paths(paths)

    def handle_dropped_paths(self, paths: list[Path]) -> None:
        """One photo opens it; several photos or a folder go to the batch dialog."""
        if len(paths) == 1 and paths[0].is_file():
            self.open_path(paths[0])
        else:
            self.open_batch_dialog(paths)

    # --- history ------------------------------------------------------------------------------------

    def _apply_step(self, step: Step) -> None:
        """Show a step (called by undo/redo commands)."""
        self.step = step
        self.colorization.drop_previews()  # a preview of the step before must not paint over this one
        if step.kind == "colorized":
            self.colorize_panel.set_strength(step.strength)
        self.canvas.set_after(None if step.kind == "original" else to_qimage(step.image), step.caption)
        self._update_actions()
        self.step_changed.emit(step.kind)

    def push_step(self, step: Step, text: str, merge_id: int = -1) -> None:
        assert self.step is not None
        self.undo_stack.push(StepCommand(self._apply_step, self.step, step, text, merge_id))

    def _colorized_step(self) -> Step | None:
        """The step the strength slider re-blends: the current one, when it is a colorized picture.

        Not the colorized step under a stylized one: the painting was made from that colour, so
        re-blending it would put an unpainted picture on the canvas in place of the painting (and the
        style would not follow). The slider waits until the style is undone.
        """
        step = self.step
        return step if step is not None and step.kind == "colorized" and step.chroma is not None else None

    # --- jobs ---------------------------------------------------------------------------------------

    def start_job(self, factory: JobFactory, name: str, message: str, wire: Callable[[Job], None] | None = None,
                  *, error_title: str | None = None, cancellable: bool = True) -> Job:
        """Run a core generator on a worker thread, wired to the status bar and error dialogs.

        ``wire(job)`` connects the caller's slots *before* the thread starts: a fast job could otherwise
        emit its events before anyone listens, and they would be lost. ``error_title`` heads the failure
        dialog (default "<Name> failed"); a job that is not ``cancellable`` is left running by Stop and
        waited for on close.
        """
        job = Job(factory, name, self)
        job.progress.connect(self.job_status.update_progress)
        title = error_title or f"{name.capitalize()} failed"
        job.failed.connect(lambda msg, t=title: self.show_error(t, msg))
        job.ended.connect(lambda outcome, j=job: self._job_ended(j, outcome))
        if wire is not None:
            wire(job)
        self.jobs.append(job)
        if not cancellable:
            self._no_cancel.add(job)
        self.job_status.begin(message)
        job.start()
        self._update_actions()
        return job

    def _job_ended(self, job: Job, outcome: str) -> None:
        job.wait()
        self._no_cancel.discard(job)
        if job in self.jobs:
            self.jobs.remove(job)
        if not self.jobs:
            self.job_status.end()
        self._update_actions()
        self.job_ended.emit(job.name, outcome)
        job.deleteLater()

    def cancel_jobs(self, wait: bool = False) -> None:
        """Stop every running job (each stops at its next step or file); a save is not stopped but
        finishes its file. With ``wait``, wait for all of them."""
        stoppable = [job for job in self.jobs if job not in self._no_cancel]
        for job in stoppable:
            job.cancel()
        self.colorization.cancel()  # also its screen-size preview worker, which is not a window job
        if stoppable:
            self.job_status.cancelling()
        if wait:
            for job in list(self.jobs):
                job.wait()
                # Its queued `ended` may arrive later (or never, if the window is closing): forget it now.
                self.jobs.remove(job)
            self.colorization.cancel(wait=True)
            self.style.job = None
            self._open_job = None
            self._finish_save()  # written already: take its outcome now
            self._no_cancel.clear()
            self.job_status.end()
            self._update_actions()

    def is_busy(self) -> bool:
        return bool(self.jobs)

    # --- colorize -----------------------------------------------------------------------------------

    def colorize(self) -> None:
        """Predict colours in a worker (the colorize controller loads or reuses the model there too),
        then show the result as a history step."""
        if self.photo is None or self.opening or self.colorization.running:
            return
        model = self.colorize_panel.model_name()
        if model is None:
            self.show_error("No model", "No colorization model is installed. Train one with Tools \u25b8 Train.")
            return
        photo = self.photo
        self.colorization.colorize(photo, model=model, device=self.colorize_panel.device(),
                                   render_size=self.colorize_panel.render_size.value(),
                                   strength=self.colorize_panel.strength_value(),
                                   adjust_chroma=self.hint_tool.prepare_colorize(photo))
        self._update_actions()

    def _colorize_done(self, result: ColorizeResult, photo: Photo, model: str, device: str) -> None:
        if photo is not self.photo:
            return  # another photo was opened meanwhile
        self.app_settings.model, self.app_settings.device = model, device
        name = result.colorizer.name
        self.push_step(Step("colorized", result.rgb, chroma=result.chroma, strength=result.strength,
                            caption=f"Colorized ({name})",
                            provenance=Provenance(model=name, strength=result.strength)), "Colorize")

    def _screen_side(self) -> int:
        """Longest side worth composing for a live preview: the canvas in physical pixels."""
        ratio = self.canvas.devicePixelRatioF()
        return max(256, int(max(self.canvas.width(), self.canvas.height()) * ratio))

    def _still_shown(self, photo: Photo, chroma: ChromaPrediction) -> Step | None:
        """The colorized step a strength picture of ``photo`` and ``chroma`` belongs to, if it is the
        current one (not after another photo, an undo or a style run)."""
        step = self._colorized_step()
        return step if step is not None and photo is self.photo and step.chroma is chroma else None

    def _on_strength_live(self, strength: float) -> None:
        """The slider is being dragged: re-blend the colour at screen size in the controller's worker."""
        step = self._colorized_step()
        if step is None or self.photo is None:
            return  # nothing colorized shown (a stylized step keeps its painting)
        self.colorization.preview_strength(self.photo, step.chroma, strength, self._screen_side())

    def _show_strength_preview(self, image: np.ndarray, photo: Photo, chroma: ChromaPrediction,
                               strength: float) -> None:
        if self._still_shown(photo, chroma) is not None:
            self.canvas.set_after(to_qimage(image), f"Colour strength {strength:.2f}")

    def _on_strength_committed(self, strength: float) -> None:
        """Compose the full-resolution picture in a worker, then make it a (merged) history step."""
        step = self._colorized_step()
        if step is None or self.photo is None:
            return
        if abs(step.strength - strength) < 1e-9:
            # Back where it was: nothing to compose, and the step's own picture replaces any preview.
            self.colorization.drop_previews()
            self.canvas.set_after(to_qimage(step.image), step.caption)
            return
        self.colorization.apply_strength(self.photo, step.chroma, strength)

    def _strength_applied(self, image: np.ndarray, photo: Photo, chroma: ChromaPrediction, strength: float) -> None:
        step = self._still_shown(photo, chroma)
        if step is None:
            return
        model = step.provenance.model if step.provenance is not None else None
        self.push_step(Step("colorized", image, chroma=chroma, strength=strength,
                            caption=f"Colorized, strength {strength:.2f}",
                            provenance=Provenance(model=model, strength=strength)),
                       "Colour Strength", STRENGTH_MERGE_ID)

    # --- style --------------------------------------------------------------------------------------

    def style_engine(self, device: str = "auto") -> StyleEngine:
        """The style engine for ``device`` (the style controller's). Imports torch: call it from a
        worker thread (the preloader's or a job's); thread-safe."""
        return self.style.engine(device)

    def start_preload(self) -> Preloader:
        """Load torch, the selected colorizer and VGG19 in the background, saying so in the status bar.

        Called once the window shows; jobs that need them wait for them in their worker threads.
        """
        if self.preloader is None:
            device = self.colorize_panel.device()
            pre = Preloader(self.colorize_panel.model_name(), device, lambda: self.style_engine(device), self)
            pre.stage_started.connect(lambda _stage, message: self.statusBar().showMessage(message))
            pre.stage_done.connect(self._on_preload_stage)
            pre.all_done.connect(self._on_preload_done)
            self.preloader = pre
            pre.start()
        return self.preloader

    def _on_preload_stage(self, stage: str) -> None:
        if stage == TORCH and self.preloader is not None:
            self.colorize_panel.set_cuda_available(self.preloader.cuda_available)

    def _on_preload_done(self) -> None:
        errors = self.preloader.errors if self.preloader is not None else {}
        if errors:
            self.statusBar().showMessage("Not loaded: " + "; ".join(errors.values()), 10000)
        else:
            self.statusBar().showMessage("Ready", 3000)

    def _style_content(self) -> np.ndarray | None:
        """The picture to stylize: the picture shown, so a colorized result is stylized as it is.

        Colour comes first because the colorizer predicts it from a photo's lightness and was trained on
        photos, not paintings; the style run then paints from the coloured picture (it takes the photo's
        colours with it, or keeps them with "preserve colours"). A stylized step re-runs from the
        picture it was painted from.
        """
        if self.step is None:
            return None
        if self.step.kind == "stylized":
            return self.step.content
        return self.hint_tool.full_image(self.step)

    def run_style(self) -> None:
        """Stylize the current picture from the photo; during a run, start it over from the photo."""
        content = self._style_content()
        settings = self.style_panel.settings()
        if content is None or self.opening:
            return
        if settings is None:
            self.show_error("No style selected", "Choose a style in the gallery first, or add a painting.")
            return
        self.style.run(content, settings, self.colorize_panel.device())
        self._update_actions()

    def start_over_style(self) -> None:
        """Back to the photo: the running optimisation restarts from it, or a new run starts."""
        settings = self.style_panel.settings()
        if settings is None:
            return
        if self.style.running:
            self.style.start_over(settings)
        else:
            self.style.forget()
            self.run_style()

    def stop_style(self) -> None:
        if self.style.running:
            self.style.stop()
            self.job_status.cancelling()

    def _style_result(self, image: np.ndarray, content: np.ndarray, settings: StyleSettings) -> None:
        """A finished (or stopped) style run's picture becomes a history step, if it still applies."""
        if self._style_content() is content:  # still the same picture (no other photo opened meanwhile)
            self._push_stylized(image, content, settings)

    def _model_of(self, picture: np.ndarray) -> str | None:
        """The colorizer model behind ``picture`` if it is a colorized step's picture (for provenance)."""
        steps = [self.step] + [self.undo_stack.command(i).after for i in range(self.undo_stack.count())
                               if isinstance(self.undo_stack.command(i), StepCommand)]
        for step in steps:
            if step is not None and step.image is picture and step.provenance is not None:
                return step.provenance.model
        return None

    def style_names(self, keys: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        """Display names of gallery keys: the gallery's own names, used in captions, history and files."""
        return tuple(self.gallery.display_name(key) for key in keys)

    def _push_stylized(self, image: np.ndarray, content: np.ndarray, settings: StyleSettings) -> None:
        names = self.style_names(settings.styles)
        name = " + ".join(names)
        step = Step("stylized", image, content=content, caption=f"Stylized ({name})",
                    provenance=Provenance(model=self._model_of(content), styles=names))
        if self.step is not None and self.step.kind == "stylized" and self.step.content is content:
            # A warm restart refines the same stylization: replace it rather than stacking steps.
            self.undo_stack.push(StepCommand(self._apply_step, self.step, step, f"Stylize ({name})"))
        else:
            self.push_step(step, f"Stylize ({name})")

    def _on_style_weights_changed(self) -> None:
        """A weight slider settled: a running optimisation takes the new weights at its next step; a
        finished one refines from its picture when Live is on. Nothing else starts without Run."""
        settings = self.style_panel.settings()
        if settings is None:
            return
        self.style.set_weights(self._style_content(), settings, self.colorize_panel.device(),
                               live=self.style_panel.live.isChecked())
        self._update_actions()

    # --- gallery ------------------------------------------------------------------------------------

    def refresh_gallery(self, select: str | None = None) -> None:
        try:
            entries = self.gallery.entries()
        except MagicBrushError as exc:
            self.show_error("Style gallery", str(exc))
            entries = []
        self.style_panel.set_entries(entries, select=select)

    def add_style_dialog(self) -> None:
        patterns = " ".join(f"*{ext}" for ext in sorted(READ_EXTENSIONS))
        paths, _ = QFileDialog.getOpenFileNames(self, "Add styles", self._last_folder(), f"Images ({patterns})")
        if paths:
            self.import_styles(paths)

    def import_styles(self, paths: list[str]) -> None:
        """Import paintings (files or folders) into the gallery; errors are listed, not fatal."""
        added, errors = self.gallery.import_paths([Path(p) for p in paths])
        self.refresh_gallery(select=added[-1] if added else None)
        if errors:
            self.show_error("Some styles were not added", "\n".join(errors))
        elif added:
            names = self.style_names(added)
            self.statusBar().showMessage(f"Added {len(added)} style(s): {', '.join(names)}", 6000)

    # --- saving -------------------------------------------------------------------------------------

    def current_image(self) -> np.ndarray | None:
        """The current picture at full resolution (a brush step composes it here, on this thread)."""
        return self.hint_tool.full_image(self.step) if self.step is not None else None

    @property
    def saving(self) -> bool:
        """Whether a save job is writing a file."""
        return self._saving is not None

    def save(self, *, wait: bool = False) -> Path | None:
        """Save to the file saved last (Ctrl+S), or ask where (Save As) the first time; see save_to."""
        if self.save_path is None:
            return self.export_dialog(wait=wait)
        return self.save_to(self.save_path, fmt=None, quality=self.app_settings.quality,
                            keep_metadata=self.app_settings.keep_metadata, wait=wait)

    def current_provenance(self) -> Provenance | None:
        """What made the current picture (None for the original)."""
        if self.step is None or self.step.kind == "original":
            return None
        return self.step.provenance

    def make_export_dialog(self) -> ExportDialog | None:
        """The Save As / Export dialog, in the last export folder (else the photo's), not yet shown."""
        if self.photo is None:
            return None
        stem = self.photo.path.stem if self.photo.path else "untitled"
        folder = self.photo.path.parent if self.photo.path else Path.home()
        last = Path(self.app_settings.export_folder).expanduser() if self.app_settings.export_folder else None
        if last is not None and last.is_dir():
            folder = last
        prov = self.current_provenance()
        return ExportDialog(folder / f"{stem}_{self.step.kind if self.step else 'result'}",
                            self.app_settings.output_format, self.app_settings.quality, self,
                            keep_metadata=self.app_settings.keep_metadata,
                            provenance=prov.description() if prov is not None else "")

    def export_dialog(self, *, wait: bool = False) -> Path | None:
        """Save As / Export: ask for a file, format and quality, then save_to() it."""
        dialog = self.make_export_dialog()
        if dialog is None or not dialog.exec():
            return None
        path, fmt, quality = dialog.values()
        self.app_settings.output_format, self.app_settings.quality = fmt, quality
        self.app_settings.keep_metadata = dialog.keep_metadata()
        written = self.save_to(path, fmt, quality, keep_metadata=dialog.keep_metadata(), wait=wait)
        if written is not None:
            self.app_settings.export_folder = str(written.parent)
        return written

    def save_to(self, path: str | Path, fmt: str | None = None, quality: int = 95, *,
                keep_metadata: bool = True, wait: bool = False) -> Path | None:
        """Save the current picture (EXIF, ICC and alpha of the original kept) with its provenance.

        The checks (never the original, ask before replacing another file) run here; composing and
        writing (atomically, fsync'd) run in a job that Stop leaves alone, while the status bar says
        "Saving …"; ``save_ended`` follows. Returns the file being written, or None when nothing is
        saved: no picture, the original, the user declined, or a save still running. With ``wait`` the
        file is written on this thread before it returns (the quit prompt's Save needs it done), and
        None also means the write failed.
        """
        if self.photo is None or self.step is None:
            return None
        if self.saving:
            if not wait:
                self.statusBar().showMessage("Still saving the last file\u2026", 4000)
                return None
            self._finish_save()
        target = Path(path).expanduser()
        # The original is never written over; another existing file only when the user says so (the
        # file this window saved last is its own: Save replaces it without asking).
        if self.photo.path is not None and same_file(target, self.photo.path):
            self.show_error("Cannot save", f"\u201c{target.name}\u201d is the original photo; Magic Brush never "
                            "writes over it. Choose another name.")
            return None
        replace = self.save_path is not None and same_file(target, Path(self.save_path))
        if not replace and os.path.lexists(target):
            if not self.confirm_replace_file(target):
                return None
            replace = True
        photo, step = self.photo, self.step
        # Everything the job needs, taken now: the user may go on editing while it writes.
        picture = self.hint_tool.full_image_later(step)
        provenance = self.current_provenance()
        write_hints = self.hint_tool.sidecar_writer()

        def write():
            written = save_image(target, picture(), like=photo, fmt=fmt, quality=quality, provenance=provenance,
                                 keep_metadata=keep_metadata, replace=replace)
            yield Finished((written, write_hints(written)))

        if wait:
            finished, error = self._run_here(write, "save")
            if finished is None:
                self.show_error("Cannot save", error or "unknown error")
            return self._saved(photo, step, finished.result if finished is not None else None)

        def wire(j: Job) -> None:
            j.ended.connect(lambda _outcome, j=j: self._save_job_ended(j))

        running = self.start_job(write, "save", f"Saving {target.name}\u2026", wire, error_title="Cannot save",
                                 cancellable=False)
        self._saving = (running, photo, step)
        self._update_actions()
        return target

    def _save_job_ended(self, job: Job) -> None:
        if self._saving is not None and self._saving[0] is job:
            self._finish_save()

    def _finish_save(self) -> Path | None:
        """Wait for the running save job (if any) and take its outcome now; its ended signal is then
        ignored. The written file, or None."""
        if self._saving is None:
            return None
        job, photo, step = self._saving
        self._saving = None
        job.wait()
        # A failure's dialog comes from start_job.
        done = job.result.result if job.outcome == FINISHED and job.result is not None else None
        return self._saved(photo, step, done)

    def _saved(self, photo: Photo, step: Step, done: tuple[Path, str | None] | None) -> Path | None:
        """A save of ``step`` of ``photo`` ended: ``done`` is (file written, why the hints were not
        written beside it) or None when it failed."""
        self._update_actions()
        if done is None:
            self.save_ended.emit(None)
            return None
        written, hints_note = done
        if photo is self.photo:
            self.save_path = written
            if self.step is step:
                self.undo_stack.setClean()  # what is shown is now safe on disk
        self.statusBar().showMessage(f"Saved {written}" + (f"; {hints_note}" if hints_note else ""), 8000)
        self.save_ended.emit(written)
        return written

    def confirm_replace_file(self, path: Path) -> bool:
        """Ask before Save As replaces an existing file (one this window did not just write)."""
        answer = QMessageBox.question(
            self, "Replace file?", f"\u201c{path.name}\u201d already exists in {path.parent}. Replace it?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    # --- unsaved work -------------------------------------------------------------------------------

    def has_unsaved_result(self) -> bool:
        """A colorized or stylized picture is shown that has not been saved since it was made."""
        return self.step is not None and self.step.kind != "original" and not self.undo_stack.isClean()

    def running_work(self, include_dialogs: bool = True) -> list[str]:
        """Kinds of jobs that quitting would stop: a style run or colorizing, a batch, training."""
        kinds = []
        if self.style.running:
            kinds.append("style")
        if self.colorization.running:
            kinds.append("colorize")
        if include_dialogs:
            for kind, dialog in (("batch", self.batch_dialog), ("training", self.train_dialog)):
                if dialog is not None and dialog.job is not None and not dialog.job.isFinished():
                    kinds.append(kind)
        return kinds

    def confirm_leave(self, action: str = "quit") -> bool:
        """Ask Save / Don't Save / Cancel before work is lost; True when it is fine to go on.

        ``action``: "quit" (closing the window: batch and training count too) or "open" (another photo).
        """
        # A save on its way cannot be stopped: let it finish, so the question is about what is unsaved.
        self._finish_save()
        unsaved = self.has_unsaved_result()
        running = self.running_work(include_dialogs=action == "quit")
        if not unsaved and not running:
            return True
        document = self.photo.path.name if self.photo is not None and self.photo.path else "untitled"
        answer = prompts.ask(self, action=action, document=document, unsaved=unsaved, running=running)
        if answer == prompts.CANCEL:
            return False
        if answer == prompts.SAVE:
            # Written before going on (the window closes, or another photo replaces this one); a
            # cancelled or failed save keeps the window as it is.
            return self.save(wait=True) is not None
        return True

    def _update_title(self) -> None:
        if self.photo is None:
            self.setWindowTitle(APP_TITLE)
            return
        name = self.photo.path.name if self.photo.path else "untitled"
        # "[*]" is where Qt puts the modified marker ("*"), shown while the result is unsaved.
        self.setWindowTitle(f"{name}[*] \u2013 {APP_TITLE}")
        self.setWindowModified(self.has_unsaved_result())

    # --- dialogs ------------------------------------------------------------------------------------

    def show_error(self, title: str, message: str) -> QMessageBox:
        """A readable, non-blocking error dialog (window-modal, so jobs and tests keep running)."""
        log.warning("%s: %s", title, message)
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        return box

    def open_batch_dialog(self, paths: list[Path] | None = None) -> None:
        from .batch_dialog import BatchDialog

        if self.batch_dialog is None:
            self.batch_dialog = BatchDialog(self)
        if paths:
            self.batch_dialog.add_inputs(paths)
        self.batch_dialog.show()
        self.batch_dialog.raise_()

    def open_train_dialog(self) -> None:
        from .train_dialog import TrainDialog

        if self.train_dialog is None:
            self.train_dialog = TrainDialog(self)
            # The new model joins the picker; the one in use stays selected (a 3-epoch test run must
            # not silently replace the shipped model). The dialog's status says where to find it.
            self.train_dialog.model_installed.connect(lambda _name: self.colorize_panel.refresh_models())
            self.train_dialog.model_installed.connect(lambda _n: self._update_actions())
        self.train_dialog.show()
        self.train_dialog.raise_()

    def show_about(self) -> None:
        from .about_dialog import AboutDialog

        AboutDialog(self).exec()

    def shortcuts_dialog(self):
        from .shortcuts_dialog import ShortcutsDialog

        menus = [a for m in self.menuBar().actions() if m.menu() for a in m.menu().actions()]
        return ShortcutsDialog(menus, self)

    def show_shortcuts(self) -> None:
        dialog = self.shortcuts_dialog()
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    # --- batch support ------------------------------------------------------------------------------

    def batch_process(self, colorize: bool, stylize: bool) -> Callable[[Photo], np.ndarray]:
        """A photo -> picture function with the current settings, for the batch dialog's worker."""
        from .pipeline import build_process

        return build_process(
            colorize=(self.colorize_panel.model_name(), self.colorize_panel.device(),
                      self.colorize_panel.render_size.value(), self.colorize_panel.strength_value())
            if colorize else None,
            style=self.style_panel.settings() if stylize else None,
            engine=(lambda d=self.colorize_panel.device(): self.style_engine(d)) if stylize else None,
            gallery=self.gallery,
        )

    def batch_provenance(self, colorize: bool, stylize: bool) -> Provenance | None:
        """What the batch's outputs record about themselves (model, strength, styles)."""
        settings = self.style_panel.settings() if stylize else None
        if not colorize and settings is None:
            return None
        return Provenance(model=self.colorize_panel.model_name() if colorize else None,
                          strength=self.colorize_panel.strength_value() if colorize else None,
                          styles=self.style_names(settings.styles) if settings is not None else ())

    def batch_description(self, colorize: bool, stylize: bool) -> str:
        """The batch dialog's "Using" line: model and strength, style, weights and size."""
        parts = []
        if colorize:
            parts.append(f"model {self.colorize_panel.model_name() or '(none installed)'}, colour strength "
                         f"{self.colorize_panel.strength_value():.2f}, render size "
                         f"{self.colorize_panel.render_size.value()} px")
        if stylize:
            settings = self.style_panel.settings()
            if settings is None:
                parts.append("no style selected (choose one in the Style tab)")
            else:
                parts.append(f"style {' + '.join(self.style_names(settings.styles))}, {settings.steps} steps at "
                             f"{settings.size} px")
        return "; then ".join(parts)

    # --- window state -------------------------------------------------------------------------------

    def _restore_window_state(self) -> None:
        qs = window_settings()
        geometry = qs.value("geometry")
        if not (isinstance(geometry, QByteArray) and not geometry.isEmpty() and self.restoreGeometry(geometry)
                and self._fits_screen()):
            self.fit_to_screen()
        state = qs.value("state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        else:
            # The photo is the point: the Tools dock starts at about a quarter of the width.
            self.resizeDocks([self.dock], [max(DOCK_MIN_WIDTH, min(DOCK_WIDTH, self.width() // 4))],
                             Qt.Orientation.Horizontal)
        self.side_action.setChecked(qs.value("side_by_side", False, type=bool))

    def _available(self):
        return available_geometry(self)

    def _fits_screen(self) -> bool:
        avail = self._available()
        return self.width() <= avail.width() and self.height() <= avail.height()

    def fit_to_screen(self) -> None:
        """Default size: up to 1280×820, never more than the screen's free area (less the frame)."""
        avail = self._available()
        self.resize(*size_within_screen(self, DEFAULT_SIZE))
        frame = self.frameGeometry()
        frame.moveCenter(avail.center())
        self.move(frame.topLeft().x(), max(avail.top(), frame.topLeft().y()))

    def _save_window_state(self) -> None:
        qs = window_settings()
        qs.setValue("geometry", self.saveGeometry())
        qs.setValue("state", self.saveState())
        qs.setValue("side_by_side", self.side_action.isChecked())
        qs.sync()
        self.app_settings.device = self.colorize_panel.device()
        self.app_settings.render_size = self.colorize_panel.render_size.value()
        if self.colorize_panel.model_name():
            self.app_settings.model = self.colorize_panel.model_name() or ""
        try:
            self.app_settings.save()
        except OSError as exc:
            log.warning("could not save settings: %s", exc)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Ask before losing work; then stop every job cleanly (training saves last.pt, a batch
        finishes its file) and close."""
        if not self.confirm_leave("quit"):
            event.ignore()
            return
        for dialog in (self.batch_dialog, self.train_dialog):
            if dialog is not None:
                dialog.stop_and_wait()
        if self.preloader is not None:
            self.preloader.stop_and_wait()  # skips what has not started loading yet
        self.cancel_jobs(wait=True)
        self._save_window_state()
        super().closeEvent(event)
