"""The Style panel's view of the core style gallery (built-in looks, the painting pack, the user's
imported paintings): keys, display names, thumbnails, loading and importing.

The panel and the window depend on three calls only (``entries``, ``load``, ``import_paths``); all
listing, naming, thumbnail and import logic is the core's :class:`..core.style.gallery.Gallery`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.errors import MagicBrushError
from ..core.imageio import read_photo
from ..core.style.gallery import Gallery

GalleryEntry = tuple[str, str, str, np.ndarray | None]  # key, display name, tooltip, thumbnail


class StyleGallery:
    """Adapter over a core :class:`Gallery` with an in-memory thumbnail cache."""

    def __init__(self, gallery: Gallery | None = None) -> None:
        self.core = gallery or Gallery()
        self._thumbs: dict[Path, tuple[float, np.ndarray]] = {}

    def _thumbnail(self, path: Path) -> np.ndarray | None:
        mtime = path.stat().st_mtime
        cached = self._thumbs.get(path)
        if cached is None or cached[0] != mtime:
            try:
                cached = (mtime, read_photo(path).rgb)
            except MagicBrushError:
                return None
            self._thumbs[path] = cached
        return cached[1]

    def entries(self) -> list[GalleryEntry]:
        """(key, name, tooltip, thumbnail) per style, looks first."""
        out: list[GalleryEntry] = []
        for entry in self.core.entries():
            try:
                thumb = self._thumbnail(entry.thumbnail_path())
            except (MagicBrushError, OSError):
                continue  # a damaged painting in a folder is not offered
            kind = {"look": "built-in look", "pack": "painting", "user": "your painting"}[entry.kind]
            tip = f"{entry.name} ({kind})" + (f"\n{entry.path}" if entry.path else "")
            out.append((entry.key, entry.name, tip, thumb))
        return out

    def display_name(self, key: str) -> str:
        """The name the gallery shows for ``key`` (captions, history and exports use the same one)."""
        entry = self.core.find(key)
        return entry.name if entry is not None else key.split(":", 1)[-1]

    def load(self, key: str) -> np.ndarray:
        """The style image (H, W, 3) uint8 RGB."""
        entry = self.core.find(key)
        if entry is None:
            raise MagicBrushError(f"there is no style named '{key}' in the gallery")
        return entry.image()

    def import_paths(self, paths: list[Path]) -> tuple[list[str], list[str]]:
        """Copy paintings (files, or the images in folders) into the user's gallery.

        Returns:
            (keys added, readable errors).
        """
        added: list[str] = []
        errors: list[str] = []
        for p in map(Path, paths):
            try:
                if p.is_dir():
                    entries, failed = self.core.import_folder(p)
                    added += [e.key for e in entries]
                    errors += [f"{f.name}: {reason}" for f, reason in failed]
                else:
                    added.append(self.core.import_file(p).key)
            except MagicBrushError as exc:
                errors.append(f"{p.name}: {exc}")
        return added, errors
