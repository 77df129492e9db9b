"""Old-photo degradations for training inputs: make clean colour photos look like the scans users bring.

A real old photo is not the clean grey conversion of a sharp modern photo: it has film grain, soft focus,
JPEG blocks from a scanner, faded or crushed contrast, a vignette and often a scanned border. A colorizer
that only ever saw clean L* invents chroma on such texture (the "rainbow blotches" on tents, walls and
borders). :func:`degrade_batch` applies a random mix of these to the network's *input* L only; the
target a*b* stays the original's, except under an added border, which is neutral in both (a scanned
frame must stay grey).

All functions work on numpy arrays with L* in 0..100 and a*b* in about -110..110.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from .color import AB_SCALE, L_SCALE


def _fade(l: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Faded or harsh contrast and a tone curve (prints fade, sepia toning maps to a monotone L curve)."""
    gamma = float(np.exp(rng.uniform(np.log(0.7), np.log(1.45))))
    out = 100.0 * np.power(np.clip(l / 100.0, 0.0, 1.0), gamma)
    contrast = rng.uniform(0.6, 1.15)
    centre = float(out.mean())
    out = centre + (out - centre) * contrast + rng.uniform(-8.0, 8.0)
    return out


def _blur(l: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    sigma = rng.uniform(0.4, 1.6)
    return cv2.GaussianBlur(l, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)


def _grain(l: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Film grain: noise with a little spatial correlation, stronger in the mid-tones."""
    noise = rng.normal(0.0, 1.0, l.shape).astype(np.float32)
    if rng.random() < 0.5:
        noise = cv2.GaussianBlur(noise, (0, 0), rng.uniform(0.5, 1.0))
        noise /= max(float(noise.std()), 1e-6)
    midtone = 0.5 + 2.0 * (l / 100.0) * (1.0 - l / 100.0)
    return l + noise * rng.uniform(1.0, 6.0) * midtone


def _jpeg(l: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    quality = int(rng.integers(25, 85))
    grey = np.clip(l * 2.55, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", grey, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        return l
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE).astype(np.float32) / 2.55


def _vignette(l: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = l.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot((xx - w / 2) / (w / 2), (yy - h / 2) / (h / 2)) / np.sqrt(2)
    strength = rng.uniform(0.1, 0.45)
    return l * (1.0 - strength * r**2)


def _border(l: np.ndarray, ab: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A scanned frame on 1-4 sides: flat light (paper) or dark (scanner lid) tone, neutral chroma."""
    h, w = l.shape
    tone = rng.uniform(75.0, 98.0) if rng.random() < 0.7 else rng.uniform(3.0, 25.0)
    l, ab = l.copy(), ab.copy()
    sides = rng.permutation(4)[: int(rng.integers(1, 5))]
    for side in sides:
        width = int(rng.integers(max(2, min(h, w) // 40), max(3, min(h, w) // 8)))
        sl = {0: np.s_[:width, :], 1: np.s_[-width:, :], 2: np.s_[:, :width], 3: np.s_[:, -width:]}[int(side)]
        l[sl] = tone + rng.normal(0.0, 1.0, l[sl].shape)
        ab[sl] = 0.0
    return l, ab


def degrade_sample(l: np.ndarray, ab: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One random old-photo look.

    Args:
        l: (H, W) float32 L* in 0..100 (the network's input).
        ab: (H, W, 2) float32 target a*b*; only changed under an added border (set to 0 there).
    Returns:
        (degraded L clipped to 0..100, target ab).
    """
    l = l.astype(np.float32, copy=True)
    if rng.random() < 0.15:
        l, ab = _border(l, ab, rng)
    if rng.random() < 0.6:
        l = _fade(l, rng)
    if rng.random() < 0.4:
        l = _blur(l, rng)
    if rng.random() < 0.5:
        l = _grain(l, rng)
    if rng.random() < 0.2:
        l = _vignette(l, rng)
    if rng.random() < 0.4:
        l = _jpeg(np.clip(l, 0.0, 100.0), rng)
    return np.clip(l, 0.0, 100.0).astype(np.float32), ab


def degrade_batch(l: torch.Tensor, ab: torch.Tensor, rng: np.random.Generator,
                  probability: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Degrade each sample of a normalised batch with ``probability``.

    Args:
        l: (N, 1, H, W) L/50 - 1 in [-1, 1]; ab: (N, 2, H, W) ab/110.
    Returns:
        New (l, ab) tensors of the same shapes and scaling.
    """
    if probability <= 0:
        return l, ab
    l_out, ab_out = l.clone(), ab.clone()
    for i in range(l.shape[0]):
        if rng.random() >= probability:
            continue
        l_np = (l[i, 0].numpy() + 1.0) * L_SCALE
        ab_np = ab[i].permute(1, 2, 0).numpy() * AB_SCALE
        l_np, ab_np = degrade_sample(l_np, ab_np, rng)
        l_out[i, 0] = torch.from_numpy(l_np / L_SCALE - 1.0)
        ab_out[i] = torch.from_numpy(np.ascontiguousarray(ab_np / AB_SCALE)).permute(2, 0, 1)
    return l_out, ab_out
