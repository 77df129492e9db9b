"""Layering: the core stays Qt-free and the two front ends stay apart.

Checked twice: by import-linter's contracts in pyproject.toml, and by importing every core and CLI module
in a clean interpreter and looking for Qt or the GUI in ``sys.modules``. The modules are found with
``pkgutil.walk_packages``, so a new module (or subpackage such as ``core.style``) is covered the day it
is added.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

# Run in a clean interpreter: lists every module under the given packages, subpackages included,
# imports each one, then reports them and any Qt or GUI module that came along. An import error while
# walking fails loudly (walk_packages would otherwise skip that subpackage in silence).
IMPORT_ALL = """
import importlib, json, pkgutil, sys

def fail(name):
    raise ImportError(f"cannot import {name} while listing modules")

names = []
for package in ("magicbrush_desktop.core", "magicbrush_desktop.cli"):
    root = importlib.import_module(package)
    names.append(package)
    names += [m.name for m in pkgutil.walk_packages(root.__path__, package + ".", onerror=fail)]
for name in names:
    importlib.import_module(name)
bad = sorted(m for m in sys.modules if m.startswith(("PySide6", "shiboken6", "magicbrush_desktop.gui")))
print(json.dumps({"modules": names, "qt_or_gui": bad}))
"""


def lint_imports() -> str:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(exe).exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    return exe


def source_modules(package_dir: Path, package: str) -> set[str]:
    """Dotted names of the package and of every module and subpackage found on disk below it."""
    names = set()
    for path in package_dir.rglob("*.py"):
        parts = path.relative_to(package_dir).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.add(".".join((package, *parts)))
    return names


def test_import_linter_contracts_hold():
    result = subprocess.run([lint_imports()], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    # Both contracts ran and were kept: Qt-free core, and the gui | cli layers over the core.
    assert "The core never imports Qt or the GUI KEPT" in result.stdout
    assert "gui and cli above core, independent of each other KEPT" in result.stdout
    assert "0 broken" in result.stdout


def test_every_core_and_cli_module_imports_without_qt():
    result = subprocess.run([sys.executable, "-c", IMPORT_ALL], cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    # A module that fails to import is reported with its traceback, not just an exit status.
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    modules = set(report["modules"])

    assert report["qt_or_gui"] == []
    # The walk found every module on disk, subpackages included: nothing is left unchecked.
    package = REPO / "magicbrush_desktop"
    assert modules == (source_modules(package / "core", "magicbrush_desktop.core")
                       | source_modules(package / "cli", "magicbrush_desktop.cli"))
    assert {"magicbrush_desktop.core.style.gatys", "magicbrush_desktop.core.style.lbfgs",
            "magicbrush_desktop.core.calibration", "magicbrush_desktop.cli.colorize"} <= modules
