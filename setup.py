"""Build hook: a wheel of Magic Brush carries the shipped models, the icons and the sample photo.

The repository keeps them at its root, as the source of truth: ``models/`` (``manifest.json``, the ``.pt``
files it lists, the model card ``README.md``) and ``resources/`` (icons, ``samples/camera.png``). An installed
wheel has no repository root, so ``build_py`` copies them into the package being built, as
``magicbrush_desktop/models/`` and ``magicbrush_desktop/resources/``, where
``magicbrush_desktop.core.paths.app_root()`` finds them. An editable install (``pip install -e .``) copies
nothing: it reads them from the checkout.

Everything else about the project is in ``pyproject.toml``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PACKAGE = "magicbrush_desktop"


def shipped_files(root: Path = ROOT) -> list[tuple[Path, str]]:
    """(source file, path inside the package) for every data file a wheel ships.

    Models: the manifest, each file it lists (a listed file that is missing stops the build) and the model
    card. Resources: every file under ``resources/`` (the painting pack, ``resources/styles``, is only staged
    for app bundles and never sits in the repository).
    """
    models = root / "models"
    manifest = models / "manifest.json"
    if not manifest.is_file():
        raise SystemExit(f"setup.py: {manifest} is missing: a wheel without a model cannot colorize")
    files = [(manifest, "models/manifest.json")]
    for entry in json.loads(manifest.read_text(encoding="utf-8")).get("models", []):
        path = models / entry["file"]
        if not path.is_file():
            raise SystemExit(f"setup.py: models/manifest.json lists {entry['file']}, which is not in {models}")
        files.append((path, f"models/{entry['file']}"))
    if (models / "README.md").is_file():
        files.append((models / "README.md", "models/README.md"))
    resources = root / "resources"
    for path in sorted(resources.rglob("*")):
        rel = path.relative_to(resources)
        if path.is_file() and rel.parts[0] != "styles" and "__pycache__" not in rel.parts:
            files.append((path, f"resources/{rel.as_posix()}"))
    return files


class BuildPyWithData(build_py):
    """``build_py`` that also copies :func:`shipped_files` into the built package (not for editable installs)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / PACKAGE
        for folder in ("models", "resources"):  # a reused build folder must not keep files no longer shipped
            shutil.rmtree(target / folder, ignore_errors=True)
        for source, rel in shipped_files():
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)


setup(cmdclass={"build_py": BuildPyWithData})
