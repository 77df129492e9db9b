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
    from magicbrush_desktop.core.style import gatys

    engine = tiny_style_engine()  # built before the patch (it uses the real StyleEngine)
    monkeypatch.setattr(gatys, "StyleEngine", lambda *a, **k: engine)


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
    ({"base": 10_000_000}, "parameters"),
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
    assert "not a file" in capsys.readouterr().err
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

    with graceful_interrupt() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)  # a second one aborts at once
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


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
    assert main(["models", "install", str(good), "--name", "family"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["family.pt"]
