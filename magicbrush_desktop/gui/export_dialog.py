"""Save As / Export: file name (in the last export folder), format, quality and "keep metadata"."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QCheckBox,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ..core.imageio import FORMAT_EXTENSIONS, SAVE_FORMATS

FORMAT_LABELS = {"jpg": "JPEG", "png": "PNG (lossless)", "tiff": "TIFF (lossless)", "webp": "WebP"}
LOSSY = {"jpg", "webp"}
MIN_WIDTH = 620  # wide enough for a whole path such as ~/Pictures/Family/1908FamilyPhoto_stylized.jpg


class ExportDialog(QDialog):
    """Choose where and how to save; the extension follows the chosen format."""

    def __init__(self, suggested: Path, fmt: str, quality: int, parent: QWidget | None = None, *,
                 keep_metadata: bool = True, provenance: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Save As / Export")
        self.setMinimumWidth(MIN_WIDTH)
        self.path_edit = QLineEdit(str(suggested.with_suffix(FORMAT_EXTENSIONS.get(fmt, ".jpg"))))
        self.path_edit.setMinimumWidth(self.path_edit.fontMetrics().horizontalAdvance(self.path_edit.text()) + 24)
        self.path_edit.setCursorPosition(len(self.path_edit.text()))
        browse = QPushButton("Browse\u2026")
        self.format_combo = QComboBox()
        for key in SAVE_FORMATS:
            self.format_combo.addItem(FORMAT_LABELS.get(key, key), key)
        self.format_combo.setCurrentIndex(max(0, self.format_combo.findData(fmt)))
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setValue(quality)
        self.quality.setToolTip("JPEG/WebP quality; 95 keeps fine film grain")
        self.keep_metadata_box = QCheckBox("Keep the photo's metadata (camera, dates, captions, location)")
        self.keep_metadata_box.setChecked(keep_metadata)
        self.keep_metadata_box.setToolTip("The original's EXIF block is copied into the export. Either way the "
                                          "file records that Magic Brush made it, and with which model or style.")
        self.provenance_label = QLabel(provenance)
        self.provenance_label.setWordWrap(True)
        self.provenance_label.setToolTip("Written into the file's EXIF (Software, ImageDescription) and XMP")
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form = QFormLayout(self)
        form.addRow("File", row)
        form.addRow("Format", self.format_combo)
        form.addRow("Quality", self.quality)
        form.addRow("Metadata", self.keep_metadata_box)
        if provenance:
            form.addRow("Recorded", self.provenance_label)
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

    def keep_metadata(self) -> bool:
        return self.keep_metadata_box.isChecked()

    def values(self) -> tuple[Path, str, int]:
        """(path, format key, quality)."""
        return Path(self.path_edit.text().strip()).expanduser(), self.fmt(), self.quality.value()
