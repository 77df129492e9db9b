"""Limits on what a job may ask for: numbers that make sense, and memory that the machine has.

Sizes and counts come from the CLI, the desktop app and model files; each is checked here (the core)
so every front end gets the same readable refusal, and work whose memory estimate exceeds what the
machine has available is refused up front with a message saying what fits, instead of an allocation
of gigabytes (or terabytes) that fails half-way or brings the machine to a crawl.
"""

from __future__ import annotations

import math
import os
import sys

from .defaults import PRECISION_CHOICES
from .errors import MagicBrushError
from .sizing import fit_longest_side


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now (None when unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if sys.platform == "win32":  # pragma: no cover - Windows only
        import ctypes

        class _Status(ctypes.Structure):
            _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong), ("total", ctypes.c_ulonglong),
                        ("avail", ctypes.c_ulonglong), ("tp", ctypes.c_ulonglong), ("ap", ctypes.c_ulonglong),
                        ("tv", ctypes.c_ulonglong), ("av", ctypes.c_ulonglong), ("ae", ctypes.c_ulonglong)]

        status = _Status()
        status.length = ctypes.sizeof(_Status)
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
            return int(status.avail)
        return None
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def check_memory(needed: float, what: str, fits: str = "") -> None:
    """Refuse work whose estimated memory ``needed`` (bytes) exceeds what the machine has available.

    ``fits`` tells the user what would fit (e.g. "at most --size 2300").

    Raises:
        MagicBrushError: with the estimate, the available memory and ``fits``.
    """
    available = available_memory()
    if available is None or needed <= available:
        return
    hint = f"; {fits}" if fits else ""
    raise MagicBrushError(f"{what} would need about {_gib(needed)} of memory, more than the "
                          f"{_gib(available)} available{hint}")


# Style transfer: VGG19 activations up to relu5_1 (about 600 float32 per optimisation pixel), kept for
# the backward pass, their gradients and L-BFGS history: about 4 KB per pixel, measured order.
STYLE_BYTES_PER_PIXEL = 4096
MAX_STYLE_SIZE = 8192


def check_style_size(content_hw: tuple[int, int], size: int, style_scale: float = 1.0) -> None:
    """Refuse a style optimisation size that makes no sense or would not fit in memory.

    ``content_hw`` is the photo's (height, width); the picture optimised has ``size`` as its longest side
    (whatever the photo's own size, so a 1x1 photo at 30000 px is a 30000x30000 optimisation).
    """
    if not isinstance(size, (int, float)) or not 16 <= size <= MAX_STYLE_SIZE:
        raise MagicBrushError(f"the optimisation size must be between 16 and {MAX_STYLE_SIZE} px (got {size})")
    # The very size StyleTransfer optimises at (max(1, ·): a photo without pixels is refused there).
    opt_h, opt_w = fit_longest_side(max(1, content_hw[0]), max(1, content_hw[1]), round(size), min_side=16)
    aspect = min(opt_h, opt_w) / max(opt_h, opt_w)
    pixels = opt_h * opt_w * (1 + max(1.0, style_scale) ** 2 * 0.25)
    needed = pixels * STYLE_BYTES_PER_PIXEL
    available = available_memory()
    if available is not None and needed > available:
        fits = int(math.sqrt(available / STYLE_BYTES_PER_PIXEL / max(aspect, 1e-3) / 1.25)) // 16 * 16
        raise MagicBrushError(
            f"style transfer at {size} px would need about {_gib(needed)} of memory, more than the "
            f"{_gib(available)} available; at most about {max(16, fits)} px fits (--size)")


# Colorizer generator: a model file declares its width (base) and depth; anything beyond these is not a
# colorizer this app could run, whatever the file says (a "base=1e7" file would allocate terabytes).
MAX_MODEL_PARAMETERS = 500_000_000


def check_model_parameters(n_parameters: int, what: str = "the model") -> None:
    """Refuse a model whose weights alone would not fit (float32), or that is absurdly large."""
    needed = n_parameters * 4
    if n_parameters > MAX_MODEL_PARAMETERS:
        raise MagicBrushError(f"{what} declares {n_parameters:,} parameters ({_gib(needed)}); a colorizer has "
                              f"far fewer (at most {MAX_MODEL_PARAMETERS:,}): the file is damaged or not ours")
    check_memory(needed * 2, what, "close other programs or use a smaller model")


# Training: decoded photos are kept in memory (short side 1.15 x the crop), and activations of a
# generator at the crop size per batch item (ResU-Net/VGG encoder: about 1.5 KB per pixel with backward).
TRAIN_BYTES_PER_PIXEL = 1536
MAX_IMAGE_SIZE = 2048
MAX_BATCH_SIZE = 4096


def check_train_numbers(*, epochs: int, image_size: int, batch_size: int, threads: int, lr_g: float,
                        lr_d: float, lambda_l1: float, val_split: float, test_split: float,
                        flip_labels: float, warmup_epochs: int, save_every_minutes: float, max_steps: int,
                        ema_decay: float, lambda_ce: float = 0.0, head: str = "", rebalance: float = 0.0,
                        precision: str = "auto", **_other: object) -> None:
    """Every training number in range, with one readable message for the first that is not.

    Accepts ``**asdict(config)`` (other fields are ignored here).
    """
    def need(ok: bool, message: str) -> None:
        if not ok:
            raise MagicBrushError(message)

    def whole(x: object) -> bool:
        return isinstance(x, int) and not isinstance(x, bool)

    def finite(x: object) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)

    need(whole(epochs) and epochs >= 1, f"epochs must be at least 1 (got {epochs})")
    need(whole(image_size) and 32 <= image_size <= MAX_IMAGE_SIZE,
         f"the image size must be between 32 and {MAX_IMAGE_SIZE} px (got {image_size})")
    need(whole(batch_size) and 1 <= batch_size <= MAX_BATCH_SIZE,
         f"the batch size must be between 1 and {MAX_BATCH_SIZE} (got {batch_size})")
    need(whole(threads) and 0 <= threads <= 4096, f"threads must be 0 (all) or more (got {threads})")
    for name, value in (("generator learning rate", lr_g), ("discriminator learning rate", lr_d)):
        need(finite(value) and 0 < value <= 1, f"the {name} must be above 0 and at most 1 (got {value})")
    need(finite(lambda_l1) and lambda_l1 >= 0, f"the L1 weight must be a number ≥ 0 (got {lambda_l1})")
    need(finite(lambda_ce) and lambda_ce >= 0,
         f"the colour classes' weight must be a number ≥ 0 (got {lambda_ce})")
    need(head in ("", "regression", "classes"), f"the head must be regression or classes (got {head!r})")
    need(precision in PRECISION_CHOICES,
         f"the precision must be auto, float32 or bfloat16 (got {precision!r})")
    need(finite(rebalance) and 0 <= rebalance <= 1,
         f"the rebalancing mix must be in 0..1 (0 = off; got {rebalance})")
    need(finite(val_split) and 0 <= val_split < 1, f"the validation split must be in 0..1 (got {val_split})")
    need(finite(test_split) and 0 <= test_split < 1 and val_split + test_split < 1,
         f"the test split must be in 0..1 and leave photos to train on (got {test_split})")
    need(finite(flip_labels) and 0 <= flip_labels <= 1,
         f"the label flip probability must be in 0..1 (got {flip_labels})")
    need(whole(warmup_epochs) and warmup_epochs >= 0, f"warm-up epochs must be ≥ 0 (got {warmup_epochs})")
    need(finite(save_every_minutes) and save_every_minutes > 0,
         f"the save interval must be a positive number of minutes (got {save_every_minutes})")
    need(whole(max_steps) and max_steps >= 0, f"the step limit must be ≥ 0 (got {max_steps})")
    need(finite(ema_decay) and 0 <= ema_decay < 1,
         f"the weight-average decay must be in 0..1, below 1 (0 = off; got {ema_decay})")


def check_train_memory(image_size: int, batch_size: int, n_photos: int) -> None:
    """Refuse a training whose photos in memory plus one batch's activations would not fit."""
    batch_bytes = batch_size * image_size * image_size * TRAIN_BYTES_PER_PIXEL
    photos_bytes = n_photos * (1.15 * image_size) ** 2 * 1.5 * 3
    available = available_memory()
    if available is not None and batch_bytes + photos_bytes > available:
        fits = int((available - photos_bytes) // (image_size * image_size * TRAIN_BYTES_PER_PIXEL))
        per_pixel = TRAIN_BYTES_PER_PIXEL + n_photos * 1.15**2 * 1.5 * 3
        side = int(math.sqrt(max(0.0, available) / per_pixel)) // 16 * 16
        hint = (f"at this image size a batch size of at most {fits} fits" if fits >= 1
                else f"with batch size 1 an image size of at most {side} fits" if side >= 32
                else "use fewer photos or a machine with more memory")
        raise MagicBrushError(
            f"training {n_photos} photos at image size {image_size} with batch size {batch_size} would need "
            f"about {_gib(batch_bytes + photos_bytes)} of memory, more than the {_gib(available)} available; "
            f"{hint}")


def check_strength(strength: float) -> float:
    """A colour strength in 0..2 (nan and infinities refused)."""
    if not isinstance(strength, (int, float)) or not 0.0 <= strength <= 2.0:
        raise MagicBrushError(f"the colour strength must be between 0 and 2 (got {strength})")
    return float(strength)
