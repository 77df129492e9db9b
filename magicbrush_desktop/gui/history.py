"""Undo/redo across the steps of an edit: original -> colorized -> stylized.

Each step is an immutable picture plus what produced it. Commands go on a ``QUndoStack``, so the Edit
menu gets standard Undo/Redo actions with readable text ("Undo Colorize"). Consecutive colour-strength
changes merge into one command, so dragging the slider back and forth is one undo step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from PySide6.QtGui import QUndoCommand

STRENGTH_MERGE_ID = 1


@dataclass(frozen=True)
class Step:
    """One state of the picture.

    Attributes:
        kind: "original", "colorized" or "stylized".
        image: (H, W, 3) uint8, the photo's own size.
        chroma: the colour prediction a colorized step was composed from (so strength can re-blend it).
        strength: colour strength used for ``image`` (colorized steps).
        content: for a stylized step, the picture that was stylized (a re-run starts from it).
        caption: what the canvas labels the picture with.
        provenance: what made it (a core ``Provenance``: model, strength, styles), written into exports.
    """

    kind: str
    image: np.ndarray
    chroma: Any = None
    strength: float = 1.0
    content: np.ndarray | None = None
    caption: str = ""
    provenance: Any = None


class StepCommand(QUndoCommand):
    """Go from one step to another; undo goes back."""

    def __init__(self, apply: Callable[[Step], None], before: Step, after: Step, text: str,
                 merge_id: int = -1) -> None:
        super().__init__(text)
        self._apply = apply
        self.before = before
        self.after = after
        self._merge_id = merge_id

    def redo(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)

    def id(self) -> int:  # noqa: A003 - Qt's name
        return self._merge_id

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt override
        if not isinstance(other, StepCommand) or other.id() != self.id() or self.id() < 0:
            return False
        self.after = other.after
        return True
