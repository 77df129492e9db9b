"""Shared fixtures: an isolated user folder, tiny models, generated photos, and ../shared when present
(the GUI tests and their window factory are in gui/)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

# Qt tests run without a screen.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Two cores: keep torch from oversubscribing them when tests run beside other work.
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path in ../shared, or skip the test cleanly when the shared data is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets its own user folders, so nothing touches the real ones."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("MAGICBRUSH_HOME", str(home))
    monkeypatch.delenv("MAGICBRUSH_MODELS", raising=False)
    return home


def make_colour_image(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth, colourful (H, W, 3) uint8 test picture (gradients plus a few discs)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([
        128 + 100 * np.sin(x / max(width, 1) * 6 + rng.uniform(0, 6)),
        128 + 100 * np.cos(y / max(height, 1) * 5 + rng.uniform(0, 6)),
        128 + 100 * np.sin((x + y) / max(width + height, 1) * 7 + rng.uniform(0, 6)),
    ], axis=2)
    for _ in range(3):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(3, max(4, width / 4))
        img[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = rng.uniform(0, 255, 3)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def colour_folder(tmp_path_factory) -> Path:
    """Eight small generated colour photos (training data for tiny end-to-end runs)."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("colour")
    for i in range(8):
        Image.fromarray(make_colour_image(72, 64, seed=i)).save(folder / f"photo_{i}.png")
    return folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny (untrained) from-scratch ResU-Net checkpoint: fast stand-in for the shipped model."""
    from magicbrush_desktop.core.checkpoint import make_checkpoint, save_checkpoint
    from magicbrush_desktop.core.networks import build_generator

    torch.manual_seed(0)
    arch = {"name": "resunet", "kwargs": {"base": 4, "depth": 2}}
    gen = build_generator(arch["name"], **arch["kwargs"])
    path = tmp_path_factory.mktemp("models") / "tiny.pt"
    save_checkpoint(make_checkpoint(gen, arch, metrics={"psnr": 1.0}), path)
    return path


def tiny_style_engine():
    """A style engine on a random-weight VGG19: the real layer names and depth, 8 channels per conv
    instead of 64..512, so optimisation tests run in a blink and need no weights."""
    from magicbrush_desktop.core.style.engine import StyleEngine
    from magicbrush_desktop.core.vgg import VGG19Features

    torch.manual_seed(0)
    model = VGG19Features("relu5_1")
    channels = 3
    for i, layer in enumerate(model.features):
        if isinstance(layer, torch.nn.Conv2d):
            model.features[i] = torch.nn.Conv2d(channels, 8, 3, padding=1)
            channels = 8
    model.eval().requires_grad_(False)
    return StyleEngine("cpu", model=model)
