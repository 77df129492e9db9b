"""Starting the desktop app: the QApplication, the main window, photos given on the command line."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication

from .. import __version__
from .icons import app_icon
from .main_window import MainWindow


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (reused if one exists, as under pytest-qt)."""
    app = QApplication.instance()
    if app is None:
        # Fractional scale factors (125 %, 150 %) are passed through instead of rounded: crisp HiDPI.
        QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("Magic Brush")
    app.setOrganizationName("MagicBrush")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    return app  # type: ignore[return-value]


def run_app(paths: list[str]) -> int:
    """Open the main window (with the first photo in ``paths``; several go to the batch dialog)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = make_application()
    window = MainWindow()
    window.show()
    install_sigterm_handler(window)
    probe = os.environ.get(STARTUP_PROBE_ENV)
    if probe:
        StartupProbe(window, Path(probe))
    # Once the window has painted: torch, the colorizer and VGG19 load in the background (preload.py).
    QTimer.singleShot(0, window.start_preload)
    if paths:
        window.handle_dropped_paths([Path(p) for p in paths])
    return app.exec()


def stop_everything(window: MainWindow) -> None:
    """Stop every job at its next safe point and wait: a batch finishes its photo, training saves
    ``last.pt`` for Resume, temporary files are removed. Nothing is asked."""
    for dialog in (window.batch_dialog, window.train_dialog):
        if dialog is not None:
            dialog.stop_and_wait()
    preloader = getattr(window, "preloader", None)
    if preloader is not None:
        preloader.stop_and_wait()
    window.cancel_jobs(wait=True)


def install_sigterm_handler(window: MainWindow, quit_app=None) -> QTimer:  # noqa: ANN001 - a callable
    """SIGTERM (``kill``, a logout, a shutdown) stops the app like Ctrl-C stops the CLI: every job stops
    cleanly (:func:`stop_everything`), then the app quits without questions. Python only sees a signal
    when it runs, so a light timer lets it look while Qt's event loop waits."""
    import signal

    requested: list[int] = []
    timer = QTimer(window)
    timer.setInterval(200)

    def poll() -> None:
        if requested:
            timer.stop()
            stop_everything(window)
            (quit_app or QApplication.instance().quit)()

    timer.timeout.connect(poll)
    try:
        signal.signal(signal.SIGTERM, lambda signum, frame: requested.append(signum))
    except (ValueError, AttributeError):  # not the main thread, or no SIGTERM on this platform
        return timer
    timer.start()
    return timer


STARTUP_PROBE_ENV = "MAGICBRUSH_STARTUP_PROBE"  # bench/startup.py: a JSON file to write, then quit


class StartupProbe(QObject):
    """For ``bench/startup.py``: when the window has shown, when everything has loaded, and the longest
    the UI thread went without running its event loop meanwhile; writes them as JSON, then quits."""

    TICK_MS = 10

    def __init__(self, window: MainWindow, path: Path) -> None:
        super().__init__(window)
        self.window, self.path = window, path
        self.record: dict[str, float] = {}
        self._last = 0.0
        self._stall = 0.0
        self._ticker = QTimer(self)
        self._ticker.setInterval(self.TICK_MS)
        self._ticker.timeout.connect(self._tick)
        QTimer.singleShot(0, self._shown)

    def _shown(self) -> None:
        self.record["shown"] = time.time()
        self._last = time.perf_counter()
        self._ticker.start()
        QTimer.singleShot(0, self._watch)

    def _watch(self) -> None:
        pre = self.window.preloader
        assert pre is not None, "start_preload() runs right after the window shows"
        pre.stage_done.connect(lambda stage: self.record.__setitem__(f"{stage}_loaded", time.time()))
        pre.all_done.connect(self._done)
        if pre.isFinished():  # everything was loaded already
            self._done()

    def _tick(self) -> None:
        now = time.perf_counter()
        self._stall = max(self._stall, now - self._last)
        self._last = now

    def _done(self) -> None:
        self._tick()
        self.record["ready"] = time.time()
        self.record["max_ui_stall_s"] = self._stall
        self.record["errors"] = dict(self.window.preloader.errors) if self.window.preloader else {}
        self.path.write_text(json.dumps(self.record), encoding="utf-8")
        self.window.close()
        QApplication.instance().quit()
