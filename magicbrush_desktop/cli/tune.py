"""``magicbrush tune``: a learning-rate search over (D, G) rate pairs (short runs, ranked by validation)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import run_with_progress
from .train import add_training_options, config_from_args


def _grid(text: str) -> tuple[tuple[float, float], ...]:
    try:
        pairs = tuple(tuple(float(x) for x in item.split("/")) for item in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("grid is D/G pairs like 0.001/0.0002,0.0001/0.0003") from None
    if any(len(p) != 2 for p in pairs):
        raise argparse.ArgumentTypeError("grid is D/G pairs like 0.001/0.0002,0.0001/0.0003")
    return pairs  # type: ignore[return-value]


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a whole number ≥ 1")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tune", help="search the discriminator/generator learning rates",
                       description="Short training runs over a grid of D/G learning rates (five pairs around "
                       "pix2pix's 2e-4 by default), ranked by validation score.")
    p.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    p.add_argument("--out", type=Path, default=Path("tune-runs"), metavar="DIR")
    p.add_argument("--steps", type=_positive, default=200, help="training steps per run (default 200)")
    p.add_argument("--grid", type=_grid, default=None, metavar="D/G,...",
                   help="D/G learning-rate pairs (default: five pairs around pix2pix's 2e-4, the D-faster one first)")
    add_training_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..core.tune import LR_GRID, tune

    if args.grid is None:
        args.grid = LR_GRID
    base = config_from_args(args, args.data_dir, args.out)
    # The bar counts every step of every run; the per-run Progress (another total) leaves it alone.
    # Not interruptible: Ctrl-C ends the search at once, with no ranking of the runs so far.
    outcome = run_with_progress(tune(base, args.grid, args.steps, overwrite=args.overwrite), unit="step",
                                total=len(args.grid) * args.steps, describe=True, interruptible=False)
    rows = outcome.finished.result if outcome.finished is not None else []
    print(f"{'rank':>4}  {'D lr':>8}  {'G lr':>8}  {'PSNR':>6}  {'SSIM':>6}  {'colourful':>9}  {'score':>7}")
    for rank, r in enumerate(rows, 1):
        print(f"{rank:>4}  {r['lr_d']:>8g}  {r['lr_g']:>8g}  {r['psnr']:6.2f}  {r['ssim']:6.3f}  "
              f"{r['colourfulness']:9.1f}  {r['score']:7.2f}")
    return 0
