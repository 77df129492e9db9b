"""The core stays Qt-free: checked by import-linter's contract and by a clean-interpreter import."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from .conftest import REPO

CORE_MODULES = [
    "batch", "checkpoint", "color", "colorize", "dataset", "devices", "errors", "evaluate", "events",
    "imageio", "losses", "metrics", "models", "networks", "paths", "samples", "train", "tune", "vgg",
]


def test_import_linter_contract_holds():
    exe = shutil.which("lint-imports") or str(__import__("pathlib").Path(sys.executable).parent / "lint-imports")
    if not __import__("pathlib").Path(exe).exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    result = subprocess.run([exe], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "KEPT" in result.stdout


def test_core_and_cli_import_without_qt():
    code = (
        "import sys, importlib\n"
        f"for m in {CORE_MODULES!r}: importlib.import_module('magicbrush_desktop.core.' + m)\n"
        "import magicbrush_desktop.core.style, magicbrush_desktop.cli\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'magicbrush_desktop.gui'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=300)
