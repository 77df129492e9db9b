"""Style defaults that keep the photo: normalised loss terms (a weight means the same at any size), each
look's own default weights, shared by the CLI and the desktop app."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from magicbrush_desktop.core.style import gatys, losses
from magicbrush_desktop.core.style.defaults import (
    LOOK_WEIGHTS, PAINTING_WEIGHTS, RAW_PRESET_WEIGHTS, blended_weights, default_weights, look_key,
)
from magicbrush_desktop.core.style.gatys import StyleTransfer

from .conftest import make_colour_image, tiny_style_engine


def _losses_at(engine, size: int, layers: str) -> gatys.Losses:
    photo = make_colour_image(96, 72, seed=1)
    painting = make_colour_image(64, 64, seed=7)
    session = StyleTransfer(engine, photo, [painting], size=size, layers=layers, scales=[size])
    # The same change at both sizes: the photo's colours inverted in its left half.
    changed = photo.copy()
    changed[:, :48] = 255 - changed[:, :48]
    return session.evaluate(image=changed, content_weight=1.0, style_weight=1.0)


def test_normalised_terms_do_not_depend_on_the_optimisation_size():
    engine = tiny_style_engine()
    small, large = _losses_at(engine, 48, "gatys"), _losses_at(engine, 96, "gatys")
    assert large.content == pytest.approx(small.content, rel=0.25)
    assert large.style == pytest.approx(small.style, rel=0.25)
    raw_small, raw_large = _losses_at(engine, 48, "gatys-sum"), _losses_at(engine, 96, "gatys-sum")
    # A raw sum grows with the number of positions (4x the pixels): its weights mean less at 96 px.
    assert raw_large.content / raw_small.content > 3.0


def test_normalised_terms_are_relative_errors():
    torch.manual_seed(0)
    target, gram_target = torch.rand(1, 8, 6, 5), losses.gram(torch.rand(1, 8, 6, 5))
    preset = losses.PRESETS["gatys"]
    zeros = torch.zeros(1, 8, 6, 5)
    assert float(losses.content_loss(zeros, target) / losses.content_norm(target, preset)) == pytest.approx(1.0)
    assert float(losses.style_layer_loss(zeros, gram_target) / losses.gram_norm(gram_target, preset)) == pytest.approx(1.0)
    # The ``seed`` preset (the PyTorch tutorial's layers) keeps the raw sums.
    assert losses.content_norm(target, losses.PRESETS["seed"]) == 1.0 == losses.gram_norm(gram_target, losses.PRESETS["seed"])


def test_each_look_has_its_defaults_and_paintings_share_one():
    for key, weights in LOOK_WEIGHTS.items():
        assert default_weights(key) == weights == default_weights(f"look:{key}")
    assert default_weights("Comic") == LOOK_WEIGHTS["comic"] == default_weights("look:comic")
    assert default_weights("picasso") == LOOK_WEIGHTS["cubist"]  # an alias
    assert default_weights("pack:van-gogh-starry-night") == PAINTING_WEIGHTS == default_weights("/x/y.jpg")
    assert default_weights("comic", preset="seed") == RAW_PRESET_WEIGHTS["seed"]
    assert look_key("no such look") is None
    # A blend mixes the defaults geometrically, by blend weight.
    a, b = LOOK_WEIGHTS["comic"][1], LOOK_WEIGHTS["pencil"][1]
    assert blended_weights(["comic", "pencil"], [3, 1])[1] == pytest.approx(a ** 0.75 * b ** 0.25)
    assert blended_weights(["comic"]) == LOOK_WEIGHTS["comic"]


def test_style_panel_starts_each_style_at_the_cli_defaults(qtbot):
    from magicbrush_desktop.gui.style_panel import StylePanel

    panel = StylePanel()
    qtbot.addWidget(panel)
    entries = [("look:comic", "Comic", "", None), ("look:pencil", "Pencil hatching", "", None),
               ("user:mine", "Mine", "", None)]
    panel.set_entries(entries, select="look:pencil")
    assert (panel.content_weight.value(), panel.style_weight.value()) == pytest.approx(LOOK_WEIGHTS["pencil"], rel=0.02)
    assert panel.style_weight.readout.text() == "\u00d71"
    panel.gallery.setCurrentRow(0)  # Comic brings its own weights
    assert panel.style_weight.value() == pytest.approx(LOOK_WEIGHTS["comic"][1], rel=0.02)
    panel.style_weight.set_value(2 * LOOK_WEIGHTS["comic"][1])
    assert panel.style_weight.readout.text() == "\u00d72"
    panel.reset_weights_button.click()
    assert panel.style_weight.value() == pytest.approx(LOOK_WEIGHTS["comic"][1], rel=0.02)
    panel.gallery.setCurrentRow(2)
    assert panel.settings().style_weight == pytest.approx(PAINTING_WEIGHTS[1], rel=0.02)


@pytest.mark.slow
def test_cli_uses_the_looks_default_weights(tmp_path, capsys):
    from PIL import Image

    from magicbrush_desktop.cli import main

    src = tmp_path / "photo.png"
    Image.fromarray(make_colour_image(40, 32)).save(src)
    rc = main(["stylize", str(src), "--style", "pencil", "-o", str(tmp_path / "out.png"), "--size", "32",
               "--steps", "1", "--json", "--device", "cpu", "--precision", "float32"])
    assert rc == 0
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (info["content_weight"], info["style_weight"]) == LOOK_WEIGHTS["pencil"]
    assert np.isfinite(info["style_loss_final"])
