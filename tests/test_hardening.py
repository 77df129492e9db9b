"""Issue 15, hardening: no silent overwrite, no traceback, no leftovers. One section per numbered item."""

from __future__ import annotations

import errno
import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from magicbrush_desktop.cli import main
from magicbrush_desktop.core import files as files_mod
from magicbrush_desktop.core import models as registry
from magicbrush_desktop.core.batch import plan_batch, run_batch
from magicbrush_desktop.core.checkpoint import load_checkpoint, make_checkpoint, save_checkpoint
from magicbrush_desktop.core.errors import MagicBrushError, ModelError, OutputExists
from magicbrush_desktop.core.events import FileDone, Finished
from magicbrush_desktop.core.files import atomic_write, free_path, remove_stale_parts
from magicbrush_desktop.core.networks import build_generator

from .conftest import make_colour_image, tiny_style_engine


def _grey(path: Path, seed: int = 0, size: tuple[int, int] = (40, 32)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(make_colour_image(*size, seed=seed)).convert("L").save(path)
    return path


def _bytes(path: Path) -> bytes:
    return path.read_bytes()


def _no_parts(folder: Path) -> bool:
    return not [p for p in folder.rglob("*.part")]


# --- 1. colorize never replaces a file the run did not create --------------------------------------


def test_colorize_does_not_replace_another_photo_in_the_output_folder(tmp_path, tiny_model, capsys):
    scans = tmp_path / "scans"
    family = _grey(scans / "family.jpg", seed=1)
    _grey(scans / "1908" / "family.jpg", seed=2)
    before = _bytes(family)
    code = main(["colorize", str(scans / "1908" / "family.jpg"), "-o", str(scans), "--model", str(tiny_model),
                 "--render-size", "64"])
    out = capsys.readouterr()
    assert code == 0
    assert _bytes(family) == before  # the unrelated photo is untouched
    assert (scans / "family_colorized.jpg").is_file()
    assert "written as 'family_colorized.jpg'" in out.out + out.err
    # Again: the first free name is taken now (by our earlier output, which this run did not create).
    assert main(["colorize", str(scans / "1908" / "family.jpg"), "-o", str(scans), "--model",
                 str(tiny_model), "--render-size", "64"]) == 0
    assert (scans / "family_colorized-2.jpg").is_file()
    assert _bytes(family) == before


def test_colorize_folder_into_its_parent_keeps_the_parents_photos(tmp_path, tiny_model, capsys):
    """`colorize scans/1908 -o scans`: photos are found (not "No photos found.") and nothing is replaced."""
    scans = tmp_path / "scans"
    family = _grey(scans / "family.jpg", seed=1)
    _grey(scans / "1908" / "family.jpg", seed=2)
    _grey(scans / "1908" / "other.png", seed=3)
    before = _bytes(family)
    assert main(["colorize", str(scans / "1908"), "-o", str(scans), "--model", str(tiny_model),
                 "--render-size", "64"]) == 0
    assert "2 photo(s) written" in capsys.readouterr().out
    assert _bytes(family) == before
    assert (scans / "family_colorized.jpg").is_file() and (scans / "other.png").is_file()


def test_colorize_format_change_does_not_replace_an_existing_file(tmp_path, tiny_model):
    stem = tmp_path / "stem"
    _grey(stem / "photo.jpg", seed=1)
    existing = stem / "photo.png"
    Image.fromarray(make_colour_image(20, 20, seed=9)).save(existing)
    before = _bytes(existing)
    assert main(["colorize", str(stem / "photo.jpg"), "-o", str(stem), "--format", "png", "--model",
                 str(tiny_model), "--render-size", "64"]) == 0
    assert _bytes(existing) == before
    assert Image.open(stem / "photo_colorized.png").size == (40, 32)
    # The user says so: --overwrite replaces it (a non-source file).
    assert main(["colorize", str(stem / "photo.jpg"), "-o", str(stem), "--format", "png", "--model",
                 str(tiny_model), "--render-size", "64", "--overwrite"]) == 0
    assert Image.open(existing).size == (40, 32)
    # ... but never a source, even with --overwrite.
    assert main(["colorize", str(stem / "photo.jpg"), "-o", str(stem), "--model", str(tiny_model),
                 "--overwrite"]) == 1


def test_batch_core_free_names_and_no_replace_race(tmp_path):
    src = _grey(tmp_path / "in" / "a.png")
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"someone else's file")
    events = list(run_batch(plan_batch([src], out), lambda photo: photo.rgb))
    done = [e for e in events if isinstance(e, FileDone)]
    assert done[0].output == out / "a_colorized.png" and "already exists" in done[0].note
    assert (out / "a.png").read_bytes() == b"someone else's file"
    assert events[-1].summary["renamed"] == [(str(src.resolve()), str(out / "a_colorized.png"))]
    # A file that appears between the check and the rename is not replaced either.
    target = tmp_path / "late.bin"
    target.write_bytes(b"late")
    with pytest.raises(OutputExists):
        atomic_write(target, b"new", replace=False)
    assert target.read_bytes() == b"late" and _no_parts(tmp_path)
    assert free_path(out / "a.png") == out / "a_colorized-2.png"


# --- 2. stylize never writes over any input, nor an existing file without --overwrite --------------


@pytest.fixture
def tiny_stylize(monkeypatch):
    from magicbrush_desktop.core.style import engine as style_engine

    engine = tiny_style_engine()  # built before the patch (it uses the real StyleEngine)
    monkeypatch.setattr(style_engine, "StyleEngine", lambda *a, **k: engine)


def test_stylize_refuses_to_write_over_the_style_painting(tmp_path, tiny_stylize, capsys):
    photo = tmp_path / "photo.png"
    Image.fromarray(make_colour_image(48, 40, seed=1)).save(photo)
    painting = tmp_path / "st" / "painting.jpg"
    painting.parent.mkdir()
    Image.fromarray(make_colour_image(48, 48, seed=2)).save(painting)
    before = _bytes(painting)
    code = main(["stylize", str(photo), "--style", str(painting), "-o", str(painting), "--size", "32",
                 "--steps", "1", "--overwrite"])
    assert code == 1
    assert "one of the inputs" in capsys.readouterr().err
    assert _bytes(painting) == before
    # The same painting through another spelling of its path.
    assert main(["stylize", str(photo), "--style", str(painting), "-o",
                 str(tmp_path / "st" / ".." / "st" / "painting.jpg"), "--size", "32", "--steps", "1"]) == 1
    assert _bytes(painting) == before


def test_threads_option_limits_the_command_and_restores_the_count(tmp_path, tiny_model, monkeypatch, capsys):
    import magicbrush_desktop.cli.colorize as colorize_cli

    seen = []
    real = colorize_cli.run
    monkeypatch.setattr(colorize_cli, "run", lambda args: seen.append(torch.get_num_threads()) or real(args))
    parser_args = ["colorize", str(_grey(tmp_path / "in" / "a.jpg")), "-o", str(tmp_path / "out"),
                   "--model", str(tiny_model)]
    before = torch.get_num_threads()
    assert main([*parser_args, "--threads", "1"]) == 0  # main builds its parser anew: it calls the patch
    assert seen == [1] and torch.get_num_threads() == before
    for command in ("colorize", "evaluate", "stylize"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "--threads N" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([*parser_args, "--threads", "-1"])
    assert "threads must be 0" in capsys.readouterr().err


def test_stylize_existing_output_needs_overwrite(tmp_path, tiny_stylize, capsys):
    photo = tmp_path / "photo.png"
    Image.fromarray(make_colour_image(48, 40, seed=1)).save(photo)
    out = tmp_path / "result.png"
    out.write_bytes(b"an earlier result")
    assert main(["stylize", str(photo), "--style", "comic", "-o", str(out), "--size", "32", "--steps", "1"]) == 1
    assert "already exists" in capsys.readouterr().err and out.read_bytes() == b"an earlier result"
    assert main(["stylize", str(photo), "--style", "comic", "-o", str(out), "--size", "32", "--steps", "1",
                 "--overwrite"]) == 0
    assert Image.open(out).size == (48, 40)


# --- 4. models: shipped names reserved, no silent replacement, install validates -----------------


def _checkpoint(tmp_path: Path, name: str = "good.pt", **arch_kwargs) -> Path:
    torch.manual_seed(0)
    kwargs = {"base": 4, "depth": 2}
    gen = build_generator("resunet", **kwargs)
    arch = {"name": "resunet", "kwargs": {**kwargs, **arch_kwargs}}
    return save_checkpoint(make_checkpoint(gen, arch), tmp_path / name)


def test_models_install_refuses_shipped_name_and_existing_name(tmp_path, capsys):
    shipped = registry.default_model_name()
    assert shipped is not None
    good = _checkpoint(tmp_path)
    assert main(["models", "install", str(good), "--name", shipped]) == 1
    assert "shipped" in capsys.readouterr().err
    assert not (registry.user_models_dir() / f"{shipped}.pt").exists()
    assert main(["models", "install", str(good), "--name", "family"]) == 0
    first = _bytes(registry.user_models_dir() / "family.pt")
    other = _checkpoint(tmp_path, "other.pt")
    save_checkpoint({**load_checkpoint(other), "metrics": {"psnr": 2.0}}, other)
    assert main(["models", "install", str(other), "--name", "family"]) == 1
    assert "--force" in capsys.readouterr().err
    assert _bytes(registry.user_models_dir() / "family.pt") == first
    assert main(["models", "install", str(other), "--name", "family", "--force"]) == 0
    assert _bytes(registry.user_models_dir() / "family.pt") == _bytes(other)


def test_a_user_file_cannot_hide_the_shipped_default(tmp_path, capsys):
    shipped = registry.default_model_name()
    bundled = registry.resolve_model(None)
    fake = registry.user_models_dir() / f"{shipped}.pt"
    fake.parent.mkdir(parents=True)
    _checkpoint(tmp_path, "fake.pt").rename(fake)  # put there by hand, not through install
    assert registry.resolve_model(None) == bundled
    assert registry.resolve_model(shipped) == bundled
    code = main(["models", "verify"])
    out = capsys.readouterr().out
    assert code == 0 and f"ok       {shipped}" in out and "ignored" in out and str(fake) in out


@pytest.mark.parametrize("arch_kwargs,message", [
    ({"base": 10_000_000}, "base=10000000"),
    ({"base": 4096, "depth": 12}, "parameters"),
    ({"depth": 1000}, "depth=1000"),
    ({"base": 0}, "base=0"),
    ({"depth": "deep"}, "architecture"),
    ({"width": 3}, "architecture"),
])
def test_models_install_validates_that_the_model_builds_and_runs(tmp_path, arch_kwargs, message, capsys):
    bad = _checkpoint(tmp_path, "bad.pt", **arch_kwargs)
    assert main(["models", "install", str(bad), "--name", "bad"]) == 1
    assert message in capsys.readouterr().err
    assert not registry.user_models_dir().exists() or not list(registry.user_models_dir().iterdir())
    # The colorizer refuses it too (a 2.9 TB allocation is never tried).
    assert main(["colorize", "--sample", "-o", str(tmp_path / "o"), "--model", str(bad)]) == 1


def test_models_install_rejects_mismatched_weights(tmp_path):
    path = _checkpoint(tmp_path)
    ckpt = load_checkpoint(path)
    ckpt["arch"]["kwargs"]["base"] = 8  # the weights are for base 4
    save_checkpoint(ckpt, path)
    with pytest.raises(ModelError, match="does not match"):
        registry.install_trained_model(path, "mismatch")


# --- 9. write failures: refused up front, carry on, stop on a full disk with a list ---------------


def test_colorize_output_that_is_a_file_is_refused_before_work(tmp_path, tiny_model, capsys):
    photo = _grey(tmp_path / "a.jpg")
    not_a_folder = tmp_path / "out.jpg"
    not_a_folder.write_bytes(b"x")
    for target in (not_a_folder, Path("/dev/null")):
        assert main(["colorize", str(photo), "-o", str(target), "--model", str(tiny_model)]) == 1
        err = capsys.readouterr().err
        assert "not a folder" in err and "Traceback" not in err
    assert not_a_folder.read_bytes() == b"x"


def test_colorize_read_only_output_is_refused_before_work(tmp_path, tiny_model, monkeypatch, capsys):
    photo = _grey(tmp_path / "a.jpg")
    out = tmp_path / "ro"
    out.mkdir()
    real = files_mod.tempfile.mkstemp

    def read_only(*args, **kwargs):
        if Path(kwargs.get("dir", "")) == out:
            raise OSError(errno.EROFS, "Read-only file system")
        return real(*args, **kwargs)

    monkeypatch.setattr(files_mod.tempfile, "mkstemp", read_only)
    loaded = []
    from magicbrush_desktop.core.colorize import Colorizer

    monkeypatch.setattr(Colorizer, "load", classmethod(lambda cls, *a, **k: loaded.append(1)))
    assert main(["colorize", str(photo), "-o", str(out), "--model", str(tiny_model)]) == 1
    assert "read-only" in capsys.readouterr().err
    assert not loaded  # refused before the model was even loaded


def test_a_full_disk_stops_the_batch_with_a_list(tmp_path, tiny_model, monkeypatch, capsys):
    src = tmp_path / "in"
    for i in range(4):
        _grey(src / f"{i}.png", seed=i)
    out = tmp_path / "out"
    real_fsync = files_mod.os.fsync
    calls = {"n": 0}

    def fsync(fd):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(files_mod.os, "fsync", fsync)
    code = main(["colorize", str(src), "-o", str(out), "--model", str(tiny_model), "--render-size", "64"])
    captured = capsys.readouterr()
    assert code == 1
    assert "disk is full" in captured.err + captured.out
    assert sorted(p.name for p in out.iterdir()) == ["0.png"]  # no partial file, nothing after the failure
    assert "not written: 2.png" in captured.err and "not written: 3.png" in captured.err
    assert "1.png" in captured.out and "Traceback" not in captured.err


def test_other_write_errors_are_listed_and_the_batch_carries_on(tmp_path):
    src = tmp_path / "in"
    for i in range(3):
        _grey(src / f"{i}.png", seed=i)
    out = tmp_path / "out"
    items = plan_batch([src], out)
    (out / "1.png").mkdir()  # a folder in the way of one output: it gets a free name instead
    (out / "1_colorized.png").mkdir()
    items[2] = items[2].__class__(items[2].source, out / ("x" * 300 + ".png"))  # a name too long
    events = list(run_batch(items, lambda photo: photo.rgb))
    summary = events[-1].summary
    assert summary["done"] == 2 and len(summary["failed"]) == 1 and summary["stopped"] is None
    assert (out / "1_colorized-2.png").is_file()


def test_stylize_unwritable_output_is_refused_before_work(tmp_path, capsys):
    photo = tmp_path / "photo.png"
    Image.fromarray(make_colour_image(32, 32)).save(photo)
    (tmp_path / "folder.png").mkdir()
    assert main(["stylize", str(photo), "--style", "comic", "-o", str(tmp_path / "folder.png")]) == 1
    assert "is a folder; give -o a file name in it" in capsys.readouterr().err
    (tmp_path / "results").mkdir()  # a plain folder: said so, not "use .jpg, .png, ..."
    assert main(["stylize", str(photo), "--style", "comic", "-o", str(tmp_path / "results")]) == 1
    err = capsys.readouterr().err
    assert "is a folder" in err and "painted.jpg" in err and "use .jpg" not in err
    assert main(["stylize", str(photo), "--style", "comic", "-o", "/dev/null"]) == 1
    assert "Traceback" not in capsys.readouterr().err


# --- 10. no leftovers: stale .part files removed, SIGTERM handled like Ctrl-C ----------------------


def test_stale_part_files_of_our_outputs_are_removed_at_start(tmp_path, tiny_model):
    src = tmp_path / "in"
    _grey(src / "a.jpg")
    out = tmp_path / "out"
    out.mkdir()
    ours = [out / ".a.jpg.k3j9x_2q.part", out / ".a_colorized.jpg.abcdefgh.part"]
    foreign = [out / ".notes.txt.abcdefgh.part", out / "mine.part", out / ".a.jpg.toolongrandom.part"]
    for p in ours + foreign:
        p.write_bytes(b"x" * 10)
    assert main(["colorize", str(src), "-o", str(out), "--model", str(tiny_model), "--skip-existing"]) == 0
    assert not any(p.exists() for p in ours)
    assert all(p.exists() for p in foreign)
    assert remove_stale_parts(out, {"notes.txt"}) == [out / ".notes.txt.abcdefgh.part"]


def test_sigterm_asks_a_job_to_stop_like_ctrl_c():
    from magicbrush_desktop.cli.common import graceful_interrupt

    before = signal.getsignal(signal.SIGTERM)
    with graceful_interrupt() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)  # a second one aborts at once
    assert signal.getsignal(signal.SIGTERM) == before  # the previous handler is back


def test_interrupted_write_leaves_no_part_file(tmp_path, monkeypatch):
    def boom(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(files_mod.os, "fsync", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "x.png", b"data")
    assert list(tmp_path.iterdir()) == []


# --- 11. models install: unwritable home, full disk ----------------------------------------------


def test_models_install_with_unusable_home_is_one_line(tmp_path, monkeypatch, capsys):
    good = _checkpoint(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MAGICBRUSH_HOME", str(blocker / "home"))
    assert main(["models", "install", str(good), "--name", "family"]) == 1
    err = capsys.readouterr().err
    assert "cannot install" in err and "Traceback" not in err


def test_models_install_full_disk_leaves_no_part(tmp_path, monkeypatch, capsys):
    good = _checkpoint(tmp_path)

    def full(src, dst, length=0):
        dst.write(src.read(100))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(registry.shutil, "copyfileobj", full)
    assert main(["models", "install", str(good), "--name", "family"]) == 1
    assert "disk is full" in capsys.readouterr().err
    folder = registry.user_models_dir()
    assert list(folder.iterdir()) == []
    # A stale one left by a kill is removed by the next install.
    monkeypatch.undo()
    monkeypatch.setenv("MAGICBRUSH_HOME", str(folder.parents[1]))
    (folder / ".family.pt.abcdefgh.part").write_bytes(b"half")
    (folder / ".family.json.abcdefgh.part").write_bytes(b"{")
    assert main(["models", "install", str(good), "--name", "family"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["family.json", "family.pt"]  # the model and its figures


# --- 3. train never replaces an earlier run's models silently ------------------------------------

TINY_TRAIN = ["--epochs", "1", "--image-size", "32", "--batch-size", "2", "--generator", "resunet", "--base", "4",
              "--val-split", "0.25"]


def _copy_photos(src: Path, dst: Path, n: int = 8) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for p in sorted(src.iterdir())[:n]:
        (dst / p.name).write_bytes(p.read_bytes())
    return dst


def test_train_refuses_a_non_empty_run_folder(tmp_path, colour_folder, capsys):
    from magicbrush_desktop.core.train import TrainConfig, train

    run = tmp_path / "run"
    assert main(["train", str(colour_folder), "--out", str(run), *TINY_TRAIN]) == 0
    best = _bytes(run / "best.pt")
    log_lines = len((run / "log.jsonl").read_text().splitlines())
    capsys.readouterr()
    assert main(["train", str(colour_folder), "--out", str(run), *TINY_TRAIN, "--lr-g", "0.5"]) == 1
    err = capsys.readouterr().err
    assert "not empty" in err and "--resume" in err and "--overwrite" in err
    assert _bytes(run / "best.pt") == best
    # The core refuses too (the desktop app calls it).
    with pytest.raises(MagicBrushError, match="not empty"):
        next(train(TrainConfig(data_dir=str(colour_folder), run_dir=str(run))))
    # --overwrite replaces the earlier run: a fresh log, not one appended to the old.
    assert main(["train", str(colour_folder), "--out", str(run), *TINY_TRAIN, "--overwrite"]) == 0
    assert len((run / "log.jsonl").read_text().splitlines()) == log_lines
    assert load_checkpoint(run / "best.pt")["created"]


def test_train_refuses_the_photo_folder_as_run_folder(tmp_path, colour_folder, capsys):
    data = _copy_photos(colour_folder, tmp_path / "data", n=2)
    before = sorted(p.name for p in data.iterdir())
    assert main(["train", str(data), "--out", str(data), *TINY_TRAIN, "--overwrite"]) == 1
    assert "photo folder itself" in capsys.readouterr().err
    assert sorted(p.name for p in data.iterdir()) == before


# --- 5. resume: the run's saved settings win unless given; paths stored absolute ------------------


def test_printed_resume_command_continues_the_same_run(tmp_path, colour_folder, monkeypatch, capsys):
    from magicbrush_desktop.core.events import Metrics
    from magicbrush_desktop.core.train import TrainConfig, train

    monkeypatch.chdir(tmp_path)
    _copy_photos(colour_folder, tmp_path / "photos")
    config = TrainConfig(data_dir="photos", run_dir="run", epochs=2, image_size=32, batch_size=2, val_split=0.25,
                         generator="resunet", generator_kwargs={"base": 4, "depth": 2},
                         discriminator_kwargs={"base": 4, "n_layers": 2})
    job = train(config)
    for event in job:
        if isinstance(event, Metrics) and event.kind == "train":
            break
    job.close()  # stopped after one step, like Ctrl-C
    saved = load_checkpoint(tmp_path / "run" / "last.pt")["config"]
    assert saved["data_dir"] == str(tmp_path / "photos") and saved["run_dir"] == str(tmp_path / "run")
    # The printed command, from another working folder, with the data folder moved meanwhile.
    (tmp_path / "photos").rename(tmp_path / "moved")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["train", str(tmp_path / "moved"), "--out", str(tmp_path / "run"), "--resume"]) == 0
    last = load_checkpoint(tmp_path / "run" / "last.pt")
    assert last["config"]["epochs"] == 2 and last["epoch"] == 2  # not the CLI default of 20
    assert last["config"]["image_size"] == 32 and last["config"]["data_dir"] == str(tmp_path / "moved")
    # An explicit value does win.
    assert main(["train", str(tmp_path / "moved"), "--out", str(tmp_path / "run"), "--resume",
                 "--epochs", "3"]) == 0
    assert load_checkpoint(tmp_path / "run" / "last.pt")["epoch"] == 3
    # Another network is refused, not silently ignored (the run's weights fit only its own network).
    capsys.readouterr()
    for option, named in ((["--generator", "unet"], "generator 'unet'"), (["--base", "8"], "generator_kwargs")):
        assert main(["train", str(tmp_path / "moved"), "--out", str(tmp_path / "run"), "--resume",
                     "--epochs", "4", *option]) == 1
        err = capsys.readouterr().err
        assert "keeps its network" in err and named in err and "--init" in err
    # The run's own network named again (its width, the regression head that "" stands for) is no change.
    assert main(["train", str(tmp_path / "moved"), "--out", str(tmp_path / "run"), "--resume",
                 "--base", "4", "--head", "regression"]) == 0
    assert load_checkpoint(tmp_path / "run" / "last.pt")["epoch"] == 3


# --- 6. the run folder (and Magic Brush results) are never training data -------------------------


def test_run_folder_inside_the_data_folder_is_not_scanned(tmp_path, colour_folder):
    from magicbrush_desktop.core.dataset import load_splits
    from magicbrush_desktop.core.imageio import read_photo, save_image
    from magicbrush_desktop.core.provenance import Provenance

    data = _copy_photos(colour_folder, tmp_path / "data", n=6)
    run = data / "run"
    assert main(["train", str(data), "--out", str(run), *TINY_TRAIN]) == 0
    assert (run / "samples" / "epoch_001.png").is_file()
    assert json.loads((run / "data.json").read_text())["found"] == 6
    assert main(["train", str(data), "--out", str(run), "--resume", "--epochs", "2"]) == 0
    assert json.loads((run / "data.json").read_text())["found"] == 6  # not 7: its own sample grid
    # Another run folder and a colorized result in the data folder are left out too.
    other = data / "old-run"
    (other / "samples").mkdir(parents=True)
    (other / "config.json").write_text("{}")
    (other / "log.jsonl").write_text("")
    Image.fromarray(make_colour_image(64, 64)).save(other / "samples" / "epoch_001.png")
    photo = read_photo(data / sorted(p.name for p in data.glob("*.png"))[0])
    save_image(data / "result.png", photo.rgb, like=photo, provenance=Provenance(model="m"))
    *_, (train_set, val_set, _, summary) = load_splits(data, 32, exclude=(run,))
    used = {p.name for p in train_set.paths + val_set.paths}
    assert summary.found == 7 and len(used) == 6 and "result.png" not in used  # 6 photos + the result
    assert any("Magic Brush result" in reason for _, reason in summary.skipped)


# --- 7. bad numbers: a readable refusal, never a traceback or nonsense ---------------------------


@pytest.mark.parametrize("argv", [
    ["train", "DATA", "--out", "RUN", "--batch-size", "0"],
    ["train", "DATA", "--out", "RUN", "--image-size", "0"],
    ["train", "DATA", "--out", "RUN", "--image-size", "-8"],
    ["train", "DATA", "--out", "RUN", "--threads", "-1"],
    ["train", "DATA", "--out", "RUN", "--epochs", "0"],
    ["train", "DATA", "--out", "RUN", "--lr-g", "nan"],
    ["tune", "DATA", "--steps", "0"],
    ["evaluate", "DATA", "--strength", "nan"],
    ["evaluate", "DATA", "--limit", "-1"],
    ["colorize", "a.jpg", "-o", "OUT", "--quality", "500"],
    ["colorize", "a.jpg", "-o", "OUT", "--quality", "-3"],
    ["stylize", "a.jpg", "--style", "comic", "-o", "o.png", "--quality", "500"],
])
def test_bad_numbers_are_refused_by_the_cli(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("field,value,message", [
    ("batch_size", 0, "batch size"),
    ("image_size", -8, "image size"),
    ("threads", -1, "threads"),
    ("lr_g", float("nan"), "learning rate"),
    ("val_split", 1.5, "validation split"),
])
def test_bad_numbers_are_refused_by_the_core(tmp_path, colour_folder, field, value, message):
    from magicbrush_desktop.core.train import TrainConfig, train

    config = TrainConfig(data_dir=str(colour_folder), run_dir=str(tmp_path / "run"), **{field: value})
    with pytest.raises(MagicBrushError, match=message):
        next(train(config))
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_tune_and_evaluate_refuse_nonsense_in_the_core(tmp_path, colour_folder, tiny_model):
    from magicbrush_desktop.core.colorize import Colorizer
    from magicbrush_desktop.core.evaluate import evaluate
    from magicbrush_desktop.core.train import TrainConfig
    from magicbrush_desktop.core.tune import tune

    with pytest.raises(MagicBrushError, match="steps"):
        next(tune(TrainConfig(data_dir=str(colour_folder), run_dir=str(tmp_path)), steps=0))
    colorizer = Colorizer.load(str(tiny_model), "cpu")
    for kwargs, message in (({"strength": float("nan")}, "strength"), ({"limit": -1}, "limit")):
        with pytest.raises(MagicBrushError, match=message):
            next(evaluate(colorizer, colour_folder, **kwargs))
    with pytest.raises(MagicBrushError, match="quality"):
        next(run_batch([], lambda photo: photo.rgb, quality=500))


def test_train_refuses_an_impossible_generator_width(tmp_path, colour_folder, capsys):
    from magicbrush_desktop.core.train import TrainConfig, train

    for base in ("0", "10000000"):
        with pytest.raises(SystemExit):
            main(["train", str(colour_folder), "--out", str(tmp_path / "run"), "--base", base])
    # The core refuses it too (the desktop app, a --init model declaring it).
    for base in (0, 10_000_000):
        config = TrainConfig(data_dir=str(colour_folder), run_dir=str(tmp_path / "run"), image_size=32,
                             generator="resunet", generator_kwargs={"base": base})
        with pytest.raises(ModelError, match=f"base={base}"):
            list(train(config))


def test_save_quality_out_of_range_is_a_readable_error(tmp_path):
    from magicbrush_desktop.core.errors import PhotoError
    from magicbrush_desktop.core.imageio import save_image

    for quality in (500, -3, 0):
        for ext in ("jpg", "webp"):
            with pytest.raises(PhotoError, match="quality"):
                save_image(tmp_path / f"x.{ext}", np.zeros((8, 8, 3), np.uint8), quality=quality)
    assert list(tmp_path.iterdir()) == []


def test_one_photo_folder_trains(tmp_path, colour_folder):
    data = _copy_photos(colour_folder, tmp_path / "one", n=1)
    assert main(["train", str(data), "--out", str(tmp_path / "run"), *TINY_TRAIN]) == 0
    assert (tmp_path / "run" / "best.pt").is_file()


def test_stylize_size_beyond_memory_is_refused_with_what_fits(tmp_path, monkeypatch, capsys):
    from magicbrush_desktop.core import limits

    tiny = tmp_path / "dot.png"
    Image.new("RGB", (1, 1), (200, 10, 10)).save(tiny)
    assert main(["stylize", str(tiny), "--style", "comic", "-o", str(tmp_path / "o.png"), "--size", "30000"]) == 1
    assert "between 16 and" in capsys.readouterr().err
    monkeypatch.setattr(limits, "available_memory", lambda: 2 * 2**30)
    assert main(["stylize", str(tiny), "--style", "comic", "-o", str(tmp_path / "o.png"), "--size", "4000"]) == 1
    err = capsys.readouterr().err
    assert "GiB" in err and "px fits" in err
    fits = int(err.split("at most about ")[1].split(" px")[0])
    limits.check_style_size((1, 1), fits)  # what it says fits, fits
    assert not (tmp_path / "o.png").exists()


def test_training_beyond_memory_is_refused_with_what_fits(tmp_path, colour_folder, monkeypatch, capsys):
    from magicbrush_desktop.core import limits

    monkeypatch.setattr(limits, "available_memory", lambda: 2**30)
    assert main(["train", str(colour_folder), "--out", str(tmp_path / "run"), "--image-size", "512",
                 "--batch-size", "64"]) == 1
    assert "a batch size of at most 2 fits" in capsys.readouterr().err
    assert main(["train", str(colour_folder), "--out", str(tmp_path / "run2"), "--image-size", "2048",
                 "--batch-size", "4"]) == 1
    assert "with batch size 1 an image size of at most" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


# --- 8. evaluate and colorize say what they found ------------------------------------------------


def test_evaluate_without_colour_photos_says_so(tmp_path, tiny_model, capsys):
    greys = tmp_path / "greys"
    _grey(greys / "a.png")
    _grey(greys / "b.png", seed=1)
    for extra in ([], ["--json"]):
        assert main(["evaluate", str(greys), "--model", str(tiny_model), *extra]) == 1
        err = capsys.readouterr().err
        assert "colour originals" in err and "2 black-and-white" in err and "Traceback" not in err


def test_colorize_empty_plans_say_why(tmp_path, tiny_model, capsys):
    scans = tmp_path / "scans"
    _grey(scans / "out" / "a.jpg")
    (scans / "notes.txt").write_text("x")
    assert main(["colorize", str(scans), "-o", str(scans / "out"), "-r", "--model", str(tiny_model)]) == 1
    assert "inside the output folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "sub").mkdir()
    _grey(tmp_path / "empty" / "sub" / "a.jpg")
    assert main(["colorize", str(tmp_path / "empty"), "-o", str(tmp_path / "o"), "--model", str(tiny_model)]) == 1
    err = capsys.readouterr().err
    assert "no photos found" in err and "add -r" in err
    _grey(tmp_path / "empty" / "top.jpg")  # photos on top and below: the ones below are said to be left out
    assert main(["colorize", str(tmp_path / "empty"), "-o", str(tmp_path / "o"), "--model", str(tiny_model)]) == 0
    assert "note: 1 photo(s) in sub-folders are left out; add -r" in capsys.readouterr().err
    (tmp_path / "bare").mkdir()  # nothing below it either: -r would not help, so it is not suggested
    assert main(["colorize", str(tmp_path / "bare"), "-o", str(tmp_path / "o"), "--model", str(tiny_model)]) == 1
    err = capsys.readouterr().err
    assert "no photos found" in err and "add -r" not in err


def test_colorize_same_photo_twice_is_done_once_and_same_names_say_what_helps(tmp_path, tiny_model, capsys):
    _grey(tmp_path / "a" / "x.jpg")
    _grey(tmp_path / "b" / "x.jpg")
    out = tmp_path / "out"
    photo = str(tmp_path / "a" / "x.jpg")
    assert main(["colorize", photo, photo, str(tmp_path / "a"), "-o", str(out), "--model", str(tiny_model)]) == 0
    assert "1 photo(s) written" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["x.jpg"]
    args = ["colorize", photo, str(tmp_path / "b" / "x.jpg"), "-o", str(tmp_path / "o2"), "--model", str(tiny_model)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "different output folders" in err and "format" not in err


def test_skip_existing_and_overwrite_exclude_each_other_and_skips_are_counted(tmp_path, tiny_model, capsys):
    src = tmp_path / "in"
    _grey(src / "a.jpg")
    _grey(src / "b.jpg")
    out = tmp_path / "out"
    base = ["colorize", str(src), "-o", str(out), "--model", str(tiny_model)]
    with pytest.raises(SystemExit) as exc:
        main([*base, "--skip-existing", "--overwrite"])
    assert exc.value.code == 2 and "not allowed with" in capsys.readouterr().err
    with pytest.raises(MagicBrushError, match="choose one"):
        next(run_batch(plan_batch([src], out), lambda photo: photo.rgb, skip_existing=True, overwrite=True))
    assert main([*base]) == 0
    (out / "b.jpg").unlink()
    capsys.readouterr()
    assert main([*base, "--skip-existing"]) == 0
    assert "1 photo(s) written to" in (printed := capsys.readouterr().out) and "1 skipped (already done)" in printed


def test_evaluate_per_image_csv_is_not_written_over(tmp_path, colour_folder, tiny_model, capsys):
    csv = tmp_path / "figures.csv"
    csv.write_text("my own notes\n")
    args = ["evaluate", str(colour_folder), "--model", str(tiny_model), "--render-size", "64", "--limit", "2",
            "--per-image", str(csv)]
    assert main(args) == 1
    assert "already exists" in capsys.readouterr().err and csv.read_text() == "my own notes\n"
    assert main([*args, "--overwrite"]) == 0
    assert csv.read_text().startswith("file,psnr") and len(csv.read_text().splitlines()) == 3


def test_interrupted_vgg_download_leaves_nothing(tmp_path, monkeypatch):
    from magicbrush_desktop.core import vgg

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    fake = tmp_path / "fake.pth"
    fake.write_bytes(b"x" * 3000)

    def interrupted(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        vgg.download_torchvision_vgg19(interrupted, url=fake.as_uri())
    assert not list((tmp_path / "hub" / "checkpoints").iterdir())
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(blocker / "hub"))
    with pytest.raises(ModelError, match="cannot save"):
        vgg.download_torchvision_vgg19(url=fake.as_uri())


def test_models_install_without_a_usable_home_folder(tmp_path, monkeypatch, capsys):
    good = _checkpoint(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.delenv("MAGICBRUSH_HOME")
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(blocker / "home"))
    assert main(["models", "install", str(good), "--name", "family"]) == 1
    err = capsys.readouterr().err
    assert "cannot install" in err and "Traceback" not in err


def test_sigterm_stops_training_cleanly_and_it_resumes(tmp_path, colour_folder):
    """A real `magicbrush train` process killed with SIGTERM saves last.pt, leaves no .part, exits 130."""
    import subprocess
    import sys
    import time

    from .conftest import REPO

    run = tmp_path / "run"
    env = {**os.environ, "MAGICBRUSH_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "magicbrush_desktop", "train", str(colour_folder), "--out", str(run),
           "--epochs", "50", "--image-size", "32", "--batch-size", "2", "--generator", "resunet", "--base", "4",
           "--threads", "1"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not (run / "log.jsonl").is_file():
            time.sleep(0.2)
        assert (run / "log.jsonl").is_file(), proc.stderr.read() if proc.poll() is not None else "no step"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "continue with: magicbrush train" in err and "Traceback" not in err
    assert load_checkpoint(run / "last.pt")["train_state"]["global_step"] >= 1
    assert _no_parts(run)
