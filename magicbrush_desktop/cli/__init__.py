"""The ``magicbrush`` command line: one parser with a subcommand per job.

Each subcommand lives in its own module exposing ``add_parser(subparsers)``, which registers
``func=run``; ``run(args) -> int`` returns the exit code. Errors the core raises on purpose
(:class:`MagicBrushError`) print as one readable line, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ..core.errors import MagicBrushError
from . import colorize, evaluate, models, stylize, train, tune
from .common import cpu_threads

SUBCOMMANDS = ("colorize", "stylize", "train", "evaluate", "tune", "models")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="magicbrush",
        description="Magic Brush: bring black-and-white photos back to colour, repaint photos as paintings. "
        "Run without a subcommand to open the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"magicbrush {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (colorize, stylize, train, evaluate, tune, models):
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    # train passes --threads to its own config (its worker processes set it); the others run here.
    threads = getattr(args, "threads", 0) if args.command != "train" else 0
    try:
        with cpu_threads(threads):
            return int(args.func(args) or 0)
    except MagicBrushError as exc:
        print(f"magicbrush {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"magicbrush {args.command}: stopped", file=sys.stderr)
        return 130
    except OSError as exc:  # a file-system failure the core did not word itself: still one line
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        print(f"magicbrush {args.command}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
