"""Gatys et al. neural style transfer's loss: layer presets, Gram matrices and the loss terms.

The loss is Gatys et al.'s (2016), as the PyTorch neural-style tutorial writes it:

- content: ``½ Σ (F − P)²`` at the content layer(s), F the generated image's features, P the photo's;
- style: per layer ``E_l = 1/(4 N_l² M_l²) Σ (G − A)²`` with ``G = F Fᵀ`` the Gram matrix of the
  (N_l channels × M_l positions) feature map, A the painting's; style loss ``Σ w_l E_l``;
- total: ``α · content + β · style (+ τ · TV)``.

That is the ``seed`` preset (and ``gatys-sum``). Its content term grows with the number of feature
positions while the style term does not, so the same α/β keeps less of the photo at 1024 px than at
256 px. The default ``gatys`` preset therefore divides each term by its value when the generated
features are all zero: content ``Σ (F − P)² / Σ P²`` and, per layer, ``Σ (G − A)² / Σ A²`` — the relative error of
the features and of the Gram matrices. Both are dimensionless and independent of the optimisation
size (and of how bright a painting is), so a weight means the same everywhere, and the numbers read
as fractions: style loss 0.2 = the Gram matrices are 20 % (squared) off.

Since ``1/(4N²M²) Σ (G − A)² = ¼ Σ (G/NM − A/NM)²``, Gram matrices are kept divided by ``N·M``
(:func:`gram`): the same number, but float32 never sees the 10¹² that raw Caffe-scale Grams reach.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import MagicBrushError
from ..vgg import LAYER_INDEX
from .defaults import PAINTING_WEIGHTS, PRESET_NAMES

# ----------------------------------------------------------------------------------------------------
# Layer presets
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerPreset:
    """Which VGG19 layers carry content and style, and the weights that suit them.

    The default α/β differ per preset because feature magnitudes differ by orders of magnitude
    between shallow pre-ReLU convolutions and deep ReLU outputs.
    """

    name: str
    content_layers: tuple[str, ...]
    style_layers: tuple[str, ...]
    style_layer_weights: tuple[float, ...]
    content_weight: float
    style_weight: float
    # True: each term divided by its value for all-zero features (size-independent, see the module doc).
    normalized: bool = False

    @property
    def layers(self) -> tuple[str, ...]:
        """Every layer the loss reads, content first, each once."""
        return tuple(dict.fromkeys(self.content_layers + self.style_layers))

    @property
    def deepest(self) -> str:
        """The deepest of :attr:`layers`: the VGG must be built at least that far."""
        return max(self.layers, key=lambda n: LAYER_INDEX[n])


PRESETS: dict[str, LayerPreset] = {
    # "seed": the PyTorch tutorial's layers (the preset our first design took). The tutorial counts conv
    # layers (conv_1 ... conv_16) and hooks its losses right after the convolution, before the ReLU:
    # conv_1..conv_5 = conv1_1 .. conv3_1, conv_4 = conv2_2. Shallow layers only: fine texture and colour,
    # no large strokes, but cheap.
    "seed": LayerPreset(
        name="seed",
        content_layers=("conv2_2",),
        style_layers=("conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1"),
        style_layer_weights=(0.2,) * 5,
        content_weight=1.0,
        style_weight=1e3,
    ),
    # Gatys et al. 2016: content conv4_2 and style conv1_1 .. conv5_1, both taken after the ReLU
    # (Caffe's in-place ReLU makes "conv4_2" the rectified response), w_l = 1/5; normalised terms, so
    # the weights hold at any size. Each gallery look has its own defaults (``defaults.LOOK_WEIGHTS``).
    "gatys": LayerPreset(
        name="gatys",
        content_layers=("relu4_2",),
        style_layers=("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
        style_layer_weights=(0.2,) * 5,
        content_weight=PAINTING_WEIGHTS[0],
        style_weight=PAINTING_WEIGHTS[1],
        normalized=True,
    ),
    # The same layers with the paper's raw sums (the previous default; weights depend on the size).
    "gatys-sum": LayerPreset(
        name="gatys-sum",
        content_layers=("relu4_2",),
        style_layers=("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
        style_layer_weights=(0.2,) * 5,
        content_weight=1.0,
        style_weight=1e4,
    ),
}
assert tuple(PRESETS) == PRESET_NAMES


def get_preset(name: str) -> LayerPreset:
    """The preset called ``name``; an unknown name is a readable :class:`MagicBrushError`."""
    try:
        return PRESETS[name]
    except KeyError:
        raise MagicBrushError(f"unknown layer preset '{name}' (choose {', '.join(PRESETS)})") from None


# ----------------------------------------------------------------------------------------------------
# Losses
# ----------------------------------------------------------------------------------------------------


def gram(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix divided by N·M.

    Args:
        features: (1, N, H, W) feature map (any float dtype; computed in float32).
    Returns:
        (N, N) float32 ``F Fᵀ / (N · M)`` with F the (N, M = H·W) flattened map.
    """
    _, n, h, w = features.shape
    f = features.reshape(n, h * w).float()
    return (f @ f.t()) / (n * h * w)


def style_layer_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """``E_l = 1/(4 N² M²) Σ (FFᵀ − A)²``, given ``target_gram = A / (N·M)`` (see :func:`gram`)."""
    return 0.25 * (gram(features) - target_gram).pow(2).sum()


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``½ Σ (F − P)²`` in float32. Shapes: both (1, C, H, W)."""
    return 0.5 * (features.float() - target.float()).pow(2).sum()


def content_norm(target: torch.Tensor, preset: LayerPreset) -> torch.Tensor | float:
    """What the content term is divided by: its value for all-zero features, ``½ Σ P²`` (normalised
    presets), else 1. Shapes: target (1, C, H, W)."""
    if not preset.normalized:
        return 1.0
    return (0.5 * target.float().pow(2).sum()).clamp_min(1e-12)


def gram_norm(target_gram: torch.Tensor, preset: LayerPreset) -> torch.Tensor | float:
    """What a style layer's term is divided by: its value for all-zero features, ``¼ Σ A²``
    (normalised presets), else 1. target_gram: (N, N) from :func:`gram`."""
    if not preset.normalized:
        return 1.0
    return (0.25 * target_gram.pow(2).sum()).clamp_min(1e-12)


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Total variation ``Σ (x[i+1,j] − x[i,j])² + (x[i,j+1] − x[i,j])²`` of a (1, 3, H, W) 0..1 image."""
    dy = image[:, :, 1:, :] - image[:, :, :-1, :]
    dx = image[:, :, :, 1:] - image[:, :, :, :-1]
    return dy.pow(2).sum() + dx.pow(2).sum()
