"""Desktop polish (issue 13): never lose work, plain words, app conventions, provenance metadata."""

from __future__ import annotations

import numpy as np
from PIL import Image

from magicbrush_desktop.core.imageio import read_photo, save_image
from magicbrush_desktop.core.provenance import Provenance, read_provenance, software

from .gui_support import answer_next_prompt, open_photo, save_photo, wait_idle, write_grey_album, write_grey_photo


def _scan_with_exif(path):
    exif = Image.Exif()
    exif[0x010F] = "Old Camera Co."
    exif[0x010E] = "Grandparents, 1908"
    Image.fromarray(np.full((40, 48), 128, np.uint8)).save(path, exif=exif.tobytes())
    return path


# --- 10. provenance ---------------------------------------------------------------------------------


def test_save_image_records_provenance_and_keeps_original_metadata(tmp_path):
    photo = read_photo(_scan_with_exif(tmp_path / "scan.jpg"))
    prov = Provenance(model="magicbrush-colorizer-v1", strength=1.2, styles=("Stained glass",))
    for fmt in ("jpg", "png", "webp", "tiff"):
        out = save_image(tmp_path / f"out.{fmt}", photo.rgb, like=photo, fmt=fmt, provenance=prov)
        meta = read_provenance(out.read_bytes())
        assert meta["software"].startswith("Magic Brush")
        assert "Grandparents, 1908" in meta["description"]  # the archive's caption survives
        assert "magicbrush-colorizer-v1" in meta["description"] and "Stained glass" in meta["description"]
        assert Image.open(out).getexif().get(0x010F) == "Old Camera Co."
        if fmt != "tiff":
            assert "Stained glass" in meta["xmp"] and "CreatorTool" in meta["xmp"]
    # Without "keep metadata" the camera tags go, the provenance stays.
    out = save_image(tmp_path / "bare.jpg", photo.rgb, like=photo, provenance=prov, keep_metadata=False)
    assert Image.open(out).getexif().get(0x010F) is None
    assert "Colorized and stylized by Magic Brush" in read_provenance(out.read_bytes())["description"]


def test_cli_colorize_outputs_say_which_model(tmp_path, tiny_model):
    from magicbrush_desktop.cli import main

    src = _scan_with_exif(tmp_path / "scan.jpg")
    assert main(["colorize", str(src), "-o", str(tmp_path / "out"), "--model", str(tiny_model),
                 "--render-size", "64"]) == 0
    meta = read_provenance((tmp_path / "out" / "scan.jpg").read_bytes())
    assert meta["description"].endswith(f"Colorized by {software()} with the model tiny (colour strength 1.00)")
    assert "Grandparents, 1908" in meta["description"]
    assert Image.open(tmp_path / "out" / "scan.jpg").getexif().get(0x010F) == "Old Camera Co."


# --- 1. never lose work -----------------------------------------------------------------------------


def _colorized(w, qtbot, tmp_path, name="old.png"):
    assert open_photo(qtbot, w, write_grey_photo(tmp_path / name))
    with qtbot.waitSignal(w.step_changed, timeout=30_000):
        w.colorize()
    wait_idle(qtbot, w)
    return w


def test_quit_with_an_unsaved_result_asks_and_cancel_keeps_the_window(make_window, qtbot, tmp_path):
    w = _colorized(make_window(), qtbot, tmp_path)
    assert w.has_unsaved_result() and w.isWindowModified()
    asked = answer_next_prompt("cancel")
    w.quit_action.trigger()  # Ctrl+Q
    assert len(asked) == 1 and asked[0].startswith("Save changes to \u201cold.png\u201d before closing?")
    assert w.isVisible() and w.step.kind == "colorized"

    asked = answer_next_prompt("discard")
    assert w.close()
    assert asked and not w.isVisible()


def test_save_from_the_prompt_writes_the_file_then_quits(make_window, qtbot, tmp_path):
    w = _colorized(make_window(), qtbot, tmp_path)
    target = tmp_path / "kept.png"
    w.save_path = target  # as after an earlier Save As: Save writes there without a dialog
    asked = answer_next_prompt("save")
    assert w.close()
    assert asked and target.is_file()
    assert "Magic Brush" in read_provenance(target.read_bytes())["software"]


def test_opening_another_photo_asks_first_and_saved_results_do_not(make_window, qtbot, tmp_path):
    w = _colorized(make_window(), qtbot, tmp_path)
    other = write_grey_photo(tmp_path / "other.png", seed=3)
    asked = answer_next_prompt("cancel")
    assert not open_photo(qtbot, w, other)
    assert asked and w.photo.path.name == "old.png" and w.step.kind == "colorized"
    # Saved: nothing to ask; the window title loses its modified mark.
    assert save_photo(qtbot, w, tmp_path / "saved.jpg") is not None
    assert not w.has_unsaved_result() and not w.isWindowModified()
    assert open_photo(qtbot, w, other) and w.photo.path.name == "other.png"


def test_quit_while_a_batch_runs_asks_to_stop_it(make_window, qtbot, tmp_path):
    w = make_window()
    album = write_grey_album(tmp_path / "album", 30, "p{i:02d}.png")
    w.open_batch_dialog([album])
    dialog = w.batch_dialog
    dialog.output.setText(str(tmp_path / "out"))
    assert dialog.start()
    assert w.running_work() == ["batch"]
    asked = answer_next_prompt("cancel")
    assert not w.close()
    assert len(asked) == 1 and asked[0].startswith("Stop the batch and quit?") and dialog.job is not None
    assert "after the current photo" in asked[0]
    asked = answer_next_prompt("discard")  # "Stop and Quit"
    assert w.close()
    assert asked and (dialog.job is None or dialog.job.isFinished())


# --- 2. a trained model joins the picker without being selected ------------------------------------


def test_installed_model_is_listed_not_selected_with_figures_and_licence(make_window, tmp_path, tiny_model):
    from PySide6.QtCore import Qt

    from magicbrush_desktop.gui.gallery import StyleGallery  # noqa: F401 (the window imports it too)
    from magicbrush_desktop.core.models import write_model_sidecar

    from .gui_support import install_tiny_model

    w = make_window()
    w.open_train_dialog()
    path = install_tiny_model(tiny_model, "my-colorizer")
    write_model_sidecar(path, {"psnr": 21.5, "ssim": 0.91, "colourfulness": 12.3, "epoch": 3})
    w.train_dialog.model_installed.emit("my-colorizer")
    combo = w.colorize_panel.model_combo
    assert w.colorize_panel.model_name() == "tiny"  # the model in use stays selected
    index = combo.findData("my-colorizer")
    assert index >= 0
    tip = combo.itemData(index, Qt.ItemDataRole.ToolTipRole)
    assert "PSNR 21.50 dB" in tip and "SSIM 0.910" in tip and "colourfulness 12.3" in tip
    assert "Licence: yours" in tip
    shipped = combo.findData("magicbrush-colorizer-v1")
    if shipped >= 0:  # the shipped model: its benchmark figures and research/personal-use licence
        tip = combo.itemData(shipped, Qt.ItemDataRole.ToolTipRole)
        assert "PSNR 22.76 dB" in tip and "research and personal use" in tip
    # A long name in a narrow dock keeps its start and its origin; the middle gives way.
    long_name = "grandmas-album-restored-with-a-long-name"
    install_tiny_model(tiny_model, long_name)
    w.colorize_panel.refresh_models(select=long_name)
    shown = combo.elided_text(160)
    assert "\u2026" in shown and shown.startswith("grand") and shown.endswith("(trained)")
    assert combo.fontMetrics().horizontalAdvance(shown) <= 160
    assert combo.elided_text(2000) == f"{long_name} (trained)"


# --- 5. toolbar and menus ---------------------------------------------------------------------------


def _menu(w, title):
    return next(a.menu() for a in w.menuBar().actions() if a.text().replace("&", "") == title)


def test_toolbar_icons_fixed_widths_and_enabled_states(make_window, qtbot, tmp_path):
    w = make_window()
    ours = (w.open_action, w.export_action, w.undo_action, w.redo_action, w.colorize_action, w.stylize_action,
            w.stop_action, w.original_action, w.side_action, w.fit_action)
    assert all(a in w.toolbar.actions() for a in ours)
    buttons = {a: w.toolbar.widgetForAction(a) for a in ours}
    assert all(not a.icon().isNull() and a.toolTip() for a in buttons)
    assert "Ctrl+R" in w.colorize_action.toolTip()
    # No photo: nothing to view, nothing to stop.
    for a in (w.side_action, w.fit_action, w.zoom_in_action, w.actual_action, w.original_action, w.stop_action):
        assert not a.isEnabled(), a.text()
    widths = {a: b.width() for a, b in buttons.items()}
    _colorized(w, qtbot, tmp_path)
    w.undo_stack.setClean()
    assert "Colorize" in w.undo_action.text()
    assert {a: b.width() for a, b in buttons.items()} == widths  # "Undo Colorize" does not widen it
    assert w.side_action.isEnabled() and w.fit_action.isEnabled() and not w.stop_action.isEnabled()
    w.style_panel.steps.setValue(2000)
    w.run_style()
    assert w.stop_action.isEnabled()
    w.stop_action.trigger()
    wait_idle(qtbot, w)
    assert not w.stop_action.isEnabled()


def test_batch_is_in_tools_and_help_lists_shortcuts(make_window):
    w = make_window()
    assert w.batch_action in _menu(w, "Tools").actions() and w.train_action in _menu(w, "Tools").actions()
    assert w.batch_action not in _menu(w, "File").actions()
    assert w.shortcuts_action in _menu(w, "Help").actions()
    rows = dict(w.shortcuts_dialog().rows())
    assert rows["Show Original (Before)"] == "\\"
    assert rows["Colorize"] == "Ctrl+R" and "Left / Right" in rows["Move the before/after divider"]


def test_backslash_toggles_before_after_and_arrows_move_the_divider(make_window, qtbot, tmp_path):
    from PySide6.QtCore import Qt

    w = _colorized(make_window(), qtbot, tmp_path)
    assert w.original_action.shortcut().toString() == "\\"
    w.original_action.trigger()
    assert w.canvas.is_showing_original()
    w.original_action.trigger()
    assert not w.canvas.is_showing_original()
    w.canvas.setFocus()
    start = w.canvas.divider()
    qtbot.keyClick(w.canvas, Qt.Key.Key_Right)
    assert abs(w.canvas.divider() - (start + 0.05)) < 1e-9
    qtbot.keyClick(w.canvas, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert abs(w.canvas.divider() - (start + 0.04)) < 1e-9
    qtbot.keyClick(w.canvas, Qt.Key.Key_Home)
    assert w.canvas.divider() == 0.0


# --- 6. window and dock -----------------------------------------------------------------------------


def test_first_window_fits_the_screen_and_the_dock_can_be_hidden(qtbot, tiny_model):
    from magicbrush_desktop.gui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    avail = w.screen().availableGeometry()
    assert w.width() <= avail.width() and w.height() <= avail.height()
    assert avail.contains(w.frameGeometry().topLeft())
    assert w.dock.width() <= 0.4 * w.width()
    toggle = w.dock.toggleViewAction()
    assert toggle.isEnabled()
    toggle.trigger()
    assert not w.dock.isVisible()
    toggle.trigger()
    assert w.dock.isVisible()


def test_small_photos_open_at_most_at_100_percent(make_window, qtbot, tmp_path):
    w = make_window()
    w.resize(1000, 700)
    assert open_photo(qtbot, w, write_grey_photo(tmp_path / "tiny.png", 60, 40))
    assert w.canvas.zoom_percent() <= 100.0 + 1e-6
    w.fit_action.trigger()  # asking to fit does enlarge it
    assert w.canvas.zoom_percent() > 100.0


# --- 7. one display name per style -------------------------------------------------------------------


def test_style_caption_history_and_export_use_the_gallery_name(make_window, qtbot, tmp_path):
    from magicbrush_desktop.core.style.gallery import display_name

    w = make_window()
    assert open_photo(qtbot, w, write_grey_photo(tmp_path / "old.png"))
    w.style_panel.steps.setValue(3)
    w.style_panel.select_style("pack:swirls")
    shown = w.style_panel.gallery.currentItem().text()
    assert shown == display_name("swirls")
    with qtbot.waitSignal(w.step_changed, timeout=60_000):
        w.run_style()
    wait_idle(qtbot, w)
    assert w.step.caption == f"Stylized ({shown})"
    assert w.undo_stack.undoText() == f"Stylize ({shown})"
    out = save_photo(qtbot, w, tmp_path / "painted.jpg")
    assert f"in the style of {shown}" in read_provenance(out.read_bytes())["description"]


# --- 3. the Train dialog ----------------------------------------------------------------------------


def test_train_dialog_plain_words_axes_columns_close_and_estimate(make_window, qtbot, tmp_path):
    from PySide6.QtWidgets import QFormLayout

    from .test_gui_batch_train import _tiny_training_form

    w = make_window()
    dialog, _ = _tiny_training_form(w, tmp_path, "words", photos=6, epochs=2, batch=2)
    form = dialog.findChild(QFormLayout)
    labels = [form.itemAt(r, QFormLayout.ItemRole.LabelRole).widget().text()
              for r in range(form.rowCount()) if form.itemAt(r, QFormLayout.ItemRole.LabelRole)]
    text = " ".join(labels) + " " + dialog.soft_labels.text()
    for jargon in ("seed", "\u03bb", "lr", "D_real", "G_L1"):
        assert jargon not in text, jargon
    assert "\u03bb L1" in dialog.lambda_l1.toolTip() and "Soft labels" in dialog.soft_labels.toolTip()
    # Weight averaging is on by default and off when unticked.
    assert dialog.steady.isChecked() and dialog.config().ema_decay == 0.999 and "EMA" in dialog.steady.toolTip()
    dialog.steady.setChecked(False)
    assert dialog.config().ema_decay == 0.0
    legend = [s.name() for s in dialog.loss_chart.series.values()]
    assert not any("_" in name for name in legend) and "D_real" in dialog.loss_chart.toolTip()
    # PSNR and colourfulness each have their own axis.
    assert dialog.val_chart.axis_of("psnr") is not dialog.val_chart.axis_of("colourfulness")
    dialog.val_chart.add(1, {"psnr": 21.3, "colourfulness": 3.2})
    axis = dialog.val_chart.x_axis
    assert axis.min() == 0 and axis.max() >= 1 and axis.tickInterval() == 1  # whole epochs, no "0 0 0 1"
    assert [h.text() for h in dialog.sample_headers] == ["Input (grey)", "Result", "Original"]
    assert dialog.close_button is not None
    dialog.close_button.click()
    assert not dialog.isVisible()

    with qtbot.waitSignal(dialog.estimate_finished, timeout=120_000) as blocker:
        assert dialog.estimate()
    assert blocker.args == ["finished"]
    assert dialog.estimate_seconds is not None and dialog.estimate_seconds > 0
    assert "epoch" in dialog.estimate_label.text() and "per step" in dialog.estimate_label.text()
    assert not dialog.run_dir().exists()  # the warm-up leaves nothing behind


def test_train_dialog_charts_keep_room_for_their_labels_at_any_width(make_window, qtbot):
    """Side by side where both fit; one above the other when the dialog is narrow, never squeezed."""
    from magicbrush_desktop.gui.train_dialog import LOSS_CHART_MIN_WIDTH, VAL_CHART_MIN_WIDTH

    w = make_window()
    w.open_train_dialog()
    dialog = w.train_dialog
    qtbot.waitExposed(dialog)
    for width, side_by_side in ((1200, True), (1000, False), (1400, True)):
        dialog.resize(width, 760)
        qtbot.waitUntil(lambda: dialog.width() == width and dialog.charts_side_by_side is side_by_side)
        qtbot.wait(50)  # the layout settles after the rearrangement
        assert dialog.loss_chart.width() >= LOSS_CHART_MIN_WIDTH
        assert dialog.val_chart.width() >= VAL_CHART_MIN_WIDTH
        loss, val = dialog.loss_chart.geometry(), dialog.val_chart.geometry()
        if side_by_side:
            assert val.left() >= loss.right() and val.top() == loss.top()
        else:
            assert val.top() >= loss.bottom() and val.left() == loss.left()
    assert dialog.val_chart.height() >= 200


# --- 4. the Batch dialog ----------------------------------------------------------------------------


def test_batch_dialog_table_first_short_statuses_details_settings_and_output_folder(make_window, qtbot, tmp_path):
    from PySide6.QtWidgets import QHeaderView

    w = make_window()
    album = write_grey_album(tmp_path / "a-rather-long-folder-name-for-old-family-photos", 3)
    (album / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" * 3)
    w.open_batch_dialog([album])
    dialog = w.batch_dialog
    assert "model tiny" in dialog.settings_label.text() and "colour strength 1.00" in dialog.settings_label.text()
    w.style_panel.select_style("pack:swirls")
    dialog.do_stylize.setChecked(True)
    assert "style Swirls" in dialog.settings_label.text()
    dialog.do_stylize.setChecked(False)
    dialog.output.setText(str(tmp_path / "out"))
    assert not dialog.open_output_button.isEnabled()
    with qtbot.waitSignal(dialog.batch_finished, timeout=60_000):
        assert dialog.start()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    # The table is the main area; the Status column keeps its width whatever the failure says.
    assert dialog.table.height() > dialog.inputs.height()
    assert dialog.table.horizontalHeader().sectionResizeMode(1) == QHeaderView.ResizeMode.Fixed
    row = dialog._rows[(album / "broken.jpg").resolve()]
    cell = dialog.table.item(row, 1)
    assert cell.text() == "failed" and cell.toolTip().startswith("Failed: ") and "broken.jpg" in cell.toolTip()
    dialog.table.setCurrentCell(row, 0)
    assert "Failed:" in dialog.details.text() and str(album.resolve()) in dialog.details.text()
    assert dialog.open_output_button.isEnabled()
    out = next((tmp_path / "out").glob("photo_0*"))
    assert "with the model tiny" in read_provenance(out.read_bytes())["description"]


def test_blend_amount_says_what_it_is(make_window):
    from PySide6.QtWidgets import QFormLayout

    w = make_window()
    form = w.style_panel.findChild(QFormLayout)
    labels = [form.itemAt(r, QFormLayout.ItemRole.LabelRole).widget().text()
              for r in range(form.rowCount()) if form.itemAt(r, QFormLayout.ItemRole.LabelRole)]
    assert "Blend amount" in labels and "Second style" not in labels
    w.style_panel.second_combo.setCurrentIndex(1)
    w.style_panel.blend_slider.setValue(30)
    assert w.style_panel.blend_label.text() == "30 % of the second"


# --- 8. the export dialog ---------------------------------------------------------------------------


def test_export_dialog_is_wide_remembers_the_folder_and_offers_metadata(make_window, qtbot, tmp_path):
    from magicbrush_desktop.gui.export_dialog import MIN_WIDTH

    w = _colorized(make_window(), qtbot, tmp_path, name="1908FamilyPhoto.png")
    dialog = w.make_export_dialog()
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.width() >= MIN_WIDTH
    # The whole suggested path fits in the field (no "…lyPhoto_colorized.jpg").
    edit = dialog.path_edit
    assert edit.fontMetrics().horizontalAdvance(edit.text()) < edit.width()
    assert dialog.format_combo.count() >= 4 and dialog.quality.isEnabled()
    assert dialog.keep_metadata() and "with the model tiny" in dialog.provenance_label.text()
    dialog.close()

    elsewhere = tmp_path / "exports"
    elsewhere.mkdir()
    w.app_settings.export_folder = ""
    assert save_photo(qtbot, w, elsewhere / "x.jpg") is not None
    w.app_settings.export_folder = str(elsewhere)  # what export_dialog() records after a save
    again = w.make_export_dialog()
    assert again.values()[0].parent == elsewhere


# --- 9. About: the model's licence ------------------------------------------------------------------


def test_about_shows_the_model_licence(make_window):
    from PySide6.QtWidgets import QLabel

    from magicbrush_desktop.gui.about_dialog import AboutDialog, licence_rows

    w = make_window()
    rows = dict(licence_rows("tiny"))
    assert rows["Magic Brush code"] == "MIT licence" and "Model tiny" in rows
    about = AboutDialog(w)
    text = " ".join(label.text() for label in about.findChildren(QLabel))
    assert "research and personal" in text and "Licences" in text
