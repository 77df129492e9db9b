"""``magicbrush models``: list, verify, install colorizer models; download optional VGG19 weights."""

from __future__ import annotations

import argparse
from pathlib import Path

# The actions import what they need when they run: the parser (and --help) must not wait for torch.


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list, verify and install models",
                       description="Colorizer models are found by path, then in $MAGICBRUSH_MODELS, then in "
                       "your user folder, then among the models shipped with Magic Brush.")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    p.set_defaults(func=run_list)
    msub.add_parser("list", help="list the models found (default)").set_defaults(func=run_list)
    msub.add_parser("verify", help="check shipped models against their checksums").set_defaults(func=run_verify)
    inst = msub.add_parser("install", help="add a trained model (.pt) to your models")
    inst.add_argument("path", type=Path)
    inst.add_argument("--name", required=True)
    inst.set_defaults(func=run_install)
    dl = msub.add_parser("download", help="download optional weights (needs internet)")
    dl.add_argument("what", choices=("vgg19",), help="vgg19: torchvision's ImageNet VGG19 for style transfer")
    dl.set_defaults(func=run_download)


def run_list(args: argparse.Namespace) -> int:
    from ..core import vgg
    from ..core.models import default_model_name, list_models

    default = default_model_name()
    models = list_models()
    if not models:
        print("No colorizer models found.")
        return 1
    for m in models:
        mark = "*" if m.name == default else " "
        figures = ""
        if m.metrics:
            figures = "  PSNR {psnr:.2f} SSIM {ssim:.3f} colourfulness {colourfulness:.1f}".format(
                **{k: m.metrics.get(k, float("nan")) for k in ("psnr", "ssim", "colourfulness")})
        print(f"{mark} {m.name:32} {m.origin:8} {m.path}{figures}")
    print(f"VGG19 weights for style transfer: {', '.join(vgg.available_sources())}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from ..core.models import list_models, sha256_of

    bad = 0
    for m in list_models():
        if m.origin == "bundled" and m.sha256:
            ok = sha256_of(m.path) == m.sha256
            bad += not ok
            print(f"{'ok' if ok else 'DAMAGED':8} {m.name}")
    return 1 if bad else 0


def run_install(args: argparse.Namespace) -> int:
    from ..core.checkpoint import load_checkpoint
    from ..core.models import install_trained_model

    load_checkpoint(args.path)  # refuse anything that is not a readable colorizer
    target = install_trained_model(args.path, args.name)
    print(f"installed {args.name}: {target}")
    return 0


def run_download(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..core import vgg

    with tqdm(unit="B", unit_scale=True, unit_divisor=1024, desc="vgg19", disable=None) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total or None
            bar.update(done - bar.n)

        path = vgg.download_torchvision_vgg19(progress)
    print(f"VGG19 (torchvision IMAGENET1K_V1) saved to {path}")
    return 0
