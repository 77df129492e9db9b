"""The batch dialog's per-photo function: colorize and/or stylize with the window's current settings.

Built on the UI thread from plain values, called on the batch worker thread. Models load lazily on the
first photo, so opening the dialog costs nothing. The work itself is the core pipeline's
(:func:`..core.pipeline.colorize_then_stylize`), the same as ``magicbrush stylize --colorize-first``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from ..core.batch import Processed
from ..core.errors import MagicBrushError
from ..core.hints import hints_for_photo
from ..core.imageio import Photo
from ..core.pipeline import ColorizeOptions, colorize_then_stylize, lazy_colorizer, run_to_end
from ..core.style.settings import StyleSettings

if TYPE_CHECKING:  # torch-heavy: imported on the batch worker thread, on the first photo
    from ..core.style.engine import StyleEngine


def build_process(
    *,
    colorize: tuple[str | None, str, int, float] | None,
    style: StyleSettings | None,
    engine: Callable[[], StyleEngine] | None,
    gallery,  # noqa: ANN001 - the window's StyleGallery (anything with load(name) -> image)
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
    # Loaded on the first photo that needs them and kept for the rest of the batch.
    load_colorizer = lazy_colorizer(colorize[0], colorize[1]) if colorize is not None else None
    style_images: list[np.ndarray] = []

    def load_styles() -> list[np.ndarray]:
        if not style_images and style is not None:
            style_images.extend(gallery.load(name) for name in style.styles)
        return style_images

    def process(photo: Photo) -> np.ndarray | Processed:
        note: str | None = None
        options: ColorizeOptions | None = None
        if colorize is not None:
            assert load_colorizer is not None
            _model, _device, render, strength = colorize
            # NAME.hints.json beside a photo (the brush's or a script's) is used, as in the CLI; one that
            # cannot be used gives the automatic colours and says why in that photo's row.
            hints, message = hints_for_photo(photo)
            if hints is None and message:
                note = message
            options = ColorizeOptions(load_colorizer, render_size=render, strength=strength, hints=hints)
        rgb = run_to_end(colorize_then_stylize(photo, colorize=options, style=style, engine=engine,
                                               style_images=load_styles)).result
        return Processed(rgb, note) if note else rgb

    return process
