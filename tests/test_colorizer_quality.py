"""The colour-quality tools: the false-colour figure, old-photo degradations, training from a model."""

from __future__ import annotations

import numpy as np
import torch

from magicbrush_desktop.core import metrics as M
from magicbrush_desktop.core.checkpoint import load_checkpoint
from magicbrush_desktop.core.color import lab_to_rgb
from magicbrush_desktop.core.dataset import lab_batch
from magicbrush_desktop.core.degrade import degrade_batch, degrade_sample
from magicbrush_desktop.core.evaluate import evaluate
from magicbrush_desktop.core.colorize import Colorizer
from magicbrush_desktop.core.pipeline import run_to_end
from magicbrush_desktop.core.train import train

from .conftest import make_colour_image
from .test_train import tiny_config


def _lab_image(l: float, a: np.ndarray | float, b: np.ndarray | float, shape=(20, 30)) -> np.ndarray:
    lab = np.zeros((*shape, 3), np.float32)
    lab[..., 0], lab[..., 1], lab[..., 2] = l, a, b
    return lab_to_rgb(lab)


def test_false_colour_counts_grey_pixels_painted_coloured():
    # Left half of the original is grey (C*ab 0), right half is red (C*ab ~ 40).
    a = np.zeros((20, 30), np.float32)
    a[:, 15:] = 40
    original = _lab_image(60, a, 0)
    # A result that paints a third of the grey half pink and leaves the rest grey.
    painted = np.zeros((20, 30), np.float32)
    painted[:, :5] = 25
    painted[:, 15:] = 40
    result = _lab_image(60, painted, 0)
    neutral, false = M.false_colour_counts(result, original)
    assert neutral == 20 * 15
    assert false == 20 * 5
    assert abs(M.false_colour(result, original) - 1 / 3) < 1e-9
    # Faint tint (C*ab 10) on the grey half is below the "clearly coloured" line; the grey photo scores 0.
    assert M.false_colour(_lab_image(60, np.where(a > 0, 40, 10), 0), original) == 0
    assert M.false_colour(_lab_image(60, 0, 0), original) == 0
    # No neutral pixel at all: undefined, not zero.
    assert np.isnan(M.false_colour(original, _lab_image(60, 40, 0)))


def test_evaluate_reports_false_colour_per_photo_and_pooled(tiny_model, tmp_path):
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(2):
        Image.fromarray(make_colour_image(48, 40, seed=i)).save(folder / f"p{i}.png")
    events = list(evaluate(Colorizer.load(str(tiny_model), "cpu"), folder))
    summary = events[-1].summary
    per_image = events[-1].result.per_image
    assert {"false_colour", "false_colour_pooled"} <= set(summary)
    shares = [r["false_colour"] for r in per_image if r["neutral_pixels"]]
    assert summary["false_colour"] == (np.mean(shares) if shares else 0.0)
    for r in per_image:
        assert 0 <= r["false_colour_pixels"] <= r["neutral_pixels"]


def test_degrade_changes_input_only_and_keeps_border_neutral():
    rng = np.random.default_rng(0)
    crops = [make_colour_image(64, 64, seed=s) for s in range(6)]
    l, ab = lab_batch(crops)
    l2, ab2 = degrade_batch(l, ab, rng, probability=1.0)
    assert l2.shape == l.shape and ab2.shape == ab.shape
    assert l2.min() >= -1 - 1e-5 and l2.max() <= 1 + 1e-5
    assert not torch.equal(l2, l)  # every sample got some old-photo look
    # Chroma targets are untouched except where a border was added; borders are neutral in the target.
    changed = (ab2 != ab).any(dim=1)
    assert torch.all(ab2.abs().sum(dim=1)[changed] == 0)
    # probability 0: the batch is returned as it was.
    l3, ab3 = degrade_batch(l, ab, rng, probability=0.0)
    assert l3 is l and ab3 is ab


def test_degrade_sample_adds_scanned_border_somewhere():
    l = np.full((64, 64), 50, np.float32)
    ab = np.full((64, 64, 2), 30, np.float32)
    bordered = 0
    for seed in range(60):
        _, ab_out = degrade_sample(l, ab, np.random.default_rng(seed))
        bordered += bool((ab_out == 0).all(axis=2).any())
    assert 0 < bordered < 60


def test_train_from_an_existing_model_starts_from_its_weights(colour_folder, tmp_path):
    first = run_to_end(train(tiny_config(colour_folder, tmp_path / "a")))
    start = load_checkpoint(first.result)
    # One step at a vanishing learning rate keeps the weights (Adam moves each by about lr).
    events = list(train(tiny_config(colour_folder, tmp_path / "b", generator="unet", init=str(first.result),
                                    lr_g=1e-9, lr_d=1e-9, max_steps=1, degrade=1.0)))
    result = load_checkpoint(events[-1].result)
    # The starting model's architecture wins over the config's.
    assert result["arch"] == start["arch"]
    assert result["config"]["generator"] == start["arch"]["name"]
    for key, value in start["state_dict"].items():
        assert torch.allclose(result["state_dict"][key].float(), value.float(), atol=1e-6), key
