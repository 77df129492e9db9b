"""What the model picker and About say about a colorizer: origin, measured figures and licence.

Shipped models carry their figures and licence in ``models/manifest.json``; an installed model
(``magicbrush models install`` or the Train dialog) carries them in ``<name>.json`` beside its ``.pt``
(:func:`..core.models.write_model_sidecar`), which :func:`..core.models.list_models` reads.
"""

from __future__ import annotations

from typing import Any

from ..core.models import ModelInfo, figures_text

ORIGIN_LABEL = {"bundled": "shipped", "user": "trained", "env": "MAGICBRUSH_MODELS"}
UNKNOWN_LICENCE = "not recorded: ask whoever made this model"


def details(info: ModelInfo) -> tuple[str, dict[str, Any], str]:
    """(description, measured figures, licence) of a model, from the manifest or its sidecar."""
    return info.description, dict(info.metrics or {}), info.licence or UNKNOWN_LICENCE


def tooltip(info: ModelInfo) -> str:
    description, metrics, licence = details(info)
    lines = [f"{info.name} ({ORIGIN_LABEL.get(info.origin, info.origin)})"]
    if description:
        lines.append(description)
    lines.append(f"Measured: {figures_text(metrics)}")
    lines.append(f"Licence: {licence}")
    return "\n".join(lines)
