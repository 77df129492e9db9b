"""Style panel flows on a tiny random-weight VGG: gallery import, run with previews, live weight
sliders that the running optimisation takes between steps (same job), Live refinement after a run,
Start over, stop, and closing the window during a run."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer

from .gui_support import answer_next_prompt, drop_paths, open_photo, wait_idle, write_grey_photo, write_painting


def _open(w, qtbot, tmp_path):
    assert open_photo(qtbot, w, write_grey_photo(tmp_path / "old.png", 80, 64))
    w.tabs.setCurrentWidget(w.style_panel)


def _finished_run(w, qtbot, tmp_path, steps: int) -> None:
    """Open the test photo and run the style transfer ``steps`` steps to the end."""
    _open(w, qtbot, tmp_path)
    w.style_panel.steps.setValue(steps)
    with qtbot.waitSignal(w.step_changed, timeout=60_000):
        w.run_style()
    wait_idle(qtbot, w)


def test_gallery_lists_and_imports_by_drop(make_window, tmp_path):
    w = make_window()
    panel = w.style_panel
    from magicbrush_desktop.core.style.looks import LOOKS

    # Built-in looks first, then the two paintings of the pack, each with a thumbnail.
    assert panel.gallery.count() == len(LOOKS) + 2
    assert all(not panel.gallery.item(i).icon().isNull() for i in range(panel.gallery.count()))
    assert panel.gallery.item(0).data(0x0100).startswith("look:")
    new = write_painting(tmp_path / "sunset.png", seed=11)
    assert drop_paths(panel.gallery.viewport(), [new])
    assert panel.gallery.count() == len(LOOKS) + 3 and panel.selected_style() == "user:sunset"
    assert panel.gallery.currentItem().text() == "Sunset"
    assert panel.second_combo.findData("user:sunset") > 0


def test_run_style_with_previews_and_loss_readout(make_window, qtbot, tmp_path):
    w = make_window()
    _open(w, qtbot, tmp_path)
    w.style_panel.steps.setValue(12)
    previews = []
    w.canvas.set_after = (lambda orig: lambda img, caption="After": (previews.append(caption), orig(img, caption)))(
        w.canvas.set_after)
    with qtbot.waitSignal(w.step_changed, timeout=60_000) as blocker:
        w.style_panel.run_button.click()
        assert w.style_panel.stop_button.isEnabled()
    assert blocker.args == ["stylized"]
    wait_idle(qtbot, w)
    assert any(c.startswith("Style preview") for c in previews)  # the canvas followed the optimisation
    assert w.step.image.shape == w.photo.rgb.shape
    # Human words, with the raw losses in the tooltip.
    assert "Style taken on" in w.style_panel.loss_label.text() and "\u2013" not in w.style_panel.loss_label.text()
    assert "total" in w.style_panel.loss_label.toolTip()
    assert w.style.session.steps_done == 12
    w.undo_action.trigger()
    assert w.step.kind == "original"


def test_weight_slider_mid_run_is_taken_by_the_same_run_and_ui_keeps_ticking(make_window, qtbot, tmp_path):
    w = make_window()
    _open(w, qtbot, tmp_path)
    w.style_panel.steps.setValue(400)  # long enough that the slider moves while it runs
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    w.run_style()
    qtbot.waitUntil(lambda: w.style.session is not None and w.style.session.steps_done >= 3, timeout=60_000)
    job, controls = w.style.job, w.style.controls
    progress = []
    job.progress.connect(progress.append)
    ticks_before = len(ticks)
    w.style_panel.style_weight.set_value(1e3)  # debounced: handed to the run once the slider rests
    qtbot.waitUntil(lambda: controls.version >= 1, timeout=30_000)
    steps_at_change = w.style.session.steps_done
    assert steps_at_change >= 3  # the run goes on from the picture reached, same session
    qtbot.waitUntil(lambda: w.style.session.steps_done >= steps_at_change + 3, timeout=60_000)
    assert w.style.job is job  # no thread torn down, no new job
    losses = w.style.session.last_losses
    alpha = w.style_panel.content_weight.value()
    assert losses.total == pytest.approx(alpha * losses.content + 1e3 * losses.style, rel=1e-4)
    done = [p.done for p in progress]
    assert done == sorted(done) and progress[-1].total >= 400  # counts on, never starts again
    assert len(ticks) > ticks_before  # the UI thread kept running its timers throughout
    w.stop_style()
    wait_idle(qtbot, w)
    assert w.step.kind == "stylized"  # Stop keeps the picture reached
    timer.stop()


def test_start_over_during_a_run_goes_back_to_the_photo_in_the_same_job(make_window, qtbot, tmp_path):
    w = make_window()
    _open(w, qtbot, tmp_path)
    w.style_panel.steps.setValue(400)
    assert not w.style_panel.start_over_button.isEnabled()  # nothing to start over yet
    w.run_style()
    qtbot.waitUntil(lambda: w.style.session is not None and w.style.session.steps_done >= 3, timeout=60_000)
    assert w.style_panel.start_over_button.isEnabled()
    job, controls = w.style.job, w.style.controls
    w.style_panel.start_over_button.click()
    assert controls.start_overs == 1
    steps = w.style.session.steps_done
    qtbot.waitUntil(lambda: w.style.session.steps_done >= steps + 2, timeout=60_000)
    assert w.style.job is job
    w.stop_style()
    wait_idle(qtbot, w)


def test_with_live_off_a_slider_after_a_run_starts_nothing(make_window, qtbot, tmp_path):
    w = make_window()
    _finished_run(w, qtbot, tmp_path, steps=4)
    w.style_panel.live.setChecked(False)
    steps = w.style.session.steps_done
    w.style_panel.content_weight.set_value(20.0)
    qtbot.wait(800)  # past the debounce
    assert not w.style.running and w.style.session.steps_done == steps


def test_slider_after_a_finished_run_warm_restarts(make_window, qtbot, tmp_path):
    w = make_window()
    _finished_run(w, qtbot, tmp_path, steps=8)
    done = w.style.session.steps_done
    session = w.style.session
    assert w.style_panel.live.isChecked()  # Live is on by default
    with qtbot.waitSignal(w.job_ended, timeout=60_000, check_params_cb=lambda name, outcome: name == "style"):
        w.style_panel.content_weight.set_value(20.0)
    assert w.style.session is session and session.steps_done > done
    assert w.undo_stack.count() == 2  # the refinement replaced the stylized step's picture in history
    wait_idle(qtbot, w)


def test_cancel_from_status_bar_and_close_during_run(make_window, qtbot, tmp_path):
    w = make_window()
    _open(w, qtbot, tmp_path)
    w.style_panel.steps.setValue(2000)
    w.run_style()
    qtbot.waitUntil(lambda: w.style.session is not None and w.style.session.steps_done >= 2, timeout=60_000)
    assert w.job_status.isVisible()
    with qtbot.waitSignal(w.job_ended, timeout=30_000) as blocker:
        w.job_status.cancel_button.click()
    assert blocker.args == ["style", "cancelled"]
    assert w.style.session.steps_done < 2000
    assert not w.job_status.isVisible()

    w.run_style()
    qtbot.waitUntil(lambda: w.style.job is not None, timeout=10_000)
    job = w.style.job
    asked = answer_next_prompt("discard")  # "Stop the style run and quit?"
    w.close()  # closing stops the job cleanly and waits for it
    assert asked and "style run" in asked[0]
    assert job.isFinished() and not w.jobs


def test_the_style_engine_follows_the_device_chosen(qtbot, monkeypatch):
    """One engine per device: changing the device after a run no longer keeps the first one's engine."""
    from magicbrush_desktop.core.style import engine as engine_module
    from magicbrush_desktop.gui.style_controller import StyleController

    made = []

    class RecordingEngine:
        def __init__(self, device: str) -> None:
            made.append(device)

    monkeypatch.setattr(engine_module, "StyleEngine", RecordingEngine)
    controller = StyleController(lambda *args, **kwargs: None, gallery=None)
    cpu, cuda, cpu_again = controller.engine("cpu"), controller.engine("cuda"), controller.engine("cpu")
    assert made == ["cpu", "cuda"] and cpu is cpu_again and cpu is not cuda
