"""What defines a training run, as plain values (no torch).

Kept apart from :mod:`.train` so the desktop's Train dialog can build its form and a config on the UI
thread without importing torch (a multi-second stall while it loads); ``train`` itself is imported by
the worker that runs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved in every checkpoint and in ``config.json``)."""

    data_dir: str
    run_dir: str
    epochs: int = 20
    image_size: int = 128
    batch_size: int = 16
    lr_g: float = 2e-4  # pix2pix's G rate; D 5x faster (two time-scale rule), the tune grid's best pair
    lr_d: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    lambda_l1: float = 100.0
    # Weight of the colour classes' cross-entropy (a generator with head="classes" only). At 5 its pull
    # on the logits is about that of the L1 term at 100 (whose gradient reaches a class logit as
    # 50 * p_q * |c_q - mean| ~ 5 p_q per pixel, where the cross-entropy's is p_q - t_q).
    lambda_ce: float = 5.0
    # Class rebalancing of that cross-entropy (Zhang et al. 2016): the mix lambda of the weights
    # ((1 - lambda) p + lambda / Q)^-1 over the training colours' class prior p; 0 = off, 0.5 = theirs.
    rebalance: float = 0.0
    gan_mode: str = "vanilla"
    soft_labels: bool = False
    flip_labels: float = 0.0
    warmup_epochs: int = 0  # L1-only epochs before the adversarial phase
    val_split: float = 0.1
    test_split: float = 0.0
    seed: int = 0
    generator: str = "vgg_resunet"
    generator_kwargs: dict[str, Any] = field(default_factory=dict)
    discriminator: str = "patchgan"
    discriminator_kwargs: dict[str, Any] = field(default_factory=dict)
    save_every_minutes: float = 5.0
    max_val_images: int = 200
    max_steps: int = 0  # stop after this many steps in total (0 = no limit); used by `tune`
    device: str = "auto"
    threads: int = 0  # CPU threads (0 = torch's default)
    # Arithmetic of the training step's convolutions: "auto" = bfloat16 mixed precision on CPUs that
    # multiply it natively (AVX512-BF16, AMX) and on GPUs that support it, else float32 (devices.py).
    precision: str = "auto"
    # Start the generator from this model (name or path; its architecture wins): continue a shipped model.
    init: str = ""
    # Share of training inputs given an old-photo look (grain, blur, JPEG, fading, borders): degrade.py.
    degrade: float = 0.0
    # "classes": turn a regression generator (a new one, or the --init model) into a colour-class one
    # (Zhang et al. 2016's distribution over a*b* classes, annealed mean at inference). "" = as built.
    head: str = ""
    # Decay of an exponential moving average of the generator's weights (0 = off). With it, validation,
    # samples and best.pt use the averaged weights: a GAN generator oscillates step to step, and the
    # average of its recent weights colours more steadily than any one of them (Karras et al. 2018).
    # From scratch the decay ramps up over the first steps (train.average_decay).
    ema_decay: float = 0.999
