"""What the model picker and About say about a colorizer: origin, validation figures and licence.

Shipped models carry their figures and licence in ``models/manifest.json``; an installed model
(``magicbrush models install`` or the Train dialog) carries them in ``<name>.json`` beside its ``.pt``
(:func:`..core.models.write_model_sidecar`), which :func:`..core.models.list_models` reads.
"""

from __future__ import annotations

from typing import Any

from ..core.models import ModelInfo

ORIGIN_LABEL = {"bundled": "shipped", "user": "trained", "env": "MAGICBRUSH_MODELS"}
UNKNOWN_LICENCE = "not recorded: ask whoever made this model"


def details(info: ModelInfo) -> tuple[str, dict[str, Any], str]:
    """(description, validation figures, licence) of a model, from the manifest or its sidecar."""
    return info.description, dict(info.metrics or {}), info.licence or UNKNOWN_LICENCE


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
