"""Prepare what ``magicbrush.spec`` bundles besides the checkout: build.sh runs this before PyInstaller.

    python packaging/stage.py --stage DIR [--styles PAINTINGS_DIR] [--keep-cuda]
    python packaging/stage.py --test-models DIR     # a tiny untrained model, for CI before a model ships

Writes into DIR:

- ``icons/magicbrush.ico`` (Windows) and ``icons/magicbrush.icns`` (macOS), converted with Pillow from the
  PNG icons in ``resources/`` (each size from its own hand-drawn PNG where one exists);
- ``resources/styles/``: the painting pack, when ``--styles`` is given (see :func:`stage_styles`);
- ``bundle.json``: version, torch build, whether the GPU-only libraries are kept and the archive's name (read
  by the launcher).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ICON_NAME = "magicbrush"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512)


def _icon_pngs(resources: Path) -> dict[int, Path]:
    found = {}
    for path in resources.glob(f"{ICON_NAME}-*.png"):
        try:
            found[int(path.stem.rsplit("-", 1)[1])] = path
        except ValueError:
            continue
    if not found:
        raise SystemExit(f"stage.py: no {ICON_NAME}-<size>.png icons in {resources}")
    return found


def _sized(pngs: dict[int, Path], side: int):
    """The icon at ``side`` px: its own PNG, else the next larger one scaled down."""
    from PIL import Image

    source = pngs.get(side) or pngs[min((s for s in pngs if s >= side), default=max(pngs))]
    image = Image.open(source).convert("RGBA")
    return image if image.size == (side, side) else image.resize((side, side), Image.Resampling.LANCZOS)


def make_icons(resources: Path, target: Path) -> list[Path]:
    """Write ``magicbrush.ico`` and ``magicbrush.icns`` into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    pngs = _icon_pngs(resources)
    ico = target / f"{ICON_NAME}.ico"
    ico_images = [_sized(pngs, s) for s in ICO_SIZES]
    ico_images[-1].save(ico, format="ICO", sizes=[(s, s) for s in ICO_SIZES], append_images=ico_images[:-1])
    icns = target / f"{ICON_NAME}.icns"
    icns_images = [_sized(pngs, s) for s in ICNS_SIZES]
    icns_images[-1].save(icns, format="ICNS", append_images=icns_images[:-1])
    return [ico, icns]


def stage_styles(source: Path, target: Path) -> int:
    """Copy the paintings of ``source`` into ``target`` in the gallery's pack layout; returns how many.

    The gallery (:mod:`magicbrush_desktop.core.style.gallery`) offers every image directly in
    ``resources/styles`` under ``display_name(stem)``, so each painting is copied unchanged as
    ``<slugify(stem)><ext>`` ("Van Gogh - Starry Night.JPG" -> ``van-gogh-starry-night.jpg``, shown as
    "Van Gogh Starry Night"). Its thumbnail (``make_thumbnail``, PNG) goes to ``thumbs/<slug>.png``, a
    subfolder the gallery's listing does not mistake for a painting. Files that are not readable images
    stop the build: a broken painting must not ship.
    """
    sys.path.insert(0, str(REPO))
    from magicbrush_desktop.core.errors import PhotoError
    from magicbrush_desktop.core.imageio import encode_image, is_image_path, read_photo
    from magicbrush_desktop.core.style.gallery import Gallery, display_name, make_thumbnail, slugify

    paintings = sorted(p for p in source.iterdir() if p.is_file() and is_image_path(p))
    if not paintings:
        raise SystemExit(f"stage.py: --styles {source}: no paintings (jpg, png, tiff, webp ...) in that folder")
    thumbs = target / "thumbs"
    thumbs.mkdir(parents=True, exist_ok=True)
    seen: dict[str, Path] = {}
    for painting in paintings:
        slug = slugify(painting.stem)
        if slug in seen:
            raise SystemExit(f"stage.py: {painting.name} and {seen[slug].name} would get the same name '{slug}'")
        seen[slug] = painting
        try:
            photo = read_photo(painting)
        except PhotoError as exc:
            raise SystemExit(f"stage.py: {painting}: {exc}") from exc
        shutil.copyfile(painting, target / f"{slug}{painting.suffix.lower()}")
        (thumbs / f"{slug}.png").write_bytes(encode_image(make_thumbnail(photo.rgb), "png"))
        print(f"  painting: {display_name(slug)} ({photo.size[0]}×{photo.size[1]})")
    offered = Gallery(user_dir=target / "no-user-styles", pack_dir=target).pack()
    if len(offered) != len(paintings):
        raise SystemExit(f"stage.py: the gallery lists {len(offered)} of the {len(paintings)} staged paintings")
    return len(paintings)


def write_test_models(folder: Path) -> Path:
    """A tiny untrained colorizer + manifest in ``folder``, for building when no model has shipped yet.

    Only for CI and development builds (``--test-models``): a bundle built with it colorizes in grey-ish
    noise. Returns the manifest path.
    """
    import hashlib

    import torch

    sys.path.insert(0, str(REPO))
    from magicbrush_desktop.core.checkpoint import make_checkpoint, save_checkpoint
    from magicbrush_desktop.core.networks import build_generator

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    arch = {"name": "resunet", "kwargs": {"base": 4, "depth": 2}}
    path = save_checkpoint(make_checkpoint(build_generator(arch["name"], **arch["kwargs"]), arch, half=True),
                           folder / "untrained-test.pt")
    manifest = folder / "manifest.json"
    entry = {"name": path.stem, "file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
             "description": "tiny untrained test model (packaging CI only)"}
    manifest.write_text(json.dumps({"default": path.stem, "models": [entry]}, indent=2) + "\n", encoding="utf-8")
    return manifest


def write_bundle_info(stage: Path, *, keep_cuda: bool, styles: int, archive: str | None = None) -> dict:
    import torch

    sys.path.insert(0, str(REPO))
    from magicbrush_desktop import __version__

    info = {
        "version": __version__,
        "built": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        # False: the GPU-only NVIDIA libraries were left out, so the launcher hides GPUs from torch.
        "gpu_libraries": bool(keep_cuda and torch.version.cuda),
        "paintings": styles,
        # The distributable build.sh packs the bundle into (named in the repair advice of a damaged bundle).
        "archive": archive,
    }
    (stage / "bundle.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", type=Path, help="staging folder to fill")
    parser.add_argument("--test-models", type=Path, metavar="DIR",
                        help="only write a tiny untrained model + manifest into DIR (CI builds before a model ships)")
    parser.add_argument("--styles", type=Path, help="folder of paintings for the gallery's painting pack")
    parser.add_argument("--keep-cuda", action="store_true", help="the bundle keeps torch's GPU-only libraries")
    parser.add_argument("--archive-name", help="file name of the archive build.sh will pack the bundle into")
    parser.add_argument("--resources", type=Path, default=REPO / "resources", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.test_models:
        print(f"stage.py: wrote {write_test_models(args.test_models)}")
        return 0
    if args.stage is None:
        parser.error("--stage is required")

    args.stage.mkdir(parents=True, exist_ok=True)
    icons = make_icons(args.resources, args.stage / "icons")
    styles = stage_styles(args.styles, args.stage / "resources" / "styles") if args.styles else 0
    info = write_bundle_info(args.stage, keep_cuda=args.keep_cuda, styles=styles, archive=args.archive_name)
    print(f"stage.py: {', '.join(p.name for p in icons)}, {styles} paintings, "
          f"torch {info['torch']} (GPU libraries {'kept' if info['gpu_libraries'] else 'left out'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
