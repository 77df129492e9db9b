"""The colorizer's GAN training loop, as a generator of progress events.

``train(config)`` yields :mod:`.events` while it trains; ``magicbrush train`` prints them and the desktop
app's Train dialog charts them. Closing the generator stops training after the current step, saving
``last.pt`` first, so ``resume=True`` continues exactly where it stopped.

Per step (:func:`gan_step`, pix2pix's terms): D_real, D_fake, D = (D_real + D_fake) / 2; G_GAN, G_L1
(x lambda), G = G_GAN + G_L1. Optional L1-only warm-up epochs come before the adversarial phase (GAN
terms 0). Per epoch: validation PSNR, SSIM, colourfulness (and its gap to the real photos) and the
calibrated chroma gain, on centre crops prepared once per run (:class:`ValidationSet`), and a sample grid.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import os
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import numpy as np
import torch
import torch.nn.functional as F

from .calibration import fit_chroma_gain_on_crops
from .checkpoint import check_architecture, load_checkpoint, make_checkpoint, save_checkpoint
from .color import lab_tensor_to_rgb
from .dataset import ImageSet, center_crop, epoch_order, lab_batch, load_splits, random_crop_flip, scan_images
from .degrade import degrade_batch
from . import distributed
from .devices import resolve_device, resolve_training_precision
from .errors import MagicBrushError
from .files import is_part_file, remove_stale_parts, write_error
from .events import Finished, Metrics, Preview, Progress
from .imageio import atomic_write_bytes, encode_image
from .limits import check_train_memory, check_train_numbers
from .losses import GANLoss, class_cross_entropy, class_prior, class_rebalance_weights, l1_loss
from .networks import CLASS_STEP, CLASSES_PER_SIDE, build_discriminator, build_generator, trainable_state_dict
from .train_config import TrainConfig  # noqa: F401 - train(config: TrainConfig) is this module's API

T = TypeVar("T")
# What batches prepared in advance may hold at once.
_PREFETCH_BYTES = 256 * 1024 * 1024


def _grid(rows: list[np.ndarray]) -> np.ndarray:
    """Stack (grey | prediction | truth) rows of equal-sized crops into one image."""
    return np.concatenate([np.concatenate(r, axis=1) for r in rows], axis=0)


def _log(run_dir: Path, record: dict[str, Any]) -> None:
    if not _MAIN[0]:
        return  # under torchrun, rank 0 alone writes (core/distributed.py)
    with open(run_dir / "log.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


@dataclass
class ValidationSet:
    """The validation photos' centre crops, prepared once per training run rather than every epoch.

    Memory is bounded by ``max_val_images`` (200) crops at the training size: at 128 px about 10 MB of
    crops and 13 MB of L.

    Attributes:
        crops: N (size, size, 3) uint8 RGB centre crops: the truth every figure compares with.
        l: (N, 1, size, size) float32 L in [-1, 1]: the network's input.
        size: the crop side, pixels (the training size).
    """

    crops: list[np.ndarray]
    l: torch.Tensor
    size: int

    def __len__(self) -> int:
        return len(self.crops)


def prepare_validation(val: ImageSet, size: int, limit: int = 200) -> ValidationSet:
    """Centre-crop the first ``limit`` validation photos (already decoded in memory) and convert them to
    L once. The truth's a*b* is not kept: the figures compare RGB results with the RGB crops."""
    crops = [center_crop(img, size) for img in val.images[:limit]]
    l = torch.cat([lab_batch(crops[start : start + 64])[0] for start in range(0, len(crops), 64)]) \
        if crops else torch.zeros(0, 1, size, size)
    return ValidationSet(crops, l, size)


@torch.no_grad()
def validate(generator: torch.nn.Module, val: ImageSet | ValidationSet, size: int, device: torch.device,
             limit: int = 200, batch: int = 16) -> tuple[dict[str, float], list[list[np.ndarray]]]:
    """Validation figures, raw and after chroma calibration, plus sample rows.

    ``val`` is the validation split, or (in a training run, every epoch) what :func:`prepare_validation`
    made of it once, so no epoch decodes or converts a photo again. The network runs once per crop; the
    chroma gain is then fitted on those same predictions (:func:`.calibration.fit_chroma_gain_on_crops`),
    so the calibrated figures are the raw ones' own crops at the gain.

    Returns ({psnr, ssim, colourfulness, colourfulness_real, false_colour (share 0..1), score} over centre
    crops at training size,
    ``chroma_gain``, and those figures at the gain under a ``_calibrated`` suffix}, rows of (grey |
    result at the gain | original) crops).
    """
    prepared = val if isinstance(val, ValidationSet) else prepare_validation(val, size, limit)
    if prepared.size != size:
        raise ValueError(f"validation crops are {prepared.size} px, not {size}")
    l_all = prepared.l[:limit]
    crops = prepared.crops[:limit]
    generator.eval()
    try:
        pred_all = torch.cat([generator(l_all[start : start + batch].to(device)).float().cpu()
                              for start in range(0, len(l_all), batch)])
    finally:
        generator.train()
    gain, figures = fit_chroma_gain_on_crops(l_all, pred_all, crops)
    result = dict(figures["raw"])
    result["chroma_gain"] = gain
    result.update({f"{k}_calibrated": v for k, v in figures["calibrated"].items()})
    shown = min(6, len(crops))
    greys = lab_tensor_to_rgb(l_all[:shown], torch.zeros(shown, 2, size, size))
    boosted = lab_tensor_to_rgb(l_all[:shown], pred_all[:shown] * gain)
    samples = [[greys[i], boosted[i], crops[i]] for i in range(shown)]
    return result, samples


def _batch_workers(device: torch.device) -> int:
    """Threads that prepare training batches ahead (0: between steps, on the training thread).

    On a GPU, batches (crops, Lab, old-photo damage) are prepared on threads while the networks train:
    one thread needs 1-2 ms an image (measured on a CPU core here), which would set the pace of steps
    that take milliseconds. On a CPU the cores are the networks': a thread preparing the next batch
    beside them made training 2.5 % slower (8 steps, 2.03 against 1.98 images/s), so batches are made
    between steps there.
    """
    return min(8, max(1, (os.cpu_count() or 2) - 1)) if device.type == "cuda" else 0


def prefetched(make: Callable[[int], T], indices: range, *, workers: int = 1, ahead: int = 2) -> Iterator[T]:
    """``make(i)`` for each of ``indices``, in order, with up to ``ahead`` of them computed in advance on
    ``workers`` threads (0: each when asked, on the caller's thread). Closing the iterator cancels what
    has not started and waits for what has."""
    if workers < 1:
        yield from (make(i) for i in indices)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="magicbrush-batches") as pool:
        todo = iter(indices)
        pending = deque(pool.submit(make, i) for i in itertools.islice(todo, max(1, ahead)))
        try:
            while pending:
                result = pending.popleft().result()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(pool.submit(make, nxt))
                yield result
        finally:
            for future in pending:
                future.cancel()


def gan_step(gen: torch.nn.Module, disc: torch.nn.Module, opt_g: torch.optim.Optimizer,
             opt_d: torch.optim.Optimizer, gan_loss: GANLoss, l: torch.Tensor, ab: torch.Tensor, *,
             lambda_l1: float = 100.0, adversarial: bool = True, lambda_ce: float = 0.0,
             class_weights: torch.Tensor | None = None, autocast_dtype: torch.dtype | None = None,
             ctx: distributed.DistContext | None = None) -> dict[str, float]:
    """One training step on a batch: one discriminator update, then one generator update.

    The discriminator learns real (L, ab) pairs against generated ones (generator detached); the
    generator then learns to fool it (the discriminator frozen for that pass, so no gradient is spent
    on its weights) while staying close to the truth (L1 x ``lambda_l1``). ``adversarial=False`` is the L1-only warm-up:
    no discriminator update, GAN terms 0. Under torchrun (``ctx``) gradients are averaged over the ranks
    before each optimiser step.

    A generator with colour classes (``head="classes"``) is trained on the mean of its distribution
    (temperature 1, so the L1 and adversarial terms see what a squared error would predict) plus the
    classes' cross-entropy x ``lambda_ce`` ("G_CE"), which shapes the distribution the annealed mean
    sharpens at inference; ``class_weights`` (Q,) rebalance it (:func:`.losses.class_rebalance_weights`).

    ``autocast_dtype`` bfloat16 runs the networks' forward passes (and so their backward passes) in
    bfloat16 mixed precision (:func:`.devices.resolve_training_precision`); the weights, the optimisers'
    state and every loss stay float32.

    Args:
        l: (N, 1, H, W) L in [-1, 1], on the networks' device.
        ab: (N, 2, H, W) the true a*b*, normalised (about [-1, 1]), same device.
    Returns:
        {"D_real", "D_fake", "D" = (D_real + D_fake) / 2, "G_GAN", "G_L1" (already x lambda_l1),
        ["G_CE" (x lambda_ce),] "G" = their sum} as floats.
    """
    ctx = ctx or distributed.DistContext()
    classes = getattr(gen, "head_kind", "regression") == "classes"

    def mixed() -> torch.autocast:
        return torch.autocast(l.device.type, dtype=autocast_dtype or torch.float32,
                              enabled=autocast_dtype is not None and autocast_dtype != torch.float32)

    with mixed():
        if classes:
            logits, fake_ab = gen.class_logits(l, temperature=1.0)
        else:
            fake_ab = gen(l)
    fake_ab = fake_ab.float()  # the losses and the discriminator's input see float32 colour
    values: dict[str, float] = {}
    if adversarial:
        opt_d.zero_grad(set_to_none=True)
        with mixed():
            real_logits = disc(torch.cat([l, ab], 1))
            fake_logits = disc(torch.cat([l, fake_ab.detach()], 1))
        d_real = gan_loss(real_logits.float(), real=True)
        d_fake = gan_loss(fake_logits.float(), real=False)
        d_total = 0.5 * (d_real + d_fake)
        d_total.backward()
        distributed.average_gradients(disc, ctx)
        opt_d.step()
        values.update(D_real=d_real.item(), D_fake=d_fake.item(), D=d_total.item())
    else:
        values.update(D_real=0.0, D_fake=0.0, D=0.0)
    opt_g.zero_grad(set_to_none=True)
    g_l1 = l1_loss(fake_ab, ab) * lambda_l1
    if adversarial:
        disc.requires_grad_(False)
        try:
            with mixed():
                fooled_logits = disc(torch.cat([l, fake_ab], 1))
            g_gan = gan_loss(fooled_logits.float(), real=True, for_discriminator=False)
        finally:
            disc.requires_grad_(True)
    else:
        g_gan = torch.zeros((), device=l.device)
    g_total = g_gan + g_l1
    if classes:
        g_ce = class_cross_entropy(logits, ab, CLASS_STEP, CLASSES_PER_SIDE, class_weights) * lambda_ce
        g_total = g_total + g_ce
        values["G_CE"] = g_ce.item()
    g_total.backward()
    distributed.average_gradients(gen, ctx)
    opt_g.step()
    values.update(G_GAN=g_gan.item(), G_L1=g_l1.item(), G=g_total.item())
    return values


@torch.no_grad()
def update_average(average: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """One step of the moving average of weights: average <- decay * average + (1 - decay) * model.

    Only the trained parameters are averaged (frozen ones are the same in both); buffers (normalisation
    statistics) are copied, as they describe the current weights' activations.
    """
    for avg, param in zip(average.parameters(), model.parameters()):
        if param.requires_grad:
            avg.lerp_(param.detach(), 1.0 - decay)
    for avg, buf in zip(average.buffers(), model.buffers()):
        avg.copy_(buf)


def average_decay(decay: float, step: int, *, from_model: bool) -> float:
    """The decay of the weights' average at ``step`` (1 = the first step).

    A run from scratch starts its average from random weights, which a decay of 0.999 would keep in it
    for thousands of steps (a short run's best.pt would be mostly noise): there the decay ramps up as
    (1 + step) / (10 + step) (TensorFlow's ExponentialMovingAverage with num_updates). A run that
    continues a trained model (``--init``) starts from good weights and uses ``decay`` from the start.
    """
    return decay if from_model else min(decay, (1.0 + step) / (10.0 + step))


_MAIN = [True]  # False on the ranks > 0 of a torchrun run: they write nothing


# What a run folder holds; ``overwrite`` removes exactly these (and the sample grids) before a new run.
RUN_FILES = ("best.pt", "last.pt", "log.jsonl", "config.json", "data.json", "class_weights.json")
# How this session runs rather than what the run is: always taken from the caller on resume.
_SESSION_FIELDS = ("device", "threads", "save_every_minutes", "max_steps", "precision")
_ARCH_FIELDS = ("generator", "generator_kwargs", "discriminator", "discriminator_kwargs", "init", "head")


def training_class_prior(train_set: ImageSet, size: int, seed: int, limit: int = 512) -> torch.Tensor:
    """The colour classes' prior (Q,) over up to ``limit`` training photos (centre crops of ``size``,
    their a*b* averaged 4x down: the head predicts at half size, and a prior over colours barely moves
    for the coarser grid at a sixteenth of the pixels), the same for a run and its resumes."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(train_set.images))[:limit]
    abs_ = []
    for start in range(0, len(order), 64):
        crops = [center_crop(train_set.images[i], size) for i in order[start : start + 64]]
        _l, ab = lab_batch(crops)
        abs_.append(F.interpolate(ab, scale_factor=0.25, mode="area"))
    return class_prior(torch.cat(abs_), CLASS_STEP, CLASSES_PER_SIDE)


def _claim_run_folder(run_dir: Path, overwrite: bool) -> None:
    """A new run needs an empty (or new) folder: an earlier run's best.pt is never replaced silently."""
    if not run_dir.exists():
        return
    if not run_dir.is_dir():
        raise MagicBrushError(f"the run folder '{run_dir}' is a file; choose another --out")
    entries = sorted(e.name for e in run_dir.iterdir() if not is_part_file(e))
    # What a run that stopped before its first checkpoint leaves (a wrong folder, too little memory)
    # holds no model: the next start reuses the folder instead of refusing it.
    samples = run_dir / "samples"
    leftovers = {"config.json", "data.json", "log.jsonl"} | (
        {"samples"} if samples.is_dir() and not any(samples.iterdir()) else set())
    if not entries or set(entries) <= leftovers:
        overwrite = True
    elif not overwrite:
        shown = ", ".join(entries[:4]) + (", ..." if len(entries) > 4 else "")
        raise MagicBrushError(
            f"the run folder '{run_dir}' is not empty ({shown}); continue that run with --resume, replace it "
            "with --overwrite, or choose another --out")
    for name in RUN_FILES:
        (run_dir / name).unlink(missing_ok=True)
    for grid in (run_dir / "samples").glob("epoch_*.png"):
        grid.unlink()


def _apply_head(config: TrainConfig) -> None:
    """Put ``config.head`` (``--head``) into the generator's settings of a new run. The one change there
    is: a vgg_resunet's regression head turns into colour classes (a continued model's is converted
    when its weights load)."""
    current = config.generator_kwargs.get("head", "regression")
    if not config.head or config.head == current:
        return
    if config.generator != "vgg_resunet" and not config.init:
        raise MagicBrushError(f"--head {config.head} needs the vgg_resunet generator (got {config.generator})")
    if config.generator != "vgg_resunet" or config.head != "classes":
        raise MagicBrushError(f"a {config.generator} generator with a {current} head cannot go on with a "
                              f"'{config.head}' head (only vgg_resunet's regression head turns into classes)")
    config.generator_kwargs = {**config.generator_kwargs, "head": "classes"}


def _absolute(path: str) -> str:
    return str(Path(path).expanduser().resolve()) if path else path


def train(config: TrainConfig, resume: bool = False, *, overwrite: bool = False,
          explicit: set[str] | None = None) -> Iterator:
    """Train a colorizer; yields Progress, Metrics (kind "train" per step, "val" per epoch), Preview
    (sample grid per epoch) and finally Finished(result=path of best.pt, summary=best metrics).

    A new run refuses a non-empty run folder unless ``overwrite`` (which removes the earlier run's
    files). On ``resume`` the run's saved settings win, except the fields named in ``explicit`` (those
    the user gave; None = just ``epochs``) and how this session runs (device, threads, save interval,
    step limit). Paths are stored absolute, so a run resumes from any working folder.

    Raises:
        MagicBrushError: a non-empty run folder, numbers out of range, more memory than available, no
            usable data, or a resume without a compatible ``last.pt``.
    """
    run_dir = Path(_absolute(config.run_dir))
    config = replace(config, run_dir=str(run_dir), data_dir=_absolute(config.data_dir))
    check_train_numbers(**asdict(config))
    if config.data_dir and Path(config.data_dir) == run_dir:
        raise MagicBrushError(f"the run folder cannot be the photo folder itself ({run_dir}); choose another "
                              "--out (a sub-folder works: it is left out of the photos)")
    ctx = distributed.context(config.device)
    _MAIN[0] = ctx.main
    if not resume and ctx.main:
        _claim_run_folder(run_dir, overwrite)
    distributed.barrier(ctx)
    state: dict[str, Any] | None = None
    if resume:
        last = run_dir / "last.pt"
        if not last.is_file():
            raise MagicBrushError(f"nothing to resume: {last} does not exist")
        ckpt = load_checkpoint(last)
        if "train_state" not in ckpt:
            raise MagicBrushError(f"{last} holds no training state to resume from")
        known = {f.name for f in fields(TrainConfig)}
        saved = {k: v for k, v in dict(ckpt["config"]).items() if k in known}
        # The architecture is the checkpoint's: its weights fit no other network. Asking for another
        # one is refused rather than ignored, so nobody believes they resumed with a new head.
        asked = {"epochs"} if explicit is None else set(explicit)
        # The generator is compared with the network the file holds (a run started from another model
        # has that model's network, whatever its config's defaults say), the rest with the run's config.
        arch = ckpt["arch"]
        run_has = {**saved, "generator": arch["name"], "generator_kwargs": dict(arch.get("kwargs", {})),
                   "head": dict(arch.get("kwargs", {})).get("head", "regression")}

        def differs(k: str) -> bool:
            mine, theirs = getattr(config, k), run_has[k]
            if isinstance(mine, dict) and isinstance(theirs, dict):  # only the keys asked for
                return any(k2 not in theirs or theirs[k2] != v for k2, v in mine.items())
            return bool(mine or k != "head") and mine != theirs  # (head "" asks for none)

        changed = sorted(k for k in asked & set(_ARCH_FIELDS) if k in run_has and differs(k))
        if changed:
            wanted = ", ".join(f"{k} {getattr(config, k)!r} (the run has {run_has[k]!r})" for k in changed)
            start = run_dir / "best.pt" if (run_dir / "best.pt").is_file() else last  # (none before epoch 1)
            raise MagicBrushError(
                f"a resumed run keeps its network, so it cannot change {wanted}. Resume without those options, "
                f"or start a new run from this one: magicbrush train DATA_DIR --out NEW_RUN --init {start} ...")
        given = asked - set(_ARCH_FIELDS)
        saved.update({k: getattr(config, k) for k in given | set(_SESSION_FIELDS) if k in known})
        saved["run_dir"] = str(run_dir)
        config = TrainConfig(**saved)
        if not Path(config.data_dir).is_dir():
            raise MagicBrushError(f"the run's photo folder '{config.data_dir}' is not there; give it: "
                                  f"magicbrush train DATA_DIR --out {run_dir} --resume")
        config = replace(config, data_dir=_absolute(config.data_dir))
        check_train_numbers(**asdict(config))
        state = ckpt["train_state"]
    if Path(config.data_dir).is_dir():  # (a missing folder is reported by the scan below)
        check_train_memory(config.image_size, config.batch_size,
                           len(scan_images(Path(config.data_dir), exclude=(run_dir,))))
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(exc, run_dir) from exc
    # Temporary files a killed run left (a 140 MB .last.pt.XXXXXXXX.part) go first.
    if ctx.main:
        remove_stale_parts(run_dir, set(RUN_FILES))
        remove_stale_parts(run_dir / "samples")
    device = resolve_device(config.device)
    if ctx.enabled and device.type == "cuda":
        device = torch.device("cuda", ctx.local_rank)
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    if ctx.main:
        (run_dir / "config.json").write_text(json.dumps(asdict(config), indent=2), encoding="utf-8")

    # --- data ---------------------------------------------------------------------------------
    splits = None
    for item in load_splits(Path(config.data_dir), config.image_size, val_split=config.val_split,
                            test_split=config.test_split, seed=config.seed, exclude=(run_dir,)):
        if len(item) == 3 and isinstance(item[0], int):
            done, total, name = item
            if done % 50 == 0:
                yield Progress(done, total, f"reading photos ({done}/{total})")
        else:
            splits = item
    assert splits is not None
    train_set, val_set, _test_set, summary = splits
    if ctx.main:
        (run_dir / "data.json").write_text(
            json.dumps({**summary.as_dict(), "skipped_files": summary.skipped}, indent=2), encoding="utf-8"
        )
    for path, reason in summary.skipped:
        yield Progress(0, 0, f"skipped {Path(path).name}: {reason}")

    # --- models -------------------------------------------------------------------------------
    if not (math.isfinite(config.degrade) and 0.0 <= config.degrade <= 1.0):
        raise MagicBrushError(f"the share of degraded training inputs must be in 0..1 (got {config.degrade})")
    init_ckpt = None
    if config.init and state is None:
        from .models import resolve_model

        init_ckpt = load_checkpoint(resolve_model(config.init))
        # The starting model's architecture wins: its weights only fit the network they came from. Two
        # exceptions: ``head`` (a regression model can go on as a colour-class model, its head converted
        # below) and a frozen VGG encoder asked to be fine-tuned (its ImageNet weights are the starting
        # point either way, so the model's weights still fit; the other way round would throw away
        # fine-tuned weights, so a fine-tuned model stays fine-tuned).
        unfreeze = config.generator_kwargs.get("freeze_encoder") is False
        config.generator = init_ckpt["arch"]["name"]
        config.generator_kwargs = dict(init_ckpt["arch"].get("kwargs", {}))
        unfreeze = unfreeze and config.generator == "vgg_resunet" and \
            config.generator_kwargs.get("freeze_encoder", True)
        if unfreeze:
            config.generator_kwargs["freeze_encoder"] = False
        _apply_head(config)
        if ctx.main:
            (run_dir / "config.json").write_text(json.dumps(asdict(config), indent=2), encoding="utf-8")
    elif state is None:
        _apply_head(config)
    arch = {"name": config.generator, "kwargs": dict(config.generator_kwargs)}
    # A width or depth no colorizer has (--base 0, a starting model declaring base=1e7) is refused here,
    # before anything is allocated.
    check_architecture(config.generator, dict(config.generator_kwargs), "the generator")
    gen = build_generator(config.generator, **config.generator_kwargs).to(device)
    if init_ckpt is not None:
        init_sd = {k: v.float() for k, v in init_ckpt["state_dict"].items()}
        converted = init_ckpt["arch"].get("kwargs", {}).get("head", "regression") != \
            config.generator_kwargs.get("head", "regression")
        if converted:
            # regression -> classes: the new head starts from the old one's prediction.
            weight, bias = init_sd.pop("head.conv.weight"), init_sd.pop("head.conv.bias")
        gen.load_state_dict({**gen.state_dict(), **init_sd})
        if converted:
            gen.head.init_from_regression(weight, bias)
        yield Progress(0, 0, f"generator initialised from {config.init}"
                       + (" (its head turned into colour classes)" if converted else "")
                       + (" (its ImageNet encoder now fine-tuned too)" if unfreeze else ""))
    disc = build_discriminator(config.discriminator, **config.discriminator_kwargs).to(device)
    opt_g = torch.optim.Adam([p for p in gen.parameters() if p.requires_grad], lr=config.lr_g,
                             betas=(config.beta1, config.beta2))
    opt_d = torch.optim.Adam(disc.parameters(), lr=config.lr_d, betas=(config.beta1, config.beta2))
    gan_loss = GANLoss(config.gan_mode, soft_labels=config.soft_labels, flip_prob=config.flip_labels)
    autocast_dtype = resolve_training_precision(config.precision, device)
    if autocast_dtype != torch.float32:
        yield Progress(0, 0, "training in bfloat16 mixed precision (weights and losses in float32)")
    class_weights = None
    if config.rebalance:
        if getattr(gen, "head_kind", "regression") != "classes":
            raise MagicBrushError("--rebalance weighs the colour classes' cross-entropy: it needs --head classes")
        prior = training_class_prior(train_set, config.image_size, config.seed)
        class_weights = class_rebalance_weights(prior, config.rebalance).to(device)
        if ctx.main:
            (run_dir / "class_weights.json").write_text(json.dumps(
                {"prior": prior.tolist(), "weights": class_weights.tolist()}), encoding="utf-8")
        yield Progress(0, 0, f"colour classes rebalanced (mix {config.rebalance:g}): weights "
                             f"{class_weights.min().item():.2f}..{class_weights.max().item():.1f}")
    elif ctx.main:
        (run_dir / "class_weights.json").unlink(missing_ok=True)  # a resume that turned rebalancing off

    epoch, batch_index, global_step = 0, 0, 0
    best_score, best_metrics = -math.inf, {}
    history: list[dict[str, float]] = []
    if state is not None:
        gen.load_state_dict({**gen.state_dict(), **{k: v.float() for k, v in ckpt["state_dict"].items()}})
        disc.load_state_dict(state["discriminator"])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        epoch, batch_index, global_step = state["epoch"], state["batch_index"], state["global_step"]
        best_score, best_metrics = state.get("best_score", -math.inf), state.get("best_metrics", {})
        history = list(state.get("history", []))
        yield Progress(global_step, 0, f"resumed at epoch {epoch + 1}, step {global_step}")
    # The weights' moving average starts from the generator's own (a new run, a model it continues, or a
    # resumed run that had none) and is what validation, samples and best.pt use. Under torchrun rank 0
    # alone keeps it: the other ranks neither validate nor save.
    average: torch.nn.Module | None = None
    if config.ema_decay > 0 and ctx.main:
        average = copy.deepcopy(gen).requires_grad_(False)
        if state is not None and "ema" in state:
            average.load_state_dict({**average.state_dict(), **{k: v.float() for k, v in state["ema"].items()}})
    evaluated = average if average is not None else gen
    # Decoded and converted once for the whole run (rank 0 alone validates): every epoch's validation
    # reuses it, reading no file.
    val_prepared: list[ValidationSet] = []

    def run_validation(model: torch.nn.Module) -> tuple[dict[str, float], list[list[np.ndarray]]]:
        if not val_prepared:
            val_prepared.append(prepare_validation(val_set, config.image_size, config.max_val_images))
        return validate(model, val_prepared[0], config.image_size, device, config.max_val_images)

    if state is not None and ctx.main and best_metrics and (run_dir / "best.pt").is_file():
        # best.pt's score was computed by the session that saved it, perhaps by an older validation
        # (until calibration moved onto the crops it scored through the full-resolution pipeline, about
        # 0.8 dB lower): scored again here, it is compared with this session's epochs on one scale.
        best_model = copy.deepcopy(gen)
        best_model.load_state_dict({**best_model.state_dict(), **{
            k: v.float() for k, v in load_checkpoint(run_dir / "best.pt")["state_dict"].items()}})
        rescored, _ = run_validation(best_model)
        del best_model
        # Only the bar to beat changes; best_metrics stay best.pt's own record (as saved in it).
        if rescored["score_calibrated"] != best_score:
            yield Progress(global_step, 0, f"best.pt scored again on this validation: "
                                           f"{rescored['score_calibrated']:.3f} (was {best_score:.3f})")
        best_score = rescored["score_calibrated"]
    # Under torchrun every rank starts from rank 0's weights and takes its share of each batch.
    distributed.broadcast_parameters(gen, ctx)
    distributed.broadcast_parameters(disc, ctx)
    rank_batch = distributed.per_rank_batch(config.batch_size, ctx)

    steps_per_epoch = max(1, len(train_set) // config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    if config.max_steps:
        total_steps = min(total_steps, config.max_steps)
    data_info = summary.as_dict()

    def checkpoint(path: Path, with_state: bool, metrics: dict[str, float]) -> None:
        """best.pt holds the evaluated weights (the average, when kept); last.pt the trained generator,
        with the average in its training state."""
        if not ctx.main:
            return
        train_state = None
        if with_state:
            train_state = {
                "discriminator": disc.state_dict(), "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
                "epoch": epoch, "batch_index": batch_index, "global_step": global_step,
                "best_score": best_score, "best_metrics": best_metrics, "history": history,
            }
            if average is not None:
                train_state["ema"] = {k: v.detach().cpu() for k, v in trainable_state_dict(average).items()}
        ckpt_out = make_checkpoint(gen if with_state else evaluated, arch, config=asdict(config),
                                   data=data_info, metrics=metrics, train_state=train_state,
                                   inference={"chroma_gain": float(metrics.get("chroma_gain", 1.0))})
        ckpt_out["epoch"] = epoch
        save_checkpoint(ckpt_out, path)

    last_save = time.monotonic()
    train_seconds, images_seen = 0.0, 0  # throughput counts training steps only, not validation
    batch_workers = _batch_workers(device)
    batch_bytes = rank_batch * config.image_size**2 * 3 * 4  # float32 L and ab
    batches_ahead = max(1, min(2 * batch_workers, _PREFETCH_BYTES // batch_bytes))
    batches: Iterator | None = None
    gen.train()
    disc.train()
    finished_all = False
    try:
        while epoch < config.epochs and not (config.max_steps and global_step >= config.max_steps):
            order = distributed.shard(epoch_order(len(train_set), config.seed, epoch), ctx)
            adversarial = epoch >= config.warmup_epochs

            def make_batch(b: int, order: np.ndarray = order,
                           epoch: int = epoch) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
                idx = order[b * rank_batch : (b + 1) * rank_batch]
                if len(idx) == 0:
                    idx = order[:rank_batch]
                # Per-batch generator seeded by position, so a resumed run sees the same crops (and the
                # threads that prepare batches ahead cannot change them).
                rng = np.random.default_rng([config.seed, epoch, b] + ([ctx.rank] if ctx.enabled else []))
                crops = [random_crop_flip(train_set.images[i], config.image_size, rng) for i in idx]
                l, ab = lab_batch(crops)
                return (idx, *degrade_batch(l, ab, rng, config.degrade))

            batches = prefetched(make_batch, range(batch_index, steps_per_epoch), workers=batch_workers,
                                 ahead=batches_ahead)
            while batch_index < steps_per_epoch:
                if config.max_steps and global_step >= config.max_steps:
                    break
                step_start = time.monotonic()
                idx, l, ab = next(batches)
                l, ab = l.to(device), ab.to(device)
                values = gan_step(gen, disc, opt_g, opt_d, gan_loss, l, ab, lambda_l1=config.lambda_l1,
                                  adversarial=adversarial, lambda_ce=config.lambda_ce,
                                  class_weights=class_weights, autocast_dtype=autocast_dtype, ctx=ctx)
                if average is not None:
                    update_average(average, gen, average_decay(config.ema_decay, global_step + 1,
                                                               from_model=bool(config.init)))
                batch_index += 1
                global_step += 1
                train_seconds += time.monotonic() - step_start
                images_seen += len(idx)
                values["images_per_second"] = images_seen / train_seconds if train_seconds else 0.0
                _log(run_dir, {"kind": "train", "epoch": epoch + 1, "step": global_step, **values})
                yield Metrics(global_step, values, "train")
                yield Progress(global_step, total_steps, f"epoch {epoch + 1}/{config.epochs}")
                if time.monotonic() - last_save > config.save_every_minutes * 60:
                    checkpoint(run_dir / "last.pt", True, best_metrics)
                    last_save = time.monotonic()
            batches.close()  # its threads end (a stop mid-epoch closes it in the finally below)
            if batch_index < steps_per_epoch:
                break  # max_steps reached mid-epoch
            # --- end of epoch: validate, sample, save (under torchrun: rank 0; the others wait) ---
            if not ctx.main:
                epoch += 1
                batch_index = 0
                distributed.barrier(ctx)
                continue
            val_metrics, samples = run_validation(evaluated)
            val_metrics["epoch"] = epoch + 1
            history.append(val_metrics)
            _log(run_dir, {"kind": "val", "step": global_step, **val_metrics})
            if average is not None:
                # The trained generator's own figures beside the average's: what the averaging gains.
                online, _ = run_validation(gen)
                _log(run_dir, {"kind": "val_online", "step": global_step, "epoch": epoch + 1, **online})
            grid = _grid(samples)
            samples_dir = run_dir / "samples"
            atomic_write_bytes(samples_dir / f"epoch_{epoch + 1:03d}.png", encode_image(grid, "png"))
            epoch += 1
            batch_index = 0
            # Ranked after calibration: that is the output the model will ship with.
            if val_metrics["score_calibrated"] > best_score:
                best_score, best_metrics = val_metrics["score_calibrated"], val_metrics
                checkpoint(run_dir / "best.pt", False, val_metrics)
            checkpoint(run_dir / "last.pt", True, best_metrics)
            last_save = time.monotonic()
            # Shown only once saved: a stop as the epoch's figures appear (the consumer closes this
            # generator at its next yield) keeps that epoch's best.pt, not just a last.pt to resume.
            yield Metrics(global_step, val_metrics, "val")
            yield Preview(grid, global_step, f"epoch {epoch}: grey | result | original")
            distributed.barrier(ctx)
        finished_all = True
    finally:
        if batches is not None:
            batches.close()
        if not finished_all and global_step > 0:
            # Stopped (Ctrl-C, Stop button, closed window): keep the progress for --resume.
            checkpoint(run_dir / "last.pt", True, best_metrics)
    distributed.barrier(ctx)
    if ctx.main and not (run_dir / "best.pt").exists():
        val_metrics, _ = run_validation(evaluated)
        best_metrics = val_metrics
        checkpoint(run_dir / "best.pt", False, val_metrics)
    yield Finished(run_dir / "best.pt", {"best": best_metrics, "steps": global_step, "epochs": epoch,
                                         "data": data_info})
