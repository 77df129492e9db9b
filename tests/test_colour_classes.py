"""The colour-class head (Zhang et al. 2016): soft targets, annealed mean, conversion of a regression
model, training with it, and shipping it with a chosen temperature."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from magicbrush_desktop.core.checkpoint import (
    check_architecture,
    generator_from_checkpoint,
    load_checkpoint,
    make_checkpoint,
    save_checkpoint,
)
from magicbrush_desktop.core.colorize import Colorizer
from magicbrush_desktop.core.errors import MagicBrushError, ModelError
from magicbrush_desktop.core.events import Metrics
from magicbrush_desktop.core.imageio import read_photo
from magicbrush_desktop.core.losses import (
    class_cross_entropy,
    class_prior,
    class_rebalance_weights,
    soft_class_targets,
)
from magicbrush_desktop.core.networks import (
    CLASS_STEP,
    CLASSES_PER_SIDE,
    ColourClassHead,
    VGGResUNet,
    class_centres,
)
from magicbrush_desktop.core.train import TrainConfig, train

REPO = Path(__file__).resolve().parents[1]
# A VGG-encoder generator small enough for tests: random (not ImageNet) encoder weights, 3 VGG blocks.
TINY_VGG = {"base": 4, "depth": 3, "pretrained": False}


def test_soft_targets_sum_to_one_and_average_to_the_true_colour():
    torch.manual_seed(0)
    ab = torch.rand(2, 2, 5, 7) * 1.8 - 0.9
    targets = soft_class_targets(ab, CLASS_STEP, CLASSES_PER_SIDE)
    assert targets.shape == (2, CLASSES_PER_SIDE**2, 5, 7)
    assert torch.allclose(targets.sum(1), torch.ones(2, 5, 7))
    assert (targets > 0).sum(1).max() <= 4  # the four nearest classes at most
    mean = torch.einsum("nqhw,qc->nchw", targets, class_centres())
    assert torch.allclose(mean, ab, atol=1e-5)
    # A colour on a class centre is that class alone; grey is the middle class.
    grey = soft_class_targets(torch.zeros(1, 2, 1, 1), CLASS_STEP, CLASSES_PER_SIDE)
    middle = (CLASSES_PER_SIDE**2) // 2
    assert grey[0, middle, 0, 0] == pytest.approx(1.0) and torch.allclose(class_centres()[middle], torch.zeros(2), atol=1e-6)


def test_cross_entropy_is_lowest_for_the_right_colour():
    ab = torch.full((1, 2, 8, 8), 0.3)
    right = torch.full((1, CLASSES_PER_SIDE**2, 4, 4), -10.0)
    wrong = right.clone()
    centres = class_centres()
    right[:, int(torch.cdist(centres, torch.tensor([[0.3, 0.3]])).argmin())] = 10.0
    wrong[:, int(torch.cdist(centres, torch.tensor([[-0.3, 0.3]])).argmin())] = 10.0
    assert class_cross_entropy(right, ab, CLASS_STEP, CLASSES_PER_SIDE) < \
        class_cross_entropy(wrong, ab, CLASS_STEP, CLASSES_PER_SIDE)


def test_rebalancing_weighs_rare_colours_up_and_keeps_the_loss_size():
    # Training colours: mostly grey, a few saturated red pixels.
    ab = torch.zeros(1, 2, 10, 10)
    ab[0, 0, 0, :2] = 0.6  # 2 of 100 pixels red (a* = +66)
    prior = class_prior(ab, CLASS_STEP, CLASSES_PER_SIDE)
    assert prior.sum() == pytest.approx(1.0) and (prior >= 0).all()
    centres = class_centres()
    grey_class = int(torch.cdist(centres, torch.zeros(1, 2)).argmin())
    red_class = int(torch.cdist(centres, torch.tensor([[0.6, 0.0]])).argmin())
    assert prior[grey_class] > 10 * prior[red_class] > 0
    # Smoothing gives an unseen neighbour of a seen colour some prior, and a far corner next to none.
    assert prior[red_class + CLASSES_PER_SIDE] > 0 and prior[0] < 1e-6
    weights = class_rebalance_weights(prior, 0.5)
    assert weights[red_class] > 5 * weights[grey_class]
    assert float((prior * weights).sum()) == pytest.approx(1.0)
    assert torch.allclose(class_rebalance_weights(prior, 1.0), torch.ones_like(prior))
    with pytest.raises(ValueError):
        class_rebalance_weights(prior, 0.0)
    # The same wrong guess costs more on a rare red pixel than on a common grey one.
    logits = torch.zeros(1, CLASSES_PER_SIDE**2, 1, 1)
    red, grey = torch.tensor([0.6, 0.0]).reshape(1, 2, 1, 1), torch.zeros(1, 2, 1, 1)
    plain = [class_cross_entropy(logits, t, CLASS_STEP, CLASSES_PER_SIDE) for t in (red, grey)]
    weighted = [class_cross_entropy(logits, t, CLASS_STEP, CLASSES_PER_SIDE, weights) for t in (red, grey)]
    assert plain[0] == pytest.approx(float(plain[1]))
    assert weighted[0] > 5 * weighted[1]


def test_annealed_mean_moves_towards_the_likeliest_colour():
    head = ColourClassHead(4)
    centres = head.centres
    grey = int(torch.cdist(centres, torch.zeros(1, 2)).argmin())
    red = int(torch.cdist(centres, torch.tensor([[0.5, 0.2]])).argmin())
    logits = torch.full((1, centres.shape[0], 1, 1), -30.0)
    logits[0, grey], logits[0, red] = np.log(0.6), np.log(0.4)  # grey likelier than red
    mean = head.decode(logits, 1.0)[0, :, 0, 0]
    sharp = head.decode(logits, 0.2)[0, :, 0, 0]
    assert torch.allclose(mean, 0.4 * centres[red], atol=1e-4)  # the plain mean: a faint red
    assert sharp.norm() < 0.35 * mean.norm()  # annealed: red share 0.4 -> 0.12, towards the likelier grey
    logits[0, grey], logits[0, red] = np.log(0.3), np.log(0.7)  # red likelier
    assert head.decode(logits, 0.2)[0, :, 0, 0].norm() > 1.3 * head.decode(logits, 1.0)[0, :, 0, 0].norm()


def test_converted_regression_model_starts_from_its_colours():
    torch.manual_seed(0)
    regression = VGGResUNet(**TINY_VGG).eval()
    torch.nn.init.normal_(regression.head.conv.weight, std=0.05)  # colours of 10-30 a*b* units
    classes = VGGResUNet(**TINY_VGG, head="classes").eval()
    sd = dict(regression.state_dict())
    weight, bias = sd.pop("head.conv.weight"), sd.pop("head.conv.bias")
    classes.load_state_dict({**classes.state_dict(), **sd})
    classes.head.init_from_regression(weight, bias)
    l = torch.rand(1, 1, 48, 40) * 2 - 1
    with torch.no_grad():
        before, after = regression(l), classes(l)
        logits, at_one = classes.class_logits(l)
    assert after.shape == before.shape == at_one.shape == (1, 2, 48, 40)
    assert logits.shape == (1, CLASSES_PER_SIDE**2, 24, 20)
    assert before.abs().mean() > 0.05
    # At the head's resolution the class model's mean is the regression's prediction before its tanh ...
    with torch.no_grad():
        _, features, _ = regression._decoder_features(l)
        pre_tanh = regression.head.conv(features)
        mean = classes.head.decode(classes.head(features), 1.0)
    assert pre_tanh.abs().max() > 0.5 and (mean - pre_tanh).abs().max() < 0.01
    # ... so the whole output is the regression's but for tanh's squeeze of strong colours.
    assert (after - before).abs().mean() < 0.05 * before.abs().mean()


def test_temperature_and_head_are_checked_in_model_files():
    check_architecture("vgg_resunet", {**TINY_VGG, "head": "classes", "temperature": 0.5})
    for bad in (0.0, 5.0, "hot", True):
        with pytest.raises(ModelError):
            check_architecture("vgg_resunet", {**TINY_VGG, "head": "classes", "temperature": bad})
    with pytest.raises(ModelError):
        check_architecture("vgg_resunet", {**TINY_VGG, "head": "bins"})


def _tiny_regression_model(path: Path) -> Path:
    torch.manual_seed(1)
    gen = VGGResUNet(**TINY_VGG)
    torch.nn.init.normal_(gen.head.conv.weight, std=0.05)
    save_checkpoint(make_checkpoint(gen, {"name": "vgg_resunet", "kwargs": {**TINY_VGG, "freeze_encoder": True}},
                                    metrics={}), path)
    return path


def test_training_turns_a_regression_model_into_colour_classes(colour_folder, tmp_path):
    start = _tiny_regression_model(tmp_path / "start.pt")
    config = TrainConfig(data_dir=str(colour_folder), run_dir=str(tmp_path / "run"), epochs=1, image_size=32,
                         batch_size=2, val_split=0.25, discriminator_kwargs={"base": 4, "n_layers": 2},
                         init=str(start), head="classes", threads=0)
    events = list(train(config))
    steps = [e.values for e in events if isinstance(e, Metrics) and e.kind == "train"]
    assert steps and all(v["G_CE"] > 0 and np.isfinite(v["G"]) for v in steps)
    best = load_checkpoint(tmp_path / "run" / "best.pt")
    assert best["arch"]["kwargs"]["head"] == "classes"
    assert best["state_dict"]["head.conv.weight"].shape[0] == CLASSES_PER_SIDE**2
    # It rebuilds from its file alone, colorizes and keeps the photo's size.
    colorizer = Colorizer.load(str(tmp_path / "run" / "best.pt"), "cpu")
    Image.fromarray(np.full((31, 45), 128, np.uint8)).save(tmp_path / "grey.png")
    assert colorizer.colorize(read_photo(tmp_path / "grey.png"), render_size=64).shape == (31, 45, 3)
    # A resumed run keeps the converted architecture (the run's own head, not a regression one).
    resumed = list(train(TrainConfig(**{**config.__dict__, "epochs": 2}), resume=True))
    assert any(isinstance(e, Metrics) and e.kind == "val" for e in resumed)
    assert load_checkpoint(tmp_path / "run" / "last.pt")["arch"]["kwargs"]["head"] == "classes"


def test_training_with_rebalanced_classes(colour_folder, tmp_path):
    start = _tiny_regression_model(tmp_path / "start.pt")
    config = TrainConfig(data_dir=str(colour_folder), run_dir=str(tmp_path / "run"), epochs=1, image_size=32,
                         batch_size=2, val_split=0.25, discriminator_kwargs={"base": 4, "n_layers": 2},
                         init=str(start), head="classes", rebalance=0.5, threads=0)
    events = list(train(config))
    assert any("rebalanced" in getattr(e, "message", "") for e in events)
    steps = [e.values for e in events if isinstance(e, Metrics) and e.kind == "train"]
    assert steps and all(np.isfinite(v["G_CE"]) and v["G_CE"] > 0 for v in steps)
    saved = json.loads((tmp_path / "run" / "class_weights.json").read_text())
    prior, weights = np.array(saved["prior"]), np.array(saved["weights"])
    assert prior.shape == weights.shape == (CLASSES_PER_SIDE**2,)
    assert float((prior * weights).sum()) == pytest.approx(1.0, rel=1e-4)
    # Rebalancing a regression head means nothing: refused before any step.
    bad = TrainConfig(**{**config.__dict__, "run_dir": str(tmp_path / "run2"), "head": "", "init": str(start)})
    with pytest.raises(MagicBrushError, match="needs --head classes"):
        list(train(bad))
    out_of_range = TrainConfig(**{**config.__dict__, "run_dir": str(tmp_path / "run3"), "rebalance": 1.5})
    with pytest.raises(MagicBrushError, match="rebalancing mix"):
        list(train(out_of_range))


def test_a_frozen_encoder_model_goes_on_with_its_encoder_fine_tuned(colour_folder, tmp_path):
    # `--init MODEL --encoder finetune` used to be dropped silently (the model's network won whole).
    start = _tiny_regression_model(tmp_path / "start.pt")
    config = TrainConfig(data_dir=str(colour_folder), run_dir=str(tmp_path / "run"), epochs=1, image_size=32,
                         batch_size=2, val_split=0.25, discriminator_kwargs={"base": 4, "n_layers": 2},
                         init=str(start), generator_kwargs={"freeze_encoder": False}, threads=0)
    events = list(train(config))
    assert any("encoder now fine-tuned" in getattr(e, "message", "") for e in events)
    best = load_checkpoint(tmp_path / "run" / "best.pt")
    assert best["arch"]["kwargs"]["freeze_encoder"] is False
    start_encoder = VGGResUNet(**TINY_VGG).encoder.state_dict()  # (pretrained=False: seeded, not ImageNet)
    trained = {k.removeprefix("encoder."): v for k, v in best["state_dict"].items() if k.startswith("encoder.")}
    assert trained.keys() == start_encoder.keys()  # the fine-tuned encoder is stored with the model
    assert Colorizer.load(str(tmp_path / "run" / "best.pt"), "cpu").generator.freeze_encoder is False
    # A fine-tuned model is not frozen back by the default setting: that would drop its encoder's training.
    again = TrainConfig(**{**config.__dict__, "run_dir": str(tmp_path / "run2"), "init": str(tmp_path / "run" / "best.pt"),
                           "generator_kwargs": {"freeze_encoder": True}})
    list(train(again))
    assert load_checkpoint(tmp_path / "run2" / "best.pt")["arch"]["kwargs"]["freeze_encoder"] is False


def test_a_colour_class_model_cannot_go_back_to_regression(colour_folder, tmp_path):
    start = _tiny_regression_model(tmp_path / "start.pt")
    ckpt = load_checkpoint(start)
    ckpt["arch"]["kwargs"]["head"] = "classes"
    gen = VGGResUNet(**TINY_VGG, head="classes")
    save_checkpoint(make_checkpoint(gen, ckpt["arch"], metrics={}), tmp_path / "classes.pt")
    config = TrainConfig(data_dir=str(colour_folder), run_dir=str(tmp_path / "run"), epochs=1, image_size=32,
                         batch_size=2, val_split=0.25, init=str(tmp_path / "classes.pt"), head="regression")
    with pytest.raises(Exception, match="cannot go on"):
        list(train(config))


def test_ship_model_stores_the_chosen_temperature(tmp_path):
    gen = VGGResUNet(**TINY_VGG, head="classes")
    arch = {"name": "vgg_resunet", "kwargs": {**TINY_VGG, "freeze_encoder": True, "head": "classes"}}
    save_checkpoint(make_checkpoint(gen, arch, metrics={"score": 1.0}), tmp_path / "best.pt")
    models = tmp_path / "models"
    models.mkdir()
    cmd = [sys.executable, str(REPO / "scripts" / "ship_model.py"), str(tmp_path / "best.pt"), "--name", "tiny-classes",
           "--models-dir", str(models), "--temperature", "0.5"]
    subprocess.run(cmd, check=True, capture_output=True)
    shipped = load_checkpoint(models / "tiny-classes.pt")
    assert shipped["arch"]["kwargs"]["temperature"] == 0.5
    assert generator_from_checkpoint(shipped).temperature == 0.5
    assert json.loads((models / "manifest.json").read_text())["models"][0]["name"] == "tiny-classes"
    bad = subprocess.run(cmd[:-1] + ["3"], capture_output=True, text=True)
    assert bad.returncode != 0 and "--temperature" in bad.stderr
