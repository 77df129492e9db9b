"""Choosing where to compute: "auto" (CUDA when present), "cpu", "cuda" or "cuda:N".

One resolver for every part that computes (the colorizer, training, style transfer), so the desktop
app's device menu, ``--device`` and a caller's ``torch.device`` mean the same everywhere and an
unusable choice gets the same readable refusal.
"""

from __future__ import annotations

import torch

from .defaults import CUDA_INDEX, DEVICE_CHOICES  # noqa: F401 - DEVICE_CHOICES re-exported
from .errors import MagicBrushError


def cuda_available() -> bool:
    return torch.cuda.is_available()


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """The torch device for a user's or caller's choice.

    Args:
        device: "auto" (the first CUDA GPU when there is one, else the CPU), "cpu", "cuda", "cuda:N"
            (GPU number N, from 0), or a ``torch.device`` of type cpu or cuda. Case and surrounding
            spaces do not matter.
    Returns:
        ``torch.device("cpu")``, ``torch.device("cuda")`` or ``torch.device("cuda", N)``.
    Raises:
        MagicBrushError: an unknown name, CUDA asked for on a machine without a usable CUDA GPU, or a
            GPU number the machine does not have; the message says what to use instead.
    """
    if isinstance(device, torch.device):
        if device.type not in ("cpu", "cuda"):
            raise MagicBrushError(f"unsupported device '{device}' (use auto, cpu, cuda or cuda:N)")
        name = "cpu" if device.type == "cpu" else ("cuda" if device.index is None else f"cuda:{device.index}")
    elif isinstance(device, str):
        name = device.strip().lower()
    else:
        raise MagicBrushError(f"unknown device {device!r} (use auto, cpu, cuda or cuda:N)")
    if name == "auto":
        return torch.device("cuda" if cuda_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    match = CUDA_INDEX.match(name)
    if name != "cuda" and match is None:
        raise MagicBrushError(f"unknown device '{device}' (use auto, cpu, cuda or cuda:N)")
    if not cuda_available():
        raise MagicBrushError(f"'{device}' was requested but no CUDA GPU is available; use --device cpu or auto")
    if match is None:
        return torch.device("cuda")
    index, count = int(match.group(1)), torch.cuda.device_count()
    if index >= count:
        raise MagicBrushError(f"there is no CUDA GPU {index}: this machine has {count} "
                              f"(cuda:0{f' to cuda:{count - 1}' if count > 1 else ''})")
    return torch.device("cuda", index)


def cpu_has_fast_bf16() -> bool:
    """True when the CPU multiplies bfloat16 natively (AVX512-BF16 or AMX), so bf16 VGG pays off."""
    try:
        if torch.ops.mkldnn._is_mkldnn_bf16_supported():
            with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as f:
                flags = f.read()
            return "avx512_bf16" in flags or "amx_bf16" in flags
    except (AttributeError, RuntimeError, OSError):
        pass
    return False



def resolve_precision(precision: str, device: torch.device) -> torch.dtype:
    """"auto" -> bfloat16 convolutions on CPUs with native bf16, else float32. Losses stay float32."""
    if precision == "float32":
        return torch.float32
    if precision == "bfloat16":
        return torch.bfloat16
    if precision != "auto":
        raise MagicBrushError(f"unknown precision '{precision}' (use auto, float32 or bfloat16)")
    return torch.bfloat16 if device.type == "cpu" and cpu_has_fast_bf16() else torch.float32


def resolve_training_precision(precision: str, device: torch.device) -> torch.dtype:
    """The arithmetic of a training step's convolutions under autocast (the weights, their optimiser
    and the losses stay float32). "auto": bfloat16 on CPUs that multiply it natively and on GPUs that
    support it, float32 elsewhere (emulated bfloat16 is slower than float32)."""
    if device.type == "cuda" and precision in ("auto", "bfloat16"):
        supported = torch.cuda.is_bf16_supported()
        if precision == "bfloat16" and not supported:
            raise MagicBrushError("this GPU cannot train in bfloat16 (use --precision float32)")
        return torch.bfloat16 if supported else torch.float32
    if device.type not in ("cpu", "cuda"):
        return torch.float32 if precision == "auto" else resolve_precision(precision, device)
    return resolve_precision(precision, device)
