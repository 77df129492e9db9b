"""Built-in looks: style images drawn by our own code, so the gallery works with no download.

Picasso, comic and watercolour are the looks people expect of a style gallery, but their usual example
images are not free to ship; these generators stand in for them. Each look is a deterministic picture (fixed
random seed) fed to Gatys like any painting: what matters is its texture statistics (strokes, edges,
palette), not a subject.

All generators return (size, size, 3) uint8 RGB and use only numpy and OpenCV.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from .defaults import ALIASES, LOOK_INFO, look_key  # noqa: F401 - ALIASES re-exported

LOOK_SIZE = 512
# Comic: halftone dots only where the normalised shadow field (0..1) is above this; elsewhere flat ink.
_COMIC_FLAT_SHARE = 0.75


def _voronoi_labels(rng: np.random.Generator, size: int, n_cells: int) -> np.ndarray:
    """(size, size) int32 index of the nearest of ``n_cells`` random seed points."""
    pts = rng.uniform(0, size, (n_cells, 2)).astype(np.float32)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    best = np.full((size, size), np.inf, np.float32)
    labels = np.zeros((size, size), np.int32)
    for i, (py, px) in enumerate(pts):
        d = (yy - py) ** 2 + (xx - px) ** 2
        closer = d < best
        best[closer] = d[closer]
        labels[closer] = i
    return labels


def _edges(labels: np.ndarray, width: int) -> np.ndarray:
    """(H, W) bool: pixels on a boundary between label regions, thickened to ``width`` px."""
    edge = np.zeros(labels.shape, np.uint8)
    edge[:-1, :] |= (labels[:-1, :] != labels[1:, :]).astype(np.uint8)
    edge[:, :-1] |= (labels[:, :-1] != labels[:, 1:]).astype(np.uint8)
    if width > 1:
        edge = cv2.dilate(edge, np.ones((width, width), np.uint8))
    return edge.astype(bool)


def comic(size: int = LOOK_SIZE, seed: int = 1) -> np.ndarray:
    """Comic: flat bright inks, halftone dots in the deepest shadows and thick black ink outlines."""
    rng = np.random.default_rng(seed)
    palette = np.array(
        [[235, 40, 45], [250, 215, 40], [40, 110, 210], [250, 245, 230], [60, 175, 90], [245, 150, 170]],
        np.uint8,
    )
    # Warped Voronoi cells read as drawn shapes rather than a tiling.
    labels = _voronoi_labels(rng, size, 26)
    img = palette[rng.integers(0, len(palette), labels.max() + 1)][labels].astype(np.float32)
    # Halftone in the deepest shadows only: a dot screen whose dot radius grows with a smooth shadow
    # field. Comics print flat ink with dots where the shading is; a screen over the whole picture made
    # the dots the style's main statistic, and matching them left nothing of a photo (luminance SSIM
    # 0.40 on Migrant Mother at the weight that halved the style loss).
    shade = cv2.GaussianBlur(rng.random((size, size)).astype(np.float32), (0, 0), size / 10)
    shade = (shade - shade.min()) / (np.ptp(shade) + 1e-6)
    shadow = np.clip((shade - _COMIC_FLAT_SHARE) / (1.0 - _COMIC_FLAT_SHARE), 0.0, 1.0)
    pitch = 8
    yy, xx = np.mgrid[0:size, 0:size]
    cy, cx = (yy % pitch) - pitch / 2, (xx % pitch) - pitch / 2
    dots = np.sqrt(cx**2 + cy**2) < shadow * pitch * 0.55
    img[dots] *= 0.25
    img[_edges(labels, 5)] = 10
    return np.clip(img, 0, 255).astype(np.uint8)


def watercolour(size: int = LOOK_SIZE, seed: int = 2) -> np.ndarray:
    """Watercolour wash: soft transparent blobs with darker pigment rims on textured paper."""
    rng = np.random.default_rng(seed)
    paper = 242 + 8 * cv2.GaussianBlur(rng.standard_normal((size, size)).astype(np.float32), (0, 0), 1.2)
    img = np.repeat(paper[..., None], 3, axis=2).astype(np.float32)
    pigments = np.array(
        [[70, 120, 190], [210, 90, 80], [230, 180, 70], [90, 160, 110], [150, 90, 160], [60, 150, 170]],
        np.float32,
    )
    for _ in range(40):
        mask = np.zeros((size, size), np.float32)
        centre = rng.uniform(0, size, 2).astype(int)
        axes = rng.uniform(size * 0.05, size * 0.22, 2).astype(int)
        cv2.ellipse(mask, tuple(int(c) for c in centre), tuple(int(a) for a in axes), rng.uniform(0, 180), 0, 360, 1.0, -1)
        # Ragged edges: threshold the blurred shape against noise, then blur again for the wash.
        noise = cv2.GaussianBlur(rng.random((size, size)).astype(np.float32), (0, 0), 4)
        mask = (cv2.GaussianBlur(mask, (0, 0), 6) > 0.35 + 0.4 * (noise - 0.5)).astype(np.float32)
        wash = cv2.GaussianBlur(mask, (0, 0), 3)
        # Pigment gathers where the wash dries: at its rim.
        rim = np.clip(cv2.Laplacian(wash, cv2.CV_32F, ksize=5) * -0.15, 0, 0.6)
        opacity = 0.35 * wash + rim
        colour = pigments[rng.integers(0, len(pigments))]
        # Multiply-like blend: transparent layers darken what is under them.
        img = img * (1 - opacity[..., None]) + (img * colour / 255.0) * opacity[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def stained_glass(size: int = LOOK_SIZE, seed: int = 3) -> np.ndarray:
    """Mosaic / stained glass: saturated glass cells with uneven light, held by dark lead lines."""
    rng = np.random.default_rng(seed)
    labels = _voronoi_labels(rng, size, 110)
    hues = rng.integers(0, 180, labels.max() + 1).astype(np.uint8)
    hsv = np.stack(
        [hues[labels], np.full_like(labels, 215, dtype=np.uint8), np.full_like(labels, 230, dtype=np.uint8)], axis=2
    ).astype(np.uint8)
    img = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).astype(np.float32)
    light = cv2.GaussianBlur(rng.random((size, size)).astype(np.float32), (0, 0), 12)
    light = 0.65 + 0.7 * (light - light.min()) / (np.ptp(light) + 1e-6)
    img *= light[..., None]
    img[_edges(labels, 4)] = 25
    return np.clip(img, 0, 255).astype(np.uint8)


def pencil(size: int = LOOK_SIZE, seed: int = 4) -> np.ndarray:
    """Pencil hatching: graphite strokes in a few directions on off-white paper, denser in shadows."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size), 245, np.float32)
    tone = cv2.GaussianBlur(rng.random((size, size)).astype(np.float32), (0, 0), size / 8)
    tone = (tone - tone.min()) / (np.ptp(tone) + 1e-6)
    strokes = np.zeros((size, size), np.float32)
    for angle in (np.deg2rad(35), np.deg2rad(-50), np.deg2rad(80)):
        for _ in range(900):
            y, x = rng.uniform(0, size, 2)
            length = rng.uniform(size * 0.03, size * 0.1)
            dx, dy = np.cos(angle) * length / 2, np.sin(angle) * length / 2
            cv2.line(strokes, (int(x - dx), int(y - dy)), (int(x + dx), int(y + dy)), rng.uniform(0.3, 1.0), 1, cv2.LINE_AA)
    # Keep strokes where the tone is dark: hatching builds up value, it does not outline.
    img -= 260 * np.clip(strokes, 0, 1.5) * tone**0.6
    img += 6 * rng.standard_normal((size, size)).astype(np.float32)  # paper grain
    grey = np.clip(img, 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def cubist(size: int = LOOK_SIZE, seed: int = 5) -> np.ndarray:
    """Cubist facets: overlapping angular planes in ochre, brown, grey-blue, each shaded across, with dark edges.

    Stands in for a "Picasso" look (Analytic Cubism palette; ``picasso`` finds it), drawn from scratch.
    """
    rng = np.random.default_rng(seed)
    palette = np.array(
        [[176, 140, 90], [120, 90, 60], [90, 100, 110], [200, 175, 130], [60, 55, 50], [150, 120, 95], [110, 125, 140]],
        np.float32,
    )
    img = np.full((size, size, 3), 160, np.float32)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    outlines = np.zeros((size, size), np.uint8)
    for _ in range(70):
        n = int(rng.integers(3, 6))
        centre = rng.uniform(0, size, 2)
        radius = rng.uniform(size * 0.06, size * 0.25)
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        poly = np.stack([centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles)], 1).astype(np.int32)
        mask = np.zeros((size, size), np.uint8)
        cv2.fillPoly(mask, [poly], 1)
        # A linear gradient across each facet makes it read as a tilted plane.
        direction = rng.normal(size=2)
        grad = (xx * direction[0] + yy * direction[1]) / size
        grad = 0.75 + 0.5 * (grad - grad.min()) / (np.ptp(grad) + 1e-6)
        facet = palette[rng.integers(0, len(palette))][None, None, :] * grad[..., None]
        m = mask.astype(bool)
        img[m] = 0.3 * img[m] + 0.7 * facet[m]
        cv2.polylines(outlines, [poly], True, 1, 2, cv2.LINE_AA)
    img[outlines.astype(bool)] *= 0.35
    return np.clip(img, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Look:
    """A built-in look: ``key`` for the CLI (``--style comic``), ``name`` for people."""

    key: str
    name: str
    description: str
    generate: Callable[..., np.ndarray]
    revision: int = 1  # raised when the drawing changes, so cached thumbnails of the old one are not shown


_GENERATORS: dict[str, Callable[..., np.ndarray]] = {
    "comic": comic, "watercolour": watercolour, "stained-glass": stained_glass, "pencil": pencil, "cubist": cubist,
}
# Comic 2: halftone in the deepest shadows only (was a dot screen over the whole picture).
_REVISIONS: dict[str, int] = {"comic": 2}
LOOKS: dict[str, Look] = {
    key: Look(key, name, description, _GENERATORS[key], _REVISIONS.get(key, 1))
    for key, (name, description) in LOOK_INFO.items()
}


def find_look(name: str) -> Look | None:
    """The look called ``name`` (key, display name or alias, any case), or None."""
    key = look_key(name)
    return LOOKS[key] if key else None
