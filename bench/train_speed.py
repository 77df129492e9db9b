"""Training step speed: float32 against bfloat16 mixed precision, in the same process.

    python bench/train_speed.py [--head regression|classes] [--size 160] [--batch 16] [--steps 4] [--threads 2]

Builds the default generator (VGG ResU-Net on the ImageNet VGG19 encoder, frozen) and PatchGAN, and times
``gan_step`` on random batches, alternating float32 and bfloat16 rounds (so a machine that slows down
or speeds up mid-run weighs on both alike). Prints seconds per step, images per second, the ratio, and
what ``--precision auto`` picks on this machine (bfloat16 only where the CPU multiplies it natively:
elsewhere emulated bfloat16 is slower than float32, and auto keeps float32).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--head", choices=("regression", "classes"), default="classes")
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=4, help="timed steps per precision and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()

    import torch

    from magicbrush_desktop.core.devices import cpu_has_fast_bf16, resolve_training_precision
    from magicbrush_desktop.core.losses import GANLoss
    from magicbrush_desktop.core.networks import build_discriminator, build_generator
    from magicbrush_desktop.core.train import gan_step

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gen = build_generator("vgg_resunet", freeze_encoder=True, head=args.head)
    disc = build_discriminator("patchgan")
    opt_g = torch.optim.Adam([p for p in gen.parameters() if p.requires_grad], 1e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), 4e-4, betas=(0.5, 0.999))
    loss = GANLoss()
    l = torch.rand(args.batch, 1, args.size, args.size) * 2 - 1
    ab = torch.randn(args.batch, 2, args.size, args.size) * 0.2
    seconds: dict[str, list[float]] = {"float32": [], "bfloat16": []}
    for _ in range(args.rounds):
        for name, dtype in (("float32", None), ("bfloat16", torch.bfloat16)):
            gan_step(gen, disc, opt_g, opt_d, loss, l, ab, lambda_ce=5.0, autocast_dtype=dtype)  # warm-up
            start = time.perf_counter()
            for _ in range(args.steps):
                gan_step(gen, disc, opt_g, opt_d, loss, l, ab, lambda_ce=5.0, autocast_dtype=dtype)
            seconds[name].append((time.perf_counter() - start) / args.steps)
    auto = resolve_training_precision("auto", torch.device("cpu"))
    print(f"{args.head} head, {args.batch} x {args.size} px, {torch.get_num_threads()} threads; "
          f"native bf16: {cpu_has_fast_bf16()}; --precision auto picks {str(auto).replace('torch.', '')}")
    print("| precision | s per step | images/s | ratio vs float32 |")
    print("|---|---:|---:|---:|")
    base = min(seconds["float32"])
    for name, times in seconds.items():
        best = min(times)
        print(f"| {name} | {best:.2f} | {args.batch / best:.2f} | {base / best:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
