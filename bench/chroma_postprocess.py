"""Can post-processing of a model's chroma fix blotches without a better model? Measured, not guessed.

    python bench/chroma_postprocess.py [--model magicbrush-colorizer-v1] [--limit 100] [--gains 1.0,1.2]

Runs the model once per benchmark photo (``../shared/data/benchmark``, never trained on) at the default
render size, then re-composes the same prediction under several chroma treatments and prints PSNR, SSIM,
colourfulness and false colour on neutral surfaces (mean over photos, as ``magicbrush evaluate``):

- ``gain g``: uniform a*b* gain (the shipped calibration is one of these);
- ``soft-threshold t, g``: chroma below t pulled to zero, the rest scaled: C' = g * max(C - t, 0);
- ``knee t, g``: smooth suppression of faint chroma, C' = g * C * C^2 / (C^2 + t^2);
- ``expand t, k``: chroma above t stretched, below it kept: C' = C for C <= t, t + k (C - t) above (no
  pixel crosses t, so the share of neutral pixels painted past a threshold >= t cannot grow);
- ``guided r, eps, g``: a wide edge-aware guided filter of a*b* along L before composing (averages
  hues that disagree inside flat regions, keeps colour edges that follow L).

``--gains`` replaces the treatments by uniform gains at the listed values: a sweep for choosing a new
model's shipped gain (``scripts/ship_model.py --chroma-gain``) from one prediction per photo. Grey
baseline and the originals' colourfulness are printed in the same run.

``--temperatures`` (a colour-class model, ``--head classes``): the network runs once per photo at each
listed annealing temperature, and every treatment is applied to each (rows "T t, ..."): the sweep for
choosing its shipped temperature (``scripts/ship_model.py --temperature``) and gain together.

``--decoders`` (a colour-class model): instead of the treatments above, other read-outs of the class
distribution p (at T 1; m = its mean, the annealed mean at T 1) than a plain gain g * m, each computed
from one network run per photo:

- ``kappa r, g``: g * m * kappa^r, kappa = |m| / E_p|c| (1 when the distribution holds one hue, lower as
  its hues disagree): unsure hues pulled towards neutral;
- ``greymass thr, k, g``: g * m * (1 - P(C < thr))^k: colour pulled towards neutral by the probability
  the distribution gives to grey (chroma below ``thr`` a*b* units);
- ``gatedgain thr, k, g``: m * (1 + (g - 1) (1 - P(C < thr))^k): the gain above 1 only where the colour
  is sure not to be grey (a colour-strength slider that does not paint walls).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from magicbrush_desktop.core import metrics as M  # noqa: E402
from magicbrush_desktop.core.colorize import ChromaPrediction, Colorizer, compose, guided_coefficients  # noqa: E402
from magicbrush_desktop.core.dataset import scan_images  # noqa: E402
from magicbrush_desktop.core.evaluate import grey_baseline  # noqa: E402
from magicbrush_desktop.core.imageio import read_photo  # noqa: E402

Treatment = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (L 0..1 at render size, ab) -> ab


def _chroma_curve(curve: Callable[[np.ndarray], np.ndarray]) -> Treatment:
    def apply(_l: np.ndarray, ab: np.ndarray) -> np.ndarray:
        c = np.hypot(ab[..., 0], ab[..., 1]) + 1e-6
        return ab * (curve(c) / c)[..., None]
    return apply


def _expand(threshold: float, stretch: float) -> Treatment:
    """Chroma above ``threshold`` stretched by ``stretch``, chroma below it kept (the module's ``expand``)."""
    return _chroma_curve(lambda c: np.where(c > threshold, threshold + stretch * (c - threshold), c))


def _guided(radius: int, eps: float, gain: float) -> Treatment:
    def apply(l: np.ndarray, ab: np.ndarray) -> np.ndarray:
        a, b = guided_coefficients(l, ab, radius=radius, eps=eps)
        return (a * l[..., None] + b) * gain
    return apply


def _agreement(radius: int, power: float, gain: float) -> Treatment:
    """Shrink chroma where neighbouring hues disagree (a rainbow sweep over a plain surface): R = |mean ab| /
    mean |ab| over a (2r+1)² window is 1 where the colour holds one hue and falls where hues turn."""
    def apply(_l: np.ndarray, ab: np.ndarray) -> np.ndarray:
        k = (2 * radius + 1, 2 * radius + 1)
        c = np.hypot(ab[..., 0], ab[..., 1])
        mean_a, mean_b, mean_c = (cv2.blur(x.astype(np.float32), k) for x in (ab[..., 0], ab[..., 1], c))
        agreement = np.hypot(mean_a, mean_b) / (mean_c + 1e-3)
        return ab * (gain * np.clip(agreement, 0, 1) ** power)[..., None]
    return apply


TREATMENTS: dict[str, Treatment] = {
    "gain 1.0": _chroma_curve(lambda c: c),
    "gain 1.1 (shipped calibration)": _chroma_curve(lambda c: 1.1 * c),
    "gain 1.3": _chroma_curve(lambda c: 1.3 * c),
    "soft-threshold 4, 1.3": _chroma_curve(lambda c: 1.3 * np.maximum(c - 4, 0)),
    "soft-threshold 8, 1.5": _chroma_curve(lambda c: 1.5 * np.maximum(c - 8, 0)),
    "knee 8, 1.3": _chroma_curve(lambda c: 1.3 * c**3 / (c**2 + 64)),
    "knee 12, 1.5": _chroma_curve(lambda c: 1.5 * c**3 / (c**2 + 144)),
    "expand 12, 1.5": _expand(12, 1.5),
    "expand 15, 1.6": _expand(15, 1.6),
    "expand 15, 2.0": _expand(15, 2.0),
    "guided 16, 1e-3, 1.1": _guided(16, 1e-3, 1.1),
    "guided 16, 1e-3, 1.4": _guided(16, 1e-3, 1.4),
    "agreement 12, 1, 1.2": _agreement(12, 1, 1.2),
    "agreement 24, 1, 1.25": _agreement(24, 1, 1.25),
    "agreement 24, 2, 1.35": _agreement(24, 2, 1.35),
    "agreement 48, 2, 1.4": _agreement(48, 2, 1.4),
}


ClassDecoder = Callable[["torch.Tensor", "torch.Tensor"], "torch.Tensor"]  # (probs (Q,h,w), centres (Q,2)) -> (2,h,w)


def _grey_mass(probs: "torch.Tensor", centres: "torch.Tensor", threshold: float) -> "torch.Tensor":
    from magicbrush_desktop.core.color import AB_SCALE

    grey = (centres.norm(dim=1) * AB_SCALE < threshold).to(probs.dtype)
    return (probs * grey[:, None, None]).sum(0).clamp(0, 1)


def _class_decoders() -> dict[str, ClassDecoder]:
    import torch

    def mean(p: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return torch.einsum("qhw,qc->chw", p, c)

    def kappa(r: float, g: float) -> ClassDecoder:
        def apply(p: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
            m = mean(p, c)
            spread = torch.einsum("qhw,q->hw", p, c.norm(dim=1)) + 1e-6
            return m * g * (m.norm(dim=0) / spread).clamp(0, 1) ** r
        return apply

    def greymass(threshold: float, k: float, g: float) -> ClassDecoder:
        return lambda p, c: mean(p, c) * g * (1 - _grey_mass(p, c, threshold)) ** k

    def gatedgain(threshold: float, k: float, g: float) -> ClassDecoder:
        return lambda p, c: mean(p, c) * (1 + (g - 1) * (1 - _grey_mass(p, c, threshold)) ** k)

    decoders: dict[str, ClassDecoder] = {f"mean, gain {g:g}": (lambda g: lambda p, c: mean(p, c) * g)(g)
                                         for g in (1.0, 1.35, 1.5)}
    decoders.update({f"kappa {r:g}, {g:g}": kappa(r, g) for r, g in ((1, 1.35), (2, 1.6), (3, 2.0))})
    decoders.update({f"greymass {t:g}, {k:g}, {g:g}": greymass(t, k, g)
                     for t, k, g in ((12, 1, 1.6), (12, 2, 2.0))})
    decoders.update({f"gatedgain {t:g}, {k:g}, {g:g}": gatedgain(t, k, g)
                     for t, k, g in ((12, 1, 1.5), (12, 2, 1.5), (15, 2, 2.0))})
    return decoders


def _decoder_rows(colorizer: Colorizer, photos: list) -> list[tuple[str, dict[str, float]]]:
    """Figures of each class decoder: the network runs once per photo, its logits kept for all of them."""
    import torch
    import torch.nn.functional as F

    from magicbrush_desktop.core.color import AB_SCALE

    gen = colorizer.generator
    head, captured = gen.head, {}
    plain_decode = head.decode

    def keep_logits(logits: torch.Tensor, temperature: float) -> torch.Tensor:
        captured["logits"] = logits.detach().float()
        return plain_decode(logits, temperature)

    decoders = _class_decoders()
    outs: dict[str, list[np.ndarray]] = {name: [] for name in decoders}
    head.decode = keep_logits
    try:
        for photo in photos:
            pred = colorizer.predict(photo)
            w, h = pred.render_size
            logits = captured["logits"]
            probs = torch.softmax(logits, dim=1)[0]
            l_low = (cv2.resize(photo.lightness, (w, h), interpolation=cv2.INTER_AREA) / 100.0).astype(np.float32)
            s = gen.out_stride  # the head's grid is the padded input's over the stride; crop as the network does
            for name, decode in decoders.items():
                ab = F.interpolate(decode(probs, head.centres)[None], size=(logits.shape[-2] * s, logits.shape[-1] * s),
                                   mode="bilinear", align_corners=False)[0, :, :h, :w]
                ab = np.ascontiguousarray(ab.permute(1, 2, 0).numpy() * AB_SCALE, dtype=np.float32)
                coef_a, coef_b = guided_coefficients(l_low, ab)
                outs[name].append(compose(photo.lightness, ChromaPrediction(coef_a, coef_b, ab, (w, h))))
    finally:
        head.decode = plain_decode
    return [(name, _figures(o, photos)) for name, o in outs.items()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="magicbrush-colorizer-v1")
    parser.add_argument("--photos", type=Path, default=REPO.parent / "shared" / "data" / "benchmark")
    parser.add_argument("--limit", type=int, default=100, help="first N photos (0: all)")
    parser.add_argument("--gains", default="", help="comma-separated uniform gains instead of the treatments")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's)")
    parser.add_argument("--only", default="", help="comma-separated name prefixes of the treatments to run")
    parser.add_argument("--temperatures", default="",
                        help="comma-separated annealing temperatures of a colour-class model (default: its own)")
    parser.add_argument("--decoders", action="store_true",
                        help="a colour-class model: other read-outs of its distribution instead of the treatments")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    treatments = TREATMENTS
    if args.only:
        treatments = {k: v for k, v in TREATMENTS.items() if any(k.startswith(o) for o in args.only.split(","))}
    if args.gains:
        gains = [float(g) for g in args.gains.split(",")]
        treatments = {f"gain {g:g}": _chroma_curve(lambda c, g=g: g * c) for g in gains}
    if not args.photos.is_dir():
        print(f"no benchmark at {args.photos}", file=sys.stderr)
        return 2
    colorizer = Colorizer.load(args.model)
    colorizer.info["inference"] = {}  # raw network output; every treatment sets its own gain
    photos = [read_photo(p) for p in scan_images(args.photos)[: args.limit or None]]
    photos = [p for p in photos if not p.is_greyscale]
    temperatures: list[float | None] = [float(t) for t in args.temperatures.split(",")] if args.temperatures else [None]
    if args.temperatures and getattr(colorizer.generator, "head_kind", "") != "classes":
        parser.error("--temperatures needs a colour-class model (trained with --head classes)")
    rows: list[tuple[str, dict[str, float]]] = []
    grey = [grey_baseline(p.lightness) for p in photos]
    rows.append(("grey baseline", _figures(grey, photos)))
    if args.decoders:
        if getattr(colorizer.generator, "head_kind", "") != "classes":
            parser.error("--decoders needs a colour-class model (trained with --head classes)")
        rows += _decoder_rows(colorizer, photos)
        temperatures = []
    for temperature in temperatures:
        if temperature is not None:
            colorizer.generator.temperature = temperature
        predictions = [colorizer.predict(p) for p in photos]
        prefix = "" if temperature is None else f"T {temperature:g}, "
        for name, treat in treatments.items():
            outs = []
            for photo, pred in zip(photos, predictions):
                w, h = pred.render_size
                l_low = cv2.resize(photo.lightness, (w, h), interpolation=cv2.INTER_AREA) / 100.0
                ab = np.ascontiguousarray(treat(l_low.astype(np.float32), pred.ab), dtype=np.float32)
                coef_a, coef_b = guided_coefficients(l_low.astype(np.float32), ab)
                outs.append(compose(photo.lightness, ChromaPrediction(coef_a, coef_b, ab, (w, h))))
            rows.append((prefix + name, _figures(outs, photos)))
            print(f"{prefix}{name}: done", file=sys.stderr, flush=True)
    real_cf = float(np.mean([M.colourfulness(p.rgb) for p in photos]))
    print(f"model {colorizer.name}, {len(photos)} photos of {args.photos.name}, originals' colourfulness {real_cf:.1f}\n")
    print("| treatment | PSNR dB | SSIM | colourfulness | false colour % |")
    print("|---|---:|---:|---:|---:|")
    for name, f in rows:
        print(f"| {name} | {f['psnr']:.2f} | {f['ssim']:.4f} | {f['colourfulness']:.1f} | {100 * f['false_colour']:.1f} |")
    return 0


def _figures(outs: list[np.ndarray], photos: list) -> dict[str, float]:
    shares = [M.false_colour(o, p.rgb) for o, p in zip(outs, photos)]
    return {
        "psnr": float(np.mean([M.psnr(o, p.rgb) for o, p in zip(outs, photos)])),
        "ssim": float(np.mean([M.ssim(o, p.rgb) for o, p in zip(outs, photos)])),
        "colourfulness": float(np.mean([M.colourfulness(o) for o in outs])),
        "false_colour": float(np.nanmean(shares)) if not all(np.isnan(shares)) else 0.0,
    }


if __name__ == "__main__":
    sys.exit(main())
