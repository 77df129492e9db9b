"""Evaluate a colorizer on colour photos: colorize their lightness, compare with the originals.

Reports PSNR, SSIM and colourfulness per image and on average, and the same figures for the
luminance-only baseline (the grey photo itself), which any colorizer must beat. ΔCF is the gap
between the mean colourfulness of the results and of the originals (as DDColor reports it).
False colour is the share of the originals' neutral pixels (CIE C*ab < 6) that the result paints
with C*ab > 15 (see :func:`.metrics.false_colour`), averaged over photos (and pooled over pixels):
the blotch figure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from . import metrics as M
from .color import grey_of_lightness
from .colorize import MAX_RENDER_SIZE, MIN_RENDER_SIZE, Colorizer
from .dataset import scan_images
from .errors import MagicBrushError
from .events import Finished, Progress
from .imageio import read_photo
from .limits import check_strength


@dataclass
class EvaluationResult:
    per_image: list[dict] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        if not self.per_image:
            return {}
        keys = ("psnr", "ssim", "colourfulness", "baseline_psnr", "baseline_ssim", "baseline_colourfulness",
                "colourfulness_real", "seconds")
        mean = {k: float(np.mean([r[k] for r in self.per_image])) for k in keys}
        mean["delta_colourfulness"] = abs(mean["colourfulness"] - mean["colourfulness_real"])
        # False colour: the mean over photos that have neutral surfaces of each photo's share, and the
        # same pooled over every neutral pixel of every photo (photos with more grey surface weigh more).
        shares = [r["false_colour"] for r in self.per_image if r["neutral_pixels"]]
        mean["false_colour"] = float(np.mean(shares)) if shares else 0.0
        neutral = sum(r["neutral_pixels"] for r in self.per_image)
        mean["false_colour_pooled"] = (sum(r["false_colour_pixels"] for r in self.per_image) / neutral
                                       if neutral else 0.0)
        mean["images"] = len(self.per_image)
        return mean


def grey_baseline(lightness: np.ndarray) -> np.ndarray:
    """The luminance-only baseline: L* (H, W) 0..100 with a* = b* = 0, as (H, W, 3) uint8 RGB."""
    grey = np.rint(grey_of_lightness(lightness) * 255.0).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def evaluate(colorizer: Colorizer, folder: Path, render_size: int | None = None,
             strength: float = 1.0, limit: int = 0) -> Iterator[Progress | Finished]:
    """Yields Progress per image, then Finished(result=EvaluationResult, summary=means).

    Raises:
        MagicBrushError: a strength outside 0..2 (or nan), a negative limit, a render size out of range,
            no photos, or no colour photo among them to compare with (the message says what was found).
    """
    check_strength(strength)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise MagicBrushError(f"the photo limit must be 0 (all) or more (got {limit})")
    if render_size is not None and not MIN_RENDER_SIZE <= render_size <= MAX_RENDER_SIZE:
        raise MagicBrushError(f"the render size must be {MIN_RENDER_SIZE}..{MAX_RENDER_SIZE} (got {render_size})")
    if not Path(folder).is_dir():
        raise MagicBrushError(f"'{folder}' is not a folder of colour photos")
    paths = scan_images(Path(folder))
    if limit:
        paths = paths[:limit]
    if not paths:
        raise MagicBrushError(f"no photos found in '{folder}'")
    result = EvaluationResult()
    for i, path in enumerate(paths):
        yield Progress(i, len(paths), path.name)
        try:
            photo = read_photo(path)
        except MagicBrushError as exc:
            result.failed.append((path.name, str(exc)))
            continue
        if photo.is_greyscale:
            result.failed.append((path.name, "black-and-white: no colour original to compare with"))
            continue
        start = time.perf_counter()
        out = colorizer.colorize(photo, render_size, strength)
        seconds = time.perf_counter() - start
        base = grey_baseline(photo.lightness)
        neutral, painted = M.false_colour_counts(out, photo.rgb)
        result.per_image.append({
            "file": path.name,
            "psnr": M.psnr(out, photo.rgb), "ssim": M.ssim(out, photo.rgb), "colourfulness": M.colourfulness(out),
            "baseline_psnr": M.psnr(base, photo.rgb), "baseline_ssim": M.ssim(base, photo.rgb),
            "baseline_colourfulness": M.colourfulness(base), "colourfulness_real": M.colourfulness(photo.rgb),
            "neutral_pixels": neutral, "false_colour_pixels": painted,
            "false_colour": painted / neutral if neutral else 0.0,
            "seconds": seconds,
        })
    yield Progress(len(paths), len(paths), "done")
    if not result.per_image:
        grey = sum(1 for _, reason in result.failed if reason.startswith("black-and-white"))
        other = len(result.failed) - grey
        first = f" (e.g. {result.failed[0][0]}: {result.failed[0][1]})" if result.failed else ""
        raise MagicBrushError(
            f"none of the {len(paths)} photo(s) in '{folder}' can be compared: evaluation needs colour originals "
            f"({grey} black-and-white, {other} unreadable){first}")
    yield Finished(result, result.summary())
