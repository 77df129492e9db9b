"""Loading the heavy parts after the window shows: torch, the colorizer, then VGG19 for style transfer.

``import torch`` alone takes seconds on a small CPU, so the window imports none of it: it shows at once,
and a :class:`Preloader` thread loads torch, the selected colorizer and the VGG19 features, one stage
after another, while the status bar says what is loading. A job that needs one of them (Colorize, Run)
waits for that stage in its own worker thread (:func:`wait_for_stage` keeps reporting progress, so the
job can still be cancelled) and then reuses what was loaded; the UI thread never waits.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from PySide6.QtCore import QThread, Signal

from ..core.events import Progress
from .worker import readable_error

if TYPE_CHECKING:
    from ..core.colorize import Colorizer
    from ..core.style.engine import StyleEngine

log = logging.getLogger(__name__)

TORCH, COLORIZER, VGG = "torch", "colorizer", "vgg"
STAGES = (TORCH, COLORIZER, VGG)
MESSAGES = {
    TORCH: "Loading PyTorch\u2026",
    COLORIZER: "Loading the colorizer\u2026",
    VGG: "Loading VGG19 for style transfer\u2026",
}
POLL_SECONDS = 0.2


class Preloader(QThread):
    """Loads torch, a colorizer and the style engine's VGG19 in this order, on its own thread.

    Args:
        model: colorizer model name to load (None: skip the colorizer).
        device: "auto", "cpu" or "cuda".
        engine_factory: returns the window's style engine (thread-safe); None skips VGG19.
    """

    stage_started = Signal(str, str)  # stage, what the status line says
    stage_done = Signal(str)  # stage (its error, if any, is in ``errors``)
    all_done = Signal()

    def __init__(self, model: str | None, device: str,
                 engine_factory: Callable[[], StyleEngine] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.model, self.device = model, device
        self._engine_factory = engine_factory
        self._done = {stage: threading.Event() for stage in STAGES}
        self._colorizer: Colorizer | None = None
        self.cuda_available: bool | None = None
        self.errors: dict[str, str] = {}

    # --- for other threads ---------------------------------------------------------------------------

    def is_done(self, stage: str) -> bool:
        return self._done[stage].is_set()

    def wait_for(self, stage: str, timeout: float | None = None) -> bool:
        """Block the calling (worker) thread until ``stage`` has finished or failed; False on timeout."""
        return self._done[stage].wait(timeout)

    def colorizer_for(self, model: str | None, device: str) -> Colorizer | None:
        """The colorizer loaded here, if it is the one asked for (after the colorizer stage)."""
        if self.is_done(COLORIZER) and (model, device) == (self.model, self.device):
            return self._colorizer
        return None

    def stop_and_wait(self) -> None:
        """Skip the stages not started yet and wait for the current one (an import cannot be interrupted)."""
        self.requestInterruption()
        self.wait()

    # --- the thread ----------------------------------------------------------------------------------

    def run(self) -> None:  # noqa: D401 - QThread entry point
        work = {TORCH: self._load_torch, COLORIZER: self._load_colorizer, VGG: self._load_vgg}
        try:
            for stage in STAGES:
                if self.isInterruptionRequested():
                    break
                self.stage_started.emit(stage, MESSAGES[stage])
                try:
                    work[stage]()
                except Exception as exc:  # noqa: BLE001 - the job that needs it reports it properly
                    log.warning("preloading %s failed:\n%s", stage, traceback.format_exc())
                    self.errors[stage] = readable_error(exc)
                finally:
                    self._done[stage].set()
                self.stage_done.emit(stage)
        finally:
            for event in self._done.values():
                event.set()  # nobody waits forever on a stage that was skipped
            self.all_done.emit()

    def _load_torch(self) -> None:
        preload_torch_libraries()
        import torch

        self.cuda_available = bool(torch.cuda.is_available())

    def _load_colorizer(self) -> None:
        if self.model is None:
            return
        from ..core.colorize import Colorizer

        self._colorizer = Colorizer.load(self.model, self.device)

    def _load_vgg(self) -> None:
        if self._engine_factory is None:
            return
        from ..core.style.losses import PRESETS

        self._engine_factory().model_for(PRESETS["gatys"].deepest)


# torch's shared libraries, dependencies first (those a build lacks are skipped).
TORCH_LIBRARIES = ("libtorch_global_deps", "libc10", "libtorch_cpu", "libc10_cuda", "libtorch_cuda", "libtorch",
                   "libtorch_python")


def preload_torch_libraries() -> list[str]:
    """Map torch's big shared libraries before ``import torch``, on this (background) thread.

    ``import`` holds the GIL while the dynamic linker maps and relocates libtorch (hundreds of MB), so
    the window freezes for that long; ``ctypes.CDLL`` lets go of the GIL around ``dlopen``, and the
    import then finds the libraries already loaded (by name; default local binding, as torch loads
    them). ``bench/torch_import_stall.py`` measures it: on 2 loaded cores the longest main-thread gap while
    torch loads fell from about 0.9 s to 0.5 s. Best effort: any failure leaves the plain import to do the work.
    Returns the libraries loaded.
    """
    import ctypes
    import importlib.util

    if sys.platform not in ("linux", "darwin"):
        return []
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        return []
    libdir = Path(spec.origin).parent / "lib"
    suffix = ".dylib" if sys.platform == "darwin" else ".so"
    loaded = []
    for name in TORCH_LIBRARIES:
        path = libdir / f"{name}{suffix}"
        if not path.is_file():
            continue
        try:
            ctypes.CDLL(str(path))
        except OSError as exc:  # a library this build cannot load here: leave it to torch's own import
            log.debug("could not preload %s: %s", path.name, exc)
            break
        loaded.append(name)
    return loaded


def wait_for_stage(preloader: Preloader | None, stage: str, total: int = 0) -> Iterator[Progress]:
    """For a job generator: yield ``Progress`` until ``preloader`` has passed ``stage`` (nothing without one).

    Yielding (rather than blocking) lets the job's Cancel take effect while it waits.
    """
    if preloader is None:
        return
    while not preloader.wait_for(stage, POLL_SECONDS):
        yield Progress(0, total, f"waiting: {MESSAGES[stage].lower()}")
