"""Small events that long core jobs yield, so any front end can show progress and stop them.

A long job is a generator: it yields these events between units of work (a training step, a file of a
batch, an optimisation step). A front end iterates it; to cancel, it stops iterating and calls
``close()`` on the generator, which raises ``GeneratorExit`` at the current ``yield`` so the job's
``finally`` blocks clean up. Nothing here knows about Qt or the terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` units finished; ``message`` says what is happening."""

    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


@dataclass(frozen=True)
class Preview:
    """An intermediate picture: (H, W, 3) uint8 RGB."""

    image: np.ndarray
    step: int = 0
    caption: str = ""


@dataclass(frozen=True)
class Metrics:
    """Named numbers at a step (losses, validation scores)."""

    step: int
    values: dict[str, float]
    kind: str = "train"  # "train" per step, "val" per epoch, "style" per optimisation step


@dataclass(frozen=True)
class FileDone:
    """One file of a batch finished: ``output`` written, or ``error`` says why not, or ``skipped``.

    ``note`` says what the user should know, e.g. that the usual name was taken and another was used.
    """

    source: Path
    output: Path | None = None
    error: str | None = None
    skipped: bool = False
    note: str | None = None


@dataclass(frozen=True)
class Finished:
    """The job's result (a path, an image, a summary dict...)."""

    result: Any = None
    summary: dict[str, Any] = field(default_factory=dict)


Event = Progress | Preview | Metrics | FileDone | Finished
