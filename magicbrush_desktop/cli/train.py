"""``magicbrush train``: train a colorizer on a folder of colour photos (resumable)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from typing import TYPE_CHECKING

from ..core.defaults import DISCRIMINATOR_NAMES as DISCRIMINATORS, GENERATOR_NAMES as GENERATORS, PRECISION_CHOICES
from .common import add_device_option, run_with_progress

if TYPE_CHECKING:
    from ..core.train_config import TrainConfig

# Parser option -> TrainConfig field, where the names differ.
_FIELD_OF = {"gan_loss": "gan_mode", "save_every": "save_every_minutes", "ema": "ema_decay"}
# Options whose "not given" value is not None (for telling what the user gave on --resume).
_UNSET = {"soft_labels": False, "init": "", "threads": 0, "encoder": "frozen", "device": "auto", "base": None}


def _int_in(low: int, high: int | None = None):  # noqa: ANN202 - an argparse type
    def parse(text: str) -> int:
        value = int(text)
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be a whole number from {low}" + (f" to {high}" if high else " up"))
        return value

    return parse


def _finite(text: str) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number (got {text!r})") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError("must be a finite number ≥ 0")
    return value


def _fraction(text: str) -> float:
    value = _finite(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1 (got {text})")
    return value


class _FromTrainConfig:
    """Stands in for ``TrainConfig``'s defaults while the parser is built: every option defaults to None and
    :func:`config_from_args` fills it from ``TrainConfig``, and an option left at None is one the user did
    not give (so a resumed run keeps its own value)."""

    def __getattr__(self, name: str) -> None:
        return None


def add_training_options(p: argparse.ArgumentParser) -> None:
    """Options shared by ``train`` and ``tune``."""
    d = _FromTrainConfig()
    p.add_argument("--epochs", type=_int_in(1), default=d.epochs)
    p.add_argument("--image-size", type=_int_in(32, 2048), default=d.image_size,
                   help="training crop size in pixels (32..2048)")
    p.add_argument("--batch-size", type=_int_in(1, 4096), default=d.batch_size)
    p.add_argument("--lr-g", type=_finite, default=d.lr_g, help="generator learning rate (seed: 0.0002)")
    p.add_argument("--lr-d", type=_finite, default=d.lr_d, help="discriminator learning rate (seed: 0.001)")
    p.add_argument("--lambda-l1", type=_finite, default=d.lambda_l1, help="weight of the L1 term (default 100)")
    p.add_argument("--gan-loss", choices=("vanilla", "lsgan"), default=d.gan_mode)
    p.add_argument("--soft-labels", action="store_true", help="soft discriminator targets (one-sided label smoothing, Salimans et al. 2016)")
    p.add_argument("--flip-labels", type=float, default=d.flip_labels, metavar="P",
                   help="probability of flipping a discriminator label (noisy labels)")
    p.add_argument("--warmup-epochs", type=_int_in(0), default=d.warmup_epochs, help="L1-only epochs first")
    p.add_argument("--val-split", type=float, default=d.val_split)
    p.add_argument("--test-split", type=float, default=d.test_split)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--generator", choices=sorted(GENERATORS), default=d.generator)
    p.add_argument("--base", type=_int_in(1, 4096), default=None, help="generator width (channels)")
    p.add_argument("--encoder", choices=("frozen", "finetune"), default="frozen",
                   help="vgg_resunet: keep the ImageNet encoder frozen or fine-tune it")
    p.add_argument("--head", choices=("regression", "classes"), default=d.head,
                   help="vgg_resunet: regress a*b* (default) or predict a distribution over a*b* colour "
                   "classes, shown as its annealed mean (Zhang et al. 2016); with --init, 'classes' turns the "
                   "model's regression head into classes that start from its colours")
    p.add_argument("--lambda-ce", type=_finite, default=d.lambda_ce,
                   help="weight of the colour classes' cross-entropy (--head classes; default 5)")
    p.add_argument("--rebalance", type=_fraction, default=d.rebalance, metavar="MIX",
                   help="with --head classes (vgg_resunet): weigh rare colours up in the classes' cross-entropy, "
                   "Zhang et al. 2016's class rebalancing: class q weighs ((1 - MIX) p_q + MIX / 529)^-1, p_q its "
                   "share of the training photos' colours (0..1; 0.5 is theirs; default 0 = off)")
    p.add_argument("--discriminator", choices=sorted(DISCRIMINATORS), default=d.discriminator)
    p.add_argument("--init", default="", metavar="NAME|PATH",
                   help="start the generator from this model (e.g. magicbrush-colorizer-v1) and train on")
    p.add_argument("--degrade", type=_finite, default=d.degrade, metavar="P",
                   help="share of training inputs given an old-photo look: grain, blur, JPEG, fading, "
                   "scanned borders (0..1; default 0)")
    p.add_argument("--ema", type=_finite, default=d.ema_decay, metavar="DECAY",
                   help="keep a moving average of the generator's weights with this decay per step "
                   "(default 0.999; 0 = off): validation, samples and best.pt use it")
    p.add_argument("--save-every", type=float, default=d.save_every_minutes, metavar="MINUTES")
    p.add_argument("--threads", type=_int_in(0, 4096), default=0, help="CPU threads (default: all)")
    p.add_argument("--precision", choices=PRECISION_CHOICES, default=d.precision,
                   help="arithmetic of the training step: auto (default) = bfloat16 mixed precision on CPUs with "
                   "native bf16 (AVX512-BF16, AMX) and on GPUs that have it, float32 elsewhere; weights and "
                   "losses stay float32")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the earlier run in a non-empty run folder (its best.pt, last.pt, log, samples)")
    add_device_option(p)


def config_from_args(args: argparse.Namespace, data_dir: Path, run_dir: Path) -> TrainConfig:
    from ..core.train_config import TrainConfig  # torch-free, like the rest of the parser's imports

    defaults = TrainConfig(data_dir="", run_dir="")
    if not hasattr(args, "explicit_fields"):
        # What the user gave (for --resume, where the run's saved settings win over everything else).
        given = {_FIELD_OF.get(d, d) for d, v in vars(args).items() if v is not None and v != _UNSET.get(d)}
        args.explicit_fields = {f for f in given if hasattr(defaults, f)} | {"data_dir"}
        if "base" in given or "encoder" in given:  # (they travel inside generator_kwargs)
            args.explicit_fields.add("generator_kwargs")
        args.explicit_options = given
    for dest, value in vars(args).items():
        field = _FIELD_OF.get(dest, dest)
        if value is None and hasattr(defaults, field):
            setattr(args, dest, getattr(defaults, field))
    gen_kwargs: dict = {}
    if args.base:
        gen_kwargs["base"] = args.base
    # A resume compares what was asked with the run's network: the encoder only when asked for, not
    # the default generator's (a resumed ResU-Net run asked for --base 4 has no encoder setting).
    asked_encoder = not getattr(args, "resume", False) or "encoder" in getattr(args, "explicit_options", ())
    if args.generator == "vgg_resunet" and asked_encoder:
        gen_kwargs["freeze_encoder"] = args.encoder == "frozen"
    return TrainConfig(
        data_dir=str(data_dir), run_dir=str(run_dir), epochs=args.epochs, image_size=args.image_size,
        batch_size=args.batch_size, lr_g=args.lr_g, lr_d=args.lr_d, lambda_l1=args.lambda_l1,
        gan_mode=args.gan_loss, soft_labels=args.soft_labels, flip_labels=args.flip_labels,
        warmup_epochs=args.warmup_epochs, val_split=args.val_split, test_split=args.test_split, seed=args.seed,
        generator=args.generator, generator_kwargs=gen_kwargs, discriminator=args.discriminator,
        save_every_minutes=args.save_every, device=args.device, threads=args.threads,
        init=args.init, degrade=args.degrade, ema_decay=args.ema, head=args.head, lambda_ce=args.lambda_ce,
        rebalance=args.rebalance, precision=args.precision,
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a colorizer on your own colour photos",
                       description="Train a colorizer GAN on a folder of colour photos (scanned recursively). "
                       "Writes RUN_DIR/last.pt (resumable), RUN_DIR/best.pt, log.jsonl and sample grids.")
    p.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    p.add_argument("--out", type=Path, required=True, metavar="RUN_DIR")
    p.add_argument("--resume", action="store_true", help="continue RUN_DIR/last.pt after a stop or a kill")
    add_training_options(p)
    p.add_argument("--nproc", type=int, default=0, metavar="N",
                   help="train with N processes on this machine (runs torchrun --standalone --nproc_per_node N; "
                   "several machines: docs/SCALING.md)")
    p.set_defaults(func=run)


def _run_torchrun(nproc: int) -> int:
    """``--nproc N``: this same command line under ``torchrun --standalone --nproc_per_node N``."""
    import subprocess

    from ..core.errors import MagicBrushError

    argv = sys.argv[1:]
    if not argv or argv[0] != "train":
        raise MagicBrushError("--nproc works from the command line (magicbrush train ... --nproc N); "
                              "otherwise run torchrun (docs/SCALING.md)")
    rest, skip = [], False
    for arg in argv[1:]:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            rest.append(arg)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
           "-m", "magicbrush_desktop", "train", *rest]
    print("+ " + " ".join(cmd[2:]), file=sys.stderr)
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:  # torchrun passes the Ctrl-C on to its ranks; rank 0 saves last.pt
        return 130


def _run_quiet(job) -> int:  # noqa: ANN001 - the training generator
    """A torchrun rank other than 0: train in step with rank 0, print nothing."""
    return 130 if run_with_progress(job, quiet=True).stopped else 0


def _fmt(values: dict[str, float], keys: tuple[str, ...]) -> str:
    return " ".join(f"{k}={values[k]:.3f}" for k in keys if k in values)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..core.events import Event, Metrics
    from ..core.train import train

    if getattr(args, "nproc", 0) and args.nproc > 1 and "RANK" not in os.environ:
        return _run_torchrun(args.nproc)
    config = config_from_args(args, args.data_dir, args.out)
    job = train(config, resume=args.resume, overwrite=args.overwrite, explicit=args.explicit_fields)
    if int(os.environ.get("RANK", "0") or 0) > 0:  # under torchrun, rank 0 alone reports (docs/SCALING.md)
        return _run_quiet(job)

    def on_event(event: Event, bar: tqdm | None) -> None:
        # Sample grids (Preview) are saved under RUN_DIR/samples: nothing to show for them here.
        if isinstance(event, Metrics) and event.kind == "train" and bar is not None:
            bar.set_postfix_str(_fmt(event.values, ("D", "G_GAN", "G_L1")), refresh=False)
        elif isinstance(event, Metrics) and event.kind == "val":
            tqdm.write(f"epoch {int(event.values['epoch'])}: " + _fmt(
                event.values, ("psnr", "ssim", "colourfulness", "colourfulness_real", "false_colour", "score")))

    # The bar appears with the first counted step, at the step a resumed run starts from.
    outcome = run_with_progress(job, unit="step", describe=True, on_event=on_event)
    if outcome.stopped:
        import shlex

        print(f"Stopped; continue with: magicbrush train {shlex.quote(str(args.data_dir))} "
              f"--out {shlex.quote(str(args.out))} --resume", file=sys.stderr)
        return 130
    if outcome.finished is not None:
        print(f"best model: {outcome.finished.result}")
        print(json.dumps(outcome.finished.summary.get("best", {})))
    return 0
