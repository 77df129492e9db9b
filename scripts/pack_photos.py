"""Re-encode a folder of training photos smaller, for a trip to a lent GPU machine.

    python scripts/pack_photos.py ../shared/data/photos .devcarry/photos --short-side 147 --quality 85

The device tool carries at most 64 MiB (the checkout, plus what a run names in ``carry``), and the
checkout and the VGG19 weights take about 47 MB of that (DEVELOPERS.md). ``magicbrush train`` keeps
``round(image_size * 1.15)`` pixels of a photo's short side (147 for the default 128 px crops), so a
photo packed at that size trains exactly as the full one does at that crop size, minus JPEG loss.

File names are kept, extension included: the validation split is drawn from them (dataset.py), so the
GPU run validates on the same photos as a run on the originals and never trains on them. EXIF and ICC
are dropped (training reads sRGB pixels only). Never overwrites: DEST must be empty or absent.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from PIL import Image, ImageOps

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from magicbrush_desktop.core.dataset import scan_images  # noqa: E402
from magicbrush_desktop.core.imageio import atomic_write_bytes  # noqa: E402


def pack_one(src: Path, short_side: int, quality: int) -> bytes | None:
    """JPEG bytes of ``src`` with its short side at most ``short_side`` (None when Pillow cannot read it)."""
    try:
        with Image.open(src) as im:
            im = ImageOps.exif_transpose(im).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    scale = short_side / min(im.size)
    if scale < 1:  # never enlarge: the training loader does that itself where it must
        im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--short-side", type=int, default=147, help="pixels (default 147: 128 px crops)")
    parser.add_argument("--quality", type=int, default=85, help="JPEG quality (default 85)")
    args = parser.parse_args()
    if args.dest.exists() and any(args.dest.iterdir()):
        parser.error(f"{args.dest} is not empty; remove it or choose another folder")
    paths = scan_images(args.source)
    total, skipped = 0, []
    for path in paths:
        data = pack_one(path, args.short_side, args.quality)
        if data is None:
            skipped.append(path.name)
            continue
        # Keep the name, extension included (the split is drawn from it), even where it said .png.
        atomic_write_bytes(args.dest / path.relative_to(args.source), data)
        total += len(data)
    print(f"{len(paths) - len(skipped)} photos, {total / 1e6:.1f} MB in {args.dest}"
          + (f"; unreadable, left out: {', '.join(skipped)}" if skipped else ""))


if __name__ == "__main__":
    main()
