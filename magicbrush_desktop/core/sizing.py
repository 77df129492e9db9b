"""Fitting a picture to a longest side: the one size rule of the colorizer, style transfer, thumbnails
and the memory checks.

Sizes are ``(height, width)`` everywhere in Magic Brush's helpers, the order of a numpy array's
``shape[:2]``; OpenCV's ``cv2.resize`` takes ``(width, height)``, so its callers swap them there.
Plain Python (no numpy): :mod:`.limits`, which the CLI's parser imports, uses it.
"""

from __future__ import annotations


def fit_longest_side(height: int, width: int, longest: int, *, min_side: int = 1,
                     enlarge: bool = True) -> tuple[int, int]:
    """The (height, width) of a picture scaled so its longer side is ``longest``, aspect kept.

    Each side is rounded to whole pixels, so the longer one comes out exactly ``longest``.

    Args:
        height, width: the picture's size, pixels (both ≥ 1).
        longest: the wanted longer side, pixels (≥ 1).
        min_side: no side below this many pixels (VGG19 needs 16 to reach its deepest layer); a very
            long, thin picture is then a little wider than its aspect says.
        enlarge: False keeps a picture whose longer side is already at most ``longest`` at its size
            (thumbnails, screen previews); True scales small pictures up too.
    Returns:
        (h, w), ints.
    Raises:
        ValueError: a side or ``longest`` below 1.
    """
    if height < 1 or width < 1 or longest < 1:
        raise ValueError(f"sizes must be at least 1 px (got {height}x{width}, longest side {longest})")
    if not enlarge and max(height, width) <= longest:
        return max(min_side, height), max(min_side, width)
    scale = longest / max(height, width)
    return max(min_side, round(height * scale)), max(min_side, round(width * scale))
