"""Where Magic Brush keeps things: user folders (platformdirs) and the files it ships.

``MAGICBRUSH_HOME`` overrides the user folders (tests and portable installs use it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "MagicBrush"


def _home_override() -> Path | None:
    value = os.environ.get("MAGICBRUSH_HOME")
    return Path(value) if value else None


def user_data_dir() -> Path:
    """Per-user data folder (trained models, imported styles)."""
    override = _home_override()
    return override / "data" if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_config_dir() -> Path:
    """Per-user settings folder."""
    override = _home_override()
    return override / "config" if override else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def user_cache_dir() -> Path:
    """Per-user cache folder (thumbnails, downloads in progress)."""
    override = _home_override()
    return override / "cache" if override else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def user_models_dir() -> Path:
    return user_data_dir() / "models"


def user_styles_dir() -> Path:
    return user_data_dir() / "styles"


def app_root() -> Path:
    """The folder holding the shipped ``models/`` and ``resources/``.

    - a PyInstaller bundle: its ``_internal`` folder (``sys._MEIPASS``);
    - installed from a wheel: the ``magicbrush_desktop`` package itself (``setup.py`` copies the repository's
      ``models/`` and ``resources/`` into it when it builds the wheel);
    - a checkout (editable install): the repository root, where they are kept.
    """
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root)
    package = Path(__file__).resolve().parents[1]
    if (package / "models").is_dir() or (package / "resources").is_dir():
        return package
    return package.parent


def bundled_models_dir() -> Path:
    return app_root() / "models"


def resources_dir() -> Path:
    return app_root() / "resources"
