"""The core pipeline (one colorize job, colorize-then-stylize once, run a job to its end) and the CLI's one
progress consumer, on a tiny colorizer and a tiny random-weight VGG."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from magicbrush_desktop.cli.common import run_with_progress
from magicbrush_desktop.core.colorize import Colorizer
from magicbrush_desktop.core.events import Finished, Metrics, Progress
from magicbrush_desktop.core.hints import Hint, HintSet, apply_hints
from magicbrush_desktop.core.imageio import Photo, read_photo
from magicbrush_desktop.core.pipeline import (
    COLORIZE_STEPS, ColorizeOptions, ColorizeResult, colorize_job, colorize_then_stylize, lazy_colorizer, run_to_end,
)
from magicbrush_desktop.core.style.settings import StyleSettings

from .conftest import make_colour_image, tiny_style_engine


@pytest.fixture(scope="module")
def colorizer(tiny_model) -> Colorizer:
    return Colorizer.load(tiny_model, "cpu")


@pytest.fixture
def photo(tmp_path) -> Photo:
    path = tmp_path / "grey.png"
    Image.fromarray(make_colour_image(40, 32, seed=5)).convert("L").save(path)
    return read_photo(path)


def _settings(**changes) -> StyleSettings:
    values = dict(styles=("a",), blend=(1.0,), content_weight=1.0, style_weight=5.0, steps=2, size=32,
                  preserve_colors=False)
    values.update(changes)
    return StyleSettings(**values)


# --- colorize_job ----------------------------------------------------------------------------------


def test_colorize_job_with_a_loaded_colorizer_predicts_and_composes(colorizer, photo):
    events = list(colorize_job(photo, colorizer, render_size=64, strength=0.7))
    progress = [e for e in events if isinstance(e, Progress)]
    assert [(p.done, p.total) for p in progress] == [(1, COLORIZE_STEPS), (2, COLORIZE_STEPS)]  # no load step
    done = events[-1]
    assert isinstance(done, Finished) and isinstance(done.result, ColorizeResult)
    assert done.result.colorizer is colorizer and done.result.strength == 0.7
    assert np.array_equal(done.result.rgb, colorizer.colorize(photo, 64, 0.7))
    assert done.summary == {"model": "tiny", "render_size": done.result.chroma.render_size}
    assert max(done.result.chroma.render_size) == 64


def test_colorize_job_loader_may_wait_with_progress_then_return_the_colorizer(colorizer, photo):
    calls = []

    def loader():  # like the desktop window's: wait for the background preload, yielding, then hand it over
        calls.append(1)
        yield Progress(0, COLORIZE_STEPS, "waiting: loading the colorizer")
        return colorizer

    events = list(colorize_job(photo, loader, render_size=64, model_name="tiny"))
    messages = [e.message for e in events if isinstance(e, Progress)]
    assert messages == ["loading model tiny", "waiting: loading the colorizer", "predicting colours",
                        "composing at full resolution"]
    assert calls == [1] and events[-1].result.colorizer is colorizer
    # A plain function works too.
    assert run_to_end(colorize_job(photo, lambda: colorizer, render_size=64)).result.colorizer is colorizer


def test_colorize_job_hints_match_the_cli_path_and_adjust_chroma_comes_after_them(colorizer, photo):
    hints = HintSet([Hint.dot(0.3, 0.4, 0.2, "#d03020")])
    with_hints = run_to_end(colorize_job(photo, colorizer, render_size=64, hints=hints)).result
    by_hand = colorizer.compose(photo, apply_hints(photo.lightness, colorizer.predict(photo, 64), hints), 1.0)
    assert np.array_equal(with_hints.rgb, by_hand)
    seen = []

    def grey(chroma):  # noqa: ANN001, ANN202 - a chroma post-processor: sees the hinted chroma, removes colour
        seen.append(chroma.ab.copy())
        chroma.coef_a[:] = 0
        chroma.coef_b[:] = 0
        return chroma

    result = run_to_end(colorize_job(photo, colorizer, render_size=64, hints=hints, adjust_chroma=grey)).result
    # Two runs of the network, so equal up to float rounding: on a CPU with bf16/AVX-512 kernels, oneDNN's
    # choice of kernel can differ between the first calls and later ones (seen: 1e-5 of a*b* on 0.3 %).
    np.testing.assert_allclose(seen[0], with_hints.chroma.ab, rtol=0, atol=1e-3)
    spread = result.rgb.astype(int).max(axis=2) - result.rgb.astype(int).min(axis=2)
    assert spread.max() <= 2  # R = G = B up to rounding: the adjusted chroma was composed


def test_lazy_colorizer_loads_once(tiny_model, monkeypatch):
    loads = []
    real = Colorizer.load

    def counting(model=None, device="auto"):  # noqa: ANN001, ANN202
        loads.append(model)
        return real(model, device)

    monkeypatch.setattr(Colorizer, "load", counting)
    load = lazy_colorizer(tiny_model, "cpu")
    assert not loads  # nothing until the first photo
    assert load() is load()
    assert loads == [tiny_model]


# --- run_to_end ------------------------------------------------------------------------------------


def test_run_to_end_returns_finished_and_shows_every_event():
    seen = []

    def job():
        yield Progress(0, 2, "one")
        yield Metrics(1, {"loss": 0.5})
        yield Finished("result", {"n": 2})

    finished = run_to_end(job(), seen.append)
    assert finished.result == "result" and finished.summary == {"n": 2}
    assert [type(e).__name__ for e in seen] == ["Progress", "Metrics", "Finished"]


def test_run_to_end_closes_the_job_when_a_step_fails_and_refuses_a_job_without_finished():
    cleaned = []

    def job():
        try:
            yield Progress(0, 1)
            yield Finished()
        finally:
            cleaned.append("closed")

    def refuse(event):  # noqa: ANN001, ANN202
        raise KeyError("the caller failed")

    with pytest.raises(KeyError):
        run_to_end(job(), refuse)
    assert cleaned == ["closed"]  # the job's finally ran at once, not at garbage collection
    with pytest.raises(RuntimeError, match="without a Finished"):
        run_to_end(iter([Progress(0, 1)]))


# --- colorize_then_stylize -------------------------------------------------------------------------


def test_colorize_then_stylize_colorize_only_never_touches_the_style_engine(colorizer, photo):
    def no_engine():
        raise AssertionError("the engine must not load for a colorize-only job")

    finished = run_to_end(colorize_then_stylize(
        photo, colorize=ColorizeOptions(colorizer, render_size=64, strength=1.2), style=None, engine=no_engine))
    assert np.array_equal(finished.result, colorizer.colorize(photo, 64, 1.2))
    assert finished.summary == {"model": "tiny"}


def test_colorize_then_stylize_paints_the_colorized_picture(colorizer, photo, monkeypatch):
    from magicbrush_desktop.core.style import gatys

    contents = []

    class Recording(gatys.StyleTransfer):
        def __init__(self, engine, content, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
            contents.append(content)
            super().__init__(engine, content, *args, **kwargs)

    monkeypatch.setattr(gatys, "StyleTransfer", Recording)
    engine = tiny_style_engine()
    painting = make_colour_image(32, 32, seed=9)
    sessions = []
    events = list(colorize_then_stylize(photo, colorize=ColorizeOptions(colorizer, render_size=64),
                                        style=_settings(steps=2), engine=lambda: engine,
                                        style_images=lambda: [painting], on_session=sessions.append))
    assert sum(isinstance(e, Finished) for e in events) == 1  # the colorize step's Finished is not passed on
    totals = [e.total for e in events if isinstance(e, Progress)]
    assert COLORIZE_STEPS in totals and 2 in totals
    finished = events[-1]
    assert finished.result.shape == photo.rgb.shape and finished.summary["model"] == "tiny"
    assert finished.summary["steps"] == 2 and "losses_final" in finished.summary
    session = sessions[0]
    assert session.steps_done == 2 and session.engine is engine
    # The session started from the colorized picture, not from the grey photo.
    assert len(contents) == 1 and np.array_equal(contents[0], colorizer.colorize(photo, 64))
    assert not np.array_equal(contents[0], photo.rgb)


def test_colorize_then_stylize_style_only_and_refusals(photo):
    engine = tiny_style_engine()
    finished = run_to_end(colorize_then_stylize(photo, colorize=None, style=_settings(steps=1), engine=engine,
                                                style_images=[make_colour_image(24, 24, seed=2)]))
    assert finished.result.shape == photo.rgb.shape and finished.summary["model"] is None
    with pytest.raises(ValueError):
        next(colorize_then_stylize(photo, colorize=None, style=None))
    with pytest.raises(ValueError):
        next(colorize_then_stylize(photo, colorize=None, style=_settings()))


def test_stopping_during_the_colorize_step_closes_it(colorizer, photo):
    job = colorize_then_stylize(photo, colorize=ColorizeOptions(colorizer, render_size=64), style=_settings(),
                                engine=lambda: pytest.fail("stopped before the style step"))
    assert isinstance(next(job), Progress)
    job.close()  # a Stop between the colorize job's steps: nothing else runs


def test_gui_batch_process_runs_the_same_pipeline(tiny_model, photo):
    from magicbrush_desktop.gui.pipeline import build_process

    class Gallery:
        def load(self, name):  # noqa: ANN001, ANN201
            return make_colour_image(24, 24, seed=len(name))

    engine = tiny_style_engine()
    process = build_process(colorize=(str(tiny_model), "cpu", 64, 1.0),
                            style=StyleSettings(("a",), (1.0,), 1.0, 5.0, 1, 32, False),  # as the Style panel builds it
                            engine=lambda: engine, gallery=Gallery())
    rgb = process(photo)
    assert rgb.shape == photo.rgb.shape and rgb.dtype == np.uint8
    colour_only = build_process(colorize=(str(tiny_model), "cpu", 64, 1.0), style=None, engine=None, gallery=None)
    assert np.array_equal(colour_only(photo), Colorizer.load(tiny_model, "cpu").colorize(photo, 64, 1.0))


# --- the CLI's progress consumer -------------------------------------------------------------------


class _Terminal(io.StringIO):
    """A text stream that says it is a terminal, so tqdm draws its bar into it."""

    def isatty(self) -> bool:
        return True


def test_run_with_progress_counts_only_its_total_and_closes_the_job(capsys):
    closed = []

    def job():
        try:
            yield Progress(0, 3, "colorizing")  # a sub-job's count: another total
            for step in range(1, 11):
                yield Progress(step, 10, f"step {step}")
            yield Progress(0, 0, "a note for the user")
            yield Finished("done")
        finally:
            closed.append(True)

    screen = _Terminal()
    seen = []
    outcome = run_with_progress(job(), total=10, file=screen, on_event=lambda e, bar: seen.append(bar.n))
    assert outcome.finished.result == "done" and not outcome.stopped and closed == [True]
    assert seen[0] == 0 and seen[-1] == 10  # the 3-step count did not move the bar
    assert "10/10" in screen.getvalue() and "/3" not in screen.getvalue()
    assert "a note for the user" in capsys.readouterr().err


def test_run_with_progress_follows_a_new_phase_and_stays_silent_when_quiet(capsys):
    def job():
        yield Progress(2, 4, "reading photos")
        yield Progress(4, 4, "reading photos")
        yield Progress(0, 0, "resumed")
        yield Progress(30, 50, "epoch 2")  # training steps after the photo scan
        yield Progress(50, 50, "epoch 2")
        yield Finished()

    screen = _Terminal()
    outcome = run_with_progress(job(), describe=True, file=screen)
    text = screen.getvalue()
    assert outcome.finished is not None and "50/50" in text and "epoch 2" in text and "4/4" in text
    assert "resumed" in capsys.readouterr().err
    screen = _Terminal()
    run_with_progress(job(), quiet=True, file=screen)
    assert screen.getvalue() == "" and capsys.readouterr().err == ""


def test_run_with_progress_stops_after_the_current_event_on_ctrl_c(capsys):
    import os
    import signal

    done = []

    def job():
        try:
            yield Progress(0, 2)
            os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C during the first step
            yield Progress(1, 2)
            yield Progress(2, 2)
            yield Finished()
        finally:
            done.append("closed")

    outcome = run_with_progress(job(), total=2)
    assert outcome.stopped and outcome.finished is None and done == ["closed"]
    assert "Stopping after the current step" in capsys.readouterr().err
