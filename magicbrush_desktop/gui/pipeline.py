"""The batch dialog's per-photo function: colorize and/or stylize with the window's current settings.

Built on the UI thread from plain values, called on the batch worker thread. Models load lazily on the
first photo, so opening the dialog costs nothing.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from typing import TYPE_CHECKING

from ..core.batch import Processed
from ..core.errors import MagicBrushError
from ..core.hints import colorize_with_hints, hints_for_photo
from ..core.events import Finished
from ..core.imageio import Photo
from .style_panel import StyleSettings

if TYPE_CHECKING:  # torch-heavy: imported on the batch worker thread, on the first photo
    from ..core.style.gatys import StyleEngine


def build_process(
    *,
    colorize: tuple[str | None, str, int, float] | None,
    style: StyleSettings | None,
    engine: Callable[[], StyleEngine] | None,
    gallery,
) -> Callable[[Photo], "np.ndarray | Processed"]:
    """A function photo -> (H, W, 3) uint8, or :class:`Processed` with a note (a hints file ignored).

    Args:
        colorize: (model name, device, render size, strength), or None to skip colorization.
        style: the Style panel's settings, or None to skip stylization.
        engine: returns the shared style engine (called on the worker thread on first use).
        gallery: loads style images by name.
    Raises (when called):
        MagicBrushError: nothing to do, or a model/style that cannot be loaded.
    """
    if colorize is None and style is None:
        raise MagicBrushError("choose colorize, stylize or both")
    if colorize is not None and colorize[0] is None:
        raise MagicBrushError("no colorization model is installed")
    state: dict[str, object] = {}

    def process(photo: Photo) -> np.ndarray:
        from ..core.colorize import Colorizer
        from ..core.style.gatys import StyleTransfer

        rgb = photo.rgb
        note: str | None = None
        if colorize is not None:
            model, device, render, strength = colorize
            if "colorizer" not in state:
                state["colorizer"] = Colorizer.load(model, device)
            colorizer = state["colorizer"]
            assert isinstance(colorizer, Colorizer)
            # NAME.hints.json beside a photo (the brush's or a script's) is used, as in the CLI; one that
            # cannot be used gives the automatic colours and says why in that photo's row.
            hints, message = hints_for_photo(photo)
            if hints is None and message:
                note = message
            rgb = colorize_with_hints(colorizer, photo, hints, render, strength)
        if style is not None:
            assert engine is not None
            if "styles" not in state:
                state["styles"] = [gallery.load(name) for name in style.styles]
            session = StyleTransfer(engine(), rgb, state["styles"], blend=list(style.blend), size=style.size,
                                    preserve_colors=style.preserve_colors)
            result = None
            for event in session.run(style.steps, content_weight=style.content_weight,
                                     style_weight=style.style_weight, preview_every=0):
                if isinstance(event, Finished):
                    result = event.result
            assert result is not None
            rgb = result
        return Processed(rgb, note) if note else rgb

    return process
