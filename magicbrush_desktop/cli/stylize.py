"""``magicbrush stylize``: repaint a photo in the style of one or more paintings (Gatys over VGG19)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from typing import TYPE_CHECKING

from ..core.defaults import PRECISION_CHOICES
from ..core.errors import MagicBrushError, PhotoError
from ..core.files import check_output_file
from ..core.limits import check_style_size
# Only light modules at the top: the parser (and --help) must not wait for torch; run() imports the rest.
from ..core.style.defaults import (
    DEFAULT_PRESET, DEFAULT_SIZE, DEFAULT_STEPS, LOOK_INFO, OPTIMIZERS, PRESET_NAMES, blended_weights,
)
from .common import add_device_option, add_threads_option, render_size_arg, run_with_progress

if TYPE_CHECKING:
    from ..core.style.gallery import Gallery


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also rejects nan
        raise argparse.ArgumentTypeError("must be a number ≥ 0")
    return value


def _blend(text: str) -> list[float]:
    try:
        weights = [float(w) for w in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("give comma-separated numbers, e.g. 0.7,0.3") from None
    if any(not w >= 0 for w in weights) or sum(weights) <= 0:
        raise argparse.ArgumentTypeError("weights must be ≥ 0 with a positive sum")
    return weights


def add_parser(sub: argparse._SubParsersAction) -> None:
    looks = ", ".join(LOOK_INFO)
    p = sub.add_parser(
        "stylize",
        help="repaint a photo in the style of a painting",
        description="Repaint a photo in the style of one or more paintings (Gatys et al. neural style "
        "transfer). The output keeps the photo's pixel size, EXIF and colour profile; the photo itself is "
        f"never modified. Built-in looks (no files needed): {looks}.",
    )
    p.add_argument("content", type=Path, metavar="CONTENT", help="the photo to repaint")
    p.add_argument("--style", action="append", required=True, metavar="S",
                   help="a painting file or a gallery style name; repeat to blend several")
    p.add_argument("--blend", type=_blend, default=None, metavar="W1,W2",
                   help="blend weights, one per --style (default: equal)")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="OUT", help="output image file")
    p.add_argument("--size", type=_positive_int, default=DEFAULT_SIZE, metavar="PX",
                   help=f"optimisation size, longest side (default {DEFAULT_SIZE}); the output keeps the photo's size")
    p.add_argument("--steps", type=_positive_int, default=DEFAULT_STEPS, metavar="N",
                   help=f"optimisation steps (default {DEFAULT_STEPS})")
    p.add_argument("--content-weight", type=_non_negative, default=None, metavar="A",
                   help="content weight alpha (default: the style's own, as in the desktop app)")
    p.add_argument("--style-weight", type=_non_negative, default=None, metavar="B",
                   help="style weight beta (default: each built-in look has its own, paintings share one; "
                   "blends mix them; the raw-sum presets use 1e3 (seed) and 1e4 (gatys-sum))")
    p.add_argument("--tv-weight", type=_non_negative, default=0.0, metavar="T",
                   help="total-variation (smoothness) weight (default 0)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="lbfgs", help="default: lbfgs")
    p.add_argument("--layers", choices=sorted(PRESET_NAMES), default=DEFAULT_PRESET,
                   help=f"VGG19 layers and loss formula (default {DEFAULT_PRESET}: normalised terms, the same "
                   "weights at any --size; seed and gatys-sum: the raw sums of Gatys et al. 2016, whose balance changes with --size)")
    p.add_argument("--style-scale", type=float, default=1.0, metavar="F",
                   help="size of the style relative to --size: smaller gives finer strokes (default 1)")
    p.add_argument("--preserve-colors", action="store_true", help="keep the photo's colours (luminance-only transfer)")
    p.add_argument("--colorize-first", action="store_true",
                   help="colorize the photo with the colorizer first, then stylize the colour result")
    p.add_argument("--model", default=None, metavar="NAME|PATH",
                   help="with --colorize-first: the colorizer model name or .pt file (default: shipped)")
    p.add_argument("--render-size", type=render_size_arg, default=None, metavar="N",
                   help="with --colorize-first: longest side the colours are predicted at "
                   "(default: as magicbrush colorize)")
    p.add_argument("--init", choices=("content", "noise"), default="content", help="starting picture (default content)")
    p.add_argument("--precision", choices=PRECISION_CHOICES, default="auto",
                   help="VGG arithmetic: auto uses bfloat16 on CPUs with native support (default auto)")
    p.add_argument("--quality", type=_quality, default=95, help="JPEG/WebP quality 1..100 (default 95)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace OUT if it exists (default: refuse); the inputs are never replaced")
    p.add_argument("--json", action="store_true", help="print one JSON line with the losses and timing at the end")
    add_device_option(p)
    add_threads_option(p)
    p.set_defaults(func=run)


def _quality(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError("quality must be between 1 and 100")
    return value


def _input_files(args: argparse.Namespace, gallery: Gallery) -> list[Path]:
    """Every file the run reads: the photo, painting files (given or from the gallery), the colorizer."""
    files = [Path(args.content)]
    for spec in args.style:
        if Path(spec).is_file():
            files.append(Path(spec))
        else:
            entry = gallery.find(spec)
            if entry is not None and entry.path is not None:
                files.append(Path(entry.path))
    if args.colorize_first:
        from ..core.models import resolve_model

        try:
            files.append(resolve_model(args.model))
        except MagicBrushError:
            pass  # reported when the colorizer loads
    return files


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and a.samefile(b))
    except OSError:
        return False


def _style_name(spec: str, gallery: Gallery) -> str:
    """The style's display name, as the desktop app shows it (a file's name, or the gallery's)."""
    from ..core.style.gallery import display_name

    if Path(spec).is_file():
        return display_name(Path(spec).stem)
    entry = gallery.find(spec)
    return entry.name if entry is not None else spec


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..core.events import Event, Metrics
    from ..core.imageio import format_from_path, read_photo, save_image
    from ..core.pipeline import ColorizeOptions, colorize_then_stylize
    from ..core.provenance import Provenance
    from ..core.style.gallery import Gallery, load_style
    from ..core.style.engine import StyleEngine
    from ..core.style.gatys import StyleTransfer
    from ..core.style.settings import StyleSettings

    content_path: Path = args.content
    out: Path = args.out
    if not args.colorize_first and (args.model is not None or args.render_size is not None):
        # Said, not ignored: without --colorize-first no colorizer runs, so they would change nothing.
        raise MagicBrushError("--model and --render-size choose the colorizer of --colorize-first; add it or "
                              "leave them out")
    if _same_file(content_path, out):
        raise MagicBrushError(f"the output would overwrite the photo itself ({out}); choose another -o")
    if out.is_dir():
        raise MagicBrushError(f"'{out}' is a folder; give -o a file name in it (e.g. {out / 'painted.jpg'})")
    format_from_path(out)  # an unsupported extension fails now, not after minutes of work
    if not out.parent.exists():
        raise PhotoError(f"the output folder does not exist: {out.parent}")
    if args.blend is not None and len(args.blend) != len(args.style):
        raise MagicBrushError(f"--blend has {len(args.blend)} weights for {len(args.style)} styles")
    gallery = Gallery()
    # Before any work: never over an input, never over an existing file unless --overwrite, and a
    # folder that accepts the file.
    check_output_file(out, _input_files(args, gallery), overwrite=args.overwrite)

    photo = read_photo(content_path)
    check_style_size(photo.rgb.shape[:2], args.size, args.style_scale)
    styles = [load_style(s, gallery) for s in args.style]
    colorize = None
    if args.colorize_first:
        # Imported here: the colorizer is a separate, heavier part; stylize alone must not need it.
        from ..core.colorize import Colorizer

        # Loaded before the style engine, so a missing or damaged model is said before VGG19 loads.
        colorize = ColorizeOptions(Colorizer.load(args.model, args.device), render_size=args.render_size)

    # The same defaults as the desktop app's sliders: the style's own (a blend mixes them).
    alpha, beta = blended_weights(args.style, args.blend, args.layers)
    settings = StyleSettings(
        styles=tuple(args.style), blend=tuple(args.blend) if args.blend is not None else (1.0,) * len(args.style),
        content_weight=alpha if args.content_weight is None else args.content_weight,
        style_weight=beta if args.style_weight is None else args.style_weight,
        steps=args.steps, size=args.size, preserve_colors=args.preserve_colors, layers=args.layers,
        style_scale=args.style_scale, init=args.init, tv_weight=args.tv_weight, optimizer=args.optimizer)
    sessions: list[StyleTransfer] = []
    job = colorize_then_stylize(photo, colorize=colorize, style=settings, style_images=styles,
                                engine=lambda: StyleEngine(args.device, precision=args.precision),
                                on_session=sessions.append)

    def on_event(event: Event, bar: tqdm | None) -> None:
        if isinstance(event, Metrics) and bar is not None:
            bar.set_postfix(style=f"{event.values['style']:.3g}", content=f"{event.values['content']:.3g}",
                            refresh=False)

    # The bar counts style steps; the colorize step's own three (another total) do not move it.
    outcome = run_with_progress(job, unit="step", total=args.steps, quiet=args.json, file=sys.stderr,
                                on_event=on_event)
    finished = outcome.finished
    if finished is None:
        steps_done = sessions[0].steps_done if sessions else 0
        print(f"Stopped after {steps_done} step(s); nothing written.", file=sys.stderr)
        return 130
    engine = sessions[0].engine
    model_name = finished.summary.get("model")

    provenance = Provenance(model=model_name, styles=tuple(_style_name(s, gallery) for s in args.style))
    save_image(out, finished.result, like=photo, quality=args.quality, provenance=provenance,
               replace=args.overwrite)
    s = finished.summary
    if args.json:
        ini, fin = s["losses_initial"], s["losses_final"]
        print(json.dumps({
            "output": str(out),
            "width": int(finished.result.shape[1]),
            "height": int(finished.result.shape[0]),
            "optimisation_size": s["size"],
            "style_loss_initial": ini["style"],
            "style_loss_final": fin["style"],
            "content_loss_initial": ini["content"],
            "content_loss_final": fin["content"],
            "tv_loss_final": fin["tv"],
            "total_loss_initial": ini["total"],
            "total_loss_final": fin["total"],
            "steps": s["steps"],
            "seconds": round(s["seconds"], 3),
            "layers": args.layers,
            "content_weight": settings.content_weight,
            "style_weight": settings.style_weight,
            "device": str(engine.device),
            "precision": str(engine.dtype).replace("torch.", ""),
        }))
    else:
        fin = s["losses_final"]
        print(f"Saved {out} ({finished.result.shape[1]}×{finished.result.shape[0]}) after {s['steps']} steps in "
              f"{s['seconds']:.1f} s: style {fin['style']:.4g}, content {fin['content']:.4g}, total {fin['total']:.4g}")
    return 0
