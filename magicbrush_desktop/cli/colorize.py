"""``magicbrush colorize``: colour black-and-white photos, files or whole folders."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Only light modules at the top: the parser (and --help) must not wait for torch. The work imports
# its heavy modules when it runs.
from ..core.defaults import DEFAULT_RENDER_SIZE, SAVE_FORMATS
from ..core.errors import MagicBrushError
from .common import add_device_option, add_threads_option, render_size_arg, run_with_progress, strength_arg


def _quality(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError("quality must be between 1 and 100")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("colorize", help="colour black-and-white photos (files or folders)",
                       description="Colour black-and-white photos. Outputs keep each photo's size, name, "
                       "EXIF and colour profile; sources are never modified.")
    p.add_argument("sources", nargs="*", type=Path, metavar="SRC", help="photos or folders")
    p.add_argument("-o", "--out", type=Path, required=True, metavar="OUTDIR", help="output folder")
    p.add_argument("--sample", action="store_true",
                   help="also colorize the bundled sample photo (scikit-image's 'camera', CC0)")
    p.add_argument("-r", "--recursive", action="store_true", help="include sub-folders")
    p.add_argument("--model", default=None, metavar="NAME|PATH", help="model name or .pt file (default: shipped)")
    p.add_argument("--render-size", type=render_size_arg, default=DEFAULT_RENDER_SIZE, metavar="N",
                   help=f"longest side the colours are predicted at (default {DEFAULT_RENDER_SIZE})")
    p.add_argument("--strength", type=strength_arg, default=1.0, metavar="F",
                   help="colour strength 0..2 (default 1)")
    p.add_argument("--format", choices=sorted(SAVE_FORMATS), default=None,
                   help="output format (default: the source's, PNG for others)")
    p.add_argument("--quality", type=_quality, default=95, help="JPEG/WebP quality 1..100 (default 95)")
    existing = p.add_mutually_exclusive_group()  # skipping and replacing a taken output exclude each other
    existing.add_argument("--skip-existing", action="store_true", help="skip photos whose output exists (resume)")
    existing.add_argument("--overwrite", action="store_true",
                          help="replace existing files in the output folder (default: never; a taken name gets a "
                          "free one, NAME_colorized.jpg); sources are never replaced")
    p.add_argument("--hints", type=Path, default=None, metavar="FILE",
                   help="colour hints (sidecar JSON) for the one photo given; without it, NAME.hints.json "
                   "beside each photo is used when present")
    p.add_argument("--no-hints", action="store_true", help="ignore hint sidecars: automatic colours only")
    add_device_option(p)
    add_threads_option(p)
    g = p.add_argument_group("cluster (docs/SCALING.md)")
    g.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: this process (default); ray: a pool of Ray workers, one loaded model each "
                   "(needs the cluster extra: pip install 'magicbrush-desktop[cluster]')")
    g.add_argument("--address", default=None, metavar="ADDR",
                   help="with --engine ray: the Ray cluster to use (e.g. HEAD:6379 or auto); default: start "
                   "a local Ray instance")
    g.add_argument("--workers", type=int, default=None, metavar="N",
                   help="with --engine ray: number of workers (default: the cluster's CPUs / --cpus-per-worker)")
    g.add_argument("--cpus-per-worker", type=int, default=1, metavar="C",
                   help="with --engine ray: CPU cores (torch threads) per worker (default 1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..core.batch import photos_below, plan_batch, run_batch
    from ..core.colorize import Colorizer
    from ..core.pipeline import colorize_job, run_to_end
    from ..core.provenance import Provenance
    from ..core.samples import sample_photo_path

    sources = list(args.sources)
    if args.sample:
        sources.append(sample_photo_path())
    if not sources:
        raise MagicBrushError("give photos or folders to colorize (or --sample)")
    if getattr(args, "engine", "local") == "ray":
        from ..core.cluster import import_ray

        import_ray()  # before any work: says how to install Ray when it is missing
        if args.device.startswith("cuda:"):
            # Ray hands each worker its own GPU (num_gpus=1), visible to it as its only one.
            raise MagicBrushError(f"with --engine ray, Ray gives each worker a GPU of its own: use --device cuda, "
                                  f"not {args.device}")
    items = plan_batch(sources, args.out, recursive=args.recursive, fmt=args.format)
    if not args.recursive and (below := photos_below(sources)):
        print(f"note: {below}{'+' if below >= 10_000 else ''} photo(s) in sub-folders are left out; add -r to "
              "include them", file=sys.stderr)
    if getattr(args, "engine", "local") == "ray":
        return _run_ray(args, items)
    hints_file = _hints_file(args, items)
    colorizer = Colorizer.load(args.model, args.device)

    from ..core.hints import hints_for_photo

    def process(photo):  # noqa: ANN001, ANN202
        hints, message = hints_for_photo(photo, hints_file, use_sidecar=not getattr(args, "no_hints", False))
        if message:
            tqdm.write(f"{photo.path.name if photo.path else 'photo'}: {message}", file=sys.stderr)
        job = colorize_job(photo, colorizer, render_size=args.render_size, strength=args.strength, hints=hints)
        return run_to_end(job).result.rgb

    job = run_batch(items, process, skip_existing=args.skip_existing, fmt=args.format, quality=args.quality,
                    provenance=Provenance(model=colorizer.name, strength=args.strength),
                    overwrite=args.overwrite)
    return _report(args, items, job)


def _hints_file(args: argparse.Namespace, items: list) -> Path | None:
    """The --hints file, checked before any work: one photo only, not with --no-hints, and there."""
    hints_file = getattr(args, "hints", None)
    if hints_file is not None and (len(items) != 1 or getattr(args, "no_hints", False)):
        raise MagicBrushError("--hints goes with exactly one photo (folders use NAME.hints.json beside each photo)"
                              if len(items) != 1 else "--hints and --no-hints contradict each other")
    if hints_file is not None and not hints_file.is_file():
        # A file named on purpose that is not there is most likely a typo: said, not quietly replaced by
        # the automatic colours.
        raise MagicBrushError(f"hints file '{hints_file}' does not exist")
    return hints_file


def _run_ray(args: argparse.Namespace, items: list) -> int:
    """``--engine ray``: the same batch, coloured by Ray workers (core/cluster.py), reported the same way."""
    from tqdm import tqdm

    from ..core.cluster import ColorizeSettings, run_ray_batch
    from ..core.models import resolve_model
    from ..core.provenance import Provenance

    hints_file = _hints_file(args, items)
    model_path = resolve_model(args.model)
    settings = ColorizeSettings(
        model_file=model_path.name, device=args.device, render_size=args.render_size,
        strength=args.strength, fmt=args.format, quality=args.quality,
        hints_file=str(hints_file.resolve()) if hints_file is not None else None,
        use_sidecar=not getattr(args, "no_hints", False),
        provenance=Provenance(model=model_path.stem, strength=args.strength),
        threads=args.cpus_per_worker)
    job = run_ray_batch(items, settings, model_path, address=args.address, workers=args.workers,
                        cpus_per_worker=args.cpus_per_worker, skip_existing=args.skip_existing,
                        overwrite=args.overwrite, on_message=lambda m: tqdm.write(m, file=sys.stderr))
    return _report(args, items, job)


def _report(args: argparse.Namespace, items: list, job) -> int:  # noqa: ANN001 - a batch event generator
    """Show a batch job's progress (bar with ETA), then its summary; the exit code."""
    from tqdm import tqdm

    from ..core.events import Event, FileDone

    written, skipped = 0, 0

    def on_event(event: Event, _bar: object) -> None:
        nonlocal written, skipped
        if not isinstance(event, FileDone):
            return
        if event.error:
            tqdm.write(f"failed: {event.source.name}: {event.error}")
        elif event.skipped:
            skipped += 1
        else:
            written += 1
            if event.note:
                tqdm.write(f"{event.source.name}: {event.note}")

    outcome = run_with_progress(job, unit="photo", total=len(items), on_event=on_event)
    if outcome.stopped:
        print(f"Stopped: {written} photo(s) written to {args.out}.", file=sys.stderr)
        return 130
    summary = outcome.finished.summary if outcome.finished is not None else {}
    failed: list[tuple[str, str]] = summary.get("failed", [])
    stopped_by: str | None = summary.get("stopped")
    not_done: list[str] = summary.get("not_done", [])
    if stopped_by:
        print(f"Stopped: {stopped_by}. {written} photo(s) written to {args.out}; {len(not_done)} not tried:",
              file=sys.stderr)
        for name in not_done:
            print(f"  not written: {Path(name).name}", file=sys.stderr)
    done = f"{written} photo(s) written to {args.out}"
    if skipped:
        done += f", {skipped} skipped (already done)"
    print(done + (f", {len(failed)} failed:" if failed else "."))
    for name, reason in failed:
        print(f"  {Path(name).name}: {reason}")
    return 1 if failed or stopped_by else 0
