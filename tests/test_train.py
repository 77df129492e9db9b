"""The training loop end to end, resume, tune and evaluate, on tiny generated data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from magicbrush_desktop.core.checkpoint import load_checkpoint
from magicbrush_desktop.core.colorize import Colorizer
from magicbrush_desktop.core.dataset import load_splits
from magicbrush_desktop.core.evaluate import evaluate
from magicbrush_desktop.core.errors import MagicBrushError
from magicbrush_desktop.core.events import Finished, Metrics, Preview, Progress
from magicbrush_desktop.core.imageio import read_photo
from magicbrush_desktop.core.train import TrainConfig, train
from magicbrush_desktop.core.tune import tune

TINY_G = {"base": 4, "depth": 2}
TINY_D = {"base": 4, "n_layers": 2}


def tiny_config(data: Path, run: Path, **kw) -> TrainConfig:
    base = dict(data_dir=str(data), run_dir=str(run), epochs=1, image_size=32, batch_size=2, val_split=0.25,
                generator="resunet", generator_kwargs=TINY_G, discriminator_kwargs=TINY_D, threads=0)
    base.update(kw)
    return TrainConfig(**base)


def test_train_one_epoch_then_colorize_keeps_sizes(colour_folder, tmp_path):
    # Awkward extras in the data folder are reported and skipped, not fatal.
    data = tmp_path / "data"
    data.mkdir()
    for p in colour_folder.iterdir():
        (data / p.name).write_bytes(p.read_bytes())
    (data / "broken.jpg").write_bytes(b"nope")
    Image.new("RGB", (8, 8)).save(data / "tiny.png")
    Image.new("L", (64, 64), 90).save(data / "grey.png")
    events = list(train(tiny_config(data, tmp_path / "run", warmup_epochs=0, soft_labels=True)))
    steps = [e for e in events if isinstance(e, Metrics) and e.kind == "train"]
    assert steps and set(steps[0].values) >= {"D_real", "D_fake", "D", "G_GAN", "G_L1", "G"}
    assert steps[0].values["D"] > 0  # adversarial from the first epoch
    val = [e for e in events if isinstance(e, Metrics) and e.kind == "val"]
    assert len(val) == 1 and {"psnr", "ssim", "colourfulness"} <= set(val[0].values)
    assert any(isinstance(e, Preview) for e in events)
    skipped = json.loads((tmp_path / "run" / "data.json").read_text())["skipped_files"]
    assert {Path(p).name for p, _ in skipped} == {"broken.jpg", "tiny.png", "grey.png"}
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.result.exists()
    assert (tmp_path / "run" / "last.pt").exists()
    assert list((tmp_path / "run" / "samples").glob("epoch_001.png"))
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert {r["kind"] for r in log} == {"train", "val", "val_online"}  # the weights' average is on by default
    # The trained model colorizes photos of any size and keeps their size.
    colorizer = Colorizer.load(str(finished.result), "cpu")
    for size in ((45, 31), (1, 1), (200, 90)):
        img = Image.fromarray(np.full((size[1], size[0]), 128, np.uint8))
        p = tmp_path / f"in_{size[0]}.png"
        img.save(p)
        assert colorizer.colorize(read_photo(p), render_size=64).shape == (size[1], size[0], 3)


def test_warmup_is_l1_only(colour_folder, tmp_path):
    events = list(train(tiny_config(colour_folder, tmp_path / "run", epochs=1, warmup_epochs=1)))
    steps = [e.values for e in events if isinstance(e, Metrics) and e.kind == "train"]
    assert all(v["D"] == 0 and v["G_GAN"] == 0 and v["G_L1"] > 0 for v in steps)


def test_stop_and_resume_continues(colour_folder, tmp_path):
    run = tmp_path / "run"
    job = train(tiny_config(colour_folder, run, epochs=2))
    seen = 0
    for event in job:
        if isinstance(event, Metrics) and event.kind == "train":
            seen += 1
            if seen == 2:
                break
    job.close()  # like the Stop button or Ctrl-C
    state = load_checkpoint(run / "last.pt")["train_state"]
    assert state["global_step"] == 2 and state["batch_index"] == 2
    resumed = list(train(tiny_config(colour_folder, run, epochs=2), resume=True))
    first = next(e for e in resumed if isinstance(e, Metrics) and e.kind == "train")
    assert first.step == 3
    assert isinstance(resumed[-1], Finished) and resumed[-1].summary["epochs"] == 2
    with pytest.raises(Exception, match="nothing to resume"):
        next(train(tiny_config(colour_folder, tmp_path / "empty"), resume=True))


def test_resume_refuses_another_network_instead_of_ignoring_it(colour_folder, tmp_path, tiny_model):
    run = tmp_path / "run"
    job = train(tiny_config(colour_folder, run, epochs=2))
    next(e for e in job if isinstance(e, Metrics) and e.kind == "train")
    job.close()
    # (Stopped before its first epoch ended, the run has no best.pt yet: the hint names last.pt.)
    with pytest.raises(MagicBrushError, match="keeps its network.*generator 'unet'.*--init .*last.pt"):
        next(train(tiny_config(colour_folder, run, epochs=2, generator="unet"), resume=True,
                   explicit={"epochs", "generator"}))
    wider = {**TINY_G, "base": TINY_G.get("base", 8) * 2}
    with pytest.raises(MagicBrushError, match="generator_kwargs"):
        next(train(tiny_config(colour_folder, run, epochs=2, generator_kwargs=wider), resume=True,
                   explicit={"generator_kwargs"}))
    # A run started from another model has that model's network, whatever its config's generator says.
    continued = tmp_path / "continued"
    job = train(tiny_config(colour_folder, continued, epochs=2, generator="vgg_resunet", generator_kwargs={},
                            init=str(tiny_model)))
    next(e for e in job if isinstance(e, Metrics) and e.kind == "train")
    job.close()
    again = train(tiny_config(colour_folder, continued, epochs=2, generator="resunet", head="regression"),
                  resume=True, explicit={"generator", "head"})
    assert isinstance(next(again), Progress)
    again.close()
    # Naming the run's own network again is fine, and options not asked for are not compared.
    resumed = train(tiny_config(colour_folder, run, epochs=2, generator="unet"), resume=True,
                    explicit={"epochs", "head"})
    assert isinstance(next(resumed), Progress)
    resumed.close()


def test_splits_are_stable_and_disjoint(colour_folder):
    *_, (train_set, val_set, test_set, summary) = load_splits(colour_folder, 32, val_split=0.25, test_split=0.25)
    names = [set(p.name for p in s.paths) for s in (train_set, val_set, test_set)]
    assert not (names[0] & names[1]) and not (names[0] & names[2])
    assert summary.used == 8


def test_tune_ranks_grid(colour_folder, tmp_path):
    events = list(tune(tiny_config(colour_folder, tmp_path / "tune"), grid=((1e-3, 2e-4), (1e-4, 3e-4)), steps=2))
    rows = events[-1].result
    assert len(rows) == 2 and rows[0]["score"] >= rows[1]["score"]
    assert any(isinstance(e, Progress) for e in events)


def test_evaluate_reports_model_and_baseline(colour_folder, tiny_model):
    colorizer = Colorizer.load(str(tiny_model), "cpu")
    events = list(evaluate(colorizer, colour_folder, render_size=64))
    summary = events[-1].summary
    assert summary["images"] == 8
    assert summary["baseline_colourfulness"] < 1.0 < summary["colourfulness_real"]
    assert summary["delta_colourfulness"] >= 0


def test_weight_average_is_what_best_pt_holds_and_resumes(colour_folder, tmp_path):
    import torch

    from magicbrush_desktop.core.train import average_decay, update_average

    # From scratch the average follows the first steps closely (random weights do not linger in it);
    # continuing a trained model it averages at the given decay from the first step.
    assert average_decay(0.999, 1, from_model=False) == pytest.approx(2 / 11)
    assert average_decay(0.999, 10**6, from_model=False) == 0.999
    assert average_decay(0.999, 1, from_model=True) == 0.999

    # The update is decay * average + (1 - decay) * weights, on trained parameters only.
    a, b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    expected = 0.9 * a.weight.detach().clone() + 0.1 * b.weight.detach()
    update_average(a, b, 0.9)
    assert torch.allclose(a.weight, expected)

    run = tmp_path / "run"
    events = list(train(tiny_config(colour_folder, run, epochs=1, ema_decay=0.5)))
    assert isinstance(events[-1], Finished)
    last, best = load_checkpoint(run / "last.pt"), load_checkpoint(run / "best.pt")
    average = last["train_state"]["ema"]
    assert set(average) == set(last["state_dict"])
    # best.pt holds the average, last.pt the trained generator; they differ after a few steps.
    assert all(torch.equal(best["state_dict"][k], v) for k, v in average.items())
    assert any(not torch.equal(last["state_dict"][k], v) for k, v in average.items() if v.is_floating_point())
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert {r["kind"] for r in log} == {"train", "val", "val_online"}
    # A resumed run continues the saved average (not a fresh copy of the generator).
    resumed = list(train(tiny_config(colour_folder, run, epochs=2, ema_decay=0.5), resume=True))
    assert isinstance(resumed[-1], Finished)
    again = load_checkpoint(run / "last.pt")["train_state"]["ema"]
    assert any(not torch.equal(again[k], v) for k, v in average.items() if v.is_floating_point())
    with pytest.raises(Exception, match="decay"):
        next(train(tiny_config(colour_folder, tmp_path / "bad", ema_decay=1.0)))


def test_a_stop_as_an_epochs_figures_arrive_keeps_that_epochs_model(colour_folder, tmp_path):
    run = tmp_path / "run"
    job = train(tiny_config(colour_folder, run, epochs=3))
    for event in job:
        if isinstance(event, Metrics) and event.kind == "val":
            break  # the user presses Stop as soon as epoch 1's figures show
    job.close()
    best = load_checkpoint(run / "best.pt")
    assert best["epoch"] == 1 and best["metrics"]["epoch"] == 1
    state = load_checkpoint(run / "last.pt")["train_state"]
    assert state["epoch"] == 1 and state["batch_index"] == 0  # resume starts epoch 2, not validation again
