"""One generic adapter that runs any core job generator on a ``QThread``.

Core jobs (colorize, style transfer, batch, training) are generators of :mod:`..core.events`. A
:class:`Job` creates the generator *inside* its thread (so expensive set-up such as loading a model
never runs on the UI thread), forwards every event as a Qt signal, checks a cancel flag between
yields and closes the generator when stopped, so the job's own ``finally`` blocks clean up (training
saves ``last.pt``, a batch leaves no partial file, a style session keeps the picture it reached).
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Callable, Iterator

from PySide6.QtCore import QThread, Signal

from ..core.errors import MagicBrushError
from ..core.events import FileDone, Finished, Metrics, Preview, Progress

log = logging.getLogger(__name__)

JobFactory = Callable[[], Iterator[object]]

# How a job ended; ``Job.ended`` carries one of these.
FINISHED, CANCELLED, FAILED = "finished", "cancelled", "failed"


def readable_error(exc: BaseException) -> str:
    """A message for a dialog: the core's own words, or a short summary of an unexpected error."""
    if isinstance(exc, MagicBrushError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "Out of memory: try a smaller render or style size."
    text = str(exc).strip() or type(exc).__name__
    return f"Something went wrong: {text}"


class Job(QThread):
    """Runs ``factory()`` (a generator of events) on its own thread and re-emits the events.

    Signals are emitted from the worker thread; receivers living on the UI thread get them queued,
    so slots run on the UI thread and may touch widgets. ``ended`` is always the last signal.
    """

    progress = Signal(object)  # events.Progress
    preview = Signal(object)  # events.Preview
    metrics = Signal(object)  # events.Metrics
    file_done = Signal(object)  # events.FileDone
    finished_event = Signal(object)  # events.Finished (QThread already has a `finished` signal)
    failed = Signal(str)  # a readable message
    ended = Signal(str)  # FINISHED, CANCELLED or FAILED

    def __init__(self, factory: JobFactory, name: str = "job", parent=None) -> None:
        super().__init__(parent)
        self.name = name
        self._factory = factory
        self._cancel = threading.Event()
        self.outcome: str | None = None
        self.result: Finished | None = None
        self.error: str | None = None

    def cancel(self) -> None:
        """Ask the job to stop; it takes effect at the generator's next yield (one step or one file)."""
        self._cancel.set()

    def run(self) -> None:  # noqa: D401 - QThread entry point, runs on the worker thread
        gen: Iterator[object] | None = None
        outcome = CANCELLED
        try:
            if self._cancel.is_set():
                return
            gen = self._factory()
            for event in gen:
                self._emit(event)
                if self._cancel.is_set():
                    break
            else:
                outcome = FINISHED
        except Exception as exc:  # noqa: BLE001 - any failure becomes a dialog, never a dead thread
            log.error("job %s failed:\n%s", self.name, traceback.format_exc())
            outcome = FAILED
            self.error = readable_error(exc)
        finally:
            if gen is not None and hasattr(gen, "close"):
                try:
                    # GeneratorExit at the current yield: the job's finally blocks save and clean up.
                    gen.close()
                except Exception as exc:  # noqa: BLE001 - a failing clean-up is still worth telling
                    log.error("closing job %s failed:\n%s", self.name, traceback.format_exc())
                    if outcome != FAILED:
                        outcome, self.error = FAILED, readable_error(exc)
            self.outcome = outcome
            if outcome == FAILED:
                self.failed.emit(self.error or "unknown error")
            self.ended.emit(outcome)

    def _emit(self, event: object) -> None:
        if isinstance(event, Progress):
            self.progress.emit(event)
        elif isinstance(event, Preview):
            self.preview.emit(event)
        elif isinstance(event, Metrics):
            self.metrics.emit(event)
        elif isinstance(event, FileDone):
            self.file_done.emit(event)
        elif isinstance(event, Finished):
            self.result = event
            self.finished_event.emit(event)
