"""Where a model's false colour lies: by the hue it paints and by the lightness it paints on.

    python bench/false_colour_where.py [--model magicbrush-colorizer-v1] [--photos ../shared/data/benchmark]
                                       [--limit 0]

False colour (``magicbrush evaluate``): of the original's neutral pixels (CIE C*ab < 6), the share the
result paints with C*ab > 15. This runs the model once per photo at the default render size (with its
own chroma gain) and compares the prediction with the original resized to that size, then prints:

- the neutral pixels' mean predicted a*, b* (a cast the model lays on grey things);
- for each 30-degree band of predicted hue: its share of all false-colour pixels, its share of all
  pixels the model colours (C*ab > 15), and how often a pixel it colours that hue is neutral in truth;
- for each band of 10 L*: its share of the neutral pixels and the false-colour share there;
- the photos with the most false colour.

It says what a new model or recipe has to fix (for v1: browns and olives on grey stone and dry grass,
blue on overcast skies), not how well a model does: ``magicbrush evaluate`` gives that figure.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from magicbrush_desktop.core import metrics as M  # noqa: E402
from magicbrush_desktop.core.color import rgb_to_lab  # noqa: E402
from magicbrush_desktop.core.colorize import Colorizer  # noqa: E402
from magicbrush_desktop.core.dataset import scan_images  # noqa: E402
from magicbrush_desktop.core.imageio import read_photo  # noqa: E402

HUE_NAMES = ("magenta-red", "red-orange", "orange-yellow", "yellow-olive", "green", "green-cyan", "cyan",
             "cyan-blue", "blue", "blue-violet", "violet", "purple")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="name or path (default: the default model)")
    parser.add_argument("--photos", type=Path, default=REPO.parent / "shared" / "data" / "benchmark")
    parser.add_argument("--limit", type=int, default=0, help="first N photos only (0: all)")
    args = parser.parse_args()
    paths = scan_images(args.photos)[: args.limit or None]
    if not paths:
        sys.exit(f"no photos in {args.photos}")
    colorizer = Colorizer.load(args.model, "cpu")

    neutral_ab, neutral_l, painted_hue, coloured_hue, per_photo = [], [], [], [], []
    for path in paths:
        photo = read_photo(path)
        ab = colorizer.predict(photo).ab  # (h, w, 2) at the render size, the model's gain applied
        h, w = ab.shape[:2]
        truth = rgb_to_lab(cv2.resize(photo.rgb, (w, h), interpolation=cv2.INTER_AREA))
        neutral = np.hypot(truth[..., 1], truth[..., 2]) < M.NEUTRAL_CHROMA
        coloured = np.hypot(ab[..., 0], ab[..., 1]) > M.FALSE_CHROMA
        hue = np.degrees(np.arctan2(ab[..., 1], ab[..., 0])) % 360
        neutral_ab.append(ab[neutral])
        neutral_l.append(truth[..., 0][neutral])
        painted_hue.append(hue[neutral & coloured])
        coloured_hue.append(hue[coloured])
        if neutral.any():
            per_photo.append((float((neutral & coloured).sum() / neutral.sum()), float(neutral.mean()), path.name))

    ab_n, l_n = np.concatenate(neutral_ab), np.concatenate(neutral_l)
    painted, coloured = np.concatenate(painted_hue), np.concatenate(coloured_hue)
    fc_mask = np.hypot(ab_n[:, 0], ab_n[:, 1]) > M.FALSE_CHROMA
    print(f"model {colorizer.name}, {len(paths)} photos of {args.photos}, render size default, "
          f"chroma gain {colorizer.chroma_gain}")
    print(f"neutral pixels {len(ab_n)}, pooled false colour {100 * fc_mask.mean():.1f} %, "
          f"mean per photo {100 * np.mean([p[0] for p in per_photo]):.1f} %; "
          f"their mean predicted a*, b*: {ab_n[:, 0].mean():+.1f}, {ab_n[:, 1].mean():+.1f}")
    print("\n| predicted hue | share of false colour | share of coloured pixels | coloured there but neutral in truth |")
    print("|---|---:|---:|---:|")
    bins = np.arange(0, 361, 30)
    f_hist, c_hist = np.histogram(painted, bins)[0], np.histogram(coloured, bins)[0]
    for k, name in enumerate(HUE_NAMES):
        print(f"| {bins[k]}-{bins[k + 1]}° {name} | {100 * f_hist[k] / max(f_hist.sum(), 1):.1f} % | "
              f"{100 * c_hist[k] / max(c_hist.sum(), 1):.1f} % | {100 * f_hist[k] / max(c_hist[k], 1):.1f} % |")
    print("\n| L* of the neutral pixel | share of neutral pixels | false colour there |")
    print("|---|---:|---:|")
    for lo in range(0, 100, 10):
        band = (l_n >= lo) & (l_n < lo + 10 if lo < 90 else l_n <= 100)
        if band.any():
            print(f"| {lo}-{lo + 10} | {100 * band.mean():.1f} % | {100 * fc_mask[band].mean():.1f} % |")
    print("\nmost false colour (share of the photo's neutral pixels, neutral share of the photo):")
    for share, neutral_share, name in sorted(per_photo, reverse=True)[:10]:
        print(f"  {name}: {100 * share:.0f} % of {100 * neutral_share:.0f} %")


if __name__ == "__main__":
    main()
