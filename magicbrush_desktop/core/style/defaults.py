"""Style-transfer defaults that front ends need before any work starts: plain Python, no torch/numpy.

The CLI's parser, its ``--help`` and the desktop app's Style panel read these, so they must import in
milliseconds (``import torch`` alone takes seconds). :mod:`.losses`, :mod:`.gatys` and :mod:`.looks`
build on them.

Weights are those of the default ``gatys`` preset, whose loss terms are normalised (relative feature
and Gram errors, see :mod:`.losses`): the same numbers hold at 256 px and at 1024 px. Each built-in look
has its own (α, β), chosen with ``bench/style_defaults.py`` so that at the defaults (512 px, 100 steps)
the photo stays recognisable (luminance SSIM ≥ 0.5 against the photo at 256 px on three old photos)
while the style loss still falls by more than half; paintings use :data:`PAINTING_WEIGHTS`.
"""

from __future__ import annotations

DEFAULT_SIZE = 512  # optimisation size, longest side (px)
DEFAULT_STEPS = 100
DEFAULT_PRESET = "gatys"
PRESET_NAMES = ("seed", "gatys", "gatys-sum")
OPTIMIZERS = ("lbfgs", "adam")

# key -> (display name, description); the generators live in :mod:`.looks`.
LOOK_INFO: dict[str, tuple[str, str]] = {
    "comic": ("Comic", "flat inks, halftone dots, black outlines"),
    "watercolour": ("Watercolour", "soft washes with pigment rims on paper"),
    "stained-glass": ("Stained glass", "glass mosaic cells held by lead lines"),
    "pencil": ("Pencil hatching", "graphite hatching on paper"),
    "cubist": ("Cubist facets", "angular shaded planes in earth tones"),
}

# (content weight α, style weight β) per built-in look, for the normalised ``gatys`` preset, chosen with
# bench/style_defaults.py at the app's defaults (512 px, 100 steps) so the photo stays recognisable
# (luminance SSIM ≥ 0.5 at 256 px) while the style loss still falls by half, on three old photos
# (docs/style_defaults.png; worst of the 15: SSIM 0.503, drop 56 %). Comic, stained glass and pencil
# need more weight at 512 px than at 256 px for the same drop (comic β 2.1 halves its style loss at
# 256 px but takes 44 % off at 512 px on the 1899 Blizzard street; the photo's SSIM leaves room there).
# Watercolour's wash is pale, so its style loss falls far (87 %) even at β 0.7 while the result stays a
# grey photo with faint tints; β 1.2 lays visible washes (SSIM 0.70-0.77, drop 85-91 %); β 2 adds more
# colour but its rims become rows of soap-bubble rings.
LOOK_WEIGHTS: dict[str, tuple[float, float]] = {
    "comic": (1.0, 3.0),
    "watercolour": (1.0, 1.2),
    "stained-glass": (1.0, 3.3),
    "pencil": (1.0, 1.5),
    "cubist": (1.0, 2.5),
}
# Paintings (the pack, the user's own): one default for all.
PAINTING_WEIGHTS: tuple[float, float] = (1.0, 2.5)

# The raw-sum presets (``seed``: the PyTorch tutorial's shallow layers; ``gatys-sum``) keep the weights
# they were introduced with: a raw sum grows with the image size, so no one pair suits every size.
RAW_PRESET_WEIGHTS: dict[str, tuple[float, float]] = {"seed": (1.0, 1e3), "gatys-sum": (1.0, 1e4)}


def default_weights(style: str | None = None, preset: str = DEFAULT_PRESET) -> tuple[float, float]:
    """(α, β) for a style: a look key, ``look:<key>`` gallery key or look name; anything else is a painting.

    Presets other than the normalised default have one pair for every style.
    """
    if preset in RAW_PRESET_WEIGHTS:
        return RAW_PRESET_WEIGHTS[preset]
    key = look_key(style) if style else None
    return LOOK_WEIGHTS.get(key, PAINTING_WEIGHTS) if key else PAINTING_WEIGHTS


def blended_weights(styles: list[str] | tuple[str, ...], blend: list[float] | tuple[float, ...] | None = None,
                    preset: str = DEFAULT_PRESET) -> tuple[float, float]:
    """(α, β) for a blend of styles: the blend-weighted geometric mean of each style's defaults."""
    if not styles:
        return default_weights(None, preset)
    weights = list(blend) if blend else [1.0] * len(styles)
    total = sum(weights) or 1.0
    alpha = beta = 1.0
    for name, w in zip(styles, weights):
        a, b = default_weights(name, preset)
        alpha *= a ** (w / total)
        beta *= b ** (w / total)
    return alpha, beta


ALIASES = {"watercolor": "watercolour", "mosaic": "stained-glass", "stainedglass": "stained-glass",
           "hatching": "pencil", "picasso": "cubist", "cubism": "cubist"}


def look_key(name: str) -> str | None:
    """The built-in look called ``name`` (key, ``look:<key>``, display name or alias, any case), or None."""
    text = name.strip()
    if text.lower().startswith("look:"):
        text = text[5:]
    key = text.lower().replace(" ", "-").replace("_", "-")
    key = ALIASES.get(key, key)
    if key in LOOK_INFO:
        return key
    for k, (display, _) in LOOK_INFO.items():
        if display.lower() == text.lower():
            return k
    return None
