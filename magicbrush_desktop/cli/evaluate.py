"""``magicbrush evaluate``: quality figures of a model against colour originals."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# Light imports only: the parser (and --help) must not wait for torch; run() imports the rest.
from ..core.defaults import DEFAULT_RENDER_SIZE
from .common import add_device_option, add_threads_option, render_size_arg, run_with_progress, strength_arg


def _limit(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("limit must be 0 (all photos) or more")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="PSNR, SSIM, colourfulness and false colour of a model on colour photos",
                       description="Colorize the lightness of colour photos and compare with the originals, "
                       "beside the luminance-only baseline.")
    p.add_argument("folder", type=Path, metavar="FOLDER",
                   help="colour photos to test on (each is turned grey, colorized and compared with itself)")
    p.add_argument("--model", default=None, metavar="NAME|PATH", help="model name or .pt file (default: shipped)")
    p.add_argument("--render-size", type=render_size_arg, default=DEFAULT_RENDER_SIZE, metavar="N",
                   help=f"longest side the colours are predicted at (default {DEFAULT_RENDER_SIZE})")
    p.add_argument("--strength", type=strength_arg, default=1.0, help="colour strength 0..2 (default 1)")
    p.add_argument("--limit", type=_limit, default=0, metavar="N", help="only the first N photos (default 0: all)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    p.add_argument("--per-image", type=Path, default=None, metavar="CSV", help="write per-image figures")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --per-image file")
    add_device_option(p)
    add_threads_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..core.colorize import Colorizer
    from ..core.evaluate import evaluate

    if args.per_image is not None:  # before any work: never over an existing file unless asked
        from ..core.files import check_output_file

        check_output_file(args.per_image, overwrite=args.overwrite)
    colorizer = Colorizer.load(args.model, args.device)
    # Not interruptible: Ctrl-C ends an evaluation at once; it writes nothing a graceful stop could keep.
    outcome = run_with_progress(evaluate(colorizer, args.folder, args.render_size, args.strength, args.limit),
                                unit="photo", interruptible=False)
    result = outcome.finished.result if outcome.finished is not None else None
    summary: dict = outcome.finished.summary if outcome.finished is not None else {}
    if args.per_image and result is not None:
        keys = list(result.per_image[0]) if result.per_image else []
        lines = [",".join(keys)] + [",".join(str(r[k]) for k in keys) for r in result.per_image]
        from ..core.files import atomic_write

        atomic_write(args.per_image, ("\n".join(lines) + "\n").encode("utf-8"), replace=args.overwrite)
    if args.json:
        print(json.dumps({"model": colorizer.name, "render_size": args.render_size, **summary}))
    else:
        print(f"model {colorizer.name}, render size {args.render_size}, {summary.get('images', 0)} photos")
        print(f"{'':12}{'PSNR dB':>9}{'SSIM':>8}{'colourfulness':>15}")
        print(f"{'model':12}{summary['psnr']:9.2f}{summary['ssim']:8.3f}{summary['colourfulness']:15.1f}")
        print(f"{'grey':12}{summary['baseline_psnr']:9.2f}{summary['baseline_ssim']:8.3f}"
              f"{summary['baseline_colourfulness']:15.1f}")
        print(f"{'originals':12}{'':9}{'':8}{summary['colourfulness_real']:15.1f}")
        print(f"ΔCF (|model - originals| colourfulness): {summary['delta_colourfulness']:.1f}")
        print(f"false colour on neutral surfaces (originals C*ab < 6 painted C*ab > 15): "
              f"{100 * summary['false_colour']:.1f} %")
    for name, reason in (result.failed if result else []):
        print(f"skipped {name}: {reason}")
    return 0
