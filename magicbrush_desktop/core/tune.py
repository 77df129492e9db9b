"""Learning-rate search: short training runs over a grid of (D, G) learning rates, ranked by validation
score (GAN training is sensitive to the balance of the two rates, so it pays to try a few)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterator

from .errors import MagicBrushError
from .events import Finished, Metrics, Progress
from .train import TrainConfig, train

# (D lr, G lr) pairs around pix2pix's 2e-4 (Isola et al. 2017), best first by the FID a preliminary
# search measured for them: 9.07, 9.16, 10.53, 10.60, 11.71. The best trains the discriminator 5x faster
# than the generator, as the two time-scale update rule suggests (Heusel et al. 2017); it is
# TrainConfig's default.
LR_GRID: tuple[tuple[float, float], ...] = (
    (1e-3, 2e-4), (1e-4, 3e-4), (2e-3, 2e-4), (4e-4, 2e-4), (6e-4, 3e-4),
)


def tune(base: TrainConfig, grid: tuple[tuple[float, float], ...] = LR_GRID,
         steps: int = 200, *, overwrite: bool = False) -> Iterator[Progress | Metrics | Finished]:
    """Run ``steps`` training steps per grid point (each in its own sub-folder of ``base.run_dir``).

    An earlier search's sub-folders are refused unless ``overwrite`` (as for ``train``).

    Yields Progress per run and step, then Finished(result=rows sorted best first), each row
    {"lr_d", "lr_g", "psnr", "ssim", "colourfulness", "score", "run_dir"}.
    """
    if not isinstance(steps, int) or steps < 1:
        raise MagicBrushError(f"steps per run must be at least 1 (got {steps})")
    if not grid:
        raise MagicBrushError("the learning-rate grid is empty")
    rows = []
    for i, (lr_d, lr_g) in enumerate(grid):
        run_dir = Path(base.run_dir) / f"d{lr_d:g}_g{lr_g:g}"
        cfg = replace(base, lr_d=lr_d, lr_g=lr_g, run_dir=str(run_dir), max_steps=steps,
                      epochs=max(base.epochs, 1000), warmup_epochs=0)
        yield Progress(i, len(grid), f"run {i + 1}/{len(grid)}: D lr {lr_d:g}, G lr {lr_g:g}")
        best = {}
        for event in train(cfg, overwrite=overwrite):
            if isinstance(event, Progress) and event.total:
                yield Progress(i * steps + event.done, len(grid) * steps, f"D {lr_d:g} / G {lr_g:g}")
            elif isinstance(event, Finished):
                best = event.summary.get("best", {})
        rows.append({"lr_d": lr_d, "lr_g": lr_g, **{k: best.get(k, float("nan")) for k in
                     ("psnr", "ssim", "colourfulness", "score")}, "run_dir": str(run_dir)})
    rows.sort(key=lambda r: -r["score"] if r["score"] == r["score"] else float("inf"))
    yield Finished(rows, {"steps": steps})
