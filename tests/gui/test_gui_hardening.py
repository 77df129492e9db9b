"""Issue 15 in the desktop app: the batch and Save As never replace a file silently, nor the original."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from ..conftest import make_colour_image
from .gui_support import open_photo, save_photo, wait_idle, write_grey_album, write_grey_photo


def test_batch_keeps_an_unrelated_file_in_the_output_folder(make_window, qtbot, tmp_path):
    w = make_window()
    folder = write_grey_album(tmp_path / "album", 2, width=48, height=40)
    out = tmp_path / "out"
    out.mkdir()
    Image.fromarray(make_colour_image(20, 20, seed=3)).save(out / "photo_0.png")  # someone else's file
    before = (out / "photo_0.png").read_bytes()
    w.open_batch_dialog([folder])
    dialog = w.batch_dialog
    dialog.output.setText(str(out))
    dialog.skip_done.setChecked(False)
    with qtbot.waitSignal(dialog.batch_finished, timeout=60_000) as blocker:
        assert dialog.start()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    summary = blocker.args[0]
    assert summary["done"] == 2 and len(summary["renamed"]) == 1
    assert (out / "photo_0.png").read_bytes() == before
    assert Image.open(out / "photo_0_colorized.png").size == (48, 40)
    assert "new name" in dialog.summary_label.text()
    # The user says so: replace existing files.
    dialog.replace_existing.setChecked(True)
    with qtbot.waitSignal(dialog.batch_finished, timeout=60_000):
        assert dialog.start()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    assert Image.open(out / "photo_0.png").size == (48, 40)


def test_batch_output_that_is_a_file_is_refused_before_work(make_window, qtbot, tmp_path):
    w = make_window()
    write_grey_photo(tmp_path / "a.png", 48, 40)
    blocker = tmp_path / "out.png"
    blocker.write_bytes(b"x")
    w.open_batch_dialog([tmp_path / "a.png"])
    w.batch_dialog.output.setText(str(blocker))
    assert not w.batch_dialog.start()
    assert w.batch_dialog.job is None and blocker.read_bytes() == b"x"


def test_save_as_never_writes_over_the_original_and_asks_before_replacing(make_window, qtbot, tmp_path,
                                                                          monkeypatch):
    w = make_window()
    src = write_grey_photo(tmp_path / "old.png", 48, 40)
    original = src.read_bytes()
    assert open_photo(qtbot, w, src)
    with qtbot.waitSignal(w.step_changed, timeout=30_000):
        w.colorize()
    wait_idle(qtbot, w)
    errors: list[str] = []
    monkeypatch.setattr(w, "show_error", lambda title, message: errors.append(message))
    assert w.save_to(src) is None
    assert src.read_bytes() == original and "original photo" in errors[-1]

    other = tmp_path / "other.png"
    other.write_bytes(b"keep me")
    asked: list[Path] = []
    monkeypatch.setattr(w, "confirm_replace_file", lambda path: asked.append(path) or False)
    assert w.save_to(other) is None  # declined
    assert other.read_bytes() == b"keep me" and asked == [other]
    monkeypatch.setattr(w, "confirm_replace_file", lambda path: asked.append(path) or True)
    assert save_photo(qtbot, w, other) == other and Image.open(other).size == (48, 40)
    # Saving again to the file this window wrote does not ask.
    asked.clear()
    with qtbot.waitSignal(w.save_ended, timeout=30_000) as saved:
        assert w.save() == other and asked == []
    assert saved.args == [other]


def test_sigterm_stops_training_cleanly_and_quits_without_questions(make_window, qtbot, tmp_path):
    import os
    import signal

    from magicbrush_desktop.gui.app import install_sigterm_handler

    from .test_gui_batch_train import _tiny_training_form

    w = make_window()
    dialog, _ = _tiny_training_form(w, tmp_path, "sigterm", photos=8, epochs=50, batch=1)
    quits: list[int] = []
    previous = signal.getsignal(signal.SIGTERM)
    try:
        install_sigterm_handler(w, quit_app=lambda: quits.append(1))
        assert dialog.start()
        qtbot.waitUntil(lambda: dialog.loss_chart.point_count("G_L1") >= 1, timeout=60_000)
        os.kill(os.getpid(), signal.SIGTERM)
        qtbot.waitUntil(lambda: bool(quits), timeout=60_000)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert dialog.job is None or dialog.job.isFinished()
    run = dialog.run_dir()
    assert (run / "last.pt").is_file() and not list(run.rglob("*.part"))
