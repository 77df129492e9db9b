"""The ``magicbrush`` command line, run in-process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from magicbrush_desktop.cli import main
from magicbrush_desktop.core.imageio import read_photo

from .conftest import REPO, make_colour_image


def _grey_folder(root: Path) -> Path:
    src = root / "scans"
    (src / "1920s").mkdir(parents=True)
    for i, name in enumerate(["a.jpg", "1920s/b.png", "c é.tif"]):
        img = Image.fromarray(make_colour_image(50 + i * 7, 40, seed=i)).convert("L")
        img.save(src / name)
    (src / "readme.txt").write_text("not a photo")
    (src / "broken.jpg").write_bytes(b"\xff\xd8broken")
    return src


def test_colorize_folder_recursive_with_failures(tmp_path, tiny_model, capsys):
    src = _grey_folder(tmp_path)
    out = tmp_path / "out"
    code = main(["colorize", str(src), "-o", str(out), "-r", "--model", str(tiny_model), "--render-size", "64"])
    captured = capsys.readouterr()
    assert code == 1  # one unreadable file
    assert "broken.jpg" in captured.out and "3 photo(s) written" in captured.out
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["1920s/b.png", "a.jpg", "c é.tif"]
    for rel in written:
        assert read_photo(out / rel).size == read_photo(src / rel).size
    # Sources untouched and re-running with --skip-existing writes nothing new.
    assert (src / "a.jpg").stat().st_size > 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    main(["colorize", str(src), "-o", str(out), "-r", "--model", str(tiny_model), "--skip-existing"])
    assert before == {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}


def test_colorize_refuses_to_overwrite_sources(tmp_path, tiny_model, capsys):
    src = _grey_folder(tmp_path)
    assert main(["colorize", str(src), "-o", str(src), "--model", str(tiny_model)]) == 1
    assert "overwrite" in capsys.readouterr().err


def test_colorize_format_and_strength(tmp_path, tiny_model):
    src = _grey_folder(tmp_path)
    code = main(["colorize", str(src / "a.jpg"), "-o", str(tmp_path / "o"), "--format", "webp",
                 "--strength", "0", "--model", str(tiny_model)])
    assert code == 0
    out = read_photo(tmp_path / "o" / "a.webp")
    assert out.size == (50, 40)


@pytest.mark.parametrize("argv,message", [
    (["colorize", "missing.jpg", "-o", "x"], "does not exist"),
    (["colorize", "-o", "x"], "give photos"),
    (["colorize", "--sample", "-o", "x", "--model", "no-such-model"], "no model named"),
])
def test_colorize_errors_are_one_line(tmp_path, argv, message, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_option_values(capsys):
    with pytest.raises(SystemExit):
        main(["colorize", "x", "-o", "y", "--strength", "3"])
    assert "strength" in capsys.readouterr().err


def test_train_evaluate_and_models(tmp_path, colour_folder, capsys):
    run = tmp_path / "run"
    code = main(["train", str(colour_folder), "--out", str(run), "--epochs", "1", "--image-size", "32",
                 "--batch-size", "2", "--generator", "resunet", "--base", "4", "--val-split", "0.25"])
    assert code == 0
    assert (run / "best.pt").exists() and (run / "last.pt").exists()
    out = capsys.readouterr().out
    assert "best model" in out
    assert main(["evaluate", str(colour_folder), "--model", str(run / "best.pt"), "--render-size", "64",
                 "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["images"] == 8 and "baseline_psnr" in summary
    assert main(["models", "install", str(run / "best.pt"), "--name", "my-family"]) == 0
    capsys.readouterr()
    assert main(["models", "list"]) == 0
    assert "my-family" in capsys.readouterr().out
    # Resume after a finished run with more epochs continues from the saved state.
    assert main(["train", str(colour_folder), "--out", str(run), "--epochs", "2", "--resume"]) == 0


def test_console_script_entry_point_runs_cli():
    result = subprocess.run([sys.executable, "-m", "magicbrush_desktop", "--version"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "magicbrush" in result.stdout
