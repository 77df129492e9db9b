"""Hint recovery: how much do a few true-colour hints improve the automatic result?

Each photo gets 10 point hints (5x5-pixel patches at random positions, seeded per photo) carrying the
original's true colour (the patch's mean Lab). For 0, 1, 5 and 10 hints (the first n of the 10) it reports
PSNR against the colour original and false colour on neutral surfaces (the share of the original's grey
pixels, C*ab < 6, that the result gives C*ab > 15, pooled over photos), for

- ``brush``: the app's propagation (core/hints.py: a kernel in position x lightness x automatic colour,
  distance to the painted pixels; the hints' colours replace the automatic one in proportion to their
  confidence, fading to it where nothing is alike) at its default reach for hints that do not give one
  (SIGMA_XY: sidecars, the CLI),
- ``brush-local``: the same with each hint's "spread" 0.1, the desktop brush's default Reach (colour kept
  to the region around the stroke), and
- ``gaussian``: the plain baseline: each hint's a*b* correction spread with a spatial x lightness Gaussian
  weight, ``u = sum_k w_k d_k / max(1, sum_k w_k)``.

Both start from the same automatic prediction and are composed at full resolution the same way.

    python bench/hint_recovery.py [FOLDER] [--limit N] [--counts 0,1,5,10] [--tune N]

``--tune N`` grid-searches both methods' parameters with 10 hints on the first N photos (and then the
report says how the remaining photos alone score, so tuned and untouched photos can be told apart).
FOLDER defaults to ../shared/data/benchmark (BSDS500 test split: never trained on).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import pickle
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from magicbrush_desktop.core import hints as H  # noqa: E402
from magicbrush_desktop.core import metrics as M  # noqa: E402
from magicbrush_desktop.core.color import rgb_to_lab  # noqa: E402
from magicbrush_desktop.core.colorize import ChromaPrediction, Colorizer, compose, guided_coefficients  # noqa: E402
from magicbrush_desktop.core.dataset import scan_images  # noqa: E402
from magicbrush_desktop.core.imageio import read_photo  # noqa: E402

PATCH = 5
MAX_HINTS = 10
LOCAL_SPREAD = 0.1  # "brush-local": the desktop brush's default reach (sidecar "spread")


def sample_hints(photo, seed: int, count: int = MAX_HINTS) -> list[H.Hint]:
    """``count`` 5x5 true-colour patches at random positions of the photo."""
    rng = np.random.default_rng(seed)
    w, h = photo.size
    lab = rgb_to_lab(photo.rgb)
    half = PATCH // 2
    out = []
    for _ in range(count):
        x = int(rng.integers(half, w - half))
        y = int(rng.integers(half, h - half))
        mean = lab[y - half:y + half + 1, x - half:x + half + 1].reshape(-1, 3).mean(axis=0)
        out.append(H.Hint((((x + 0.5) / w, (y + 0.5) / h),), PATCH / 2 / max(w, h),
                          (float(mean[0]), float(mean[1]), float(mean[2]))))
    return out


def gaussian_spread(l_low: np.ndarray, chroma: ChromaPrediction, hints: list[H.Hint], sigma_xy: float,
                    sigma_l: float) -> ChromaPrediction:
    """The plain baseline: spatial (sigma_xy, fraction of the longest side) x lightness (sigma_l) weights."""
    if not hints:
        return chroma
    h, w = l_low.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    num = np.zeros((h, w, 2), np.float32)
    den = np.zeros((h, w), np.float32)
    s_xy = sigma_xy * max(w, h)
    for hint in hints:
        mask, target = H.rasterize([hint], w, h)
        d = (target[mask] - chroma.ab[mask]).mean(axis=0)
        lk = l_low[mask].mean()
        cx, cy = hint.points[0][0] * w - 0.5, hint.points[0][1] * h - 0.5
        wk = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * s_xy**2) - (l_low - lk) ** 2 / (2 * sigma_l**2))
        num += wk[..., None] * d
        den += wk
    ab = chroma.ab + num / np.maximum(den, 1.0)[..., None]
    a, b = guided_coefficients(l_low / 100.0, np.ascontiguousarray(ab, dtype=np.float32))
    return ChromaPrediction(a, b, ab.astype(np.float32), chroma.render_size)


def prepare(colorizer: Colorizer, paths: list[Path], render: int) -> list[dict]:
    items = []
    for i, path in enumerate(paths):
        photo = read_photo(path)
        if photo.is_greyscale:
            continue
        chroma = colorizer.predict(photo, render)
        l_low = H.render_lightness(photo.lightness, chroma)
        items.append({"photo": photo, "chroma": chroma, "l_low": l_low, "hints": sample_hints(photo, 1000 + i)})
        if (i + 1) % 50 == 0:
            print(f"... predicted {i + 1}/{len(paths)}", file=sys.stderr, flush=True)
    return items


def score(item: dict, chroma: ChromaPrediction) -> tuple[float, int, int]:
    out = compose(item["photo"].lightness, chroma)
    neutral, painted = M.false_colour_counts(out, item["photo"].rgb)  # pooled over photos
    return M.psnr(out, item["photo"].rgb), neutral, painted


def run_method(item: dict, method: str, n: int, params: dict) -> tuple[ChromaPrediction, float]:
    hints = item["hints"][:n]
    start = time.perf_counter()
    if n == 0 or method == "automatic":
        chroma = item["chroma"]
    elif method == "brush":
        chroma = H.HintPropagator(item["l_low"], item["chroma"], **params).apply(hints)
    elif method == "brush-local":
        local = [dataclasses.replace(h, spread=LOCAL_SPREAD) for h in hints]
        chroma = H.HintPropagator(item["l_low"], item["chroma"], **params).apply(local)
    else:
        chroma = gaussian_spread(item["l_low"], item["chroma"], hints, **params)
    return chroma, time.perf_counter() - start


def mean_psnr(items: list[dict], method: str, n: int, params: dict) -> float:
    return float(np.mean([score(it, run_method(it, method, n, params)[0])[0] for it in items]))


BRUSH_GRID = {"sigma_xy": [0.3, 0.5, 1.0], "sigma_l": [7.0, 10.0, 15.0], "sigma_ab": [5.0, 7.0, 10.0],
              "tau": [0.25, 0.5]}
GAUSS_GRID = {"sigma_xy": [0.06, 0.1, 0.2, 0.35, 0.6], "sigma_l": [5.0, 10.0, 20.0, 40.0]}


def tune(items: list[dict]) -> tuple[dict, dict]:
    best = {}
    base = mean_psnr(items, "automatic", 0, {})
    for method, grid in (("brush", BRUSH_GRID), ("gaussian", GAUSS_GRID)):
        results = []
        for values in itertools.product(*grid.values()):
            params = dict(zip(grid.keys(), values))
            p = mean_psnr(items, method, MAX_HINTS, params)
            results.append((p, params))
            print(f"tune {method} {params}: {p - base:+.2f} dB", file=sys.stderr, flush=True)
        results.sort(key=lambda r: -r[0])
        best[method] = results[0][1]
        print(f"best {method}: {results[0][1]} {results[0][0] - base:+.2f} dB on {len(items)} photos")
    return best["brush"], best["gaussian"]


def measure(items: list[dict], counts: list[int], brush: dict, gauss: dict) -> dict[tuple[int, str], list]:
    """Per photo (PSNR, neutral pixels, falsely coloured ones, seconds) for each (hints, method)."""
    rows: dict[tuple[int, str], list] = {}
    for n in counts:
        methods = [("automatic", {})] if n == 0 else [("brush", brush), ("brush-local", brush), ("gaussian", gauss)]
        for method, params in methods:
            out = []
            for it in items:
                chroma, sec = run_method(it, method, n, params)
                out.append((*score(it, chroma), sec))
            rows[(n, method)] = out
            print(f"... {n} hints, {method} done", file=sys.stderr, flush=True)
    return rows


def report(rows: dict[tuple[int, str], list], subset: slice, label: str) -> None:
    print(f"\n{label}")
    print("| hints | method | PSNR dB | gain dB | false colour % | ms per update |")
    print("|---:|---|---:|---:|---:|---:|")
    base = None
    for (n, method), vals in rows.items():
        arr = np.array(vals[subset], dtype=np.float64)
        mean = float(arr[:, 0].mean())
        base = mean if base is None else base
        fc = 100.0 * arr[:, 2].sum() / max(arr[:, 1].sum(), 1)
        print(f"| {n} | {method} | {mean:.2f} | {mean - base:+.2f} | {fc:.2f} | {1000 * arr[:, 3].mean():.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, default=REPO.parent / "shared" / "data" / "benchmark")
    parser.add_argument("--model", default=None)
    parser.add_argument("--render-size", type=int, default=256)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--counts", default="0,1,5,10")
    parser.add_argument("--tune", type=int, default=0, metavar="N")
    parser.add_argument("--cache", type=Path, default=None, help="keep the predictions in this file for re-runs")
    parser.add_argument("--tuned-on", type=int, default=40, metavar="N",
                        help="the defaults were tuned on the first N photos: also report the others alone")
    # The baseline's best on the first 40 photos (sigma_xy 0.06..0.6 x sigma_l 5..40 searched).
    parser.add_argument("--sigma-xy", type=float, default=0.2, help="baseline spatial sigma (default: tuned)")
    parser.add_argument("--sigma-l", type=float, default=10.0, help="baseline lightness sigma (default: tuned)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    colorizer = Colorizer.load(args.model, "cpu")
    paths = scan_images(args.folder)[: args.limit or None]
    if args.cache and args.cache.is_file():
        items = pickle.loads(args.cache.read_bytes())
    else:
        items = prepare(colorizer, paths, args.render_size)
        if args.cache:
            args.cache.write_bytes(pickle.dumps(items))
    counts = [int(c) for c in args.counts.split(",")]
    brush: dict = {}
    gauss = {"sigma_xy": args.sigma_xy, "sigma_l": args.sigma_l}
    print(f"model {colorizer.name}, render size {args.render_size}, {PATCH}x{PATCH} true-colour hints, "
          f"{len(items)} colour photos of {args.folder.name}")
    if args.tune:
        brush, gauss = tune(items[: args.tune])
    print(f"brush: {brush or 'defaults'} (sigma_xy {H.SIGMA_XY}, sigma_l {H.SIGMA_L}, sigma_ab {H.SIGMA_AB}, "
          f"tau {H.TAU}); gaussian: {gauss}")
    rows = measure(items, counts, brush, gauss)
    report(rows, slice(None), f"all {len(items)} photos")
    tuned_on = args.tune or args.tuned_on
    if 0 < tuned_on < len(items):
        report(rows, slice(None, tuned_on), f"the {tuned_on} photos used for tuning")
        report(rows, slice(tuned_on, None), f"the {len(items) - tuned_on} photos not used for tuning")


if __name__ == "__main__":
    main()
