"""How long will training take? A short measured warm-up, before the real run starts.

Runs the real training loop (:func:`.train.train`) for a few steps into a throw-away folder, on the
user's photos and settings, and times the steps (the first is left out: it pays for warm-up costs) and
the validation pass that ends the short run. The estimate is steps-per-epoch × seconds-per-step plus
one validation per epoch.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import replace
from typing import Iterator

from .events import Finished, Metrics, Progress
from .train import TrainConfig, train

WARMUP_STEPS = 4


def estimate_training(config: TrainConfig, steps: int = WARMUP_STEPS) -> Iterator[Progress | Finished]:
    """Yield Progress while measuring, then Finished(seconds, {"per_step": s, "validation": s,
    "steps_per_epoch": n, "measured_steps": k})."""
    with tempfile.TemporaryDirectory(prefix="magicbrush-estimate-") as tmp:
        short = replace(config, run_dir=tmp, max_steps=steps, epochs=max(1, config.epochs))
        stamps: list[float] = []
        photos = 0
        last_step_at = finished_at = None
        data: dict = {}
        job = train(short)
        try:
            for event in job:
                if isinstance(event, Metrics) and event.kind == "train":
                    stamps.append(time.monotonic())
                    last_step_at = stamps[-1]
                    yield Progress(len(stamps), steps, f"measuring: step {len(stamps)} of {steps}")
                elif isinstance(event, Progress) and event.message.startswith("reading photos"):
                    photos = max(photos, event.total)
                    yield Progress(0, steps, event.message)
                elif isinstance(event, Finished):
                    finished_at = time.monotonic()
                    data = (event.summary or {}).get("data", {})
                    break
        finally:
            job.close()
    if len(stamps) >= 2:
        per_step = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
    else:
        per_step = 0.0
    if finished_at is None:
        return  # stopped before the measurement was complete: no estimate
    validation = max(0.0, finished_at - last_step_at) if last_step_at is not None else 0.0
    n_train = int(data.get("train", 0) or 0)
    if not n_train and photos:
        n_train = int(photos * (1.0 - config.val_split - getattr(config, "test_split", 0.0)))
    steps_per_epoch = max(1, n_train // config.batch_size) if n_train else 1
    total = config.epochs * (steps_per_epoch * per_step + validation)
    if config.max_steps:
        total = min(total, config.max_steps * per_step + validation)
    yield Finished(total, {"per_step": per_step, "validation": validation, "steps_per_epoch": steps_per_epoch,
                           "measured_steps": len(stamps)})


def format_duration(seconds: float) -> str:
    """ "about 40 s", "about 12 min", "about 3 h 20 min" (rounded the way people say it)."""
    if not math.isfinite(seconds) or seconds <= 0:
        return "under a second"
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"about {round(minutes)} min"
    hours, rest = divmod(round(minutes), 60)
    return f"about {hours} h {rest:02d} min" if rest else f"about {hours} h"
