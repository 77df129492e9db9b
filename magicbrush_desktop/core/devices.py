"""Choosing where to compute: "auto" (CUDA when present), "cpu" or "cuda"."""

from __future__ import annotations

import torch

from .defaults import DEVICE_CHOICES  # noqa: F401 - re-exported
from .errors import MagicBrushError


def cuda_available() -> bool:
    return torch.cuda.is_available()


def pick_device(name: str = "auto") -> torch.device:
    """A torch device for a user's choice; asking for CUDA without a GPU is a readable error."""
    if name == "auto":
        return torch.device("cuda" if cuda_available() else "cpu")
    if name == "cuda":
        if not cuda_available():
            raise MagicBrushError("CUDA was requested but no CUDA GPU is available; use --device cpu or auto")
        return torch.device("cuda")
    if name == "cpu":
        return torch.device("cpu")
    raise MagicBrushError(f"unknown device '{name}' (choose auto, cpu or cuda)")
