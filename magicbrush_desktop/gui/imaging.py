"""Conversions between numpy RGB arrays (what the core speaks) and Qt images (what widgets draw)."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QImage, QPixmap

from ..core.sizing import fit_longest_side


def to_qimage(rgb: np.ndarray) -> QImage:
    """(H, W, 3) uint8 RGB -> a QImage that owns a copy of the pixels.

    ``copy()`` matters: a QImage built on a numpy buffer only borrows it, and the array may be freed
    (or overwritten by the next preview) while the widget still paints it.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("expected an (H, W, 3) uint8 RGB array")
    arr = np.ascontiguousarray(rgb)
    h, w, _ = arr.shape
    return QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def to_pixmap(rgb: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(to_qimage(rgb))


def from_qimage(image: QImage) -> np.ndarray:
    """A QImage (any format) -> (H, W, 3) uint8 RGB array (a copy)."""
    img = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=stride * h).reshape(h, stride)
    return buf[:, : w * 3].reshape(h, w, 3).copy()


def thumbnail(rgb: np.ndarray, side: int) -> np.ndarray:
    """A quick (nearest-neighbour) downscale of an (H, W, 3) uint8 picture to at most ``side`` px on its
    longer side, for icons and reference views only: a 40 MP photo shrinks in milliseconds on the GUI
    thread, where an area filter would take a noticeable fraction of a second."""
    h, w = fit_longest_side(*rgb.shape[:2], side, enlarge=False)
    if (h, w) == rgb.shape[:2]:
        return rgb
    return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_NEAREST)
