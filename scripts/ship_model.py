"""Turn a training run's best checkpoint into a shipped model: float16 weights under ``models/``,
its sha256 in ``models/manifest.json`` (made the default with ``--default``).

    python scripts/ship_model.py RUN_DIR/best.pt --name magicbrush-colorizer-v1 --default \
        --description "..." [--metrics-json FILE] [--calibrate | --chroma-gain G]

``--calibrate`` (re)fits the chroma gain on the run's own validation split (rebuilt from the settings
stored in the checkpoint), for checkpoints written before the training loop calibrated by itself.
``--chroma-gain`` stores a gain chosen by hand instead (for instance the one at which a new model is as
colourful on the validation photos as the model it replaces); the validation figures stay the run's.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from magicbrush_desktop.core.checkpoint import (  # noqa: E402
    generator_from_checkpoint,
    load_checkpoint,
    make_checkpoint,
    save_checkpoint,
)
from magicbrush_desktop.core.models import MANIFEST, sha256_of  # noqa: E402


def _calibrate(generator, config: dict) -> dict:  # noqa: ANN001
    """Validation figures and fitted chroma gain on the run's own validation split."""
    import torch

    from magicbrush_desktop.core.dataset import load_splits
    from magicbrush_desktop.core.train import validate

    *_, (_, val_set, _, _) = load_splits(Path(config["data_dir"]), config["image_size"],
                                         val_split=config["val_split"], test_split=config["test_split"],
                                         seed=config["seed"])
    metrics, _ = validate(generator, val_set, config["image_size"], torch.device("cpu"), config["max_val_images"])
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--name", required=True)
    parser.add_argument("--description", default="")
    parser.add_argument("--default", action="store_true")
    parser.add_argument("--metrics-json", type=Path, help="benchmark figures to record in the manifest")
    parser.add_argument("--models-dir", type=Path, default=REPO / "models")
    parser.add_argument("--calibrate", action="store_true", help="fit the chroma gain on the validation split")
    parser.add_argument("--chroma-gain", type=float, help="store this chroma gain (0.5..2) instead of the run's")
    parser.add_argument("--temperature", type=float,
                        help="a colour-class model's annealing temperature (0.05..1) instead of the run's")
    args = parser.parse_args()

    ckpt = load_checkpoint(args.checkpoint)
    if args.temperature is not None:
        kwargs = ckpt["arch"].get("kwargs", {})
        if kwargs.get("head") != "classes" or not 0.05 <= args.temperature <= 1.0:
            parser.error("--temperature takes 0.05..1 and needs a colour-class model (--head classes)")
        ckpt["arch"] = {**ckpt["arch"], "kwargs": {**kwargs, "temperature": args.temperature}}
    generator = generator_from_checkpoint(ckpt)
    validation = dict(ckpt.get("metrics", {}))
    inference = dict(ckpt.get("inference", {}))
    if args.calibrate:
        validation = _calibrate(generator, ckpt["config"])
        inference["chroma_gain"] = validation["chroma_gain"]
        print(json.dumps(validation))
    if args.chroma_gain is not None:
        if args.calibrate or not 0.5 <= args.chroma_gain <= 2.0:
            parser.error("--chroma-gain takes a gain in 0.5..2 and does not go with --calibrate")
        inference["chroma_gain"] = args.chroma_gain
    benchmark = json.loads(args.metrics_json.read_text()) if args.metrics_json else {}
    shipped = make_checkpoint(generator, ckpt["arch"], config=ckpt.get("config"), data=ckpt.get("data"),
                              metrics={"validation": validation, "benchmark": benchmark}, inference=inference,
                              half=True)
    target = args.models_dir / f"{args.name}.pt"
    save_checkpoint(shipped, target)
    manifest_path = args.models_dir / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"default": None, "models": []}
    manifest["models"] = [m for m in manifest["models"] if m["name"] != args.name]
    manifest["models"].append({
        "name": args.name, "file": target.name, "sha256": sha256_of(target), "bytes": target.stat().st_size,
        "arch": ckpt["arch"], "description": args.description, "metrics": benchmark, "inference": inference,
        "licence": "research and personal use (trained on ImageNet, BSDS500 and scraped face photos)",
    })
    if args.default or manifest.get("default") is None:
        manifest["default"] = args.name
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"{target} ({target.stat().st_size / 1e6:.1f} MB), sha256 {sha256_of(target)}")


if __name__ == "__main__":
    main()
