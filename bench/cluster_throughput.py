"""Throughput of ``magicbrush colorize --engine ray`` with 1 and 2 workers (docs/SCALING.md).

    python bench/cluster_throughput.py ../shared/data/old-bw --limit 12 [--address ADDR] [--workers 1,2]

Starts one local Ray instance (or joins ``--address``), then runs the same batch with each worker count into
a fresh folder: wall time from submit to the last file written (model load on the workers included), the
steady rate (first result to last), photos/s and megapixels/s, and the same batch on the local engine for
reference. Prints a Markdown table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--limit", type=int, default=12, help="first N photos of the folder (default 12)")
    parser.add_argument("--address", default=None)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-local", action="store_true", help="skip the local-engine reference run")
    args = parser.parse_args()

    import ray
    from PIL import Image

    from magicbrush_desktop.core.batch import plan_batch, run_batch
    from magicbrush_desktop.core.cluster import ColorizeSettings, _start_ray, run_ray_batch
    from magicbrush_desktop.core.events import FileDone
    from magicbrush_desktop.core.models import resolve_model
    from magicbrush_desktop.core.provenance import Provenance

    photos = sorted(p for p in args.source.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[: args.limit]
    megapixels = sum(Image.open(p).size[0] * Image.open(p).size[1] for p in photos) / 1e6
    model = resolve_model(None)
    settings = ColorizeSettings(model_file=model.name, device=args.device,
                                provenance=Provenance(model=model.stem, strength=1.0))
    t0 = time.monotonic()
    ours = _start_ray(ray, args.address, int(max(int(w) for w in args.workers.split(","))))
    start_s = time.monotonic() - t0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (int(w) for w in args.workers.split(",")):
            items = plan_batch(photos, Path(tmp) / f"ray-{workers}")
            t0 = time.monotonic()
            first = None
            n = 0
            for event in run_ray_batch(items, settings, model, workers=workers):
                if isinstance(event, FileDone):
                    assert not event.error, event.error
                    n += 1
                    first = first or time.monotonic()
            wall = time.monotonic() - t0
            steady = (time.monotonic() - first) / max(1, n - 1)
            rows.append({"engine": "ray", "workers": workers, "photos": n, "wall_s": round(wall, 1),
                         "photos_per_s": round(n / wall, 3), "mp_per_s": round(megapixels / wall, 3),
                         "steady_s_per_photo": round(steady, 2)})
        if ours:
            ray.shutdown()
        if not args.no_local:
            from magicbrush_desktop.core.colorize import Colorizer

            t0 = time.monotonic()
            colorizer = Colorizer.load(None, args.device)
            items = plan_batch(photos, Path(tmp) / "local")
            n = sum(1 for e in run_batch(items, lambda ph: colorizer.colorize(ph),
                                         provenance=Provenance(model=colorizer.name, strength=1.0))
                    if isinstance(e, FileDone) and not e.error)
            wall = time.monotonic() - t0
            rows.append({"engine": "local", "workers": 1, "photos": n, "wall_s": round(wall, 1),
                         "photos_per_s": round(n / wall, 3), "mp_per_s": round(megapixels / wall, 3),
                         "steady_s_per_photo": None})
    print(f"{len(photos)} photos, {megapixels:.1f} MP in all; Ray start {start_s:.1f} s; "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    print("| engine | workers | wall s | photos/s | MP/s | s/photo (steady) |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['engine']} | {r['workers']} | {r['wall_s']} | {r['photos_per_s']} | {r['mp_per_s']} | "
              f"{r['steady_s_per_photo'] if r['steady_s_per_photo'] is not None else ''} |")
    print(json.dumps({"photos": len(photos), "megapixels": round(megapixels, 2), "ray_start_s": round(start_s, 1),
                      "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
