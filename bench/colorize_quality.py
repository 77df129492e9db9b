"""Choose colorization settings by measurement: PSNR, SSIM and colourfulness on held-out colour photos at
several render sizes, with guided (edge-aware) and plain bilinear chroma upsampling, beside the
luminance-only baseline computed on the same images in the same run.

    python bench/colorize_quality.py [FOLDER] [--model NAME|PATH] [--sizes 128,192,256,384] [--limit N]

FOLDER defaults to ../shared/data/benchmark (BSDS500 test split: never trained on).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from magicbrush_desktop.core import metrics as M  # noqa: E402
from magicbrush_desktop.core.colorize import Colorizer  # noqa: E402
from magicbrush_desktop.core.dataset import scan_images  # noqa: E402
from magicbrush_desktop.core.evaluate import grey_baseline  # noqa: E402
from magicbrush_desktop.core.imageio import read_photo  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, default=REPO.parent / "shared" / "data" / "benchmark")
    parser.add_argument("--model", default=None)
    parser.add_argument("--sizes", default="128,192,256,384")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--strength", type=float, default=1.0)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    colorizer = Colorizer.load(args.model, "cpu")
    paths = scan_images(args.folder)[: args.limit or None]
    photos = [read_photo(p) for p in paths]
    sizes = [int(s) for s in args.sizes.split(",")]
    rows: dict[str, list[tuple[float, float, float]]] = {}
    real_cf = float(np.mean([M.colourfulness(p.rgb) for p in photos]))
    base = [grey_baseline(p.lightness) for p in photos]
    rows["grey baseline"] = [(M.psnr(b, p.rgb), M.ssim(b, p.rgb), M.colourfulness(b)) for b, p in zip(base, photos)]
    for size in sizes:
        guided, plain = [], []
        for p in photos:
            chroma = colorizer.predict(p, size)
            for guide, bucket in ((True, guided), (False, plain)):
                out = colorizer.compose(p, chroma, args.strength, guided=guide)
                bucket.append((M.psnr(out, p.rgb), M.ssim(out, p.rgb), M.colourfulness(out)))
        rows[f"render {size}, guided"] = guided
        rows[f"render {size}, bilinear"] = plain
        print(f"... render {size} done", file=sys.stderr, flush=True)
    print(f"model {colorizer.name} on {len(photos)} photos of {args.folder.name}; "
          f"originals' colourfulness {real_cf:.1f}; strength {args.strength}")
    print()
    print("| setting | PSNR dB | SSIM | colourfulness | ΔCF |")
    print("|---|---:|---:|---:|---:|")
    for name, vals in rows.items():
        arr = np.array(vals)
        psnr, ssim, cf = arr.mean(axis=0)
        print(f"| {name} | {psnr:.2f} | {ssim:.3f} | {cf:.1f} | {abs(cf - real_cf):.1f} |")


if __name__ == "__main__":
    main()
