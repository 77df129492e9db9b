"""Regenerate docs/screenshot.png: the real main window under Xvfb with a colorized old photo.

    xvfb-run -s "-screen 0 1400x900x24" python docs/make_screenshot.py \
        ../shared/data/old-bw/1908FamilyPhoto.jpg docs/screenshot.png [MODEL]

MODEL is a model name or .pt path (default: the shipped default model). Run it with
MAGICBRUSH_HOME pointing at a scratch folder so your own settings are not touched.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QTimer  # noqa: E402

from magicbrush_desktop.gui.app import make_application  # noqa: E402
from magicbrush_desktop.gui.main_window import MainWindow  # noqa: E402

STYLES = Path(__file__).resolve().parents[2] / "shared" / "styles"


def main(photo: str, out: str, model: str | None = None) -> int:
    app = make_application()
    window = MainWindow()
    window.resize(1360, 860)
    window.show()
    if STYLES.is_dir():  # a populated gallery in the Style tab
        window.import_styles([str(p) for p in sorted(STYLES.glob("*.jpg"))])
    if model:
        window.colorize_panel.refresh_models(select=Path(model).stem)
    if not window.open_path(photo):
        return 1
    status = {"rc": 1}

    def shoot(kind: str) -> None:
        if kind == "colorized":
            window.canvas.set_divider(0.42)
            QTimer.singleShot(800, lambda: (window.grab().save(out), status.update(rc=0), app.quit()))

    window.step_changed.connect(shoot)
    QTimer.singleShot(500, window.colorize)
    QTimer.singleShot(180_000, app.quit)  # never hang a build
    app.exec()
    return status["rc"]


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
