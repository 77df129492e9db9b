"""About Magic Brush: version, the versions of the libraries doing the work, and where files live."""

from __future__ import annotations

import platform
import sys

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from .. import __version__
from ..core.paths import user_config_dir, user_models_dir
from .icons import app_icon


def version_rows() -> list[tuple[str, str]]:
    """(component, version) pairs shown in the dialog (and handy in bug reports)."""
    import numpy
    import PIL
    import torch

    from ..core.devices import cuda_available

    return [
        ("Magic Brush", __version__),
        ("Python", platform.python_version()),
        ("PyTorch", f"{torch.__version__} ({'CUDA available' if cuda_available() else 'CPU only'})"),
        ("Qt / PySide6", f"{qVersion()} / {pyside_version}"),
        ("NumPy", numpy.__version__),
        ("Pillow", PIL.__version__),
        ("System", f"{platform.system()} {platform.release()} ({sys.platform})"),
    ]


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Magic Brush")
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(96, 96))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;{v}</td></tr>" for k, v in version_rows())
        text = QLabel(
            "<h2>Magic Brush</h2>"
            "<p>Brings old black-and-white photos back to colour and repaints photos in the style of a "
            "painting.</p>"
            f"<table>{rows}</table>"
            f"<p>Settings: {user_config_dir()}<br>Your models: {user_models_dir()}</p>"
        )
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(icon)
        layout.addWidget(text)
        layout.addWidget(buttons)
