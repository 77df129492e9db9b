"""Finding colorizer models: by explicit path, then ``MAGICBRUSH_MODELS``, then the user's models folder,
then the models shipped with the app (``models/manifest.json`` lists those, with sha256 checksums).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ModelError
from .paths import bundled_models_dir, user_models_dir

MODEL_SUFFIX = ".pt"
MANIFEST = "manifest.json"


@dataclass
class ModelInfo:
    """A model the app can offer. ``origin``: "env" (MAGICBRUSH_MODELS), "user" or "bundled"."""

    name: str
    path: Path
    origin: str
    description: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    sha256: str | None = None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(folder: Path | None = None) -> dict[str, Any]:
    """The shipped models' manifest ({"default": name, "models": [...]}) or an empty one."""
    path = (folder or bundled_models_dir()) / MANIFEST
    if not path.is_file():
        return {"default": None, "models": []}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"the shipped model list is damaged: {path}: {exc}") from exc


def _env_dirs() -> list[Path]:
    value = os.environ.get("MAGICBRUSH_MODELS", "")
    return [Path(p) for p in value.split(os.pathsep) if p]


def list_models() -> list[ModelInfo]:
    """Every model found, in lookup order (a name found earlier hides the same name later)."""
    found: dict[str, ModelInfo] = {}
    for origin, folders in (("env", _env_dirs()), ("user", [user_models_dir()])):
        for folder in folders:
            if folder.is_dir():
                for path in sorted(folder.glob(f"*{MODEL_SUFFIX}")):
                    found.setdefault(path.stem, ModelInfo(path.stem, path, origin))
    manifest = read_manifest()
    for entry in manifest.get("models", []):
        path = bundled_models_dir() / entry["file"]
        if path.is_file():
            found.setdefault(entry["name"], ModelInfo(
                entry["name"], path, "bundled", entry.get("description", ""), entry.get("metrics", {}),
                entry.get("sha256")))
    return list(found.values())


def default_model_name() -> str | None:
    return read_manifest().get("default")


def resolve_model(model: str | Path | None = None) -> Path:
    """Path of a model given by path or name; None = the shipped default.

    Raises:
        ModelError: nothing by that name or path; a shipped file whose checksum does not match.
    """
    if model is None:
        model = default_model_name()
        if model is None:
            raise ModelError("no default model is installed (models/manifest.json is missing)")
    text = str(model)
    as_path = Path(text).expanduser()
    if as_path.suffix == MODEL_SUFFIX or os.sep in text or (os.altsep and os.altsep in text):
        if as_path.is_file():
            return as_path
        raise ModelError(f"model file not found: {as_path}")
    for info in list_models():
        if info.name == text:
            if info.origin == "bundled" and info.sha256 and sha256_of(info.path) != info.sha256:
                raise ModelError(f"the shipped model '{text}' is damaged (checksum mismatch); reinstall")
            return info.path
    names = ", ".join(m.name for m in list_models()) or "none"
    raise ModelError(f"no model named '{text}' (available: {names})")


def install_trained_model(checkpoint_path: Path, name: str) -> Path:
    """Copy a finished training's checkpoint into the user's models folder under ``name``."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip("-.")
    if not safe:
        raise ModelError("a model needs a name made of letters, digits, '-' or '_'")
    target = user_models_dir() / f"{safe}{MODEL_SUFFIX}"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    shutil.copyfile(checkpoint_path, tmp)
    os.replace(tmp, target)
    return target
