"""Start-up stays light: the CLI parser, ``--help``, ``--version`` and usage errors import no torch (nor numpy,
OpenCV, Qt), and the light defaults modules agree with the heavy modules that use them."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "torchvision", "numpy", "cv2", "PIL", "scipy", "skimage", "PySide6")

PROBE = """
import json, sys
from magicbrush_desktop.__main__ import main
code = None
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print(json.dumps({{"code": code, "heavy": heavy}}))
"""


def probe(*argv: str) -> dict:
    """Run ``magicbrush ARGV`` in a fresh interpreter; its exit code and the heavy modules it imported."""
    proc = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *argv], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_importing_the_cli_and_building_its_parser_imports_no_torch():
    code = ("import sys, json; from magicbrush_desktop.cli import build_parser; build_parser(); "
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []


@pytest.mark.parametrize("argv, code", [
    (("--help",), 0),
    (("--version",), 0),
    (("stylize", "--help"), 0),
    (("colorize", "--help"), 0),
    (("train", "--help"), 0),
    (("tune", "--help"), 0),
    (("evaluate", "--help"), 0),
    (("models", "--help"), 0),
    (("stylize", "photo.jpg"), 2),  # usage error: --style and -o missing
    (("train",), 2),
    (("colorize", "--strength", "9", "-o", "out"), 2),
    (("stylize", "p.jpg", "--style", "comic", "-o", "o.png", "--steps", "0"), 2),
])
def test_help_version_and_usage_errors_import_no_torch(argv, code):
    result = probe(*argv)
    assert result["code"] == code
    assert result["heavy"] == []


def test_light_defaults_match_the_modules_that_use_them():
    from magicbrush_desktop.core import colorize, defaults, devices, imageio, networks
    from magicbrush_desktop.core.style import defaults as style_defaults
    from magicbrush_desktop.core.style import looks, losses

    assert set(defaults.GENERATOR_NAMES) == set(networks.GENERATORS)
    assert set(defaults.DISCRIMINATOR_NAMES) == set(networks.DISCRIMINATORS)
    assert imageio.SAVE_FORMATS is defaults.SAVE_FORMATS and devices.DEVICE_CHOICES is defaults.DEVICE_CHOICES
    assert colorize.DEFAULT_RENDER_SIZE == defaults.DEFAULT_RENDER_SIZE
    assert tuple(losses.PRESETS) == style_defaults.PRESET_NAMES
    assert set(looks.LOOKS) == set(style_defaults.LOOK_INFO) == set(style_defaults.LOOK_WEIGHTS)


def test_train_options_left_out_take_the_training_defaults(tmp_path):
    from magicbrush_desktop.cli import build_parser
    from magicbrush_desktop.cli.train import config_from_args
    from magicbrush_desktop.core.train import TrainConfig

    args = build_parser().parse_args(["train", str(tmp_path), "--out", str(tmp_path / "run"), "--epochs", "3"])
    config = config_from_args(args, args.data_dir, args.out)
    expected = TrainConfig(data_dir=str(tmp_path), run_dir=str(tmp_path / "run"), epochs=3,
                           generator_kwargs={"freeze_encoder": True})
    for f in fields(TrainConfig):
        assert getattr(config, f.name) == getattr(expected, f.name), f.name


TRAIN_DIALOG_PROBE = """
import json, sys
from magicbrush_desktop.gui.app import make_application
from magicbrush_desktop.gui.main_window import MainWindow
app = make_application()
w = MainWindow()
w.show()
w.open_train_dialog()
app.processEvents()
print(json.dumps({"dialog": w.train_dialog.isVisible(), "torch": "torch" in sys.modules}))
"""


def test_the_train_dialog_opens_without_importing_torch(tmp_path):
    """Tools > Train before torch has loaded in the background must not freeze the window on its import."""
    env = {"QT_QPA_PLATFORM": "offscreen", "MAGICBRUSH_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", TRAIN_DIALOG_PROBE], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"dialog": True, "torch": False}


def test_mapping_torchs_libraries_first_leaves_torch_working():
    """The preloader maps libtorch off the GIL before ``import torch``; torch must then import and work."""
    code = ("import json, sys\nfrom magicbrush_desktop.gui.preload import preload_torch_libraries\n"
            "names = preload_torch_libraries()\nimport torch\n"
            "print(json.dumps({'names': names, 'sum': float(torch.ones(3).sum()), 'platform': sys.platform}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["sum"] == 3.0
    if result["platform"] == "linux":
        assert "libtorch_cpu" in result["names"] and "libc10" in result["names"]
