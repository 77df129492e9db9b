"""The pieces of the training loop: one GAN step, validation prepared once per run, crop calibration."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from magicbrush_desktop.core import color
from magicbrush_desktop.core.calibration import fit_chroma_gain, fit_chroma_gain_on_crops
from magicbrush_desktop.core.checkpoint import load_checkpoint, save_checkpoint
from magicbrush_desktop.core.dataset import lab_batch
from magicbrush_desktop.core.events import Metrics, Progress
from magicbrush_desktop.core.losses import GANLoss
from magicbrush_desktop.core.networks import build_discriminator, build_generator
from magicbrush_desktop.core.train import gan_step, prefetched, train

from .conftest import make_colour_image
from .test_train import TINY_D, TINY_G, tiny_config

LOSS_KEYS = {"D_real", "D_fake", "D", "G_GAN", "G_L1", "G"}
VAL_KEYS = ["psnr", "ssim", "colourfulness", "colourfulness_real", "false_colour", "score", "chroma_gain",
            "psnr_calibrated", "ssim_calibrated", "colourfulness_calibrated", "colourfulness_real_calibrated",
            "false_colour_calibrated", "score_calibrated", "epoch"]
TRAIN_KEYS = ["kind", "epoch", "step", "D_real", "D_fake", "D", "G_GAN", "G_L1", "G", "images_per_second"]


def _tiny_gan():
    torch.manual_seed(0)
    gen = build_generator("resunet", **TINY_G)
    disc = build_discriminator("patchgan", **TINY_D)
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-3, betas=(0.5, 0.999))
    l, ab = lab_batch([make_colour_image(32, 32, seed=i) for i in range(2)])
    return gen, disc, opt_g, opt_d, l, ab


def _weights(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _changed(before: list[torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(a, b) for a, b in zip(before, module.parameters()))


def test_gan_step_updates_both_networks_and_reports_the_six_terms():
    gen, disc, opt_g, opt_d, l, ab = _tiny_gan()
    g_before, d_before = _weights(gen), _weights(disc)
    values = gan_step(gen, disc, opt_g, opt_d, GANLoss("vanilla"), l, ab, lambda_l1=100.0)
    assert set(values) == LOSS_KEYS
    assert all(isinstance(v, float) and math.isfinite(v) for v in values.values())
    assert _changed(g_before, gen) and _changed(d_before, disc)
    assert values["D"] == pytest.approx(0.5 * (values["D_real"] + values["D_fake"]), rel=1e-5)
    assert values["G"] == pytest.approx(values["G_GAN"] + values["G_L1"], rel=1e-5)
    assert values["D"] > 0 and values["G_GAN"] > 0 and values["G_L1"] > 0
    # The discriminator is trainable again afterwards (its generator pass froze it).
    assert all(p.requires_grad for p in disc.parameters())


def test_gan_step_warmup_leaves_the_discriminator_alone():
    gen, disc, opt_g, opt_d, l, ab = _tiny_gan()
    g_before, d_before = _weights(gen), _weights(disc)
    values = gan_step(gen, disc, opt_g, opt_d, GANLoss("lsgan"), l, ab, lambda_l1=10.0, adversarial=False)
    assert set(values) == LOSS_KEYS
    assert values["D_real"] == values["D_fake"] == values["D"] == values["G_GAN"] == 0.0
    assert values["G"] == pytest.approx(values["G_L1"]) and values["G_L1"] > 0
    assert _changed(g_before, gen) and not _changed(d_before, disc)


def test_validation_reads_no_file_and_keeps_its_keys(colour_folder, tmp_path, monkeypatch):
    opened: list[str] = []
    real_open = Image.open

    def counting_open(fp, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        opened.append(str(fp))
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    run = tmp_path / "run"
    opened_at_val, val = [], []
    for event in train(tiny_config(colour_folder, run, epochs=3)):
        if isinstance(event, Metrics) and event.kind == "val":
            opened_at_val.append(len(opened))
            val.append(event.values)
    photos = len(list(colour_folder.iterdir()))
    # Each photo is decoded once, when the data is loaded; no validation opens one again.
    assert opened_at_val == [photos] * 3
    assert [list(v) for v in val] == [VAL_KEYS] * 3
    assert all(math.isfinite(v[k]) for v in val for k in VAL_KEYS)
    for v in val:
        # Fitted on the validation crops themselves: the calibrated figures are those crops' at the gain.
        assert v["colourfulness_real_calibrated"] == v["colourfulness_real"]
        assert v["score_calibrated"] >= v["score"]
        assert 1.0 <= v["chroma_gain"] <= 2.5
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [list(r) for r in log if r["kind"] == "val"] == [["kind", "step"] + VAL_KEYS] * 3
    assert all(list(r) == TRAIN_KEYS for r in log if r["kind"] == "train")


def test_resume_scores_best_again_on_this_validation(colour_folder, tmp_path):
    """A run whose best score came from another validation (an older session's full-resolution
    calibration, on another scale) is compared on one scale after resuming."""
    run = tmp_path / "run"
    job = train(tiny_config(colour_folder, run, epochs=2))
    validated = False
    for event in job:
        validated = validated or (isinstance(event, Metrics) and event.kind == "val")
        if validated and isinstance(event, Metrics) and event.kind == "train":
            break  # the first epoch is validated and best.pt written; stop in the second epoch
    job.close()
    best_metrics = load_checkpoint(run / "best.pt")["metrics"]
    ckpt = load_checkpoint(run / "last.pt")
    assert ckpt["train_state"]["best_score"] == best_metrics["score_calibrated"]
    ckpt["train_state"]["best_score"] = 1e9  # unreachable on this validation's scale
    save_checkpoint(ckpt, run / "last.pt")
    events = list(train(tiny_config(colour_folder, run, epochs=2), resume=True))
    notes = [e.message for e in events if isinstance(e, Progress) and "scored again" in e.message]
    assert notes and f"{best_metrics['score_calibrated']:.3f}" in notes[0]
    state = load_checkpoint(run / "last.pt")["train_state"]
    assert state["epoch"] == 2 and state["best_score"] < 1e9
    assert state["best_score"] == pytest.approx(max(best_metrics["score_calibrated"],
                                                    state["history"][-1]["score_calibrated"]))


def _flat_colour_crops(colours: list[tuple[int, int, int]], size: int = 16) -> list[np.ndarray]:
    return [np.full((size, size, 3), rgb, np.uint8) for rgb in colours]


@pytest.mark.parametrize("share,expected", [(0.5, 2.0), (0.4, 2.5)])
def test_crop_calibration_finds_the_missing_saturation(share, expected):
    # Crops of one colour each; predictions at a share of their true chroma.
    truths = _flat_colour_crops([(200, 120, 60), (60, 140, 200), (90, 170, 80)])
    l, ab = lab_batch(truths)
    gain, figures = fit_chroma_gain_on_crops(l, ab * share, truths)
    # 0.4 needs 2.5, the grid's top: gains above 2 are scored as applied, not clipped to 2.
    assert gain == pytest.approx(expected, abs=0.15)
    assert figures["calibrated"]["score"] > figures["raw"]["score"]
    assert figures["raw"]["colourfulness"] < figures["calibrated"]["colourfulness"]
    assert figures["calibrated"]["colourfulness"] == pytest.approx(figures["raw"]["colourfulness_real"], rel=0.1)


def test_crop_calibration_does_not_buy_colourfulness_with_false_colour():
    """A gain that makes a grey crop clearly coloured (C*ab > 15) costs score: the fit stops below it,
    although more chroma would still bring the coloured crops closer to their truth."""
    truths = _flat_colour_crops([(200, 120, 60), (60, 140, 200), (128, 128, 128)])
    l, ab = lab_batch(truths)
    torch.manual_seed(0)
    pred = ab * 0.5 + 0.03 * torch.randn_like(ab)  # imperfect: no gain makes a crop exact (PSNR would cap)
    pred[2] = color.normalize_ab(torch.tensor([10.0, 0.0])).view(2, 1, 1)  # the grey crop painted C*ab = 10
    gain, figures = fit_chroma_gain_on_crops(l, pred, truths)
    assert figures["raw"]["false_colour"] == 0.0
    assert figures["calibrated"]["false_colour"] == 0.0
    assert 10.0 * gain <= 15.5  # the grey crop stays under the false-colour bar
    assert gain > 1.0  # the coloured crops still got more saturation


def test_pipeline_calibration_scores_gains_above_two(tmp_path):
    """The full-pipeline fit scores a gain as the colorizer applies it: composing at the user's strength
    clipped it to 2, so 2.1..2.5 scored as 2.0 and were never chosen."""
    from torch import nn

    from magicbrush_desktop.core.colorize import Colorizer
    from magicbrush_desktop.core.imageio import read_photo

    colour = (200, 120, 60)
    Image.new("RGB", (40, 30), colour).save(tmp_path / "c.png")
    photos = [read_photo(tmp_path / "c.png")]
    true_ab = color.normalize_ab(color.rgb_to_lab(np.array([[colour]], np.uint8))[0, 0, 1:])

    class FortyPercent(nn.Module):
        def forward(self, l: torch.Tensor) -> torch.Tensor:
            ab = torch.tensor(true_ab * 0.4, dtype=torch.float32).view(1, 2, 1, 1)
            return ab.expand(l.shape[0], 2, *l.shape[-2:])

    gain, _ = fit_chroma_gain(Colorizer(FortyPercent(), {}, torch.device("cpu")), photos, 64)
    assert gain >= 2.3


def test_crop_calibration_on_threads_scores_as_on_one(monkeypatch):
    """The gains are scored on threads (every epoch waits for the fit): the same figures as one by one."""
    import magicbrush_desktop.core.calibration as calibration

    rng = np.random.default_rng(3)
    truths = [rng.integers(0, 256, (24, 24, 3), dtype=np.uint8) for _ in range(6)]
    l, ab = lab_batch(truths)
    pred = ab * 0.6 + 0.05 * torch.from_numpy(rng.standard_normal(ab.shape).astype(np.float32))
    threaded = fit_chroma_gain_on_crops(l, pred, truths)
    monkeypatch.setattr(calibration.os, "cpu_count", lambda: 1)
    assert fit_chroma_gain_on_crops(l, pred, truths) == threaded


def test_prefetched_keeps_order_stops_early_and_passes_errors():
    made: list[int] = []

    def make(i: int) -> int:
        made.append(i)
        if i == 7:
            raise ValueError("bad batch 7")
        return i * i

    assert list(prefetched(make, range(5), workers=3, ahead=4)) == [0, 1, 4, 9, 16]
    made.clear()
    batches = prefetched(make, range(100), workers=1, ahead=2)
    assert [next(batches) for _ in range(3)] == [0, 1, 4]
    batches.close()  # a stopped run: nothing beyond what was already asked ahead is prepared
    assert max(made) <= 3 + 2
    with pytest.raises(ValueError, match="bad batch 7"):
        list(prefetched(make, range(5, 10), workers=2, ahead=2))
    made.clear()
    inline = prefetched(make, range(100), workers=0)  # a CPU run: each batch made when asked for
    assert [next(inline) for _ in range(3)] == [0, 1, 4] and made == [0, 1, 2]


def test_batches_prepared_on_threads_train_the_same_weights(colour_folder, tmp_path, monkeypatch):
    """A GPU run prepares batches ahead on threads; the per-batch seeds make it the same training as one
    that makes each batch between steps (what a CPU run does), weight for weight."""
    import magicbrush_desktop.core.train as train_module

    def final_weights(run: str, workers: int) -> dict[str, torch.Tensor]:
        monkeypatch.setattr(train_module, "_batch_workers", lambda device: workers)
        cfg = tiny_config(colour_folder, tmp_path / run, epochs=2, degrade=0.5, seed=3)
        list(train(cfg))
        return load_checkpoint(tmp_path / run / "last.pt")["state_dict"]

    inline, threaded = final_weights("inline", 0), final_weights("threaded", 3)
    assert inline.keys() == threaded.keys()
    assert all(torch.equal(inline[k], threaded[k]) for k in inline)


def test_gan_step_in_bfloat16_mixed_precision_keeps_float32_weights_and_losses_close():
    gen, disc, opt_g, opt_d, l, ab = _tiny_gan()
    twin_g, twin_d = copy.deepcopy(gen), copy.deepcopy(disc)
    g_before = _weights(gen)
    mixed = gan_step(gen, disc, opt_g, opt_d, GANLoss("vanilla"), l, ab, autocast_dtype=torch.bfloat16)
    assert set(mixed) == LOSS_KEYS and all(math.isfinite(v) for v in mixed.values())
    assert _changed(g_before, gen)
    assert all(p.dtype == torch.float32 for p in [*gen.parameters(), *disc.parameters()])
    # The same first step in float32 sees the same losses to bfloat16's precision (about 3 digits).
    opt_g2 = torch.optim.Adam(twin_g.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d2 = torch.optim.Adam(twin_d.parameters(), lr=1e-3, betas=(0.5, 0.999))
    plain = gan_step(twin_g, twin_d, opt_g2, opt_d2, GANLoss("vanilla"), l, ab, autocast_dtype=None)
    assert mixed["G_L1"] == pytest.approx(plain["G_L1"], rel=0.02)
    assert mixed["D_real"] == pytest.approx(plain["D_real"], rel=0.05)


def test_training_precision_auto_follows_the_hardware(monkeypatch):
    from magicbrush_desktop.core import devices
    from magicbrush_desktop.core.errors import MagicBrushError

    cpu = torch.device("cpu")
    assert devices.resolve_training_precision("float32", cpu) == torch.float32
    assert devices.resolve_training_precision("bfloat16", cpu) == torch.bfloat16
    for native, expected in ((True, torch.bfloat16), (False, torch.float32)):
        monkeypatch.setattr(devices, "cpu_has_fast_bf16", lambda native=native: native)
        assert devices.resolve_training_precision("auto", cpu) == expected
    with pytest.raises(MagicBrushError):
        devices.resolve_training_precision("half", cpu)


def test_training_in_bfloat16_says_so_and_a_wrong_precision_is_refused(colour_folder, tmp_path):
    from magicbrush_desktop.core.errors import MagicBrushError

    events = list(train(tiny_config(colour_folder, tmp_path / "run", precision="bfloat16")))
    assert any("bfloat16 mixed precision" in getattr(e, "message", "") for e in events)
    steps = [e.values for e in events if isinstance(e, Metrics) and e.kind == "train"]
    assert steps and all(math.isfinite(v["G"]) for v in steps)
    plain = list(train(tiny_config(colour_folder, tmp_path / "run2", precision="float32")))
    assert not any("bfloat16" in getattr(e, "message", "") for e in plain)
    with pytest.raises(MagicBrushError, match="precision must be"):
        list(train(tiny_config(colour_folder, tmp_path / "run3", precision="half")))
