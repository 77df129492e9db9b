"""Colorizer checkpoints: one dict that rebuilds its model (after nanoGPT).

Keys: ``format`` ("magicbrush-colorizer"), ``format_version``, ``arch`` ({"name", "kwargs"}),
``state_dict`` (frozen pretrained parts left out), ``config`` (training settings), ``data`` (data
summary), ``metrics`` (validation figures), ``inference`` (settings applied at inference, such as the
calibrated chroma gain), ``created``. Training checkpoints (``last.pt``) add
``train_state`` (discriminator, optimisers, position) for ``--resume``.

Files are written atomically and read with ``torch.load(weights_only=True)``: a checkpoint never
executes code, and a corrupt or foreign file gives a readable ModelError.
"""

from __future__ import annotations

import datetime as _dt
import io
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .errors import MagicBrushError, ModelError
from .imageio import atomic_write_bytes
from .limits import check_model_parameters
from .networks import build_generator, trainable_state_dict

FORMAT = "magicbrush-colorizer"
FORMAT_VERSION = 1


def make_checkpoint(
    generator: nn.Module,
    arch: dict[str, Any],
    *,
    config: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    train_state: dict[str, Any] | None = None,
    inference: dict[str, Any] | None = None,
    half: bool = False,
) -> dict[str, Any]:
    """The checkpoint dict for ``generator`` built from ``arch`` = {"name": ..., "kwargs": {...}}.

    ``half`` stores float tensors as float16 (shipped models: half the size, same colours).
    ``inference`` holds settings the colorizer applies, e.g. {"chroma_gain": 1.6} (see calibration.py).
    """
    sd = {k: v.detach().cpu() for k, v in trainable_state_dict(generator).items()}
    if half:
        sd = {k: v.half() if v.is_floating_point() else v for k, v in sd.items()}
    ckpt: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "arch": {"name": arch["name"], "kwargs": dict(arch.get("kwargs", {}))},
        "state_dict": sd,
        "config": dict(config or {}),
        "data": dict(data or {}),
        "metrics": dict(metrics or {}),
        "inference": dict(inference or {}),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if train_state is not None:
        ckpt["train_state"] = train_state
    return ckpt


def save_checkpoint(ckpt: dict[str, Any], path: Path | str) -> Path:
    """Write atomically: a kill during the save leaves the previous file intact."""
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    atomic_write_bytes(Path(path), buf.getvalue())
    return Path(path)


def load_checkpoint(path: Path | str, map_location: str | torch.device = "cpu", *,
                    mmap: bool = False) -> dict[str, Any]:
    """Read and validate a checkpoint dict (``mmap``: map the tensors instead of reading them, for a
    caller that wants only the small entries).

    Raises:
        ModelError: missing file, not a torch file, damaged, or not a Magic Brush colorizer.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for bad files
        raise ModelError(f"'{path.name}' is not a readable Magic Brush model (damaged or foreign file)") from exc
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ModelError(f"'{path.name}' is not a Magic Brush colorizer model")
    version = ckpt.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelError(
            f"'{path.name}' was written by a newer Magic Brush (format {version}); please update the app"
        )
    for key in ("arch", "state_dict"):
        if key not in ckpt:
            raise ModelError(f"'{path.name}' is incomplete (no '{key}')")
    return ckpt


def read_architecture(path: Path | str) -> dict[str, Any]:
    """The ``arch`` entry ({"name": str, "kwargs": dict}) of a model file, without reading its weights
    (a 36 MB model answers in milliseconds): what a form shows for a model it will continue.

    Raises:
        ModelError: as :func:`load_checkpoint`, or a damaged architecture entry.
    """
    arch = load_checkpoint(path, mmap=True)["arch"]
    if not isinstance(arch, dict) or not isinstance(arch.get("name"), str) or not isinstance(
            arch.get("kwargs", {}), dict):
        raise ModelError("the model file's architecture entry is damaged")
    return {"name": arch["name"], "kwargs": dict(arch.get("kwargs", {}))}


def generator_from_checkpoint(ckpt: dict[str, Any], *, pretrained_parts: bool = True) -> nn.Module:
    """Rebuild the generator of a checkpoint, in eval mode, float32.

    Frozen pretrained parts that the file leaves out (the VGG19 encoder) are loaded from their own
    shipped weights; any other missing or unexpected weight is an error.
    """
    arch = ckpt["arch"]
    if not isinstance(arch, dict) or not isinstance(arch.get("name"), str) or not isinstance(
            arch.get("kwargs", {}), dict):
        raise ModelError("the model file's architecture entry is damaged")
    kwargs = dict(arch.get("kwargs", {}))
    check_architecture(arch["name"], kwargs)
    if "pretrained" in _init_params(arch["name"]):
        kwargs["pretrained"] = pretrained_parts and kwargs.get("freeze_encoder", True)
    try:
        model = build_generator(arch["name"], **kwargs)
    except (TypeError, ValueError, RuntimeError, ArithmeticError) as exc:
        raise ModelError(f"the model's architecture is not one this version knows: {exc}") from exc
    sd = {k: v.float() if v.is_floating_point() else v for k, v in ckpt["state_dict"].items()}
    try:
        result = model.load_state_dict(sd, strict=False)
    except RuntimeError as exc:  # weights of other shapes than the architecture declares
        first = str(exc).split("\n\t")[1] if "\n\t" in str(exc) else str(exc)
        raise ModelError(f"the model file does not match its architecture ({first.strip()})") from exc
    frozen_missing = [k for k in result.missing_keys if not k.startswith("encoder.")]
    if frozen_missing or result.unexpected_keys:
        raise ModelError(
            "the model file does not match its architecture "
            f"(missing {frozen_missing[:3]}, unexpected {result.unexpected_keys[:3]})"
        )
    return model.eval()


_FLAGS = ("pretrained", "freeze_encoder")
# Depth-like settings count blocks (a few); widths count channels (at most a few thousand).
_DEPTHS = ("depth", "n_layers")
# Real-valued settings and their ranges (the colour classes' annealing temperature).
_FRACTIONS = {"temperature": (0.05, 1.0)}


def _check_arch_numbers(kwargs: dict[str, Any]) -> None:
    """A model file's architecture numbers must be ones a colorizer could have (not 0, 1e7 or 1000 deep)."""
    for key, value in kwargs.items():
        if key in _FLAGS:
            if not isinstance(value, bool):
                raise ModelError(f"the model file declares {key}={value!r}; it must be true or false")
            continue
        if key in _FRACTIONS:
            low, high = _FRACTIONS[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise ModelError(f"the model file declares {key}={value!r}; it must be a number {low}..{high}")
            continue
        if isinstance(value, str) and len(value) < 100:
            continue  # names (e.g. the VGG weights' source): the network checks its own choices
        limit = 16 if key in _DEPTHS else 4096
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
            raise ModelError(f"the model file declares {key}={value!r}; a colorizer's {key} is a whole number "
                             f"1..{limit}: the file is damaged or not ours")


def check_architecture(name: str, kwargs: dict[str, Any], what: str = "the model") -> None:
    """Refuse a generator architecture before anything is allocated: numbers out of range, or more weights
    than a colorizer has or the machine could hold (counted on the meta device, so a file declaring
    base=1e7 costs nothing to refuse instead of a terabyte allocation).

    Raises:
        ModelError: unknown architecture, a bad number, too many parameters.
    """
    _check_arch_numbers(kwargs)
    meta_kwargs = {**kwargs, "pretrained": False} if "pretrained" in _init_params(name) else kwargs
    try:
        with torch.device("meta"):
            n_params = sum(p.numel() for p in build_generator(name, **meta_kwargs).parameters())
    except (TypeError, ValueError, RuntimeError, ArithmeticError) as exc:
        raise ModelError(f"the model's architecture is not one this version knows: {exc}") from exc
    try:
        check_model_parameters(n_params, what)
    except MagicBrushError as exc:
        raise ModelError(str(exc)) from exc


def validate_model(ckpt: dict[str, Any], name: str = "the model") -> None:
    """Check that a checkpoint's generator builds, loads its weights and colours a tiny picture.

    Raises:
        ModelError: with the reason (unknown or oversized architecture, weights that do not match, a
            forward pass that fails or gives the wrong shape or non-finite numbers).
    """
    model = generator_from_checkpoint(ckpt)
    try:
        with torch.no_grad():
            out = model(torch.zeros(1, 1, 32, 32))
    except Exception as exc:  # noqa: BLE001 - any failure here means the file is unusable
        raise ModelError(f"'{name}' does not run: {exc}") from exc
    if tuple(out.shape) != (1, 2, 32, 32) or not bool(torch.isfinite(out).all()):
        raise ModelError(f"'{name}' does not produce colours (output {tuple(out.shape)})")


def _init_params(name: str) -> set[str]:
    import inspect

    from .networks import GENERATORS

    cls = GENERATORS.get(name)
    return set(inspect.signature(cls.__init__).parameters) if cls else set()
