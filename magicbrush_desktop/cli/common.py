"""Pieces every subcommand shares: graceful Ctrl-C (and SIGTERM) and common options."""

from __future__ import annotations

import argparse
import signal
import sys
from contextlib import contextmanager
from typing import Iterator

from ..core.defaults import DEVICE_CHOICES, MAX_RENDER_SIZE, MIN_RENDER_SIZE


def strength_arg(text: str) -> float:
    """argparse type: a colour strength in 0..2 (nan refused by the comparison)."""
    value = float(text)
    if not 0.0 <= value <= 2.0:
        raise argparse.ArgumentTypeError("strength must be between 0 and 2")
    return value


def render_size_arg(text: str) -> int:
    """argparse type: a render size (longest side, pixels) the colorizer accepts."""
    value = int(text)
    if not MIN_RENDER_SIZE <= value <= MAX_RENDER_SIZE:
        raise argparse.ArgumentTypeError(f"render size must be {MIN_RENDER_SIZE}..{MAX_RENDER_SIZE}")
    return value


class StopRequest:
    """First Ctrl-C (or SIGTERM, e.g. ``kill`` or a logout) asks the job to stop at the next safe point,
    so temporary files are removed and training saves ``last.pt``; a second one interrupts at once."""

    def __init__(self) -> None:
        self.requested = False

    def _handler(self, signum, frame) -> None:  # noqa: ANN001 - signal API
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nStopping after the current step (Ctrl-C again to abort now)...", file=sys.stderr, flush=True)


@contextmanager
def graceful_interrupt() -> Iterator[StopRequest]:
    stop = StopRequest()
    try:
        previous = signal.signal(signal.SIGINT, stop._handler)
    except ValueError:  # not the main thread (tests): no handler, plain KeyboardInterrupt
        yield stop
        return
    previous_term = signal.signal(signal.SIGTERM, stop._handler) if hasattr(signal, "SIGTERM") else None
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)


def add_device_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto",
                        help="where to compute: auto uses CUDA when present (default: auto)")
