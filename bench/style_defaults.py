"""Do the style defaults keep the photo? Every gallery look at its default weights on three old photos.

Usage:
    PYTHONPATH=. python bench/style_defaults.py                       # defaults, contact sheet into docs/
    PYTHONPATH=. python bench/style_defaults.py --looks comic --beta 3,10,30 --size 256 --no-sheet

For each look × photo it runs the style transfer exactly as ``magicbrush stylize`` does at its defaults
(512 px, 100 L-BFGS steps, the look's own α/β from ``core/style/defaults.py``) and reports

- ``ssim``: SSIM of the luminance (CIE L*) between result and photo, both at 256 px on the longest side
  (the bar: ≥ 0.5, the photo stays recognisable);
- ``style_drop``: how much the (normalised) style loss fell from the photo to the result (bar: ≥ 50 %).

``--beta`` overrides the style weight (a comma list sweeps it) to choose new defaults. The contact sheet
(``docs/style_defaults.png``: a row per look, the photo then its result per column) and the figures
(``docs/style_defaults.json``) are written unless ``--no-sheet``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from skimage.metrics import structural_similarity

from magicbrush_desktop.core.color import rgb_to_lab
from magicbrush_desktop.core.events import Finished
from magicbrush_desktop.core.imageio import read_photo, resize_image
from magicbrush_desktop.core.style.defaults import DEFAULT_SIZE, DEFAULT_STEPS, LOOK_INFO, default_weights
from magicbrush_desktop.core.style.gallery import load_style
from magicbrush_desktop.core.style.engine import StyleEngine
from magicbrush_desktop.core.sizing import fit_longest_side
from magicbrush_desktop.core.style.gatys import StyleTransfer

REPO = Path(__file__).resolve().parents[1]
OLD_BW = REPO.parent / "shared" / "data" / "old-bw"
PHOTOS = ("1899NycBlizzard.jpg", "1908FamilyPhoto.jpg", "migrant_mother.jpg")
SSIM_SIZE = 256


def luminance_ssim(a: np.ndarray, b: np.ndarray, longest: int = SSIM_SIZE) -> float:
    """SSIM of the CIE L* of two (H, W, 3) uint8 pictures, both resized to ``longest`` px (longest side)."""
    hw = fit_longest_side(*a.shape[:2], longest)
    la = rgb_to_lab(resize_image(a, hw))[..., 0]
    lb = rgb_to_lab(resize_image(b, hw))[..., 0]
    return float(structural_similarity(la, lb, data_range=100.0))


def cached_stylize(cache: Path | None, tag: str, *args) -> dict:
    """:func:`stylize`, or its saved result and figures from ``cache`` (so runs can be split over processes)."""
    if cache is None:
        return stylize(*args)
    png, meta = cache / f"{tag}.png", cache / f"{tag}.json"
    if png.is_file() and meta.is_file():
        return {**json.loads(meta.read_text()), "result": cv2.cvtColor(cv2.imread(str(png)), cv2.COLOR_BGR2RGB)}
    if CACHED_ONLY:
        return {}
    out = stylize(*args)
    cache.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(png), cv2.cvtColor(out["result"], cv2.COLOR_RGB2BGR))
    meta.write_text(json.dumps({k: v for k, v in out.items() if k != "result"}))
    return out


CACHED_ONLY = False  # --cached-only: make the sheet from the runs done so far (missing ones stay blank)


def stylize(engine: StyleEngine, photo: np.ndarray, style: np.ndarray, weights: tuple[float, float],
            size: int, steps: int) -> dict:
    session = StyleTransfer(engine, photo, [style], size=size)
    done = next(e for e in session.run(steps, content_weight=weights[0], style_weight=weights[1], preview_every=0)
                if isinstance(e, Finished))
    ini, fin = done.summary["losses_initial"], done.summary["losses_final"]
    return {
        "ssim": luminance_ssim(done.result, photo),
        "style_drop": 1.0 - fin["style"] / ini["style"],
        "style_initial": ini["style"],
        "style_final": fin["style"],
        "content_final": fin["content"],
        "seconds": done.summary["seconds"],
        "result": done.result,
    }


def contact_sheet(photos: list[np.ndarray], rows: list[tuple], cell: int = 240) -> np.ndarray:
    """A grid: first row the photos, then one row per look (label, pictures[, captions]); cells ``cell`` px high."""

    def fit(img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        return cv2.resize(img, (round(w * cell / h), cell), interpolation=cv2.INTER_AREA)

    widths = [fit(p).shape[1] for p in photos]
    label_w = 150
    gap = 6
    all_rows = [("Photo", photos, [""] * len(photos))] + [r if len(r) == 3 else (*r, [""] * len(r[1])) for r in rows]
    sheet = np.full(((cell + gap) * len(all_rows) + gap, label_w + sum(widths) + gap * (len(widths) + 1), 3), 255,
                    np.uint8)
    for r, (label, images, captions) in enumerate(all_rows):
        y = gap + r * (cell + gap)
        cv2.putText(sheet, label, (8, y + cell // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (20, 20, 20), 1, cv2.LINE_AA)
        x = label_w + gap
        for img, w, caption in zip(images, widths, captions):
            tile = fit(img)[:, :w]
            sheet[y:y + cell, x:x + tile.shape[1]] = tile
            if caption:
                cv2.rectangle(sheet, (x, y + cell - 22), (x + 9 * len(caption) + 8, y + cell), (255, 255, 255), -1)
                cv2.putText(sheet, caption, (x + 4, y + cell - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1,
                            cv2.LINE_AA)
            x += w + gap
    return sheet


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--looks", default=",".join(LOOK_INFO), help="comma list of look keys (default: all)")
    ap.add_argument("--styles", default="", help="comma list of painting files to add (e.g. ../shared/styles/x.jpg)")
    ap.add_argument("--photos", default=",".join(PHOTOS))
    ap.add_argument("--size", type=int, default=DEFAULT_SIZE)
    ap.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    ap.add_argument("--beta", default="", help="style weight(s) instead of each look's default, comma list")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--no-sheet", action="store_true")
    ap.add_argument("--cache", type=Path, default=None,
                    help="keep each result here and reuse it (split the work over processes, then make the sheet)")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "style_defaults")
    ap.add_argument("--cached-only", action="store_true", help="with --cache: use only runs already done")
    args = ap.parse_args()
    global CACHED_ONLY
    CACHED_ONLY = args.cached_only
    if args.threads:
        torch.set_num_threads(args.threads)

    photos = [read_photo(OLD_BW / name).rgb for name in args.photos.split(",")]
    styles = [(k, LOOK_INFO[k][0], f"look:{k}") for k in args.looks.split(",") if k]
    styles += [(s, Path(s).stem, s) for s in args.styles.split(",") if s]
    engine = StyleEngine("cpu", precision=args.precision)
    betas = [float(b) for b in args.beta.split(",")] if args.beta else [None]
    report: dict = {"size": args.size, "steps": args.steps, "photos": args.photos.split(","), "looks": {}}
    rows = []
    worst_ssim = worst_drop = float("inf")  # over the runs done
    for key, name, spec in styles:
        style = load_style(spec)
        for beta in betas:
            alpha, default_beta = default_weights(spec)
            weights = (alpha, beta if beta is not None else default_beta)
            results = [cached_stylize(args.cache, f"{key}_{Path(name).stem}_a{weights[0]:g}_b{weights[1]:g}_"
                                      f"{args.size}px_{args.steps}", engine, p, style, weights, args.size, args.steps)
                       for name, p in zip(args.photos.split(","), photos)]
            ssims = [r.get("ssim", float("nan")) for r in results]
            drops = [r.get("style_drop", float("nan")) for r in results]
            worst_ssim = min([worst_ssim] + [v for v in ssims if v == v])
            worst_drop = min([worst_drop] + [v for v in drops if v == v])
            line = (f"{name:18} α={weights[0]:g} β={weights[1]:g}: SSIM " + " ".join(f"{s:.3f}" for s in ssims)
                    + "  style drop " + " ".join(f"{100 * d:.0f}%" for d in drops)
                    + f"  ({sum(r.get('seconds', 0) for r in results):.0f} s)")
            print(line, flush=True)
            report["looks"].setdefault(key, []).append({
                "content_weight": weights[0], "style_weight": weights[1], "ssim": ssims, "style_drop": drops,
                "style_final": [r.get("style_final") for r in results],
                "content_final": [r.get("content_final") for r in results],
            })
            blank = np.full_like(photos[0], 230)
            rows.append((f"{name} b={weights[1]:g}" if len(betas) > 1 else name,
                         [r.get("result", blank if p.shape == blank.shape else np.full_like(p, 230))
                          for r, p in zip(results, photos)],
                         [f"SSIM {r['ssim']:.2f}  style -{100 * r['style_drop']:.0f}%" if "ssim" in r else "not run"
                          for r in results]))
    if worst_ssim == float("inf"):
        worst_ssim = worst_drop = float("nan")
    print(f"worst SSIM {worst_ssim:.3f} (bar 0.5), worst style drop {100 * worst_drop:.0f} % (bar 50 %)")
    if not args.no_sheet:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        sheet = contact_sheet(photos, rows)
        cv2.imwrite(str(args.out.with_suffix(".png")), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
        report.update(worst_ssim=worst_ssim, worst_style_drop=worst_drop, date=time.strftime("%Y-%m-%d"),
                      torch=torch.__version__, threads=torch.get_num_threads())
        args.out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out.with_suffix('.png')} and {args.out.with_suffix('.json')}")
    return 0 if worst_ssim >= 0.5 and worst_drop >= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
