"""Regenerate the README's screenshots: the real app under Xvfb, on real old photos.

    xvfb-run -s "-screen 0 1400x900x24" python docs/make_screenshot.py \
        ../shared/data/old-bw/1908FamilyPhoto.jpg docs/screenshot.png [MODEL] [--kind KIND]

KIND: ``main`` (default: the window with a colorized photo and the before/after divider), ``style`` (the
Style tab after a short style run on the colorized photo), ``batch`` (the Batch dialog after restoring
the photo's folder) or ``train`` (the Train dialog after a short run on a few of ../shared/data/photos).
MODEL is a model name or .pt path (default: the shipped default model). Run it with MAGICBRUSH_HOME
pointing at a scratch folder so your own settings are not touched.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QTimer  # noqa: E402

from magicbrush_desktop.gui.app import make_application  # noqa: E402
from magicbrush_desktop.gui.main_window import MainWindow  # noqa: E402

STYLES = Path(__file__).resolve().parents[2] / "shared" / "styles"
PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"
STYLE_FOR_SHOT = "hokusai-great-wave"


def _settle(window) -> None:
    """Nothing to ask about on quit: the shot is taken, the result need not be saved."""
    for dialog in (window.batch_dialog, window.train_dialog):
        if dialog is not None:
            dialog.stop_and_wait()
    window.cancel_jobs(wait=True)
    window.undo_stack.setClean()


def _save(widget, out: str, status: dict, app) -> None:
    widget.grab().save(out)
    status.update(rc=0)
    _settle(widget if hasattr(widget, "undo_stack") else widget.parent())
    app.quit()


def main(photo: str, out: str, model: str | None = None, kind: str = "main") -> int:
    app = make_application()
    window = MainWindow()
    window.resize(1360, 860)
    window.show()
    if STYLES.is_dir():  # a populated gallery in the Style tab
        window.import_styles([str(p) for p in sorted(STYLES.glob("*.jpg"))])
    if model:
        window.colorize_panel.refresh_models(select=Path(model).stem)
    if not window.open_path(photo, wait=True):  # read now: the script works on it at once
        return 1
    status = {"rc": 1}

    def shoot(step: str) -> None:
        if step == "colorized" and kind == "main":
            window.canvas.set_divider(0.42)
            QTimer.singleShot(800, lambda: _save(window, out, status, app))
        elif step == "colorized" and kind == "style":
            window.tabs.setCurrentWidget(window.style_panel)
            window.style_panel.select_style(f"user:{STYLE_FOR_SHOT}")
            window.style_panel.size.setValue(256)
            window.style_panel.steps.setValue(20)
            window.canvas.set_divider(0.3)
            QTimer.singleShot(300, window.run_style)
        elif step == "stylized" and kind == "style":
            QTimer.singleShot(800, lambda: _save(window, out, status, app))

    def batch() -> None:
        window.open_batch_dialog([Path(photo).parent])
        dialog = window.batch_dialog
        dialog.resize(900, 640)
        dialog.output.setText(str(Path(tempfile.mkdtemp(prefix="shot-batch-")) / "restored"))
        dialog.batch_finished.connect(lambda _s: QTimer.singleShot(600, lambda: _save(dialog, out, status, app)))
        dialog.start()

    def train() -> None:
        data = Path(tempfile.mkdtemp(prefix="shot-train-"))
        for p in sorted(PHOTOS.glob("*.jpg"))[:32]:
            shutil.copy(p, data)
        window.open_train_dialog()
        dialog = window.train_dialog
        dialog.resize(1180, 760)
        dialog.folder.setText(str(data))
        dialog.name.setText("family-album")
        dialog.network.setCurrentIndex(dialog.network.findData("resunet"))
        dialog.extra_config = {"generator_kwargs": {"base": 16, "depth": 3}}
        dialog.epochs.setValue(3)
        dialog.image_size.setValue(64)
        dialog.batch_size.setValue(4)
        dialog.run_ended.connect(lambda _o: QTimer.singleShot(800, lambda: _save(dialog, out, status, app)))
        dialog.estimate_finished.connect(lambda _o: dialog.start())
        dialog.estimate()

    window.step_changed.connect(shoot)
    if kind == "batch":
        QTimer.singleShot(500, batch)
    elif kind == "train":
        QTimer.singleShot(500, train)
    else:
        QTimer.singleShot(500, window.colorize)
    QTimer.singleShot(600_000, lambda: (_settle(window), app.quit()))  # never hang a build
    app.exec()
    return status["rc"]


if __name__ == "__main__":
    args = sys.argv[1:]
    kind = "main"
    if "--kind" in args:
        i = args.index("--kind")
        kind = args[i + 1]
        del args[i : i + 2]
    sys.exit(main(*args[:3], kind=kind))
