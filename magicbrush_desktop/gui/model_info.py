"""What the model picker and About say about a colorizer: origin, validation figures and licence.

Shipped models carry their figures and licence in ``models/manifest.json``. A model trained in the
Train dialog gets ``<name>.json`` beside its ``.pt`` (written here after the install) with its best
validation figures, so the picker shows them without loading a checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..core.models import ModelInfo

ORIGIN_LABEL = {"bundled": "shipped", "user": "trained", "env": "MAGICBRUSH_MODELS"}
TRAINED_LICENCE = ("yours: trained on your own photos (a pretrained encoder's ImageNet terms may apply)")
UNKNOWN_LICENCE = "not recorded: ask whoever made this model"


def sidecar_path(model_path: Path) -> Path:
    return Path(model_path).with_suffix(".json")


def read_sidecar(model_path: Path) -> dict[str, Any]:
    try:
        data = json.loads(sidecar_path(model_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_sidecar(model_path: Path, metrics: dict[str, Any], description: str = "",
                  licence: str = TRAINED_LICENCE) -> Path:
    """Record a trained model's validation figures next to it (numbers and short texts only)."""
    keep = {k: v for k, v in (metrics or {}).items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)}
    path = sidecar_path(model_path)
    path.write_text(json.dumps({"description": description, "licence": licence, "metrics": keep}, indent=1),
                    encoding="utf-8")
    return path


def details(info: ModelInfo) -> tuple[str, dict[str, Any], str]:
    """(description, validation figures, licence) of a model, from the manifest or its sidecar."""
    extra = read_sidecar(info.path) if info.origin != "bundled" else {}
    description = info.description or str(extra.get("description", ""))
    metrics = dict(info.metrics or extra.get("metrics") or {})
    licence = info.licence or str(extra.get("licence", "")) or (
        TRAINED_LICENCE if info.origin == "user" and extra else UNKNOWN_LICENCE)
    return description, metrics, licence


def figures_text(metrics: dict[str, Any]) -> str:
    """ "PSNR 22.76 dB · SSIM 0.933 · colourfulness 29.8 (BSDS500 test (200 photos))" or a plain no."""
    parts = []
    if isinstance(metrics.get("psnr"), (int, float)):
        parts.append(f"PSNR {metrics['psnr']:.2f} dB")
    if isinstance(metrics.get("ssim"), (int, float)):
        parts.append(f"SSIM {metrics['ssim']:.3f}")
    if isinstance(metrics.get("colourfulness"), (int, float)):
        parts.append(f"colourfulness {metrics['colourfulness']:.1f}")
    if not parts:
        return "no validation figures recorded"
    text = " \u00b7 ".join(parts)
    where = metrics.get("set") or (f"epoch {int(metrics['epoch'])} validation" if "epoch" in metrics else "")
    return f"{text} ({where})" if where else text


def tooltip(info: ModelInfo) -> str:
    description, metrics, licence = details(info)
    lines = [f"{info.name} ({ORIGIN_LABEL.get(info.origin, info.origin)})"]
    if description:
        lines.append(description)
    lines.append(f"Validation: {figures_text(metrics)}")
    lines.append(f"Licence: {licence}")
    return "\n".join(lines)
