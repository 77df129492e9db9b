"""Where the app remembers things.

- Window geometry, splitter and dock state, recent files: ``QSettings`` (an INI file in the user
  config folder, so ``MAGICBRUSH_HOME`` isolates tests and portable installs).
- App settings a user might copy or edit (device, default model, output format, quality, last export
  folder, keep metadata): a small JSON file ``settings.json`` in the same folder. A missing or damaged file falls back to the defaults.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from PySide6.QtCore import QSettings

from ..core.imageio import SAVE_FORMATS, atomic_write_bytes
from ..core.paths import user_config_dir

log = logging.getLogger(__name__)

MAX_RECENT = 10


@dataclass
class AppSettings:
    """User preferences kept in ``settings.json``."""

    device: str = "auto"
    model: str = ""  # name of the preferred colorization model ("" = the first one available)
    output_format: str = "jpg"
    quality: int = 95
    render_size: int = 0  # 0 = the colorizer's default
    export_folder: str = ""  # where the last Save As / Export went ("" = next to the photo)
    keep_metadata: bool = True  # exports keep the original's EXIF (camera, dates, captions)

    @staticmethod
    def path() -> Path:
        return user_config_dir() / "settings.json"

    @classmethod
    def load(cls) -> "AppSettings":
        """The saved settings, or defaults (a damaged file is logged and ignored, never fatal)."""
        try:
            raw = json.loads(cls.path().read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable settings file %s: %s", cls.path(), exc)
            return cls()
        known = {f.name for f in fields(cls)}
        settings = cls(**{k: v for k, v in raw.items() if k in known}) if isinstance(raw, dict) else cls()
        if settings.output_format not in SAVE_FORMATS:
            settings.output_format = "jpg"
        settings.quality = min(100, max(1, int(settings.quality)))
        return settings

    def save(self) -> None:
        atomic_write_bytes(self.path(), json.dumps(asdict(self), indent=2).encode("utf-8"))


def window_settings() -> QSettings:
    """QSettings for window state, stored as INI next to ``settings.json``."""
    folder = user_config_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return QSettings(str(folder / "window.ini"), QSettings.Format.IniFormat)


def recent_files() -> list[str]:
    value = window_settings().value("recent_files", [])
    if isinstance(value, str):  # QSettings returns a lone string for a one-item list
        value = [value]
    return [str(v) for v in (value or [])]


def add_recent_file(path: str | Path) -> list[str]:
    """Put ``path`` first in the recent list (no duplicates, at most MAX_RECENT) and return the list."""
    path = str(Path(path).resolve())
    items = [p for p in recent_files() if p != path]
    items.insert(0, path)
    items = items[:MAX_RECENT]
    settings = window_settings()
    settings.setValue("recent_files", items)
    settings.sync()
    return items
