"""Starting the desktop app: the QApplication, the main window, photos given on the command line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import Qt
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
    if paths:
        window.handle_dropped_paths([Path(p) for p in paths])
    return app.exec()
