"""Style transfer for the main window, without widgets: engines, the session, the running job and its
live weights.

The main window asks (``run``, ``start_over``, ``set_weights``, ``stop``) and listens (``preview``,
``readout``, ``stylized``, ``running_changed``); it never touches a session or a job. A weight move
during a run goes into the run's :class:`~..core.style.controls.StyleControls`, which the optimisation
reads between steps (no thread torn down, no restart state). After a run a weight move refines the
picture reached in a new job, but only when the user turned "Live" on: nothing starts without Run.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..core.events import Finished, Metrics, Preview, Progress
from ..core.style.controls import StyleControls, StyleWeights, refine_steps
from ..core.style.settings import StyleSettings
from .preload import VGG, Preloader, wait_for_stage
from .worker import CANCELLED, Job

if TYPE_CHECKING:  # torch-heavy: imported by the worker threads that use them
    from ..core.style.engine import StyleEngine
    from ..core.style.gatys import StyleTransfer
    from .gallery import StyleGallery

PREVIEW_EVERY = 5  # style steps between canvas previews

# start_job(factory, name, status message, wire) -> Job: the window's runner (status bar, error dialogs).
StartJob = Callable[..., Job]


def describe_losses(values: dict[str, float], photo_style: float | None) -> tuple[str, str]:
    """Human words for a step's losses, and a tooltip with the raw numbers.

    Both terms are the normalised relative errors of :mod:`..core.style.losses`: ``style`` against the
    painting's Gram matrices, ``content`` against the photo's features (0 = the photo itself). "Style
    taken on" is how much of the photo's own style gap is closed; "photo kept" is 1 − the relative RMS
    error of the photo's features.
    """
    style, content = values.get("style", math.nan), values.get("content", math.nan)
    parts = []
    if photo_style and math.isfinite(style):
        parts.append(f"Style taken on: {max(0.0, min(1.0, 1.0 - style / photo_style)) * 100:.0f} %")
    if math.isfinite(content):
        parts.append(f"photo kept: {max(0.0, 1.0 - math.sqrt(max(content, 0.0))) * 100:.0f} %")
    raw = (f"style loss {style:.3g} (the photo's {photo_style:.3g}) \u00b7 content loss {content:.3g}"
           f" \u00b7 total {values.get('total', math.nan):.3g}") if photo_style else \
        f"style loss {style:.3g} \u00b7 content loss {content:.3g} \u00b7 total {values.get('total', math.nan):.3g}"
    return " \u00b7 ".join(parts) or "\u2013", raw


class StyleController(QObject):
    """Owns style engines (one per device), the style session of the current picture, the running job
    and its live controls.

    Args:
        start_job: runs a core generator as a :class:`.worker.Job` (the window's, for status and errors).
        gallery: where style images come from.
        engine: a fixed engine for every device (tests pass a tiny random-weight one).
        preloader: returns the window's preloader (VGG19 loading since start-up) or None.
    """

    preview = Signal(object, str)  # (H, W, 3) uint8 picture, caption
    readout = Signal(str, str)  # losses in words, the raw numbers (a tooltip)
    stylized = Signal(object, object, object)  # picture (H, W, 3) uint8, the content it came from, StyleSettings
    running_changed = Signal(bool)

    def __init__(self, start_job: StartJob, gallery: StyleGallery, *, engine: StyleEngine | None = None,
                 preloader: Callable[[], Preloader | None] = lambda: None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._start_job = start_job
        self._gallery = gallery
        self._fixed_engine = engine
        self._engines: dict[str, StyleEngine] = {}
        self._engine_lock = threading.Lock()
        self._preloader = preloader
        self.session: StyleTransfer | None = None
        self._session_key: tuple | None = None
        self.job: Job | None = None
        self.controls: StyleControls | None = None
        self._run_settings: StyleSettings | None = None
        self._content: np.ndarray | None = None

    # --- engines ------------------------------------------------------------------------------------

    def engine(self, device: str = "auto") -> StyleEngine:
        """The style engine for ``device``, created on first use. Imports torch (and builds VGG19 on the
        engine's first use): call it from a worker thread. Thread-safe."""
        if self._fixed_engine is not None:
            return self._fixed_engine
        with self._engine_lock:
            if device not in self._engines:
                from ..core.style.engine import StyleEngine

                self._engines[device] = StyleEngine(device)
            return self._engines[device]

    # --- state --------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.job is not None

    def has_picture_for(self, content: np.ndarray | None) -> bool:
        """Whether the session holds a stylized picture of ``content`` (something to refine)."""
        return (content is not None and self.session is not None and self.session.steps_done > 0
                and self._content is content)

    def forget(self) -> None:
        """A new photo: the session (its picture, targets) belongs to the old one."""
        self.session, self._session_key, self._content = None, None, None

    # --- actions ------------------------------------------------------------------------------------

    def run(self, content: np.ndarray, settings: StyleSettings, device: str) -> None:
        """Stylize ``content`` from the photo itself (a running job starts over instead)."""
        if self.job is not None:
            self.start_over(settings)
            return
        self._start(content, settings, device, refine=False)

    def start_over(self, settings: StyleSettings) -> None:
        """Back to the photo: the running optimisation restarts from it in the same job (with the current
        weights); without a run, the next ``run`` starts from the photo anyway."""
        if self.job is not None and self.controls is not None:
            self.controls.update(content_weight=settings.content_weight, style_weight=settings.style_weight,
                                 blend=settings.blend)
            self.controls.request_start_over()
        else:
            self.forget()

    def set_weights(self, content: np.ndarray | None, settings: StyleSettings, device: str, *, live: bool) -> bool:
        """A weight slider settled. During a run: the run takes the new weights at its next step. After a
        run, with ``live``: refine the picture reached in a new job. Returns True when something will change."""
        if self.job is not None and self.controls is not None:
            return self.controls.update(content_weight=settings.content_weight,
                                        style_weight=settings.style_weight, blend=settings.blend)
        if live and content is not None and self.has_picture_for(content) \
                and self._session_key == self._key(content, settings):
            self._start(content, settings, device, refine=True)
            return True
        return False

    def stop(self) -> None:
        """Stop at the next step; the picture reached becomes the result."""
        if self.job is not None:
            self.job.cancel()

    # --- the job ------------------------------------------------------------------------------------

    @staticmethod
    def _key(content: np.ndarray, settings: StyleSettings) -> tuple:
        return (id(content), settings.session_key())

    def _start(self, content: np.ndarray, settings: StyleSettings, device: str, *, refine: bool) -> None:
        key = self._key(content, settings)
        session = self.session if (refine and self._session_key == key) else None
        steps = refine_steps(settings.steps) if session is not None else settings.steps
        controls = StyleControls(StyleWeights(settings.content_weight, settings.style_weight, settings.blend))
        preloader, gallery = self._preloader(), self._gallery
        published = threading.Event()

        def job():
            nonlocal session
            if session is None:
                yield Progress(0, steps, "preparing the style")
                yield from wait_for_stage(preloader, VGG, steps)  # VGG19 loading since start-up
                from ..core.style.gatys import StyleTransfer

                styles = [gallery.load(name) for name in settings.styles]
                session = StyleTransfer(self.engine(device), content, styles, blend=list(settings.blend),
                                        size=settings.size, preserve_colors=settings.preserve_colors)
            # Published from the worker: the UI thread reads it in slots queued after this point.
            self.session, self._session_key, self._content = session, key, content
            published.set()
            yield from session.run(steps, controls=controls, preview_every=PREVIEW_EVERY, preview_first=True)

        def wire(j: Job) -> None:
            j.preview.connect(self._on_preview)
            j.metrics.connect(self._on_metrics)
            j.finished_event.connect(lambda ev, c=content: self._on_finished(ev, c))
            j.ended.connect(lambda outcome, c=content, p=published: self._on_ended(outcome, c, p))

        self.controls, self._run_settings = controls, settings
        self.job = self._start_job(job, "style", "Refining\u2026" if refine else "Stylizing\u2026", wire)
        self.running_changed.emit(True)

    def _current_settings(self) -> StyleSettings | None:
        """The run's settings with the weights it is using now (provenance and history name them)."""
        s = self._run_settings
        if s is None or self.controls is None:
            return s
        w = self.controls.weights
        return StyleSettings(s.styles, w.blend or s.blend, w.content_weight, w.style_weight, s.steps, s.size,
                             s.preserve_colors)

    def _on_preview(self, event: Preview) -> None:
        self.preview.emit(event.image, f"Style preview ({event.caption})")

    def _on_metrics(self, event: Metrics) -> None:
        if event.kind == "style":
            photo_style = self.session.photo_style_loss if self.session is not None else None
            self.readout.emit(*describe_losses(event.values, photo_style))

    def _on_finished(self, event: Finished, content: np.ndarray) -> None:
        settings = self._current_settings()
        if settings is not None:
            self.stylized.emit(event.result, content, settings)

    def _on_ended(self, outcome: str, content: np.ndarray, published: threading.Event) -> None:
        settings = self._current_settings()
        self.job, self.controls = None, None
        session = self.session
        if (outcome == CANCELLED and published.is_set() and settings is not None and session is not None
                and session.steps_done > 0 and self._content is content):
            # A stop keeps the picture reached (the session holds it).
            self.stylized.emit(session.result(), content, settings)
        self.running_changed.emit(False)
