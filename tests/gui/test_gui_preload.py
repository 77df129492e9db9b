"""The window shows before torch loads; torch, the colorizer and VGG19 then load in the background and the
jobs that need them wait for them (in their worker threads) and reuse them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from magicbrush_desktop.gui.preload import COLORIZER, STAGES, TORCH, VGG

from .gui_support import open_photo, wait_idle, write_grey_photo

REPO = Path(__file__).resolve().parents[2]

WINDOW_PROBE = """
import json, sys
from magicbrush_desktop.gui.app import make_application
from magicbrush_desktop.gui.main_window import MainWindow
app = make_application()
w = MainWindow()
w.show()
app.processEvents()
print(json.dumps({"visible": w.isVisible(), "torch": "torch" in sys.modules,
                  "status": w.statusBar().currentMessage()}))
"""


def test_the_main_window_shows_without_importing_torch(tmp_path):
    env = {"QT_QPA_PLATFORM": "offscreen", "MAGICBRUSH_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", WINDOW_PROBE], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"visible": True, "torch": False, "status": ""}


def test_preload_loads_every_stage_in_order_and_says_so(make_window, qtbot):
    w = make_window()
    started, done = [], []
    pre = w.start_preload()
    pre.stage_started.connect(lambda stage, message: started.append((stage, message)))
    pre.stage_done.connect(done.append)
    with qtbot.waitSignal(pre.all_done, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: w.statusBar().currentMessage() == "Ready", timeout=5_000)
    assert pre.errors == {}
    assert all(pre.is_done(stage) for stage in STAGES)
    assert pre.cuda_available is False  # no GPU on the test machine
    assert pre.colorizer_for("tiny", w.colorize_panel.device()) is not None
    assert pre.colorizer_for("another-model", "cpu") is None
    assert w.start_preload() is pre  # once per window


def test_colorize_started_while_loading_waits_and_reuses_the_preloaded_colorizer(make_window, qtbot, tmp_path):
    w = make_window()
    assert open_photo(qtbot, w, write_grey_photo(tmp_path / "old.png"))
    pre = w.start_preload()
    w.colorize()  # right away: the job waits for the colorizer stage in its worker
    wait_idle(qtbot, w)
    assert w.step.kind == "colorized"
    assert pre.is_done(COLORIZER)
    assert w.colorization.colorizer is pre.colorizer_for("tiny", w.colorize_panel.device())


def test_style_run_started_while_loading_waits_for_vgg(make_window, qtbot, tmp_path):
    w = make_window()
    assert open_photo(qtbot, w, write_grey_photo(tmp_path / "old.png"))
    w.style_panel.steps.setValue(3)
    pre = w.start_preload()
    w.run_style()
    wait_idle(qtbot, w)
    assert pre.is_done(VGG) and pre.is_done(TORCH)
    assert w.step.kind == "stylized"


def test_closing_while_loading_stops_the_preloader(make_window, qtbot):
    w = make_window()
    pre = w.start_preload()
    w.close()
    assert pre.isFinished()
