"""Save As / Export: file name, format and quality."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ..core.imageio import FORMAT_EXTENSIONS, SAVE_FORMATS

FORMAT_LABELS = {"jpg": "JPEG", "png": "PNG (lossless)", "tiff": "TIFF (lossless)", "webp": "WebP"}
LOSSY = {"jpg", "webp"}


class ExportDialog(QDialog):
    """Choose where and how to save; the extension follows the chosen format."""

    def __init__(self, suggested: Path, fmt: str, quality: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Save As / Export")
        self.path_edit = QLineEdit(str(suggested.with_suffix(FORMAT_EXTENSIONS.get(fmt, ".jpg"))))
        browse = QPushButton("Browse\u2026")
        self.format_combo = QComboBox()
        for key in SAVE_FORMATS:
            self.format_combo.addItem(FORMAT_LABELS.get(key, key), key)
        self.format_combo.setCurrentIndex(max(0, self.format_combo.findData(fmt)))
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setValue(quality)
        self.quality.setToolTip("JPEG/WebP quality; 95 keeps fine film grain")
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form = QFormLayout(self)
        form.addRow("File", row)
        form.addRow("Format", self.format_combo)
        form.addRow("Quality", self.quality)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        form.addRow(buttons)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        browse.clicked.connect(self._browse)
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self._format_changed()

    def _format_changed(self) -> None:
        fmt = self.fmt()
        self.quality.setEnabled(fmt in LOSSY)
        text = self.path_edit.text().strip()
        if text:
            self.path_edit.setText(str(Path(text).with_suffix(FORMAT_EXTENSIONS[fmt])))

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save As", self.path_edit.text())
        if path:
            self.path_edit.setText(str(Path(path).with_suffix(FORMAT_EXTENSIONS[self.fmt()])))

    def fmt(self) -> str:
        return str(self.format_combo.currentData())

    def values(self) -> tuple[Path, str, int]:
        """(path, format key, quality)."""
        return Path(self.path_edit.text().strip()).expanduser(), self.fmt(), self.quality.value()
