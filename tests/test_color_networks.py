"""Lab conversion, networks, losses and metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from magicbrush_desktop.core import color, metrics
from magicbrush_desktop.core.losses import GANLoss, l1_loss
from magicbrush_desktop.core.networks import (
    build_discriminator,
    build_generator,
    l_to_grey_rgb,
    trainable_state_dict,
)

from .conftest import make_colour_image


def test_lab_roundtrip_and_scaling():
    rgb = make_colour_image(20, 10)
    lab = color.rgb_to_lab(rgb)
    assert lab.dtype == np.float32 and lab.shape == (10, 20, 3)
    assert 0 <= lab[..., 0].min() and lab[..., 0].max() <= 100
    assert np.abs(color.lab_to_rgb(lab).astype(int) - rgb).max() <= 1
    assert color.normalize_l(np.float32(0)) == -1 and color.normalize_l(np.float32(100)) == 1
    assert color.denormalize_ab(color.normalize_ab(np.float32(55))) == pytest.approx(55)


def test_grey_lightness_matches_full_conversion():
    grey = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert np.abs(color.lightness_of_grey(grey) - color.lightness(grey)).max() < 0.3


def test_l_to_grey_rgb_inverts_lightness():
    grey = np.arange(0, 256, 5, dtype=np.uint8)
    l = torch.from_numpy(color.normalize_l(color.lightness_of_grey(grey)))[None, None, None]
    rgb = l_to_grey_rgb(l)[0, 0, 0].numpy() * 255
    assert np.abs(rgb - grey).max() < 0.6


@pytest.mark.parametrize("name,kwargs", [
    ("resunet", {"base": 4, "depth": 3}),
    ("unet", {"base": 4, "depth": 4}),
    ("vgg_resunet", {"base": 4, "depth": 3, "pretrained": False}),
])
def test_generators_keep_any_size(name, kwargs):
    gen = build_generator(name, **kwargs).eval()
    for h, w in ((37, 50), (64, 64), (9, 13)):
        out = gen(torch.rand(1, 1, h, w) * 2 - 1)
        assert out.shape == (1, 2, h, w)
        assert out.abs().max() <= 1


def test_frozen_encoder_left_out_of_state_and_gradients():
    gen = build_generator("vgg_resunet", base=4, depth=3, pretrained=False)
    sd = trainable_state_dict(gen)
    assert sd and not any(k.startswith("encoder.") for k in sd)
    gen(torch.rand(1, 1, 16, 16)).sum().backward()
    assert all(p.grad is None for p in gen.encoder.parameters())
    assert any(p.grad is not None for p in gen.head.parameters())


def test_discriminators():
    patch = build_discriminator("patchgan", base=8)
    assert patch(torch.rand(2, 3, 64, 64)).shape[:2] == (2, 1)
    assert patch(torch.rand(2, 3, 64, 64)).dim() == 4  # a grid of patch scores
    assert build_discriminator("global", base=8)(torch.rand(2, 3, 64, 64)).shape == (2, 1)
    with pytest.raises(ValueError, match="unknown"):
        build_discriminator("nope")


def test_gan_losses_and_labels():
    logits = torch.full((4, 1, 3, 3), 10.0)
    vanilla = GANLoss("vanilla")
    assert vanilla(logits, real=True) < 0.01 < vanilla(logits, real=False)
    lsgan = GANLoss("lsgan")
    assert lsgan(torch.ones(2, 1), real=True) == 0
    soft = GANLoss("vanilla", soft_labels=True, soft_band=0.1)
    t = soft._targets(torch.zeros(1000), real=True, for_discriminator=True)
    assert 0.9 <= t.min() and t.max() <= 1.0 and t.std() > 0
    assert torch.all(soft._targets(torch.zeros(10), real=True, for_discriminator=False) == 1)
    noisy = GANLoss("vanilla", flip_prob=0.5)
    flipped = noisy._targets(torch.zeros(1000), real=True, for_discriminator=True)
    assert 300 < (flipped == 0).sum() < 700
    assert l1_loss(torch.zeros(1, 2, 2, 2), torch.ones(1, 2, 2, 2)) == 1


def test_metrics():
    img = make_colour_image(32, 32)
    assert metrics.psnr(img, img) == 100.0
    assert metrics.ssim(img, img) == pytest.approx(1.0)
    grey = np.repeat(img.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    assert metrics.colourfulness(grey) == pytest.approx(0.0, abs=1e-6)
    assert metrics.colourfulness(img) > 20
    assert metrics.ssim(np.zeros((1, 1, 3), np.uint8), np.zeros((1, 1, 3), np.uint8)) == 1.0
    assert metrics.selection_score(22, 0.9, 30, 40) > metrics.selection_score(22, 0.9, 10, 40)
    # 10 points of false colour cost as much as 1 dB
    assert metrics.selection_score(22, 0.9, 30, 40, 0.10) == pytest.approx(metrics.selection_score(21, 0.9, 30, 40))


def test_chroma_gain_calibration_restores_saturation(tmp_path):
    from PIL import Image
    from torch import nn

    from magicbrush_desktop.core.calibration import fit_chroma_gain
    from magicbrush_desktop.core.colorize import Colorizer
    from magicbrush_desktop.core.imageio import read_photo

    # Photos of one colour each; a "network" that predicts their hue at half its saturation.
    colours = [(200, 120, 60), (180, 110, 50), (210, 140, 80)]
    photos = []
    for i, rgb in enumerate(colours):
        Image.new("RGB", (40, 30), rgb).save(tmp_path / f"{i}.png")
        photos.append(read_photo(tmp_path / f"{i}.png"))
    true_ab = color.normalize_ab(color.rgb_to_lab(np.array([[colours[0]]], np.uint8))[0, 0, 1:])

    class HalfSaturation(nn.Module):
        def forward(self, l):
            ab = torch.tensor(true_ab * 0.5, dtype=torch.float32).view(1, 2, 1, 1)
            return ab.expand(l.shape[0], 2, *l.shape[-2:])

    gain, figures = fit_chroma_gain(Colorizer(HalfSaturation(), {}, torch.device("cpu")), photos, 64)
    assert 1.7 <= gain <= 2.2
    assert figures["calibrated"]["score"] > figures["raw"]["score"]
    assert figures["calibrated"]["colourfulness"] > 1.5 * figures["raw"]["colourfulness"]
