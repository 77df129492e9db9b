"""The live parameter channel of a style run: weights a front end changes while the optimisation runs.

A running :meth:`StyleTransfer.run <.gatys.StyleTransfer.run>` reads its :class:`StyleControls` between
steps. When the weights changed, it refines from the picture it has reached with the new weights (a
warm restart inside the same run: no thread torn down, no extra forward pass, the step count and the
progress bar go on), so a slider move during a run is never dropped, whenever it arrives. Written from
the UI thread, read from the worker thread: a lock guards the values and a version number says whether
anything changed since the run last looked.

Nothing here imports torch or Qt.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Sequence

from ..errors import MagicBrushError

# A weight change refines for at least this many steps, or half the run's steps (the picture is already
# close to a solution, so a warm restart needs fewer steps than a run from the photo).
MIN_REFINE_STEPS = 10


def refine_steps(steps: int) -> int:
    """Steps a weight change gets: half a run, at least :data:`MIN_REFINE_STEPS`."""
    return max(MIN_REFINE_STEPS, steps // 2)


@dataclass(frozen=True)
class StyleWeights:
    """The loss weights a run uses: α (content), β (style), and one blend weight per style (or None:
    keep the session's)."""

    content_weight: float
    style_weight: float
    blend: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not (self.content_weight >= 0 and self.style_weight >= 0):
            raise MagicBrushError("loss weights must not be negative")


class StyleControls:
    """A thread-safe mailbox of :class:`StyleWeights`, with a version that grows on every change.

    Usage::

        controls = StyleControls(StyleWeights(1.0, 2.5))
        job = session.run(100, controls=controls)   # the worker iterates this
        controls.update(style_weight=5.0)           # from any thread; the run picks it up next step
    """

    def __init__(self, weights: StyleWeights) -> None:
        self._lock = threading.Lock()
        self._weights = weights
        self._version = 0
        self._start_overs = 0

    def update(self, *, content_weight: float | None = None, style_weight: float | None = None,
               blend: Sequence[float] | None = None) -> bool:
        """Change some weights; returns True when anything changed (and bumps the version)."""
        with self._lock:
            changes: dict[str, object] = {}
            if content_weight is not None and float(content_weight) != self._weights.content_weight:
                changes["content_weight"] = float(content_weight)
            if style_weight is not None and float(style_weight) != self._weights.style_weight:
                changes["style_weight"] = float(style_weight)
            if blend is not None and tuple(float(b) for b in blend) != self._weights.blend:
                changes["blend"] = tuple(float(b) for b in blend)
            if not changes:
                return False
            self._weights = replace(self._weights, **changes)
            self._version += 1
            return True

    def request_start_over(self) -> None:
        """Ask the run to go back to the photo (with the current weights) at its next step."""
        with self._lock:
            self._start_overs += 1
            self._version += 1

    @property
    def start_overs(self) -> int:
        """How many times a start-over was asked for (a run compares it with what it has seen)."""
        with self._lock:
            return self._start_overs

    def snapshot(self) -> tuple[int, StyleWeights]:
        """(version, weights), read together so a change between the two reads cannot be half-seen."""
        with self._lock:
            return self._version, self._weights

    @property
    def version(self) -> int:
        with self._lock:
            return self._version

    @property
    def weights(self) -> StyleWeights:
        with self._lock:
            return self._weights
