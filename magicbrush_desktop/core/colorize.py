"""Colorize a photo: chroma predicted at a render size, laid onto the photo's own full-resolution L.

The output always has exactly the input's pixel size. Memory stays bounded for any photo size (a 40 MP
scan works within 3 GB): the network only ever sees the render-size image, and the full-resolution
result is composed in horizontal strips.

Two steps, so a GUI can re-blend without new inference:
  ``predict`` (expensive: the network) -> :class:`ChromaPrediction` (small, render-size)
  ``compose`` (cheap: upsampling + Lab -> RGB) at any colour strength.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from .checkpoint import generator_from_checkpoint, load_checkpoint
from .color import AB_SCALE, lab_to_rgb, normalize_l
from .devices import resolve_device
from .errors import MagicBrushError
from .imageio import Photo
from .models import resolve_model
from .sizing import fit_longest_side

# Chosen by measurement on the held-out benchmark (docs/BENCHMARKS.md): longest side, pixels. Kept in
# .defaults so the CLI parser and the GUI panel need no torch.
from .defaults import DEFAULT_RENDER_SIZE, MAX_RENDER_SIZE, MIN_RENDER_SIZE  # noqa: E402,F401 - re-exported
# Full-resolution composition works on strips of about this many pixels (bounds peak memory).
_STRIP_PIXELS = 2_000_000
# Guided-upsampling window radius (render-size pixels) and regularisation (L in 0..1 units).
_GUIDE_RADIUS = 2
_GUIDE_EPS = 1e-3


@dataclass
class ChromaPrediction:
    """Chroma at render size, ready to be laid onto full-resolution lightness.

    Attributes:
        coef_a: (h, w, 2) float32 slope per ab channel of the local linear model ab = a * L + b
            (L in 0..1): guided upsampling, so colour edges follow the full-resolution L.
        coef_b: (h, w, 2) float32 offset, ab units.
        ab: (h, w, 2) float32 raw predicted a*b* at render size (about -110..110).
        render_size: (w, h) the network saw.
    """

    coef_a: np.ndarray
    coef_b: np.ndarray
    ab: np.ndarray
    render_size: tuple[int, int]


def _box(x: np.ndarray, radius: int) -> np.ndarray:
    return cv2.blur(x, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)


def guided_coefficients(guide: np.ndarray, ab: np.ndarray, radius: int = _GUIDE_RADIUS,
                        eps: float = _GUIDE_EPS) -> tuple[np.ndarray, np.ndarray]:
    """He et al.'s guided filter coefficients at low resolution (fast guided filter, He & Sun 2015).

    Args:
        guide: (h, w) float32 lightness in 0..1.
        ab: (h, w, 2) float32 chroma.
    Returns:
        (mean_a, mean_b), each (h, w, 2): upsample both and evaluate mean_a * L_full + mean_b.
    """
    mean_i = _box(guide, radius)[..., None]
    var_i = _box(guide * guide, radius)[..., None] - mean_i**2
    mean_p = _box(ab, radius)
    cov_ip = _box(ab * guide[..., None], radius) - mean_i * mean_p
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return _box(a, radius), _box(b, radius)


def _resize_rows(coef: np.ndarray, full_w: int, full_h: int, y0: int, y1: int) -> np.ndarray:
    """Bilinear upsampling of a low-res map to full size, for full-res rows y0..y1 only."""
    h, w = coef.shape[:2]
    xs = ((np.arange(full_w, dtype=np.float32) + 0.5) * (w / full_w) - 0.5).clip(0, w - 1)
    ys = ((np.arange(y0, y1, dtype=np.float32) + 0.5) * (h / full_h) - 0.5).clip(0, h - 1)
    map_x = np.broadcast_to(xs[None, :], (y1 - y0, full_w)).astype(np.float32)
    map_y = np.broadcast_to(ys[:, None], (y1 - y0, full_w)).astype(np.float32)
    return cv2.remap(coef, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def compose(lightness: np.ndarray, chroma: ChromaPrediction, strength: float = 1.0,
            guided: bool = True) -> np.ndarray:
    """Lay predicted chroma onto full-resolution lightness.

    Args:
        lightness: (H, W) float32 L* in 0..100 (the photo's own, any size).
        strength: colour strength, 0 (grey) .. 2 (twice as saturated); 1 = as predicted.
        guided: edge-aware upsampling guided by L; False = plain bilinear.
    Returns:
        (H, W, 3) uint8 RGB.
    """
    if not np.isfinite(strength):  # nan would colour every pixel nonsense (and clip keeps nan)
        raise MagicBrushError(f"the colour strength must be a number between 0 and 2 (got {strength})")
    strength = float(np.clip(strength, 0.0, 2.0))
    full_h, full_w = lightness.shape
    out = np.empty((full_h, full_w, 3), dtype=np.uint8)
    rows = max(1, _STRIP_PIXELS // max(full_w, 1))
    for y0 in range(0, full_h, rows):
        y1 = min(full_h, y0 + rows)
        l_strip = lightness[y0:y1].astype(np.float32, copy=False)
        if guided:
            a = _resize_rows(chroma.coef_a, full_w, full_h, y0, y1)
            b = _resize_rows(chroma.coef_b, full_w, full_h, y0, y1)
            ab = a * (l_strip[..., None] / 100.0) + b
        else:
            ab = _resize_rows(chroma.ab, full_w, full_h, y0, y1)
        lab = np.concatenate([l_strip[..., None], ab * strength], axis=2)
        out[y0:y1] = lab_to_rgb(lab)
    return out


class Colorizer:
    """A loaded colorizer model.

    Use :meth:`load`; then :meth:`colorize`, or :meth:`predict` once and :meth:`compose` as often as the
    colour strength changes.
    """

    def __init__(self, generator: torch.nn.Module, checkpoint_info: dict, device: torch.device,
                 name: str = "") -> None:
        self.generator = generator.to(device).eval()
        self.info = checkpoint_info
        self.device = device
        self.name = name

    @classmethod
    def load(cls, model: str | Path | None = None, device: str | torch.device = "auto") -> "Colorizer":
        """Load a model by name or path (None = the default model) onto ``device``
        (:func:`.devices.resolve_device`: "auto", "cpu", "cuda", "cuda:N" or a ``torch.device``).

        Raises:
            ModelError: model not found, damaged or foreign.
            MagicBrushError: an unknown device, or CUDA requested without that GPU.
        """
        path = resolve_model(model)
        ckpt = load_checkpoint(path)
        generator = generator_from_checkpoint(ckpt)
        info = {k: ckpt.get(k) for k in ("arch", "config", "data", "metrics", "inference", "created")}
        return cls(generator, info, resolve_device(device), name=path.stem)

    @property
    def chroma_gain(self) -> float:
        """The model's calibrated chroma gain (1 for models without one); see calibration.py."""
        return float((self.info.get("inference") or {}).get("chroma_gain", 1.0))

    @torch.no_grad()
    def predict(self, photo: Photo, render_size: int | None = None) -> ChromaPrediction:
        """Run the network on the photo's lightness at ``render_size`` (longest side, pixels)."""
        render_size = int(np.clip(render_size or DEFAULT_RENDER_SIZE, MIN_RENDER_SIZE, MAX_RENDER_SIZE))
        full_h, full_w = photo.lightness.shape
        # A small photo is enlarged to the render size too: the network was trained at that scale.
        h, w = fit_longest_side(full_h, full_w, render_size)
        l_low = cv2.resize(photo.lightness, (w, h), interpolation=cv2.INTER_AREA) if (w, h) != (full_w, full_h) \
            else photo.lightness.astype(np.float32)
        l_in = torch.from_numpy(normalize_l(l_low)).float()[None, None].to(self.device)
        ab = self.generator(l_in)[0].permute(1, 2, 0).float().cpu().numpy() * (AB_SCALE * self.chroma_gain)
        ab = np.ascontiguousarray(ab, dtype=np.float32)
        coef_a, coef_b = guided_coefficients(l_low / 100.0, ab)
        return ChromaPrediction(coef_a, coef_b, ab, (w, h))

    def compose(self, photo: Photo, chroma: ChromaPrediction, strength: float = 1.0,
                max_side: int | None = None, guided: bool = True) -> np.ndarray:
        """Full-resolution (or, with ``max_side``, screen-sized) RGB for a colour strength.

        ``guided=False`` upsamples chroma bilinearly instead of along the edges of L (for comparison).
        """
        lightness = photo.lightness
        if max_side and max(lightness.shape) > max_side:
            h, w = fit_longest_side(*lightness.shape, max_side)
            lightness = cv2.resize(lightness, (w, h), interpolation=cv2.INTER_AREA)
        return compose(lightness, chroma, strength, guided)

    def colorize(self, photo: Photo, render_size: int | None = None, strength: float = 1.0) -> np.ndarray:
        """(H, W, 3) uint8 RGB, the photo's own size."""
        return self.compose(photo, self.predict(photo, render_size), strength)
