"""Adversarial losses (vanilla BCE and LSGAN) with optional soft and noisy labels, and the pixel loss.

Soft and noisy labels keep the discriminator from becoming certain too early, which would starve the
generator of gradient: targets are drawn from a band around 0 or 1 (``soft``; a two-sided form of the
label smoothing of Salimans et al. 2016, "Improved Techniques for Training GANs"), and a small share of
the discriminator's labels are flipped (``noisy``; one of the tricks collected in Chintala et al.'s
"How to Train a GAN?", NIPS 2016 workshop).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class GANLoss(nn.Module):
    """Adversarial loss on discriminator logits.

    Args:
        mode: "vanilla" (BCE with logits: the original GAN loss, Goodfellow et al. 2014, as pix2pix
            uses it) or "lsgan" (least squares, Mao et al. 2017).
        soft_labels: real targets in [1 - soft_band, 1], fake in [0, soft_band] (discriminator only).
        flip_prob: probability of swapping a discriminator target (noisy labels).
    """

    def __init__(self, mode: str = "vanilla", soft_labels: bool = False, soft_band: float = 0.1,
                 flip_prob: float = 0.0) -> None:
        super().__init__()
        if mode not in ("vanilla", "lsgan"):
            raise ValueError(f"unknown GAN loss '{mode}' (choose vanilla or lsgan)")
        self.mode, self.soft_labels, self.soft_band, self.flip_prob = mode, soft_labels, soft_band, flip_prob

    def _targets(self, logits: torch.Tensor, real: bool, for_discriminator: bool) -> torch.Tensor:
        target = torch.full_like(logits, 1.0 if real else 0.0)
        if not for_discriminator:
            return target  # the generator always aims at clean "real"
        if self.soft_labels:
            noise = torch.rand_like(logits) * self.soft_band
            target = target - noise if real else target + noise
        if self.flip_prob > 0:
            flip = torch.rand_like(logits) < self.flip_prob
            target = torch.where(flip, 1.0 - target, target)
        return target

    def forward(self, logits: torch.Tensor, real: bool, for_discriminator: bool = True) -> torch.Tensor:
        """Mean loss of ``logits`` (any shape) against the real/fake target."""
        target = self._targets(logits, real, for_discriminator)
        if self.mode == "vanilla":
            return F.binary_cross_entropy_with_logits(logits, target)
        return F.mse_loss(logits, target)


def l1_loss(pred_ab: torch.Tensor, true_ab: torch.Tensor) -> torch.Tensor:
    """Mean absolute error between normalised ab maps (N, 2, H, W)."""
    return F.l1_loss(pred_ab, true_ab)


def soft_class_targets(ab: torch.Tensor, step: float, per_side: int) -> torch.Tensor:
    """True a*b* (N, 2, h, w), normalised to [-1, 1], spread bilinearly over the 4 nearest classes of a
    ``per_side`` x ``per_side`` grid ``step`` apart centred on 0 (networks.class_centres' order).

    Bilinear soft-encoding (where Zhang et al. 2016 spread over 5 neighbours with a Gaussian) keeps the
    targets' mean exactly the true colour, so the distribution's mean is trained towards the colour
    itself. Returns (N, per_side**2, h, w), each pixel summing to 1.
    """
    n, _, h, w = ab.shape
    half = (per_side - 1) / 2.0
    pos = (ab.float().clamp(-1.0, 1.0) / step + half).clamp(0.0, per_side - 1 - 1e-4)  # grid units
    low = pos.floor()
    frac = pos - low
    low = low.long()
    targets = torch.zeros(n, per_side * per_side, h, w, device=ab.device)
    for da in (0, 1):
        wa = frac[:, 0] if da else 1.0 - frac[:, 0]
        for db in (0, 1):
            wb = frac[:, 1] if db else 1.0 - frac[:, 1]
            index = (low[:, 0] + da) * per_side + (low[:, 1] + db)
            targets.scatter_add_(1, index.unsqueeze(1), (wa * wb).unsqueeze(1))
    return targets


def class_prior(true_ab: torch.Tensor, step: float, per_side: int, sigma: float = 0.5) -> torch.Tensor:
    """Empirical distribution (Q,) of the colour classes over true a*b* (N, 2, h, w), smoothed on the
    class grid by a Gaussian of ``sigma`` class steps (Zhang et al. 2016's 5 a*b* units at our 10-unit
    grid): a colour seen in few training pixels still gets a prior near that of its neighbours.
    Sums to 1."""
    counts = soft_class_targets(true_ab, step, per_side).sum(dim=(0, 2, 3)).reshape(1, 1, per_side, per_side)
    radius = max(1, int(math.ceil(3 * sigma)))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    kernel = kernel / kernel.sum()
    # Separable blur, zero outside the grid (the gamut edge is where colour ends, not a mirror).
    counts = F.conv2d(counts, kernel.reshape(1, 1, -1, 1), padding=(radius, 0))
    counts = F.conv2d(counts, kernel.reshape(1, 1, 1, -1), padding=(0, radius))
    prior = counts.reshape(-1)
    return prior / prior.sum()


def class_rebalance_weights(prior: torch.Tensor, mix: float = 0.5) -> torch.Tensor:
    """Zhang et al. 2016's class rebalancing: w_q proportional to ((1 - mix) p_q + mix / Q)^-1, scaled so
    that the expected weight under the prior is 1 (the loss keeps its size on the training colours).

    Without it the cross-entropy is dominated by the greys and browns most pixels hold, and the
    distribution learns to hedge towards them: muted clothes and signs. ``mix`` = 1 is no rebalancing
    (uniform weights), towards 0 each class counts as much as every other. prior (Q,) sums to 1.
    """
    if not 0.0 < mix <= 1.0:
        raise ValueError(f"the rebalancing mix must be in (0, 1] (got {mix!r})")
    weights = 1.0 / ((1.0 - mix) * prior + mix / prior.numel())
    return weights / (prior * weights).sum()


def class_cross_entropy(logits: torch.Tensor, true_ab: torch.Tensor, step: float, per_side: int,
                        class_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Mean cross-entropy of colour-class logits (N, Q, h, w) against the true a*b* (N, 2, H, W),
    which is first averaged down to the logits' resolution (area interpolation).

    ``class_weights`` (Q,), from :func:`class_rebalance_weights`, weighs each pixel by its true colour's
    class weight (the soft targets' mix of them)."""
    if true_ab.shape[-2:] != logits.shape[-2:]:
        true_ab = F.interpolate(true_ab, size=logits.shape[-2:], mode="area")
    targets = soft_class_targets(true_ab, step, per_side)
    per_pixel = -(targets * torch.log_softmax(logits.float(), dim=1)).sum(1)  # (N, h, w)
    if class_weights is not None:
        per_pixel = per_pixel * torch.einsum("nqhw,q->nhw", targets, class_weights.to(targets))
    return per_pixel.mean()
