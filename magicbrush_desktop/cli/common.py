"""Pieces every subcommand shares: graceful Ctrl-C (and SIGTERM), the progress bar over a core job, and
common options."""

from __future__ import annotations

import argparse
import signal
import sys
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, TextIO

from ..core.defaults import CUDA_INDEX, DEVICE_CHOICES, MAX_RENDER_SIZE, MIN_RENDER_SIZE

if TYPE_CHECKING:  # numpy (events) and tqdm are imported when a job runs: --help must stay light
    from tqdm import tqdm

    from ..core.events import Event, Finished


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


def device_arg(text: str) -> str:
    """argparse type for --device: auto, cpu, cuda or cuda:N (checked against the machine later, by
    :func:`..core.devices.resolve_device`, so parsing needs no torch)."""
    name = text.strip().lower()
    if name in DEVICE_CHOICES or CUDA_INDEX.match(name):
        return name
    raise argparse.ArgumentTypeError(f"'{text}' is not a device (use auto, cpu, cuda or cuda:N, e.g. cuda:1)")


def add_device_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", type=device_arg, default="auto", metavar="{auto,cpu,cuda,cuda:N}",
                        help="where to compute: auto uses the first CUDA GPU when present, cuda:N picks "
                             "GPU N (default: auto)")


def threads_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: '{text}'") from None
    if not 0 <= value <= 4096:
        raise argparse.ArgumentTypeError("threads must be 0 (all cores) to 4096")
    return value


def add_threads_option(parser: argparse.ArgumentParser) -> None:
    """``--threads N``: how many CPU threads the command's computing may use (0: torch's default, all
    cores), so a shared or small machine stays usable. Applied by :func:`..cli.main` around the command."""
    parser.add_argument("--threads", type=threads_arg, default=0, metavar="N",
                        help="CPU threads to compute with (default 0: all cores)")


@contextmanager
def cpu_threads(count: int) -> Iterator[None]:
    """Run the body with torch limited to ``count`` CPU threads (0: unchanged), then restore the count."""
    if not count:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True)
class JobOutcome:
    """How :func:`run_with_progress` ended: the job's ``Finished`` (None if it never came) and whether
    the user asked it to stop (Ctrl-C or SIGTERM)."""

    finished: Finished | None
    stopped: bool


def run_with_progress(
    job: Iterable[Event],
    *,
    unit: str = "step",
    total: int | None = None,
    describe: bool = False,
    quiet: bool = False,
    file: TextIO | None = None,
    interruptible: bool = True,
    on_event: Callable[[Event, tqdm | None], None] | None = None,
) -> JobOutcome:
    """Run a core job generator with a tqdm bar (ETA) driven by its ``Progress`` events; every
    subcommand's jobs run through here.

    The bar shows on a terminal only (tqdm's ``disable=None``), never with ``quiet``.

    Args:
        job: the core job's event generator; always closed at the end, so its ``finally`` blocks run
            (temporary files removed, a training run's ``last.pt`` saved).
        unit: what the bar counts ("photo", "step").
        total: the bar's total from the start; ``Progress`` with another total is then a sub-job's count
            (colorize-first's three steps, one run of a tune) and leaves the bar alone. Without it the
            bar appears with the first ``Progress`` that has a total, starting at its ``done`` (a
            resumed training run starts where it stopped), and follows the total.
        describe: show each ``Progress`` message as the bar's description.
        quiet: no bar and no message lines (``--json``, a silent torchrun rank).
        file: where the bar is drawn (default: tqdm's, standard error).
        interruptible: the first Ctrl-C or SIGTERM stops the job after the current event
            (:func:`graceful_interrupt`); otherwise Ctrl-C interrupts as usual.
        on_event: sees every event after the bar was updated, with the bar (None while there is none),
            for what a subcommand adds: a postfix, a line per failed file.
    Returns:
        The :class:`JobOutcome`.
    """
    from tqdm import tqdm

    from ..core.events import Finished, Progress

    def new_bar(bar_total: int | None, initial: int = 0) -> tqdm:
        return tqdm(total=bar_total, initial=initial, unit=unit, disable=True if quiet else None, file=file)

    bar = new_bar(total) if total is not None else None
    finished: Finished | None = None
    guard = graceful_interrupt() if interruptible else nullcontext(StopRequest())
    with guard as stop:
        try:
            for event in job:
                if isinstance(event, Progress):
                    if event.total and (total is None or event.total == total):
                        if bar is None:
                            bar = new_bar(event.total, event.done)
                        elif event.total != bar.total or event.done < bar.n:
                            # A new phase (training's photo scan, then its steps): start the bar and its
                            # ETA again from here, counting only what this phase still has to do.
                            bar.reset(total=event.total)
                            bar.initial = bar.n = bar.last_print_n = event.done
                            bar.refresh()
                        bar.update(event.done - bar.n)
                        if describe:
                            bar.set_description(event.message)
                    elif not event.total and event.message and not quiet:
                        tqdm.write(event.message, file=sys.stderr)  # a note, e.g. a photo skipped
                elif isinstance(event, Finished):
                    finished = event
                if on_event is not None:
                    on_event(event, bar)
                if stop.requested:
                    break
        finally:
            close = getattr(job, "close", None)
            if close is not None:
                close()
            if bar is not None:
                bar.close()
    return JobOutcome(finished, stop.requested)
