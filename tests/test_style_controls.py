"""The live parameter channel: a running style optimisation takes new weights between steps, refines
from the picture it reached, and keeps counting its progress (tiny random-weight VGG, fast)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from magicbrush_desktop.core.errors import MagicBrushError
from magicbrush_desktop.core.events import Finished, Metrics, Preview, Progress
from magicbrush_desktop.core.style import gatys
from magicbrush_desktop.core.style.controls import StyleControls, StyleWeights, refine_steps
from magicbrush_desktop.core.style.gatys import StyleTransfer

from .conftest import make_colour_image, tiny_style_engine


def painting(seed: int, size: int = 48) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((size, size, 3)) * 255).astype(np.uint8)


def test_controls_version_grows_only_on_real_changes():
    controls = StyleControls(StyleWeights(1.0, 2.0))
    assert controls.snapshot() == (0, StyleWeights(1.0, 2.0))
    assert controls.update(style_weight=2.0) is False and controls.version == 0
    assert controls.update(style_weight=4.0, blend=[0.5, 0.5]) is True
    version, weights = controls.snapshot()
    assert version == 1 and weights == StyleWeights(1.0, 4.0, (0.5, 0.5))
    with pytest.raises(MagicBrushError):
        controls.update(content_weight=-1.0)
    assert controls.weights == weights  # a refused change leaves the weights as they were
    assert refine_steps(100) == 50 and refine_steps(4) == 10


def test_controls_are_safe_to_write_from_many_threads():
    controls = StyleControls(StyleWeights(1.0, 1.0))

    def writer(offset: int) -> None:
        for i in range(200):
            controls.update(style_weight=offset + i + 1.0)

    threads = [threading.Thread(target=writer, args=((k + 1) * 1000,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert controls.version == 800  # every write was a change, none lost


def test_a_weight_change_mid_run_is_used_and_progress_keeps_counting():
    session = StyleTransfer(tiny_style_engine(), make_colour_image(40, 32), [painting(1)], size=32)
    controls = StyleControls(StyleWeights(1.0, 1.0))
    events = []
    for event in session.run(6, controls=controls):
        events.append(event)
        if isinstance(event, Progress) and event.done == 3:
            controls.update(style_weight=50.0)
    progress = [e for e in events if isinstance(e, Progress)]
    done = [p.done for p in progress]
    assert done == list(range(1, len(done) + 1))  # never starts again from 1
    assert progress[0].total == 6 and progress[-1].total == 3 + refine_steps(6)  # the budget grew
    assert len(done) == 3 + refine_steps(6)
    metrics = [e for e in events if isinstance(e, Metrics)]
    before, after = metrics[2].values, metrics[-1].values
    assert before["total"] == pytest.approx(before["content"] + 1.0 * before["style"], rel=1e-5)
    assert after["total"] == pytest.approx(after["content"] + 50.0 * after["style"], rel=1e-5)
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.summary["weight_changes"] == 1
    assert finished.summary["steps"] == len(done) and session.steps_done == len(done)


def test_a_change_that_arrives_after_the_last_step_is_not_dropped():
    session = StyleTransfer(tiny_style_engine(), make_colour_image(40, 32), [painting(2)], size=32)
    controls = StyleControls(StyleWeights(1.0, 1.0))
    events = []
    for event in session.run(4, controls=controls):
        events.append(event)
        if isinstance(event, Progress) and event.done == 4 and event.total == 4:
            controls.update(content_weight=3.0)  # while the last step's events are being shown
    assert events[-1].summary["weight_changes"] == 1
    assert events[-1].summary["steps"] == 4 + refine_steps(4)


def test_a_refinement_previews_small_then_refines_at_full_size(monkeypatch):
    monkeypatch.setattr(gatys, "REFINE_PREVIEW_SIDE", 32)
    content = make_colour_image(90, 60)
    session = StyleTransfer(tiny_style_engine(), content, [painting(3)], size=64, scales=[64])
    list(session.run(3))
    full_before = session.current().copy()
    events = list(session.run(6, style_weight=20.0, preview_every=0))
    labels = [e.message for e in events if isinstance(e, Progress)]
    assert all("at 32×21" in m for m in labels[:gatys.REFINE_PREVIEW_STEPS])
    assert all("at 64×43" in m for m in labels[gatys.REFINE_PREVIEW_STEPS:])
    previews = [e for e in events if isinstance(e, Preview)]
    # The quick preview is the full-size picture with the small steps' change added, not a blurry 32 px one.
    assert len(previews) == 1 and previews[0].image.shape == full_before.shape
    assert not np.array_equal(previews[0].image, full_before)
    assert events[-1].result.shape == content.shape and events[-1].summary["warm_restart"] is True


def test_stopping_during_the_small_steps_keeps_the_full_size_picture(monkeypatch):
    monkeypatch.setattr(gatys, "REFINE_PREVIEW_SIDE", 32)
    session = StyleTransfer(tiny_style_engine(), make_colour_image(90, 60), [painting(4)], size=64, scales=[64])
    list(session.run(3))
    full_before = session.current().copy()
    gen = session.run(6, style_weight=20.0)
    for event in gen:
        if isinstance(event, Progress):
            break  # one small-size step done
    gen.close()
    kept = session.current()
    assert kept.shape == full_before.shape  # still the 64 px picture, with the small step's change in it
    # Mostly the same picture: the small step changed low frequencies only.
    assert np.abs(kept.astype(int) - full_before.astype(int)).mean() < 40


def test_a_fresh_run_can_preview_after_its_first_step():
    session = StyleTransfer(tiny_style_engine(), make_colour_image(40, 32), [painting(5)], size=32)
    events = list(session.run(6, preview_every=4, preview_first=True))
    assert [e.step for e in events if isinstance(e, Preview)] == [1, 5]
    assert session.photo_style_loss is not None and session.photo_style_loss > 0


def test_start_over_goes_back_to_the_photo_in_the_same_run():
    content = make_colour_image(40, 32)
    session = StyleTransfer(tiny_style_engine(), content, [painting(6)], size=32)
    controls = StyleControls(StyleWeights(1.0, 30.0))
    events = []
    for event in session.run(6, controls=controls):
        events.append(event)
        if isinstance(event, Progress) and event.done == 4:
            controls.request_start_over()
    metrics = [e.values for e in events if isinstance(e, Metrics)]
    progress = [e for e in events if isinstance(e, Progress)]
    assert [p.done for p in progress] == list(range(1, 11)) and progress[-1].total == 10
    # The step after the start-over began at the photo again: its content loss is back near zero.
    assert metrics[4]["content"] < metrics[3]["content"]
    assert events[-1].summary["losses_initial"]["content"] == 0.0  # measured from the photo


def test_one_engine_serves_two_threads_at_once():
    """The main window's run and a batch share one engine: targets computed once, both runs finish."""
    engine = tiny_style_engine()
    content, style = make_colour_image(40, 32), painting(7)
    results, errors = [], []

    def run() -> None:
        try:
            session = StyleTransfer(engine, content, [style], size=32)
            results.append([e for e in session.run(3) if isinstance(e, Finished)][0].result)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 2
    assert np.array_equal(results[0], results[1])  # same start, same targets, same steps
    assert engine.cache_misses == 2  # content + style targets, each computed once for both threads


def test_a_change_mid_evaluation_drops_that_step_and_goes_on_with_the_new_weights():
    """A slider that settles while a (slow, full-size) evaluation runs does not wait for it to finish."""
    session = StyleTransfer(tiny_style_engine(), make_colour_image(40, 32), [painting(8)], size=32)
    controls = StyleControls(StyleWeights(1.0, 1.0))
    original = session._loss
    calls = {"n": 0}

    def loss_then_slider(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # the slider settles during the third evaluation's backward pass
            controls.update(style_weight=40.0)
        return original(*args, **kwargs)

    session._loss = loss_then_slider
    events = list(session.run(5, controls=controls))
    progress = [e for e in events if isinstance(e, Progress)]
    # Two steps done with the old weights, the third dropped, then a refinement with the new ones.
    assert [p.done for p in progress] == list(range(1, len(progress) + 1))
    assert len(progress) == 2 + refine_steps(5)
    metrics = [e.values for e in events if isinstance(e, Metrics)]
    assert metrics[2]["total"] == pytest.approx(metrics[2]["content"] + 40.0 * metrics[2]["style"], rel=1e-5)
    assert events[-1].summary["weight_changes"] == 1


def test_a_run_that_wants_a_quick_first_preview_starts_with_two_small_steps():
    content = make_colour_image(90, 60)
    session = StyleTransfer(tiny_style_engine(), content, [painting(9)], size=512, scales=[256, 512])
    plan = session._fresh_plan(20, quick_start=True)
    assert [(max(hw), n) for hw, n in plan] == [(gatys.FIRST_PREVIEW_SIDE, gatys.FIRST_PREVIEW_STEPS), (256, 11), (512, 7)]
    assert sum(n for _, n in plan) == 20  # the same steps in all, taken from the coarse phase
    assert [(max(hw), n) for hw, n in session._fresh_plan(20)] == [(256, 12), (512, 8)]
