"""Chroma calibration: one gain on predicted a*b*, fitted on a training run's validation photos.

A colorizer trained with a strong L1 term regresses towards the average colour of what it is unsure of, so
its raw output is greyer than real photos (the desaturation Zhang et al. 2016, "Colorful Image
Colorization", show for regression losses; users' "washed-out"). A single gain on a*b*, chosen on held-out
validation photos to maximise the same selection score that ranks checkpoints (fidelity minus the gap to
real colourfulness), restores saturation without retraining. The photos go through the real inference
pipeline (render size, guided upsampling onto full-resolution L), so the gain is fitted on exactly what
users will get. It is stored in the checkpoint (``inference.chroma_gain``) and applied by the colorizer; the
user's colour-strength slider multiplies on top of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import metrics as M
from .imageio import Photo

if TYPE_CHECKING:
    from .colorize import Colorizer

# Gains tried: from the raw output up to 2.5x (beyond that, wrong colours get garish faster than
# right ones get truer).
GAIN_GRID: tuple[float, ...] = tuple(round(1.0 + 0.1 * i, 1) for i in range(16))


def _mean_metrics(pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    values = {"psnr": 0.0, "ssim": 0.0, "colourfulness": 0.0, "colourfulness_real": 0.0}
    for out, truth in pairs:
        values["psnr"] += M.psnr(out, truth)
        values["ssim"] += M.ssim(out, truth)
        values["colourfulness"] += M.colourfulness(out)
        values["colourfulness_real"] += M.colourfulness(truth)
    n = max(len(pairs), 1)
    values = {k: v / n for k, v in values.items()}
    values["score"] = M.selection_score(values["psnr"], values["ssim"], values["colourfulness"],
                                        values["colourfulness_real"])
    return values


def fit_chroma_gain(colorizer: "Colorizer", photos: list[Photo], render_size: int | None = None,
                    grid: tuple[float, ...] = GAIN_GRID) -> tuple[float, dict[str, dict[str, float]]]:
    """The gain of ``grid`` with the best selection score on colour ``photos``.

    The network runs once per photo; each gain only re-composes. ``colorizer`` should carry no gain
    of its own (its output is what gets scaled).

    Returns:
        (gain, {"raw": metrics at gain 1, "calibrated": metrics at the chosen gain}), metrics being
        mean psnr, ssim, colourfulness, colourfulness_real and score.
    """
    chromas = [colorizer.predict(photo, render_size) for photo in photos]
    by_gain = {
        gain: _mean_metrics([(colorizer.compose(p, c, gain), p.rgb) for p, c in zip(photos, chromas)])
        for gain in grid
    }
    best = max(grid, key=lambda g: by_gain[g]["score"])
    return best, {"raw": by_gain[1.0] if 1.0 in by_gain else by_gain[grid[0]], "calibrated": by_gain[best]}
