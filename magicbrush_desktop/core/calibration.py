"""Chroma calibration: one gain on predicted a*b*, fitted on a training run's validation photos.

A colorizer trained with a strong L1 term regresses towards the average colour of what it is unsure of, so
its raw output is greyer than real photos (the desaturation Zhang et al. 2016, "Colorful Image
Colorization", show for regression losses; users' "washed-out"). A single gain on a*b*, chosen on held-out
validation photos to maximise the same selection score that ranks checkpoints (fidelity minus the gap to
real colourfulness), restores saturation without retraining. It is stored in the checkpoint
(``inference.chroma_gain``) and applied by the colorizer to the network's a*b*; the user's colour-strength
slider multiplies on top of it.

Two fits:

- :func:`fit_chroma_gain_on_crops`, what training does every epoch: on the validation centre crops at
  the training size, from the predictions validation has just made (no file read, no second network
  run), so the raw and calibrated figures are the same crops'. The network sees photos at about the
  same pixel scale there as at inference (training keeps them with the short side just above the crop,
  inference renders the long side at 256 px), and the gain is one number: on 40 benchmark photos and
  the shipped model both fits chose the same gain.
- :func:`fit_chroma_gain`, through the real inference pipeline (render size, guided upsampling onto
  full-resolution L) on whole photos: what users get, exactly, but 16 full-resolution compositions per
  photo (more time than a small run's training steps, every epoch).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import torch

from . import metrics as M
from .color import lab_tensor_to_rgb
from .imageio import Photo

if TYPE_CHECKING:
    from .colorize import ChromaPrediction, Colorizer

# Gains tried: from the raw output up to 2.5x (beyond that, wrong colours get garish faster than
# right ones get truer).
GAIN_GRID: tuple[float, ...] = tuple(round(1.0 + 0.1 * i, 1) for i in range(16))
# Crops converted to RGB at a time by fit_chroma_gain_on_crops.
_CHUNK = 32
# What fit_chroma_gain_on_crops's threads may hold at once (one gain's results each).
_FIT_MEMORY_BYTES = 512 * 1024 * 1024


def _mean_metrics(pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Means over (result, original) pairs; ``false_colour`` is the mean share over the pairs whose
    original has neutral pixels (as ``magicbrush evaluate`` reports it), 0 when none has."""
    values = {"psnr": 0.0, "ssim": 0.0, "colourfulness": 0.0, "colourfulness_real": 0.0}
    shares = []
    for out, truth in pairs:
        values["psnr"] += M.psnr(out, truth)
        values["ssim"] += M.ssim(out, truth)
        values["colourfulness"] += M.colourfulness(out)
        values["colourfulness_real"] += M.colourfulness(truth)
        neutral, painted = M.false_colour_counts(out, truth)
        if neutral:
            shares.append(painted / neutral)
    n = max(len(pairs), 1)
    values = {k: v / n for k, v in values.items()}
    values["false_colour"] = float(np.mean(shares)) if shares else 0.0
    values["score"] = M.selection_score(values["psnr"], values["ssim"], values["colourfulness"],
                                        values["colourfulness_real"], values["false_colour"])
    return values


def fit_chroma_gain(colorizer: "Colorizer", photos: list[Photo], render_size: int | None = None,
                    grid: tuple[float, ...] = GAIN_GRID) -> tuple[float, dict[str, dict[str, float]]]:
    """The gain of ``grid`` with the best selection score on colour ``photos``.

    The network runs once per photo; each gain only re-composes. ``colorizer`` should carry no gain
    of its own (its output is what gets scaled).

    Returns:
        (gain, {"raw": metrics at gain 1, "calibrated": metrics at the chosen gain}), metrics being
        mean psnr, ssim, colourfulness, colourfulness_real, false_colour (share 0..1) and score.
    """
    chromas = [colorizer.predict(photo, render_size) for photo in photos]

    def at_gain(chroma: "ChromaPrediction", gain: float) -> "ChromaPrediction":
        # Scaled as the colorizer applies a stored gain, not through compose's strength: that is the
        # user's slider, clipped to 2, so gains 2.1 to 2.5 would all score as 2.0 and never be chosen.
        return replace(chroma, coef_a=chroma.coef_a * gain, coef_b=chroma.coef_b * gain, ab=chroma.ab * gain)

    by_gain = {
        gain: _mean_metrics([(colorizer.compose(p, at_gain(c, gain)), p.rgb) for p, c in zip(photos, chromas)])
        for gain in grid
    }
    best = max(grid, key=lambda g: by_gain[g]["score"])
    return best, {"raw": by_gain[1.0] if 1.0 in by_gain else by_gain[grid[0]], "calibrated": by_gain[best]}


def fit_chroma_gain_on_crops(l_norm: torch.Tensor, ab_pred: torch.Tensor, truths: list[np.ndarray],
                             grid: tuple[float, ...] = GAIN_GRID) -> tuple[float, dict[str, dict[str, float]]]:
    """The gain of ``grid`` with the best selection score, on predictions already made for crops.

    Each gain scales the predicted a*b* as :class:`.colorize.Colorizer` applies a stored gain (without
    the colour-strength slider's clip at 2), then the crops are re-composed and scored against the
    truth: no file read, no network run.

    Args:
        l_norm: (N, 1, H, W) the crops' L in [-1, 1] (the network's input).
        ab_pred: (N, 2, H, W) the network's a*b* for them, normalised (about [-1, 1]), before any gain.
        truths: N (H, W, 3) uint8 RGB crops (the originals).
    Returns:
        (gain, {"raw": metrics at gain 1, "calibrated": metrics at the chosen gain}), metrics being
        mean psnr, ssim, colourfulness, colourfulness_real, false_colour and score (as :func:`fit_chroma_gain`).
    """
    l_cpu, ab_cpu = l_norm.detach().float().cpu(), ab_pred.detach().float().cpu()

    def figures(gain: float) -> dict[str, float]:
        # Converted in chunks: the float Lab temporaries stay small whatever the number of crops.
        outs = [rgb for start in range(0, len(truths), _CHUNK)
                for rgb in lab_tensor_to_rgb(l_cpu[start : start + _CHUNK], ab_cpu[start : start + _CHUNK] * gain)]
        return _mean_metrics(list(zip(outs, truths)))

    # The gains are scored on threads: SSIM, three quarters of the time, runs in SciPy filters that
    # release the GIL, and every epoch of a run waits for this fit. For 76 crops at 128 px: 7.7-8.5 s on
    # one thread, 5.6-5.9 s on this machine's two cores (and a GPU trains the epoch in seconds). Each
    # thread holds one gain's RGB crops, hence the memory cap.
    crop_bytes = sum(t.nbytes for t in truths) * 4  # the uint8 results plus their float temporaries
    workers = max(1, min(len(grid), os.cpu_count() or 1, _FIT_MEMORY_BYTES // max(crop_bytes, 1)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        by_gain = dict(zip(grid, pool.map(figures, grid)))
    best = max(grid, key=lambda g: by_gain[g]["score"])
    return best, {"raw": by_gain[1.0] if 1.0 in by_gain else figures(1.0), "calibrated": by_gain[best]}
