"""Before/after contact sheet of the old black-and-white photos, colorized with a given model.

    python scripts/contact_sheet.py --model magicbrush-colorizer-v2 [--photos ../shared/data/old-bw]
        [--out docs/contact-sheet-v2.jpg] [--strength 1.0] [--tile 360]

Each photo is colorized at full resolution with the app's default settings (the same call the app and
`magicbrush colorize` make), then shown as a (grey | colour) pair scaled to ``--tile`` pixels high, in a
grid with the file name under each pair. It reads ``../shared`` and is not run by CI; the sheet it
writes is committed so anyone can compare models by eye. Look at full-size results too: ``--full DIR``
also writes every full-size result there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from magicbrush_desktop.core.colorize import Colorizer  # noqa: E402
from magicbrush_desktop.core.dataset import scan_images  # noqa: E402
from magicbrush_desktop.core.evaluate import grey_baseline  # noqa: E402
from magicbrush_desktop.core.imageio import atomic_write_bytes, encode_image, read_photo  # noqa: E402


def _scaled(rgb: np.ndarray, height: int) -> Image.Image:
    img = Image.fromarray(rgb)
    width = max(1, round(img.width * height / img.height))
    return img.resize((width, height), Image.Resampling.LANCZOS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model name or path (default: the app's default)")
    parser.add_argument("--photos", type=Path, default=REPO.parent / "shared" / "data" / "old-bw")
    parser.add_argument("--out", type=Path, default=None, help="default docs/contact-sheet-MODEL.jpg")
    parser.add_argument("--strength", type=float, default=1.0)
    parser.add_argument("--tile", type=int, default=300, help="height of each pair in pixels")
    parser.add_argument("--columns", type=int, default=3, help="pairs per row")
    parser.add_argument("--full", type=Path, default=None, help="also write full-size results here")
    args = parser.parse_args()
    if not args.photos.is_dir():
        print(f"no photos folder at {args.photos}", file=sys.stderr)
        return 2
    colorizer = Colorizer.load(args.model)
    out = args.out or REPO / "docs" / f"contact-sheet-{colorizer.name}.jpg"
    pairs: list[tuple[str, Image.Image]] = []
    for path in scan_images(args.photos):
        photo = read_photo(path)
        result = colorizer.colorize(photo, strength=args.strength)
        if args.full:
            atomic_write_bytes(args.full / f"{path.stem}.jpg", encode_image(result, "jpg", quality=92))
        grey, colour = _scaled(grey_baseline(photo.lightness), args.tile), _scaled(result, args.tile)
        pair = Image.new("RGB", (grey.width + colour.width + 4, args.tile), "white")
        pair.paste(grey, (0, 0))
        pair.paste(colour, (grey.width + 4, 0))
        pairs.append((path.name, pair))
        print(f"{path.name}", flush=True)
    label_h, gap = 22, 10
    cols = max(1, args.columns)
    rows = [pairs[i : i + cols] for i in range(0, len(pairs), cols)]
    width = max(sum(p.width for _, p in row) + gap * (len(row) + 1) for row in rows)
    height = len(rows) * (args.tile + label_h + gap) + gap + 30
    sheet = Image.new("RGB", (width, height), (245, 245, 245))
    draw = ImageDraw.Draw(sheet)
    draw.text((gap, 8), f"Magic Brush, model {colorizer.name}, strength {args.strength:g}: "
              "each pair is the grey scan | the colorized result", fill=(0, 0, 0))
    y = 30 + gap
    for row in rows:
        x = gap
        for name, pair in row:
            sheet.paste(pair, (x, y))
            draw.text((x, y + args.tile + 4), name, fill=(0, 0, 0))
            x += pair.width + gap
        y += args.tile + label_h + gap
    atomic_write_bytes(out, encode_image(np.asarray(sheet), "jpg", quality=85))
    print(f"wrote {out} ({sheet.width}x{sheet.height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
