"""Colorization speed and memory: milliseconds per megapixel at several render sizes, peak memory for
photos up to 40 MP, and training throughput (images per second).

Each measurement runs in a fresh child process so its peak resident memory (ru_maxrss) is its own; the
baseline row is the same process after loading the model, before touching a photo. Ratios compare
each render size with the default one, measured in the same run.

    python bench/colorize_speed.py [--model NAME|PATH] [--sizes 256,512,1024] [--megapixels 1,12,40]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _synthetic_photo(megapixels: float):
    import numpy as np

    from magicbrush_desktop.core.color import lightness_of_grey
    from magicbrush_desktop.core.imageio import Photo

    w = int((megapixels * 1e6 * 1.5) ** 0.5)
    h = int(megapixels * 1e6 / w)
    y, x = np.ogrid[0:h, 0:w]
    grey = ((np.sin(x / 37.0) + np.cos(y / 53.0)) * 60 + 128).astype(np.uint8)
    rgb = np.broadcast_to(grey[..., None], (h, w, 3))
    return Photo(rgb=rgb, lightness=lightness_of_grey(grey), is_greyscale=True)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _measure(model: str | None, megapixels: float, render_size: int, queue) -> None:  # noqa: ANN001
    import torch

    torch.set_num_threads(2)
    from magicbrush_desktop.core.colorize import Colorizer

    colorizer = Colorizer.load(model, "cpu")
    photo = _synthetic_photo(megapixels)
    base_mb = _peak_mb()
    colorizer.colorize(photo, render_size)  # warm-up: first-call allocations
    start = time.perf_counter()
    repeats = 3 if megapixels <= 2 else 1
    for _ in range(repeats):
        chroma = colorizer.predict(photo, render_size)
        colorizer.compose(photo, chroma, 1.0)
    seconds = (time.perf_counter() - start) / repeats
    queue.put({"mp": megapixels, "render": render_size, "seconds": seconds,
               "ms_per_mp": seconds * 1000 / megapixels, "peak_mb": _peak_mb(), "base_mb": base_mb})


def _train_throughput(queue, steps: int = 6) -> None:  # noqa: ANN001
    import numpy as np
    import torch

    torch.set_num_threads(2)
    from magicbrush_desktop.core.dataset import lab_batch
    from magicbrush_desktop.core.losses import GANLoss
    from magicbrush_desktop.core.networks import build_discriminator, build_generator
    from magicbrush_desktop.core.train import TrainConfig, gan_step

    # The training loop's own step (core/train.py) at its default rates, so the figure is what
    # `magicbrush train` does per batch.
    cfg = TrainConfig(data_dir="", run_dir="")
    gen, disc = build_generator("vgg_resunet"), build_discriminator("patchgan")
    opt_g = torch.optim.Adam([p for p in gen.parameters() if p.requires_grad], cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(disc.parameters(), cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
    gan = GANLoss(cfg.gan_mode)
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 255, (128, 128, 3), dtype=np.uint8) for _ in range(16)]
    times = []
    for step in range(steps):
        start = time.perf_counter()
        l, ab = lab_batch(crops)
        gan_step(gen, disc, opt_g, opt_d, gan, l, ab, lambda_l1=cfg.lambda_l1)
        if step:  # the first step pays one-off allocation costs
            times.append(time.perf_counter() - start)
    queue.put({"images_per_second": 16 / float(np.median(times)), "peak_mb": _peak_mb()})


def _run(target, *args):  # noqa: ANN001, ANN202
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--sizes", default="256,512,1024")
    parser.add_argument("--megapixels", default="1,12,40")
    parser.add_argument("--no-train", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    mps = [float(m) for m in args.megapixels.split(",")]
    from magicbrush_desktop.core.colorize import DEFAULT_RENDER_SIZE

    print("## Colorize: time and peak memory (CPU, 2 threads)")
    print()
    print("| photo MP | render size | seconds | ms per MP | ratio vs default render | peak RSS MB | RSS before colorizing (model + photo) MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for mp_ in mps:
        rows = {s: _run(_measure, args.model, mp_, s) for s in sizes}
        ref = rows.get(DEFAULT_RENDER_SIZE) or next(iter(rows.values()))
        for s, r in rows.items():
            print(f"| {mp_:g} | {s} | {r['seconds']:.2f} | {r['ms_per_mp']:.0f} | "
                  f"{r['seconds'] / ref['seconds']:.2f} | {r['peak_mb']:.0f} | {r['base_mb']:.0f} |", flush=True)
    if not args.no_train:
        r = _run(_train_throughput)
        print()
        print(f"Training (vgg_resunet + PatchGAN, 128 px crops, batch 16, one GAN step): "
              f"{r['images_per_second']:.1f} images/s, peak RSS {r['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
