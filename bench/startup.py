"""Start-up time: the desktop window, ``magicbrush --help`` and ``--version``, each as a whole process,
against ``python -c "import torch"`` measured in the same run.

Usage: PYTHONPATH=. python bench/startup.py [--repeat 3]

For the window, the app runs with ``MAGICBRUSH_STARTUP_PROBE`` set (see ``gui/app.py``): it records when the
window has shown, when torch, the colorizer and VGG19 have loaded in the background, and the longest
time the UI thread went without serving its event loop while they loaded, then quits. Times are from
just before the process is started. Without a display it uses Qt's offscreen platform. A first, uncounted
start fills the user cache (gallery thumbnails), as any later start finds it. Absolute times move with
the machine's load; the ratios to ``import torch``, measured in the same minutes, are what count.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], env: dict) -> float:
    start = time.time()
    subprocess.run(cmd, env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.time() - start


def app_start(env: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "probe.json"
        start = time.time()
        subprocess.run([sys.executable, "-m", "magicbrush_desktop"], env={**env, "MAGICBRUSH_STARTUP_PROBE": str(out)},
                       cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
        end = time.time()
        rec = json.loads(out.read_text())
    return {"window": rec["shown"] - start, "ready": rec["ready"] - start, "process": end - start,
            "max_ui_stall": rec["max_ui_stall_s"], "errors": rec["errors"],
            **{k: rec[k] - start for k in rec if k.endswith("_loaded")}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    home = tempfile.mkdtemp(prefix="mb-startup-")
    env = {**os.environ, "MAGICBRUSH_HOME": home, "PYTHONPATH": str(REPO)}
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    app_start(env)  # fills the thumbnail cache; not counted
    rows: dict[str, list[float]] = {"import torch": [], "--help": [], "--version": [], "window": [], "ready": [],
                                    "max_ui_stall": []}
    for _ in range(args.repeat):  # interleaved, so each sees the same machine load
        rows["import torch"].append(timed([sys.executable, "-c", "import torch"], env))
        rows["--help"].append(timed([sys.executable, "-m", "magicbrush_desktop", "--help"], env))
        rows["--version"].append(timed([sys.executable, "-m", "magicbrush_desktop", "--version"], env))
        rec = app_start(env)
        for k in ("window", "ready", "max_ui_stall"):
            rows[k].append(rec[k])
        if rec["errors"]:
            print("preload errors:", rec["errors"])
    torch_s = statistics.median(rows["import torch"])
    print(f"{'':34}{'median s':>9}{'runs':>28}{'÷ import torch':>16}")
    labels = {"import torch": 'python -c "import torch"', "--help": "magicbrush --help",
              "--version": "magicbrush --version", "window": "window shown (whole process)",
              "ready": "torch + colorizer + VGG19 loaded", "max_ui_stall": "longest UI stall while loading"}
    for key, values in rows.items():
        med = statistics.median(values)
        runs = " ".join(f"{v:.2f}" for v in values)
        ratio = f"{med / torch_s:.2f}×" if key != "max_ui_stall" else ""
        print(f"{labels[key]:34}{med:9.2f}{runs:>28}{ratio:>16}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
