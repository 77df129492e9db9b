"""What a style run is made of, as plain values: the Style panel fills it, the batch and the command line too.

Kept here rather than in the panel's module so the core pipeline (:mod:`..pipeline`), the batch path and
the CLI can take the same object without importing Qt. Nothing here imports torch or numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

from .defaults import DEFAULT_PRESET


@dataclass(frozen=True)
class StyleSettings:
    """Everything a style run needs: which styles, their weights, how long and at what size.

    The first seven fields are what the desktop Style panel chooses (in this order, so it may build one
    positionally); the rest have the defaults the panel always uses and only the command line changes.
    """

    styles: tuple[str, ...]  # one or more gallery names (the CLI also takes painting file paths)
    blend: tuple[float, ...]  # one weight per style
    content_weight: float
    style_weight: float
    steps: int
    size: int  # optimisation size, longest side (px)
    preserve_colors: bool
    layers: str = DEFAULT_PRESET  # VGG19 layer preset and loss formula (losses.PRESETS)
    style_scale: float = 1.0  # style images at style_scale × size: smaller gives finer strokes
    init: str = "content"  # the starting picture: "content" or "noise"
    tv_weight: float = 0.0  # total-variation (smoothness) weight
    optimizer: str = "lbfgs"  # "lbfgs" or "adam"

    def session_key(self) -> tuple:
        """What a style session is built from; weights and steps are not part of it (warm restart)."""
        return (self.styles, self.size, self.preserve_colors, self.layers, self.style_scale, self.init)
