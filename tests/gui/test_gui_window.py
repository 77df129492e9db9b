"""Main window flows: drop to open, colorize, live strength, undo/redo, export, errors, closing."""

from __future__ import annotations


import numpy as np
from PIL import Image
from PySide6.QtCore import Qt

from magicbrush_desktop.core.imageio import read_photo

from .gui_support import drop_paths, message_boxes, open_photo, save_photo, wait_idle, write_grey_photo


def test_window_title_icon_and_models(make_window):
    w = make_window()
    assert "Magic Brush" in w.windowTitle()
    assert not w.windowIcon().isNull()
    assert w.colorize_panel.model_name() == "tiny"
    # No GPU here: CUDA is listed but cannot be chosen.
    cuda = w.colorize_panel.device_combo.findData("cuda")
    assert not w.colorize_panel.device_combo.model().item(cuda).isEnabled()
    assert "CUDA" in w.colorize_panel.device_combo.itemData(cuda, Qt.ItemDataRole.ToolTipRole)


def test_drop_one_photo_opens_it_and_drop_folder_opens_batch(make_window, qtbot, tmp_path):
    w = make_window()
    photo = write_grey_photo(tmp_path / "old.png")
    with qtbot.waitSignal(w.open_ended, timeout=30_000):  # read in a worker, then shown
        assert drop_paths(w, [photo])
    assert w.photo is not None and w.photo.path == photo
    assert w.step.kind == "original" and "old.png" in w.windowTitle()
    assert w.canvas.has_photo()

    folder = tmp_path / "album"
    folder.mkdir()
    write_grey_photo(folder / "a.png")
    assert drop_paths(w, [folder])
    assert w.batch_dialog is not None and w.batch_dialog.isVisible()
    assert w.batch_dialog.input_paths() == [folder]

    # Something that is not an image is refused at drag-enter time.
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert not drop_paths(w, [text])


def test_colorize_strength_slider_and_undo(make_window, qtbot, tmp_path):
    w = make_window()
    assert open_photo(qtbot, w, write_grey_photo(tmp_path / "old.png"))
    with qtbot.waitSignal(w.step_changed, timeout=30_000) as blocker:
        w.colorize_panel.colorize_button.click()
    assert blocker.args == ["colorized"]
    wait_idle(qtbot, w)
    first = w.step.image
    assert first.shape == w.photo.rgb.shape
    assert w.undo_action.isEnabled() and "Colorize" in w.undo_stack.undoText()

    # Live: while dragging, the canvas is re-blended at screen size without new inference.
    calls = []
    colorizer = w.colorization.colorizer
    original_predict = colorizer.predict
    colorizer.predict = lambda *a, **k: calls.append(1) or original_predict(*a, **k)
    slider = w.colorize_panel.strength
    slider.setSliderDown(True)
    slider.setValue(0)
    qtbot.waitUntil(lambda: w.canvas.after_caption.startswith("Colour strength 0.00"), timeout=5_000)
    assert w.step.image is first  # nothing committed while dragging
    slider.setSliderDown(False)  # release: the full-resolution picture becomes a history step
    qtbot.waitUntil(lambda: w.step.strength == 0.0, timeout=10_000)
    grey = w.step.image.astype(int)
    assert np.abs(grey[..., 0] - grey[..., 1]).max() <= 2  # strength 0 = grey
    slider.setValue(150)  # a keyboard/programmatic move commits at once and merges with the last
    qtbot.waitUntil(lambda: w.step.strength == 1.5, timeout=10_000)
    assert calls == []  # the strength slider never ran the network
    assert w.undo_stack.count() == 2  # Colorize + one merged "Colour Strength"

    w.undo_action.trigger()
    assert w.step.kind == "colorized" and w.step.strength == 1.0
    assert w.colorize_panel.strength_value() == 1.0
    w.undo_action.trigger()
    assert w.step.kind == "original"
    w.redo_action.trigger()
    assert w.step.image is first


def test_export_keeps_exif_and_icc(make_window, qtbot, tmp_path):
    from PIL import ImageCms

    src = tmp_path / "scan.jpg"
    img = Image.fromarray(np.repeat(np.linspace(0, 255, 64, dtype=np.uint8)[None, :, None], 48, 0).repeat(3, 2))
    exif = Image.Exif()
    exif[0x010F] = "Old Camera Co."
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    img.save(src, exif=exif.tobytes(), icc_profile=icc)
    w = make_window()
    assert open_photo(qtbot, w, src)
    with qtbot.waitSignal(w.step_changed, timeout=30_000):
        w.colorize()
    wait_idle(qtbot, w)
    out = save_photo(qtbot, w, tmp_path / "out" / "scan_colour.png", "png")
    assert out is not None and out.is_file()
    saved = Image.open(out)
    assert saved.getexif().get(0x010F) == "Old Camera Co."
    assert saved.info.get("icc_profile") == icc
    assert read_photo(out).rgb.shape == w.photo.rgb.shape
    # Save (Ctrl+S) now writes to the same file again without asking.
    out.unlink()
    with qtbot.waitSignal(w.save_ended, timeout=30_000):
        w.save_action.trigger()
    assert out.is_file()


def test_unreadable_photo_shows_a_readable_dialog(make_window, qtbot, tmp_path):
    w = make_window()
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert not open_photo(qtbot, w, broken)
    boxes = message_boxes(w)
    assert boxes and "broken.jpg" in boxes[0].text()
    assert "Traceback" not in boxes[0].text()
    assert w.photo is None


def test_recent_files_and_window_state_persist(make_window, qtbot, tmp_path):
    from magicbrush_desktop.gui.settings import AppSettings, recent_files

    w = make_window()
    photo = write_grey_photo(tmp_path / "old.png")
    assert open_photo(qtbot, w, photo)
    assert recent_files()[0] == str(photo.resolve())
    w.side_action.setChecked(True)
    assert w.canvas.is_side_by_side()
    w.close()
    assert AppSettings.path().is_file()
    again = make_window()
    assert again.side_action.isChecked()
    again.recent_menu.aboutToShow.emit()
    assert [a.text() for a in again.recent_menu.actions()] == [str(photo.resolve())]


def test_about_dialog_lists_versions():
    from magicbrush_desktop.gui.about_dialog import version_rows

    names = [k for k, _ in version_rows()]
    assert names[0] == "Magic Brush" and "PyTorch" in names and "Qt / PySide6" in names


def test_strength_slider_leaves_a_stylized_picture_alone(make_window, qtbot, tmp_path):
    """The slider re-blends a colorized picture; over a stylized one it is off and says why (it used to
    paint the re-blended colour over the painting, silently)."""
    w = make_window()
    assert open_photo(qtbot, w, write_grey_photo(tmp_path / "old.png"))
    with qtbot.waitSignal(w.step_changed, timeout=30_000):
        w.colorize()
    wait_idle(qtbot, w)
    slider = w.colorize_panel.strength
    assert slider.isEnabled()
    w.style_panel.steps.setValue(3)
    with qtbot.waitSignal(w.step_changed, timeout=60_000) as blocker:
        w.run_style()
    assert blocker.args == ["stylized"]
    wait_idle(qtbot, w)
    painted, caption, steps = w.step, w.canvas.after_caption, w.undo_stack.count()
    assert caption.startswith("Stylized") and not slider.isEnabled() and "undo the style" in slider.toolTip()

    # Moved anyway (a disabled slider still takes a programmatic value): the painting stays.
    slider.setSliderDown(True)
    slider.setValue(0)
    slider.setSliderDown(False)
    slider.setValue(150)
    qtbot.wait(200)
    wait_idle(qtbot, w)
    assert w.step is painted and w.canvas.after_caption == caption and w.undo_stack.count() == steps
    assert not w.colorization.previewing

    # Undo the style: the colorized picture is back and the slider works on it again.
    w.undo_action.trigger()
    assert w.step.kind == "colorized" and slider.isEnabled()
    slider.setValue(50)
    qtbot.waitUntil(lambda: w.step.strength == 0.5, timeout=10_000)


def test_open_and_save_run_off_the_ui_thread_and_say_so(make_window, qtbot, tmp_path, monkeypatch):
    import threading
    import time

    from magicbrush_desktop.gui import main_window

    threads: dict[str, int] = {}

    def slow(name, real):
        def run(*args, **kwargs):
            threads[name] = threading.get_ident()
            time.sleep(0.5)
            return real(*args, **kwargs)
        return run

    monkeypatch.setattr(main_window, "read_photo", slow("read", main_window.read_photo))
    monkeypatch.setattr(main_window, "save_image", slow("save", main_window.save_image))
    w = make_window()
    photo = write_grey_photo(tmp_path / "old.png")
    began = time.perf_counter()
    with qtbot.waitSignal(w.open_ended, timeout=30_000) as opened:
        assert w.open_path(photo)
        assert time.perf_counter() - began < 0.4  # returned before the 0.5 s read
        assert w.opening and w.photo is None and "Opening old.png" in w.job_status.message.text()
    assert opened.args == [str(photo), True] and w.photo.path == photo and not w.opening
    assert threads["read"] != threading.get_ident()

    with qtbot.waitSignal(w.step_changed, timeout=30_000):
        w.colorize()
    wait_idle(qtbot, w)
    target = tmp_path / "out.png"
    began = time.perf_counter()
    with qtbot.waitSignal(w.save_ended, timeout=30_000) as saved:
        assert w.save_to(target) == target
        assert time.perf_counter() - began < 0.4
        assert w.saving and "Saving out.png" in w.job_status.message.text()
        assert not w.save_action.isEnabled() and not w.export_action.isEnabled()  # one save at a time
        assert not w.job_status.cancel_button.isEnabled() and not w.stop_action.isEnabled()
        w.cancel_jobs()  # Stop leaves a save alone: half a file helps nobody
    assert saved.args == [target] and target.is_file() and read_photo(target).rgb.shape == w.photo.rgb.shape
    assert threads["save"] != threading.get_ident()
    assert not w.has_unsaved_result() and w.save_path == target and w.save_action.isEnabled()


def test_a_later_open_wins_and_scripts_can_open_and_save_at_once(make_window, qtbot, tmp_path):
    w = make_window()
    first, second = write_grey_photo(tmp_path / "first.png"), write_grey_photo(tmp_path / "second.png", seed=2)
    with qtbot.waitSignal(w.open_ended, timeout=30_000) as opened:
        assert w.open_path(first) and w.open_path(second)  # the second asked before the first was read
    assert opened.args == [str(second), True]
    wait_idle(qtbot, w)
    assert w.photo.path == second

    # wait=True (scripts, benchmarks): done on return, no event loop needed.
    assert w.open_path(first, wait=True) and w.photo.path == first
    with qtbot.waitSignal(w.step_changed, timeout=30_000):
        w.colorize()
    wait_idle(qtbot, w)
    out = w.save_to(tmp_path / "first_colour.png", wait=True)
    assert out is not None and out.is_file() and not w.has_unsaved_result()
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert not w.open_path(broken, wait=True) and w.photo.path == first
    assert any("broken.jpg" in box.text() for box in message_boxes(w))
