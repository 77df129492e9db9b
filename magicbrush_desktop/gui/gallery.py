"""The Style panel's view of the style gallery: names, thumbnails, loading and importing paintings.

This is a thin adapter so the panel and the window depend on three calls only (``entries``, ``load``,
``import_paths``). Paintings live in the user's styles folder (:func:`..core.paths.user_styles_dir`);
importing copies a painting there through the core's image I/O (which validates it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.errors import MagicBrushError
from ..core.imageio import is_image_path, read_photo, save_image
from ..core.paths import user_styles_dir
from .imaging import thumbnail

THUMB_SIDE = 96


class StyleGallery:
    """Styles by name: the imported paintings in ``folder`` (default: the user's styles folder)."""

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder
        self._thumbs: dict[Path, tuple[float, np.ndarray]] = {}

    @property
    def folder(self) -> Path:
        return self._folder or user_styles_dir()

    def _paths(self) -> dict[str, Path]:
        if not self.folder.is_dir():
            return {}
        return {p.stem: p for p in sorted(self.folder.iterdir()) if p.is_file() and is_image_path(p)}

    def names(self) -> list[str]:
        return list(self._paths())

    def entries(self) -> list[tuple[str, str, np.ndarray | None]]:
        """(name, tooltip, thumbnail) per style; thumbnails are cached by file and modification time."""
        out = []
        for name, path in self._paths().items():
            mtime = path.stat().st_mtime
            cached = self._thumbs.get(path)
            if cached is None or cached[0] != mtime:
                try:
                    cached = (mtime, thumbnail(read_photo(path).rgb, THUMB_SIDE))
                except MagicBrushError:
                    continue  # a damaged file in the folder is not offered
                self._thumbs[path] = cached
            out.append((name, f"{name}\n{path}", cached[1]))
        return out

    def load(self, name: str) -> np.ndarray:
        """The style image (H, W, 3) uint8 RGB."""
        path = self._paths().get(name)
        if path is None:
            raise MagicBrushError(f"there is no style named '{name}' in the gallery")
        return read_photo(path).rgb

    def import_paths(self, paths: list[Path]) -> tuple[list[str], list[str]]:
        """Copy paintings (files, or the images in folders) into the gallery.

        Returns:
            (names added, readable errors).
        """
        files: list[Path] = []
        for p in map(Path, paths):
            if p.is_dir():
                files += [f for f in sorted(p.iterdir()) if f.is_file() and is_image_path(f)]
            else:
                files.append(p)
        added, errors = [], []
        existing = set(self.names())
        for f in files:
            try:
                photo = read_photo(f)
                name = f.stem
                n = 2
                while name in existing:
                    name, n = f"{f.stem}-{n}", n + 1
                save_image(self.folder / f"{name}.png", photo.rgb, like=photo, fmt="png")
            except MagicBrushError as exc:
                errors.append(f"{f.name}: {exc}")
                continue
            existing.add(name)
            added.append(name)
        return added, errors
