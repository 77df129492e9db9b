"""One pipeline per job: colorize a photo, colorize then stylize it, and run any job to its end.

Every front end (the desktop window, its batch dialog, the command line, the packaged app's self-test)
colours and paints photos through these generators, so a setting honoured by one is honoured by all.
They yield :mod:`.events` like every long core job: a front end shows the ``Progress`` and stops the job
by closing the generator between steps.

Qt-free, and light to import: torch-heavy modules (the colorizer, style transfer) are imported by the
jobs when they run, so the command line's parser and ``--help`` never wait for torch.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Generator, Iterable, Iterator, Sequence, Union

import numpy as np

from .events import Event, Finished, Progress

if TYPE_CHECKING:
    from .colorize import ChromaPrediction, Colorizer
    from .hints import HintSet
    from .imageio import Photo
    from .style.engine import StyleEngine
    from .style.gatys import StyleTransfer
    from .style.settings import StyleSettings

# The colorize job's units: load the model, predict the chroma, compose at full resolution.
COLORIZE_STEPS = 3

ColorizerLoader = Callable[[], Union["Colorizer", Generator[Progress, None, "Colorizer"]]]
"""Supplies the colorizer when the job needs it: returns one, or is a generator that yields ``Progress``
while it waits (e.g. for a background preload, so Cancel still works) and then returns one."""

ColorizerSource = Union["Colorizer", ColorizerLoader]
"""A loaded colorizer (used as it is, no load step), or a :data:`ColorizerLoader`."""

ChromaAdjust = Callable[["ChromaPrediction"], "ChromaPrediction"]
"""Changes the predicted chroma before it is composed (the desktop brush lays its hints on it this way)."""


@dataclass(frozen=True)
class ColorizeResult:
    """What a colorize job produced: enough to re-blend at another strength without new inference."""

    colorizer: Colorizer  # the model used (a GUI keeps it to compose again)
    chroma: ChromaPrediction  # the render-size prediction, hints applied
    rgb: np.ndarray  # (H, W, 3) uint8 at the photo's own size
    strength: float


def run_to_end(job: Iterable[Event], on_event: Callable[[Event], None] | None = None) -> Finished:
    """Run a job generator to its end and return its ``Finished`` event.

    ``on_event`` sees every event first (progress, previews, metrics). The generator is always closed,
    also when it or ``on_event`` raises, so the job's ``finally`` blocks clean up (temporary files,
    a training run's ``last.pt``).

    Raises:
        RuntimeError: the job ended without a ``Finished`` event (a bug in the job).
    """
    finished: Finished | None = None
    try:
        # Iterated to exhaustion rather than returned from at Finished: code a job runs after its last
        # yield still runs, exactly as in a plain ``for`` loop over it.
        for event in job:
            if on_event is not None:
                on_event(event)
            if isinstance(event, Finished):
                finished = event
    finally:
        close = getattr(job, "close", None)
        if close is not None:
            close()
    if finished is None:
        raise RuntimeError("the job ended without a Finished event")
    return finished


def lazy_colorizer(model: str | Path | None, device: str = "auto") -> Callable[[], Colorizer]:
    """A :data:`ColorizerLoader` that loads ``model`` on its first call and returns the same one after.

    For a batch whose models load on the first photo (so opening the batch dialog costs nothing).
    """
    loaded: list[Colorizer] = []

    def load() -> Colorizer:
        if not loaded:
            from .colorize import Colorizer

            loaded.append(Colorizer.load(model, device))
        return loaded[0]

    return load


def _obtain_colorizer(source: ColorizerSource) -> Generator[Progress, None, Colorizer]:
    """The colorizer of ``source``, yielding the loader's waiting ``Progress`` on the way."""
    # A Colorizer is not callable; anything callable is a loader (a function, a lambda, a bound method).
    if not callable(source):
        return source
    supplied = source()
    if inspect.isgenerator(supplied):
        supplied = yield from supplied
    if supplied is None:
        raise RuntimeError("the colorizer loader returned nothing")
    return supplied


def colorize_job(
    photo: Photo,
    colorizer: ColorizerSource,
    *,
    render_size: int | None = None,
    strength: float = 1.0,
    hints: HintSet | None = None,
    adjust_chroma: ChromaAdjust | None = None,
    model_name: str | None = None,
) -> Iterator[Progress | Finished]:
    """Colorize one photo: ``Progress`` for load, predict and compose, then ``Finished``.

    Args:
        photo: the photo (its full-resolution lightness receives the colour).
        colorizer: a loaded colorizer, or a loader called (in the job, so on a worker thread) to get one;
            only a loader gives the "loading model" step.
        render_size: longest side the colours are predicted at (None: the default).
        strength: colour strength 0..2.
        hints: colour hints spread over the automatic prediction (a ``NAME.hints.json``'s).
        adjust_chroma: applied to the prediction after ``hints``, before composing (the desktop brush
            passes its live hints and keeps the propagator it builds this way).
        model_name: named in the loading step's message.
    Yields:
        ``Progress(i, 3, ...)`` before each unit (a loader's own waiting ``Progress`` in between), then
        ``Finished(result=ColorizeResult, summary={"model": name, "render_size": (w, h)})``.
    """
    if callable(colorizer):
        yield Progress(0, COLORIZE_STEPS, f"loading model {model_name}" if model_name else "loading the colorizer")
    model = yield from _obtain_colorizer(colorizer)
    yield Progress(1, COLORIZE_STEPS, "predicting colours")
    chroma = model.predict(photo, render_size)
    if hints:
        from .hints import apply_hints

        chroma = apply_hints(photo.lightness, chroma, hints)
    if adjust_chroma is not None:
        chroma = adjust_chroma(chroma)
    yield Progress(2, COLORIZE_STEPS, "composing at full resolution")
    rgb = model.compose(photo, chroma, strength)
    yield Finished(ColorizeResult(model, chroma, rgb, strength),
                   {"model": model.name, "render_size": chroma.render_size})


@dataclass(frozen=True)
class ColorizeOptions:
    """The colorize step of :func:`colorize_then_stylize`: which colorizer, at what size and strength."""

    colorizer: ColorizerSource
    render_size: int | None = None
    strength: float = 1.0
    hints: HintSet | None = None


def colorize_then_stylize(
    photo: Photo,
    *,
    colorize: ColorizeOptions | None,
    style: StyleSettings | None,
    engine: StyleEngine | Callable[[], StyleEngine] | None = None,
    style_images: Sequence[np.ndarray] | Callable[[], Sequence[np.ndarray]] = (),
    on_session: Callable[[StyleTransfer], None] | None = None,
) -> Iterator[Event]:
    """Colorize a photo (optional), then stylize the result (optional): the events of both jobs in turn.

    Args:
        photo: the photo.
        colorize: the colorize step, or None to stylize the photo as it is.
        style: the style run (styles, weights, steps, size...), or None to colorize only.
        engine: the style engine, or a function that returns it (called only when a style step runs,
            so a colorize-only batch never loads VGG19).
        style_images: the styles' images, one per ``style.styles`` entry (or a function returning them).
        on_session: sees the style session once it is built (the CLI reads how many steps were done
            when it is stopped).
    Yields:
        The colorize job's ``Progress``, the style run's ``Progress``/``Metrics``/``Preview``, then
        ``Finished(result=(H, W, 3) uint8, summary=...)``: the style run's summary (losses, steps,
        seconds...; empty without a style step) plus ``"model"``, the colorizer's name or None.
    Raises:
        ValueError: neither step, or a style step without an engine.
    """
    if colorize is None and style is None:
        raise ValueError("colorize_then_stylize needs a colorize step, a style step or both")
    if style is not None and engine is None:
        raise ValueError("a style step needs a style engine")
    rgb = photo.rgb
    model_name: str | None = None
    if colorize is not None:
        done = yield from _forward(colorize_job(photo, colorize.colorizer, render_size=colorize.render_size,
                                                strength=colorize.strength, hints=colorize.hints))
        rgb, model_name = done.result.rgb, done.result.colorizer.name
    if style is None:
        yield Finished(rgb, {"model": model_name})
        return
    from .style.gatys import StyleTransfer

    images = style_images() if callable(style_images) else style_images
    session = StyleTransfer(engine() if callable(engine) else engine, rgb, list(images), blend=list(style.blend),
                            size=style.size, layers=style.layers, style_scale=style.style_scale,
                            preserve_colors=style.preserve_colors, init=style.init)
    if on_session is not None:
        on_session(session)
    done = yield from _forward(session.run(style.steps, content_weight=style.content_weight,
                                           style_weight=style.style_weight, tv_weight=style.tv_weight,
                                           optimizer=style.optimizer, preview_every=0))
    yield Finished(done.result, {**done.summary, "model": model_name})


def _forward(job: Iterator[Event]) -> Generator[Event, None, Finished]:
    """Yield a sub-job's events except its ``Finished``, which is returned; the sub-job is closed when the
    outer job is (a Stop during the colorize step stops there)."""
    finished: Finished | None = None
    try:
        for event in job:
            if isinstance(event, Finished):
                finished = event
            else:
                yield event
    finally:
        close = getattr(job, "close", None)
        if close is not None:
            close()
    if finished is None:
        raise RuntimeError("a step of the pipeline ended without a Finished event")
    return finished


__all__ = ["COLORIZE_STEPS", "ChromaAdjust", "ColorizeOptions", "ColorizeResult", "ColorizerLoader",
           "ColorizerSource", "colorize_job", "colorize_then_stylize", "lazy_colorizer", "run_to_end"]
