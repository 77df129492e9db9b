"""The model we ship: present, intact, and giving plausible colour on real old photos at full size."""

from __future__ import annotations

import numpy as np
import pytest

from magicbrush_desktop.cli import main
from magicbrush_desktop.core import metrics as M
from magicbrush_desktop.core.colorize import Colorizer
from magicbrush_desktop.core.imageio import read_photo
from magicbrush_desktop.core.models import default_model_name, list_models, sha256_of

from .conftest import shared_path


def _shipped():
    if default_model_name() is None:
        pytest.skip("no shipped model in models/manifest.json")
    return next(m for m in list_models() if m.name == default_model_name())


def test_shipped_model_matches_manifest_and_size_budget():
    info = _shipped()
    assert info.origin == "bundled"
    assert sha256_of(info.path) == info.sha256
    assert info.path.stat().st_size <= 50 * 1024 * 1024


def test_sample_quick_start_command(tmp_path, capsys):
    _shipped()
    assert main(["colorize", "--sample", "-o", str(tmp_path)]) == 0
    out = read_photo(tmp_path / "camera.png")
    assert out.size == (512, 512)
    assert 3 < M.colourfulness(out.rgb) < 90  # coloured, not grey and not a rainbow


def test_real_old_photo_full_resolution_plausible_colour():
    _shipped()
    photo = read_photo(shared_path("data", "old-bw", "Paris1920Cart.jpg"))
    colorizer = Colorizer.load(None, "cpu")
    out = colorizer.colorize(photo)
    assert out.shape[:2] == photo.rgb.shape[:2]
    cf = M.colourfulness(out)
    assert 3 < cf < 90
    # Colour never replaces the photo's own detail: lightness is kept.
    from magicbrush_desktop.core.color import lightness
    assert np.abs(lightness(out) - photo.lightness).mean() < 2.0
