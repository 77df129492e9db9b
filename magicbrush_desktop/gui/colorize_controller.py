"""Colorization for the main window, without widgets: the colorizer cache, the colorize job and the
colour-strength re-blends.

The main window asks (``colorize``, ``preview_strength``, ``apply_strength``, ``drop_previews``,
``cancel``) and listens (``colorized``, ``strength_preview``, ``strength_applied``, ``running_changed``);
it never touches a colorizer or a job. Every picture is computed on a worker thread:

- ``colorize`` runs the core pipeline's :func:`~..core.pipeline.colorize_job` as a window job (status
  bar, Stop, error dialog), with the cached colorizer when the model and device are the same, else one
  the background preloader loaded, else a fresh load, all in the worker.
- ``preview_strength`` (the slider while it is dragged) composes at screen size on one silent worker
  thread of its own, one request at a time: requests that arrive meanwhile are coalesced into the latest
  one, so a fast drag composes only the strengths it can show, and the UI thread never waits for a
  compose. (A plain thread, not a :class:`.worker.Job` per request: a drag would create and delete a
  ``QThread`` object per step, and a preview needs no status bar, Stop or error dialog.)
- ``apply_strength`` (the slider released) composes at full resolution as a window job; only the latest
  one is reported.

The signals carry the photo and chroma a picture was made from, so the window can tell whether it still
applies (another photo opened, another step shown) before it shows anything.
"""

from __future__ import annotations

import logging
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Generator, Iterator

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..core.events import Finished, Progress
from ..core.pipeline import COLORIZE_STEPS, ChromaAdjust, ColorizeResult, colorize_job
from ..core.sizing import fit_longest_side
from .preload import COLORIZER, Preloader, wait_for_stage
from .worker import Job

if TYPE_CHECKING:  # torch-heavy: imported by the worker threads that use them
    from ..core.colorize import ChromaPrediction, Colorizer
    from ..core.imageio import Photo

log = logging.getLogger(__name__)

# start_job(factory, name, status message, wire) -> Job: the window's runner (status bar, error dialogs).
StartJob = Callable[..., Job]


@dataclass(frozen=True)
class _PreviewRequest:
    """One screen-size re-blend asked for; ``generation`` orders requests and tells stale ones."""

    generation: int
    photo: Photo
    chroma: ChromaPrediction
    strength: float
    max_side: int


class ColorizeController(QObject):
    """Owns the loaded colorizer (one, for the last model and device used), the running colorize job,
    the screen-size strength preview worker and the full-resolution strength jobs.

    Args:
        start_job: runs a core generator as a :class:`.worker.Job` (the window's, for status and errors).
        preloader: returns the window's preloader (the colorizer loading since start-up) or None.
    """

    # ColorizeResult (colorizer, chroma, rgb, strength), the photo it is for, model name, device.
    colorized = Signal(object, object, str, str)
    # Screen-size (h, w, 3) uint8 picture, the photo and chroma it was composed from, the strength.
    strength_preview = Signal(object, object, object, float)
    # Full-resolution (H, W, 3) uint8 picture, the photo and chroma it was composed from, the strength.
    strength_applied = Signal(object, object, object, float)
    running_changed = Signal(bool)  # a colorize job started (True) or ended (False)
    # From the preview thread to the UI thread (queued): the request and its picture (None: it failed).
    _composed = Signal(object, object)

    def __init__(self, start_job: StartJob, *, preloader: Callable[[], Preloader | None] = lambda: None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._start_job = start_job
        self._preloader = preloader
        self._colorizer: Colorizer | None = None
        self._colorizer_key: tuple[str, str] | None = None
        self.job: Job | None = None  # the running colorize job
        # Screen-size previews: one thread, the request it composes, the latest waiting request, and
        # the generation up to which results are stale (raised by drop_previews()).
        self._executor: ThreadPoolExecutor | None = None
        self._in_flight: _PreviewRequest | None = None
        self._pending: _PreviewRequest | None = None
        self._generation = 0
        self._valid_from = 0
        # The photo's L* at screen size, kept between previews (resizing 40 MP costs more than the
        # compose): written by the preview worker, cleared by forget() on the UI thread.
        self._screen_l: tuple[Photo, int, np.ndarray] | None = None
        self._screen_l_lock = threading.Lock()
        # Full-resolution strength jobs: only the latest one's picture is reported.
        self._apply_generation = 0
        self._apply_jobs: list[Job] = []
        self._composed.connect(self._on_composed)

    # --- state --------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether a colorize job runs (strength re-blends do not count: they finish in a moment)."""
        return self.job is not None

    @property
    def colorizer(self) -> Colorizer | None:
        """The colorizer the last colorize job used (kept to colorize again without loading it)."""
        return self._colorizer

    def colorizer_for(self, model: str | None, device: str) -> Colorizer | None:
        """The cached colorizer if it is ``model`` on ``device``, else None."""
        return self._colorizer if self._colorizer_key == (model, device) else None

    @property
    def previewing(self) -> bool:
        """Whether a screen-size strength preview is being composed or waits to be."""
        return self._in_flight is not None or self._pending is not None

    def forget(self) -> None:
        """A new photo: previews of the old one are stale and its screen-size L* goes (the colorizer
        stays: it colours any photo)."""
        self.drop_previews()
        with self._screen_l_lock:
            self._screen_l = None

    # --- colorize -----------------------------------------------------------------------------------

    def colorize(self, photo: Photo, *, model: str, device: str, render_size: int, strength: float,
                 adjust_chroma: ChromaAdjust | None = None) -> bool:
        """Colorize ``photo`` in a window job; ``colorized`` follows. False when one is running already.

        Args:
            photo: the photo to colour.
            model: the model's name (or path).
            device: "auto", "cpu", "cuda" or "cuda:N".
            render_size: longest side the colours are predicted at.
            strength: colour strength 0..2.
            adjust_chroma: applied to the prediction in the worker (the brush lays its hints on it).
        """
        if self.job is not None:
            return False
        cached = self.colorizer_for(model, device)
        preloader = self._preloader()

        def supply() -> Generator[Progress, None, Colorizer]:
            # A generator, so it waits for the preloader in the worker and Cancel still works there.
            yield from wait_for_stage(preloader, COLORIZER, COLORIZE_STEPS)
            found = preloader.colorizer_for(model, device) if preloader is not None else None
            if found is None:
                from ..core.colorize import Colorizer

                found = Colorizer.load(model, device)
            return found

        def job() -> Iterator[object]:
            return colorize_job(photo, cached if cached is not None else supply, render_size=render_size,
                                strength=strength, adjust_chroma=adjust_chroma, model_name=model)

        def wire(j: Job) -> None:
            j.finished_event.connect(lambda ev, p=photo: self._on_colorized(ev, p, model, device))
            j.ended.connect(lambda _outcome, j=j: self._on_colorize_ended(j))

        self.job = self._start_job(job, "colorize", "Colorizing\u2026", wire)
        self.running_changed.emit(True)
        return True

    def _on_colorized(self, event: Finished, photo: Photo, model: str, device: str) -> None:
        result: ColorizeResult = event.result
        # Cached even when the photo changed meanwhile: the next Colorize reuses the loaded model.
        self._colorizer, self._colorizer_key = result.colorizer, (model, device)
        self.colorized.emit(result, photo, model, device)

    def _on_colorize_ended(self, job: Job) -> None:
        if self.job is job:
            self.job = None
            self.running_changed.emit(False)

    # --- live strength preview ----------------------------------------------------------------------

    def preview_strength(self, photo: Photo, chroma: ChromaPrediction, strength: float, max_side: int) -> None:
        """Re-blend ``chroma`` at ``strength`` at most ``max_side`` px on a worker; ``strength_preview``
        follows. Requests made while one is composed are coalesced: only the latest is composed next."""
        self._generation += 1
        self._pending = _PreviewRequest(self._generation, photo, chroma, strength, max(1, int(max_side)))
        if self._in_flight is None:
            self._start_preview()

    def drop_previews(self) -> None:
        """Previews asked for so far are stale (the slider was released, another step or photo is
        shown): the waiting one is not composed and a result still on its way is not reported."""
        self._pending = None
        self._valid_from = self._generation

    def _start_preview(self) -> None:
        request, self._pending = self._pending, None
        if request is None:
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="colour-preview")
        self._in_flight = request
        self._executor.submit(self._compose_preview, request)

    def _compose_preview(self, request: _PreviewRequest) -> None:
        """On the preview thread: compose, then hand the picture to the UI thread."""
        image: np.ndarray | None = None
        try:
            from ..core.colorize import compose

            image = compose(self._screen_lightness(request.photo, request.max_side), request.chroma,
                            request.strength)
        except Exception:  # noqa: BLE001 - a failed preview shows nothing; the committed strength reports
            log.error("colour preview failed:\n%s", traceback.format_exc())
        self._composed.emit(request, image)  # queued: this object lives on the UI thread

    def _screen_lightness(self, photo: Photo, side: int) -> np.ndarray:
        """The photo's L* ((h, w) float32) shrunk to at most ``side`` px (runs on the preview worker)."""
        with self._screen_l_lock:
            cached = self._screen_l
        if cached is not None and cached[0] is photo and cached[1] == side:
            return cached[2]
        from ..core.imageio import resize_image

        lightness = resize_image(photo.lightness, fit_longest_side(*photo.lightness.shape, side, enlarge=False))
        with self._screen_l_lock:
            self._screen_l = (photo, side, lightness)
        return lightness

    def _on_composed(self, request: _PreviewRequest, image: np.ndarray | None) -> None:
        if self._in_flight is not request:
            return  # cancel(wait=True) forgot it
        self._in_flight = None
        # A result whose request came before drop_previews() is stale. One superseded only by a newer
        # request still waiting is shown: it is the newest picture there is (dropping it would leave a
        # fast drag with nothing on screen until the mouse rests), and the newer one follows at once.
        if image is not None and request.generation > self._valid_from:
            self.strength_preview.emit(image, request.photo, request.chroma, request.strength)
        self._start_preview()  # the latest request that came meanwhile, if any

    # --- committed strength -------------------------------------------------------------------------

    def apply_strength(self, photo: Photo, chroma: ChromaPrediction, strength: float) -> None:
        """Compose ``chroma`` at ``strength`` at full resolution in a window job; ``strength_applied``
        follows, for the latest request only. Previews asked for before are dropped: they must not
        paint over the committed picture."""
        self.drop_previews()
        self._apply_generation += 1
        generation = self._apply_generation

        def job() -> Iterator[Finished]:
            from ..core.colorize import compose

            yield Finished(compose(photo.lightness, chroma, strength))

        def done(event: Finished) -> None:
            if generation == self._apply_generation:  # a newer strength superseded this one otherwise
                self.strength_applied.emit(event.result, photo, chroma, strength)

        def wire(j: Job) -> None:
            j.finished_event.connect(done)
            j.ended.connect(lambda _outcome, j=j: self._on_apply_ended(j))

        for older in self._apply_jobs:
            older.cancel()  # not started yet: skipped; composing: its picture is dropped anyway
        self._apply_jobs.append(self._start_job(job, "colour strength", "Applying colour strength\u2026", wire))

    def _on_apply_ended(self, job: Job) -> None:
        if job in self._apply_jobs:
            self._apply_jobs.remove(job)

    # --- stopping -----------------------------------------------------------------------------------

    def cancel(self, wait: bool = False) -> None:
        """Stop the colorize job and the strength jobs at their next step, and compose no more previews.
        With ``wait``, wait for them (and the preview being composed, and its thread) and forget them:
        their ended signals may come late, or never when the window is closing."""
        self.drop_previews()
        jobs = [j for j in (self.job, *self._apply_jobs) if j is not None]
        for job in jobs:
            job.cancel()
        if not wait:
            return
        for job in jobs:
            job.wait()
        if self._executor is not None:
            self._executor.shutdown(wait=True)  # the preview on its way, if any, then the thread ends
            self._executor = None
        was_running = self.job is not None
        self.job, self._in_flight, self._apply_jobs = None, None, []
        if was_running:
            self.running_changed.emit(False)
