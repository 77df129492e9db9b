"""How long the UI thread freezes while a background thread imports torch, with and without mapping
torch's libraries first (``gui.preload.preload_torch_libraries``).

Usage: python bench/torch_import_stall.py [--repeat 2]

Each measurement is a fresh process: a background thread imports torch (after preloading its libraries,
or not) while the main thread sleeps 5 ms in a loop, as an idle event loop would; the longest gap
between its wake-ups is the freeze a user would feel. Interleaved, so machine load hits both alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys, threading, time
sys.path.insert(0, {repo!r})
from magicbrush_desktop.gui.preload import preload_torch_libraries
done = threading.Event()
def work():
    if {preload}:
        preload_torch_libraries()
    import torch  # noqa: F401
    done.set()
start = time.perf_counter()
threading.Thread(target=work).start()
worst, last = 0.0, time.perf_counter()
while not done.is_set():
    time.sleep(0.005)
    now = time.perf_counter()
    worst, last = max(worst, now - last), now
print(json.dumps({{"worst_gap": worst, "total": time.perf_counter() - start}}))
"""


def measure(preload: bool) -> dict:
    code = PROBE.format(repo=str(Path(__file__).resolve().parents[1]), preload=preload)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    runs: dict[bool, list[dict]] = {False: [], True: []}
    for _ in range(args.repeat):
        for preload in (False, True):
            runs[preload].append(measure(preload))
    for preload, label in ((False, "plain import torch"), (True, "libraries mapped first")):
        gaps = [r["worst_gap"] for r in runs[preload]]
        totals = [r["total"] for r in runs[preload]]
        print(f"{label:24} longest UI gap median {statistics.median(gaps):.2f} s, "
              f"import median {statistics.median(totals):.2f} s  (n={len(gaps)})")


if __name__ == "__main__":
    main()
