"""The widget-free colorize controller: the colorizer cache, the colorize job, and colour-strength
re-blends that never run on the UI thread (a live preview coalesced to the latest strength, stale
results dropped, only the latest full-resolution strength reported)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from magicbrush_desktop.core import colorize as core_colorize
from magicbrush_desktop.core.imageio import read_photo
from magicbrush_desktop.gui.colorize_controller import ColorizeController
from magicbrush_desktop.gui.worker import Job

from .gui_support import write_grey_photo


@pytest.fixture
def runner(qtbot):
    """A stand-in for the window's start_job: runs each job on its own thread, waited for at the end."""
    jobs: list[Job] = []

    def start_job(factory, name, message, wire=None, **_options):  # noqa: ANN001, ARG001 - the window's signature
        job = Job(factory, name)
        if wire is not None:
            wire(job)
        jobs.append(job)
        job.start()
        return job

    yield start_job, jobs
    for job in jobs:
        job.wait()


@pytest.fixture
def controller(runner):
    """A controller on the stand-in runner, stopped as the window stops it when it closes."""
    start_job, _jobs = runner
    made = ColorizeController(start_job)
    yield made
    made.cancel(wait=True)


@pytest.fixture
def photo_and_chroma(tmp_path, tiny_model):
    photo = read_photo(write_grey_photo(tmp_path / "old.png", 120, 90))
    chroma = core_colorize.Colorizer.load(tiny_model, "cpu").predict(photo, 64)
    return photo, chroma


@pytest.fixture
def slow_compose(monkeypatch):
    """core.colorize.compose, 0.3 s slower, recording the strengths it composed and on which thread."""
    calls: list[tuple[float, int]] = []
    real = core_colorize.compose

    def compose(lightness, chroma, strength=1.0, guided=True):  # noqa: ANN001 - core.colorize.compose's
        calls.append((strength, threading.get_ident()))
        time.sleep(0.3)
        return real(lightness, chroma, strength, guided)

    monkeypatch.setattr(core_colorize, "compose", compose)
    return calls


def _settle(controller: ColorizeController, qtbot) -> None:
    qtbot.waitUntil(lambda: not controller.previewing, timeout=10_000)


def test_a_fast_drag_composes_only_the_latest_strength_off_the_ui_thread(qtbot, controller, photo_and_chroma,
                                                                         slow_compose):
    photo, chroma = photo_and_chroma
    shown: list[tuple[float, tuple[int, ...]]] = []
    controller.strength_preview.connect(lambda image, p, c, s: shown.append((s, image.shape)))
    began = time.perf_counter()
    for strength in np.linspace(0.1, 1.0, 10):  # a drag: ten slider steps in a blink
        controller.preview_strength(photo, chroma, float(strength), max_side=60)
    assert time.perf_counter() - began < 0.25  # the UI thread never waited for a 0.3 s compose
    assert controller.previewing
    _settle(controller, qtbot)
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=5_000)
    # The first step was composing when the others came: they were coalesced into the last one.
    assert [round(s, 2) for s, _thread in slow_compose] == [0.1, 1.0]
    assert all(thread != threading.get_ident() for _s, thread in slow_compose)
    assert [round(s, 2) for s, _shape in shown] == [0.1, 1.0]
    assert shown[-1][1] == (45, 60, 3)  # at the screen size asked for, not the photo's 120x90


def test_dropped_previews_are_neither_composed_nor_shown(qtbot, controller, photo_and_chroma, slow_compose):
    photo, chroma = photo_and_chroma
    shown: list[float] = []
    controller.strength_preview.connect(lambda image, p, c, s: shown.append(s))
    controller.preview_strength(photo, chroma, 0.3, max_side=60)  # composing now
    controller.preview_strength(photo, chroma, 0.6, max_side=60)  # waiting
    controller.drop_previews()  # e.g. the slider was released: the committed picture comes instead
    _settle(controller, qtbot)
    qtbot.wait(100)  # the in-flight result's queued signal has been delivered (and dropped)
    assert [s for s, _thread in slow_compose] == [0.3]
    assert shown == []
    # A request after the drop is live again.
    controller.preview_strength(photo, chroma, 0.9, max_side=60)
    qtbot.waitUntil(lambda: shown == [0.9], timeout=5_000)


def test_only_the_latest_full_resolution_strength_is_reported(qtbot, runner, controller, photo_and_chroma):
    _start_job, jobs = runner
    photo, chroma = photo_and_chroma
    applied: list[tuple[float, tuple[int, ...]]] = []
    controller.strength_applied.connect(lambda image, p, c, s: applied.append((s, image.shape)))
    for strength in (0.5, 1.5, 0.0):
        controller.apply_strength(photo, chroma, strength)
    assert len(jobs) == 3
    qtbot.waitUntil(lambda: all(j.isFinished() for j in jobs), timeout=10_000)
    qtbot.wait(100)
    assert applied == [(0.0, photo.rgb.shape)]  # full resolution, the last strength only


def test_colorize_loads_once_then_reuses_the_cached_colorizer(qtbot, controller, tiny_model, tmp_path, monkeypatch):
    photo = read_photo(write_grey_photo(tmp_path / "old.png"))
    loads: list[str] = []
    real_load = core_colorize.Colorizer.load.__func__
    monkeypatch.setattr(core_colorize.Colorizer, "load",
                        classmethod(lambda cls, model, device: loads.append(model) or real_load(cls, model, device)))
    results = []
    controller.colorized.connect(lambda result, p, model, device: results.append((result, p, model, device)))
    running: list[bool] = []
    controller.running_changed.connect(running.append)
    model = str(tiny_model)
    assert controller.colorizer is None
    assert controller.colorize(photo, model=model, device="cpu", render_size=64, strength=1.0)
    assert controller.running
    assert not controller.colorize(photo, model=model, device="cpu", render_size=64, strength=1.0)  # one at a time
    qtbot.waitUntil(lambda: not controller.running, timeout=30_000)
    (result, p, name, device), = results
    assert p is photo and (name, device) == (model, "cpu") and running == [True, False]
    assert result.rgb.shape == photo.rgb.shape and result.strength == 1.0
    assert controller.colorizer is result.colorizer
    assert controller.colorizer_for(model, "cpu") is result.colorizer
    assert controller.colorizer_for("another-model", "cpu") is None

    assert controller.colorize(photo, model=model, device="cpu", render_size=64, strength=0.5)
    qtbot.waitUntil(lambda: not controller.running, timeout=30_000)
    assert loads == [model]  # the second run reused the loaded model
    assert results[-1][0].colorizer is result.colorizer and results[-1][0].strength == 0.5


def test_cancel_with_wait_stops_and_forgets_every_job(qtbot, controller, photo_and_chroma, slow_compose, tiny_model):
    photo, chroma = photo_and_chroma
    shown: list[float] = []
    controller.strength_preview.connect(lambda image, p, c, s: shown.append(s))
    running: list[bool] = []
    controller.running_changed.connect(running.append)
    assert controller.colorize(photo, model=str(tiny_model), device="cpu", render_size=64, strength=1.0)
    controller.preview_strength(photo, chroma, 0.4, max_side=60)
    controller.preview_strength(photo, chroma, 0.8, max_side=60)
    controller.cancel(wait=True)  # as when the window closes
    assert not controller.previewing and not controller.running and running == [True, False]
    qtbot.wait(100)
    # The compose under way finished (it cannot be interrupted) but is not shown; 0.8 was never composed.
    assert shown == [] and [s for s, _thread in slow_compose] == [0.4]
