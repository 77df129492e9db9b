"""Time from launch to the main window on screen, for the frozen app and the source install, in one run.

    python packaging/time_to_window.py [--bundle dist/MagicBrush] [--runs 3] [--photo PHOTO]

Each run starts the whole process (``<bundle>/magicbrush``, and ``python packaging/launcher.py`` from the
checkout with the Python running this script) with ``MAGICBRUSH_WINDOW_SHOWN_FILE`` set: the launcher writes
the time at which the main window is first exposed and quits (``launcher._report_first_window``). The two are
run alternately, so both see the same machine load. Uses ``QT_QPA_PLATFORM=offscreen`` unless a display is
set. Prints one line per run and the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def time_to_window(cmd: list[str], *, timeout: float = 180.0) -> float:
    """Seconds from starting ``cmd`` to its main window being exposed."""
    with tempfile.TemporaryDirectory(prefix="magicbrush-ttw-") as tmp:
        marker = Path(tmp) / "shown"
        env = dict(os.environ, MAGICBRUSH_WINDOW_SHOWN_FILE=str(marker), MAGICBRUSH_HOME=str(Path(tmp) / "home"))
        if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
            env["QT_QPA_PLATFORM"] = "offscreen"
        started = time.time()
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        if not marker.is_file():
            raise SystemExit(f"{cmd[0]}: no window was reported (exit {result.returncode}):\n{result.stderr[-2000:]}")
        return float(marker.read_text()) - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, default=REPO / "dist" / "MagicBrush", help="the one-folder build")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--photo", type=Path, help="open this photo at start (default: none)")
    parser.add_argument("--no-source", action="store_true", help="time only the bundle")
    args = parser.parse_args(argv)
    extra = [str(args.photo)] if args.photo else []
    commands = {"bundle": [str(args.bundle / "magicbrush"), *extra]}
    if not args.no_source:
        commands["source"] = [sys.executable, str(REPO / "packaging" / "launcher.py"), *extra]
    times: dict[str, list[float]] = {name: [] for name in commands}
    for run in range(1, args.runs + 1):
        for name, cmd in commands.items():
            seconds = time_to_window(cmd)
            times[name].append(seconds)
            print(f"run {run}: {name:6} {seconds:6.2f} s", flush=True)
    for name, values in times.items():
        print(f"{name}: median {statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f}, "
              f"{len(values)} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
