"""Batch dialog over a folder with a broken file (stop, resume, failure summary) and the Train dialog
on a few generated photos for one tiny epoch (charts, samples, model lands in the picker)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from magicbrush_desktop.core.imageio import read_photo

from ..conftest import make_colour_image
from .gui_support import answer_next_prompt, write_grey_album, write_grey_photo


def _album(tmp_path: Path) -> Path:
    folder = tmp_path / "album"
    write_grey_album(folder, 3, width=48, height=40)
    (folder / "sub").mkdir()
    write_grey_photo(folder / "sub" / "deep.png", 48, 40, seed=7)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    return folder


def test_batch_folder_with_broken_file_summary_and_resume(make_window, qtbot, tmp_path):
    w = make_window()
    folder = _album(tmp_path)
    w.open_batch_dialog([folder])
    dialog = w.batch_dialog
    out = tmp_path / "out"
    dialog.output.setText(str(out))
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("jpg"))
    # Without sub-folders, the one photo below is said to be left out, with its summary.
    with qtbot.waitSignal(dialog.batch_finished, timeout=60_000):
        assert dialog.start()
    assert "1 photo(s) in sub-folders left out" in dialog.summary_label.text()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    for written in [p for p in out.rglob("*") if p.is_file()]:  # start the real run afresh
        written.unlink()
    dialog.recursive.setChecked(True)
    # Skipping done photos (the default) and replacing their outputs exclude each other.
    assert dialog.skip_done.isChecked() and not dialog.replace_existing.isChecked()
    dialog.replace_existing.setChecked(True)
    assert not dialog.skip_done.isChecked()
    dialog.skip_done.setChecked(True)
    assert not dialog.replace_existing.isChecked()
    with qtbot.waitSignal(dialog.batch_finished, timeout=60_000) as blocker:
        assert dialog.start()
    summary = blocker.args[0]
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    assert summary["done"] == 4 and summary["skipped"] == 0
    assert [Path(name).name for name, _ in summary["failed"]] == ["broken.jpg"]
    assert "broken.jpg" in dialog.summary_label.text()
    assert dialog.status_of(folder.resolve() / "broken.jpg").startswith("failed:")
    assert dialog.status_of(folder.resolve() / "photo_0.png") == "done"
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["photo_0.jpg", "photo_1.jpg", "photo_2.jpg", "sub/deep.jpg"]
    assert read_photo(out / "photo_0.jpg").size == (48, 40)

    # Re-running resumes: what is done is skipped.
    (out / "photo_1.jpg").unlink()
    with qtbot.waitSignal(dialog.batch_finished, timeout=60_000) as blocker:
        dialog.start()
    assert blocker.args[0]["done"] == 1 and blocker.args[0]["skipped"] == 3
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)


def test_batch_stop_finishes_current_file_and_leaves_nothing_partial(make_window, qtbot, tmp_path):
    w = make_window()
    folder = write_grey_album(tmp_path / "many", 8, "p{i:02d}.png", 40, 32)
    w.open_batch_dialog([folder])
    dialog = w.batch_dialog
    out = tmp_path / "out"
    dialog.output.setText(str(out))
    dialog.do_colorize.setChecked(False)
    dialog.do_stylize.setChecked(True)  # slow enough per file to stop in the middle
    w.style_panel.steps.setValue(10)
    w.style_panel.size.setValue(32)
    assert dialog.start()
    # While it runs, what it was started with cannot be changed under it.
    assert not dialog.output.isEnabled() and not dialog.inputs.isEnabled() and not dialog.do_stylize.isEnabled()
    qtbot.waitUntil(lambda: any(dialog.status_of(p) == "done" for p in sorted(folder.resolve().iterdir())),
                    timeout=60_000)
    dialog.stop_button.click()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=60_000)
    assert dialog.output.isEnabled() and dialog.inputs.isEnabled() and dialog.replace_existing.isEnabled()
    assert "Stopped" in dialog.summary_label.text()
    outputs = [p for p in out.iterdir()]
    assert 1 <= len(outputs) < 8
    assert not [p for p in outputs if p.name.startswith(".") or p.suffix == ".part"]
    for p in outputs:
        assert read_photo(p).size == (40, 32)


def test_batch_needs_an_output_folder(make_window, tmp_path):
    from .gui_support import message_boxes

    w = make_window()
    w.open_batch_dialog([_album(tmp_path)])
    w.batch_dialog.output.clear()
    assert not w.batch_dialog.start()
    assert any("output folder" in b.text() for b in message_boxes(w.batch_dialog))


def _tiny_training_form(w, tmp_path, name: str, photos: int, epochs: int, batch: int):
    """A folder of generated colour photos and the Train dialog filled in for a tiny ResU-Net run."""
    data = tmp_path / "colour"
    data.mkdir()
    for i in range(photos):
        Image.fromarray(make_colour_image(64, 64, seed=i)).save(data / f"c{i}.png")
    w.open_train_dialog()
    dialog = w.train_dialog
    defaults = (dialog.lr_g.value(), dialog.lr_d.value(), dialog.lambda_l1.value())
    dialog.folder.setText(str(data))
    dialog.name.setText(name)
    dialog.epochs.setValue(epochs)
    dialog.image_size.setValue(32)
    dialog.batch_size.setValue(batch)
    dialog.network.setCurrentIndex(dialog.network.findData("resunet"))
    dialog.extra_config = {"generator_kwargs": {"base": 8, "depth": 2}}
    return dialog, defaults


def test_train_dialog_folds_the_optimiser_settings_away_and_remembers(make_window, qtbot):
    from magicbrush_desktop.gui.train_dialog import TrainDialog

    w = make_window()
    w.open_train_dialog()
    dialog = w.train_dialog
    # A first look shows what a family chooses; learning rates and the like are one click away.
    assert dialog.epochs.isVisibleTo(dialog) and dialog.old_photo_look.isVisibleTo(dialog)
    assert not any(x.isVisibleTo(dialog) for x in (dialog.lr_g, dialog.lr_d, dialog.batch_size, dialog.val_split))
    folded = dialog.sizeHint().height()
    field_x = dialog.epochs.mapTo(dialog, dialog.epochs.rect().topLeft()).x()
    dialog.advanced_toggle.click()
    qtbot.waitUntil(lambda: dialog.lr_g.isVisible())
    # The fields stay where they were: the label column does not widen for the longer labels.
    assert dialog.epochs.mapTo(dialog, dialog.epochs.rect().topLeft()).x() == field_x
    assert all(x.isVisibleTo(dialog) for x in (dialog.lr_g, dialog.lr_d, dialog.lambda_l1, dialog.soft_labels))
    assert dialog.sizeHint().height() > folded
    # Hidden settings still count, and the next dialog opens them again.
    dialog.lr_g.setValue(1e-4)
    assert dialog.config().lr_g == 1e-4
    again = TrainDialog(w)
    qtbot.addWidget(again)
    assert again.advanced_toggle.isChecked() and again.lr_g.isVisibleTo(again)


def test_train_dialog_one_tiny_epoch_installs_model(make_window, qtbot, tmp_path):
    w = make_window()
    dialog, defaults = _tiny_training_form(w, tmp_path, "family-album", photos=6, epochs=1, batch=2)
    # TrainConfig's defaults are what the form starts with (pix2pix's G rate and λ, a 5x faster D).
    assert defaults == (2e-4, 1e-3, 100)
    dialog.val_split.setValue(34)  # per cent
    assert not dialog.resume_button.isEnabled()
    with qtbot.waitSignal(dialog.model_installed, timeout=120_000) as blocker:
        assert dialog.start()
        assert dialog.stop_button.isEnabled() and not dialog.start_button.isEnabled()
    assert blocker.args == ["family-album"]
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    assert dialog.loss_chart.point_count("G_L1") >= 1 and dialog.loss_chart.point_count("D_real") >= 1
    assert dialog.val_chart.point_count("psnr") == 1
    assert dialog.sample.pixmap() is not None and not dialog.sample.pixmap().isNull()
    # The finished model is in the picker; the model in use stays selected (issue 13).
    assert w.colorize_panel.model_name() == "tiny"
    assert w.colorize_panel.model_combo.findData("family-album") >= 0
    assert not dialog.resume_button.isEnabled()  # the run finished: nothing to resume (issue 13)
    dialog.epochs.setValue(2)
    assert dialog.resume_button.isEnabled()  # more epochs can continue it from last.pt
    # The finished model can be continued at once: "Start from" lists it without reopening the dialog.
    assert dialog.start_from.findData("family-album") >= 0


def test_train_dialog_resumed_and_replaced_runs_install_their_models(make_window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from magicbrush_desktop.core.checkpoint import load_checkpoint
    from magicbrush_desktop.core.paths import user_models_dir

    w = make_window()
    dialog, _ = _tiny_training_form(w, tmp_path, "again", photos=6, epochs=1, batch=2)
    dialog.val_split.setValue(34)
    with qtbot.waitSignal(dialog.model_installed, timeout=120_000):
        assert dialog.start()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    # Resumed for a second epoch: its model replaces the one the first session installed.
    dialog.epochs.setValue(2)
    with qtbot.waitSignal(dialog.model_installed, timeout=120_000) as blocker:
        assert dialog.start(resume=True)
    assert blocker.args == ["again"]
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    assert load_checkpoint(user_models_dir() / "again.pt")["epoch"] == 2  # epochs done
    # Started afresh under the same name, once the user agrees to replace it.
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dialog.epochs.setValue(1)
    with qtbot.waitSignal(dialog.model_installed, timeout=120_000) as blocker:
        assert dialog.start()
    assert blocker.args == ["again"]
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    assert load_checkpoint(user_models_dir() / "again.pt")["epoch"] == 1


def test_train_dialog_continues_a_model_with_an_old_photo_look(make_window, qtbot, tmp_path):
    from magicbrush_desktop.core.checkpoint import load_checkpoint

    w = make_window()
    dialog, _ = _tiny_training_form(w, tmp_path, "continued", photos=6, epochs=1, batch=2)
    dialog.val_split.setValue(34)
    # A new tiny ResU-Net: colour classes are the VGG ResU-Net's, and rebalancing needs colour classes.
    assert dialog.start_from.currentData() == "" and dialog.network.isEnabled()
    assert not dialog.colour_classes.isEnabled() and not dialog.rare_colours.isEnabled()
    dialog.network.setCurrentIndex(dialog.network.findData("vgg_resunet"))
    assert dialog.colour_classes.isEnabled() and not dialog.rare_colours.isEnabled()
    dialog.colour_classes.setChecked(True)
    assert dialog.rare_colours.isEnabled()
    dialog.rare_colours.setChecked(True)
    config = dialog.config()
    assert (config.head, config.rebalance, config.init) == ("classes", 0.5, "")
    # Continuing the installed model: its own network, so the network choice is off.
    # Back to the small ResU-Net: colour classes do not apply and are unticked, not only greyed.
    dialog.network.setCurrentIndex(dialog.network.findData("resunet"))
    assert not dialog.colour_classes.isChecked() and not dialog.rare_colours.isChecked()
    dialog.network.setCurrentIndex(dialog.network.findData("vgg_resunet"))
    dialog.start_from.setCurrentIndex(dialog.start_from.findData("tiny"))
    # Its own network is shown, greyed: read from the model file (a small ResU-Net, so no colour classes).
    assert not dialog.network.isEnabled() and not dialog.rare_colours.isEnabled()
    assert dialog.network.isVisibleTo(dialog) and dialog.network.currentData() == "resunet"
    assert dialog.network.currentText() == "ResU-Net (small)"  # what it is, not "from scratch"
    assert "network of tiny" in dialog._form.labelForField(dialog.network).toolTip()
    assert not dialog.colour_classes.isEnabled() and not dialog.colour_classes.isChecked()
    # Back to a new network: the user's own choice returns.
    dialog.start_from.setCurrentIndex(0)
    assert dialog.network.isEnabled() and dialog.network.currentData() == "vgg_resunet"
    assert dialog.network.itemText(dialog.network.findData("resunet")) == "ResU-Net (small, from scratch)"
    dialog.start_from.setCurrentIndex(dialog.start_from.findData("tiny"))
    dialog.old_photo_look.setValue(50)
    dialog.extra_config = {}
    config = dialog.config()
    assert (config.init, config.degrade, config.head, config.rebalance) == ("tiny", 0.5, "", 0.0)
    with qtbot.waitSignal(dialog.model_installed, timeout=120_000) as blocker:
        assert dialog.start()
    assert blocker.args == ["continued"]
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    best = load_checkpoint(dialog.run_dir() / "best.pt")
    assert best["config"]["init"] == "tiny" and best["config"]["degrade"] == 0.5
    # The continued model's network (base 4, depth 2), not the form's tiny one (base 8).
    assert best["arch"]["name"] == "resunet" and best["arch"]["kwargs"] == {"base": 4, "depth": 2}
    # A model that already predicts colour classes shows the box ticked and greyed, and keeps them.
    dialog._architectures["tiny"] = {"name": "vgg_resunet", "kwargs": {"head": "classes"}}
    dialog._update_model_options()
    assert dialog.colour_classes.isChecked() and not dialog.colour_classes.isEnabled()
    assert dialog.rare_colours.isEnabled() and dialog.config().head == "classes"
    assert dialog.network.currentText() == "VGG ResU-Net (pretrained encoder)"
    dialog._architectures["tiny"] = {"name": "vgg_resunet", "kwargs": {"head": "classes", "freeze_encoder": False}}
    dialog._update_model_options()
    assert dialog.network.currentText() == "VGG ResU-Net (fine-tuned encoder)"
    dialog.start_from.setCurrentIndex(0)  # a new network again: the user's own (unticked) choice returns
    assert not dialog.colour_classes.isChecked() and dialog.network.isEnabled()


def test_train_dialog_stop_saves_and_resume_continues(make_window, qtbot, tmp_path):
    w = make_window()
    dialog, _ = _tiny_training_form(w, tmp_path, "stopper", photos=8, epochs=50, batch=1)
    assert dialog.start()
    qtbot.waitUntil(lambda: dialog.loss_chart.point_count("G_L1") >= 2, timeout=60_000)
    with qtbot.waitSignal(dialog.run_ended, timeout=60_000) as blocker:
        dialog.stop_button.click()
    assert blocker.args == ["cancelled"]
    assert (dialog.run_dir() / "last.pt").is_file() and dialog.resume_button.isEnabled()
    points = dialog.loss_chart.point_count("G_L1")
    assert dialog.start(resume=True)
    qtbot.waitUntil(lambda: dialog.loss_chart.point_count("G_L1") > points, timeout=60_000)
    asked = answer_next_prompt("discard")  # "Stop training and quit?"
    w.close()  # closing the app stops training cleanly (saving last.pt again)
    assert asked and "training" in asked[0]
    assert dialog.job is None or dialog.job.isFinished()


def test_batch_with_a_damaged_hints_file_uses_automatic_colours_and_says_why(make_window, qtbot, tmp_path):
    # A broken NAME.hints.json beside a photo must not fail the photo, nor be ignored in silence.
    folder = tmp_path / "scans"
    folder.mkdir()
    write_grey_photo(folder / "old.png", 48, 40, seed=3)
    (folder / "old.hints.json").write_text("{not json", encoding="utf-8")
    w = make_window()
    w.open_batch_dialog([folder])
    dialog = w.batch_dialog
    out = tmp_path / "out"
    dialog.output.setText(str(out))
    with qtbot.waitSignal(dialog.batch_finished, timeout=60_000) as blocker:
        assert dialog.start()
    qtbot.waitUntil(lambda: dialog.job is None, timeout=10_000)
    assert blocker.args[0]["done"] == 1 and not blocker.args[0]["failed"]
    source = (folder / "old.png").resolve()
    assert dialog.status_of(source) == "done"
    row = dialog._rows[source]
    assert "old.hints.json" in dialog.table.item(row, 1).toolTip()
    dialog.table.setCurrentCell(row, 0)
    assert "automatic colours" in dialog.details.text()
    assert read_photo(out / "old.png").size == (48, 40)
