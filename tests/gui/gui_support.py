"""Helpers for the GUI tests: tiny models and photos on disk, drops, prompts, and waiting for jobs.

The GUI fixtures themselves (``make_window``) live in ``conftest.py`` with the suite's other fixtures.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from magicbrush_desktop.core.paths import user_models_dir

from ..conftest import make_colour_image


def install_tiny_model(tiny_model: Path, name: str = "tiny") -> Path:
    """Put the tiny checkpoint in the (isolated) user models folder, so the model picker lists it."""
    target = user_models_dir() / f"{name}.pt"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tiny_model, target)
    return target


def write_grey_photo(path: Path, width: int = 96, height: int = 72, seed: int = 0) -> Path:
    rgb = make_colour_image(width, height, seed)
    Image.fromarray(rgb).convert("L").save(path)
    return path


def write_grey_album(folder: Path, count: int, name: str = "photo_{i}.png", width: int = 96,
                     height: int = 72) -> Path:
    """``folder`` (created) holding ``count`` grey photos named ``name.format(i=...)``, seeds 0..count-1."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        write_grey_photo(folder / name.format(i=i), width, height, seed=i)
    return folder


def write_painting(path: Path, seed: int = 5) -> Path:
    Image.fromarray(make_colour_image(64, 64, seed)).save(path)
    return path


def drop_paths(widget: QWidget, paths: list[Path]) -> bool:
    """Drag and drop local files on ``widget`` like a file manager does; True if the drop was accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPoint(widget.width() // 2, widget.height() // 2)
    # Qt's own signatures: QDragEnterEvent takes a QPoint, QDropEvent a QPointF.
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def message_boxes(parent: QWidget) -> list[QMessageBox]:
    return [b for b in parent.findChildren(QMessageBox) if b.isVisible()]


def answer_next_prompt(button: str = "discard", tries: int = 400) -> list[str]:
    """Click ``button`` ("save", "discard" — also "Stop and Quit" — or "cancel") on the next modal
    "save changes?" prompt as soon as it shows. Returns a list that receives the prompt's text and details."""
    from PySide6.QtCore import QTimer

    seen: list[str] = []

    def click(left: int = tries) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or box.objectName() != "unsaved_prompt":
            if left > 0:
                QTimer.singleShot(10, lambda: click(left - 1))
            return
        seen.append(f"{box.text()} {box.informativeText()}")
        std = {"save": QMessageBox.StandardButton.Save, "cancel": QMessageBox.StandardButton.Cancel,
               "discard": QMessageBox.StandardButton.Discard}[button]
        target = box.button(std)
        if target is None and button == "discard":
            target = next(b for b in box.buttons() if b.objectName() == "stop_and_continue")
        target.click()

    QTimer.singleShot(0, click)
    return seen


def wait_idle(qtbot, window, timeout: int = 30_000) -> None:
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=timeout)


def open_photo(qtbot, window, path: Path | str, timeout: int = 30_000) -> bool:
    """Open ``path`` as the user does (``open_path``: read in a worker) and wait until it is shown or
    refused. True when it is the window's photo now; False when the user kept the current photo or it
    could not be read (its dialog is up)."""
    ended: list[bool] = []

    def on_ended(_path: str, ok: bool) -> None:
        ended.append(ok)

    window.open_ended.connect(on_ended)
    try:
        if not window.open_path(path):
            return False
        qtbot.waitUntil(lambda: bool(ended), timeout=timeout)
        return ended[-1]
    finally:
        window.open_ended.disconnect(on_ended)


def save_photo(qtbot, window, path: Path | str, *args, timeout: int = 30_000, **kwargs) -> Path | None:
    """``save_to(path, *args, **kwargs)`` (written in a worker) and wait for the file: the path written,
    or None when nothing was saved (refused, declined, or writing failed)."""
    ended: list[Path | None] = []

    def on_ended(written: Path | None) -> None:
        ended.append(written)

    window.save_ended.connect(on_ended)
    try:
        if window.save_to(path, *args, **kwargs) is None:
            return None
        qtbot.waitUntil(lambda: bool(ended), timeout=timeout)
        return ended[-1]
    finally:
        window.save_ended.disconnect(on_ended)


__all__ = ["np"]
