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
    inst.add_argument("--name", required=True, help="the shipped models' names are reserved")
    inst.add_argument("--force", action="store_true", help="replace an installed model of the same name")
    inst.set_defaults(func=run_install)
    dl = msub.add_parser("download", help="download optional weights (needs internet)")
    dl.add_argument("what", choices=("vgg19",), help="vgg19: torchvision's ImageNet VGG19 for style transfer")
    dl.set_defaults(func=run_download)


def run_list(args: argparse.Namespace) -> int:
    from ..core import vgg
    from ..core.models import default_model_name, figures_text, list_models

    default = default_model_name()
    models = list_models()
    if not models:
        print("No colorizer models found.")
        return 1
    for m in models:
        mark = "*" if m.name == default else " "
        figures = f"  {figures_text(m.metrics)}" if m.metrics else ""
        print(f"{mark} {m.name:32} {m.origin:8} {m.path}{figures}")
    from ..core.models import shadowing_files

    for m in shadowing_files():
        print(f"  ignored: {m.path} (the name '{m.name}' belongs to a shipped model)")
    print(f"VGG19 weights for style transfer: {', '.join(vgg.available_sources())}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """Every shipped model of the manifest against its checksum; files that use a shipped name."""
    from ..core.models import read_manifest, sha256_of, shadowing_files
    from ..core.paths import bundled_models_dir

    bad = 0
    entries = read_manifest().get("models", [])
    if not entries:
        print("No shipped models listed (models/manifest.json is missing or empty).")
        return 1
    for entry in entries:
        path = bundled_models_dir() / entry.get("file", "")
        if not path.is_file():
            status = "MISSING"
        elif not entry.get("sha256"):
            status = "NO-SUM"
        else:
            status = "ok" if sha256_of(path) == entry["sha256"] else "DAMAGED"
        bad += status != "ok"
        print(f"{status:8} {entry.get('name')}  {path}")
    for m in shadowing_files():
        print(f"{'ignored':8} {m.path}: named like the shipped model '{m.name}'; it is not used")
    return 1 if bad else 0


def run_install(args: argparse.Namespace) -> int:
    from ..core.models import install_trained_model

    # Refuses anything that is not a working colorizer, a shipped name, and (without --force) a taken one.
    target = install_trained_model(args.path, args.name, force=args.force)
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
