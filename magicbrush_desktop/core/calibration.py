"""Chroma calibration: one gain on predicted a*b*, fitted on a training run's validation photos.

A colorizer trained with a strong L1 term regresses towards the average colour of what it is unsure
of, so its raw output is greyer than real photos (the seeds' "results greyer than the original", users'
"washed-out"). A single gain on a*b* measured on held-out validation photos, chosen to maximise the same
selection score that picks the best checkpoint (fidelity minus the gap to real colourfulness), restores
saturation without retraining. It is stored in the checkpoint (``inference.chroma_gain``) and applied
by the colorizer; the user's colour-strength slider multiplies on top of it.
"""

from __future__ import annotations

import numpy as np
import torch

from . import metrics as M
from .color import lab_tensor_to_rgb

# Gains tried: from the raw output up to 2.5x (beyond that, wrong colours get garish faster than
# right ones get truer).
GAIN_GRID: tuple[float, ...] = tuple(round(1.0 + 0.1 * i, 1) for i in range(16))


def metrics_at_gain(l: torch.Tensor, pred_ab: torch.Tensor, truths: list[np.ndarray], gain: float) -> dict[str, float]:
    """Mean PSNR, SSIM, colourfulness (result and truth) and selection score of ``pred_ab * gain``.

    Args:
        l: (N, 1, H, W) normalised L; pred_ab: (N, 2, H, W) normalised ab; truths: N (H, W, 3) uint8.
    """
    rgb = lab_tensor_to_rgb(l, pred_ab * gain)
    values = {"psnr": 0.0, "ssim": 0.0, "colourfulness": 0.0, "colourfulness_real": 0.0}
    for out, truth in zip(rgb, truths):
        values["psnr"] += M.psnr(out, truth)
        values["ssim"] += M.ssim(out, truth)
        values["colourfulness"] += M.colourfulness(out)
        values["colourfulness_real"] += M.colourfulness(truth)
    n = max(len(truths), 1)
    values = {k: v / n for k, v in values.items()}
    values["score"] = M.selection_score(values["psnr"], values["ssim"], values["colourfulness"],
                                        values["colourfulness_real"])
    return values


def fit_chroma_gain(l: torch.Tensor, pred_ab: torch.Tensor, truths: list[np.ndarray],
                    grid: tuple[float, ...] = GAIN_GRID) -> tuple[float, dict[str, float]]:
    """The gain of ``grid`` with the best selection score, and the metrics at that gain."""
    best_gain, best = 1.0, None
    for gain in grid:
        values = metrics_at_gain(l, pred_ab, truths, gain)
        if best is None or values["score"] > best["score"]:
            best_gain, best = gain, values
    assert best is not None
    return best_gain, best
