"""The ``magicbrush`` command line, run in-process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from magicbrush_desktop.cli import main
from magicbrush_desktop.core.checkpoint import load_checkpoint
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


@pytest.mark.parametrize("command", ["colorize", "stylize", "evaluate", "train"])
def test_device_option_takes_a_gpu_number(command, capsys, monkeypatch):
    """--device takes cuda:N (as the library does), and a wrong name is a usage error that lists the forms."""
    from magicbrush_desktop.cli import build_parser

    parser = build_parser()
    extra = {"colorize": ["x.jpg", "-o", "o"], "stylize": ["x.jpg", "--style", "comic", "-o", "o.png"],
             "evaluate": ["folder"], "train": ["folder", "--out", "run"]}[command]
    assert parser.parse_args([command, *extra, "--device", "CUDA:1"]).device == "cuda:1"
    assert parser.parse_args([command, *extra]).device == "auto"
    with pytest.raises(SystemExit):
        parser.parse_args([command, *extra, "--device", "gpu"])
    err = capsys.readouterr().err
    assert "'gpu' is not a device" in err and "cuda:N" in err


def test_cuda_number_on_a_cpu_machine_is_one_readable_line(tmp_path, tiny_model, capsys, monkeypatch):
    monkeypatch.setattr("magicbrush_desktop.core.devices.cuda_available", lambda: False)
    assert main(["colorize", "--sample", "-o", str(tmp_path / "o"), "--device", "cuda:1"]) == 1
    err = capsys.readouterr().err
    assert "no CUDA GPU" in err and "Traceback" not in err


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
    (line,) = [row for row in capsys.readouterr().out.splitlines() if "my-family" in row]
    # The installed model shows its run's figures at its own chroma gain (what it gives users).
    best = load_checkpoint(run / "best.pt")["metrics"]
    assert f"PSNR {best['psnr_calibrated']:.2f}" in line and f"SSIM {best['ssim_calibrated']:.3f}" in line
    assert f"false colour {100 * best['false_colour_calibrated']:.1f} %" in line  # the blotch figure too
    from magicbrush_desktop.core.models import list_models

    (mine,) = [m for m in list_models() if m.name == "my-family"]
    assert mine.description.startswith(f"Trained by you on {colour_folder.name}, 1 epoch(s) at 32 px")
    assert mine.licence.startswith("yours") and mine.metrics["epoch"] == 1
    # Resume after a finished run with more epochs continues from the saved state.
    assert main(["train", str(colour_folder), "--out", str(run), "--epochs", "2", "--resume"]) == 0


def test_stylize_colorize_first_uses_the_model_and_render_size_given(tmp_path, tiny_model, monkeypatch, capsys):
    from magicbrush_desktop.core.colorize import Colorizer
    from magicbrush_desktop.core.provenance import read_provenance
    from magicbrush_desktop.core.style import engine as style_engine

    from .conftest import tiny_style_engine

    engine = tiny_style_engine()  # built before the patch (it uses the real StyleEngine)
    monkeypatch.setattr(style_engine, "StyleEngine", lambda *a, **k: engine)
    sizes: list[int | None] = []
    predict = Colorizer.predict

    def spy(self, photo, render_size=None):  # noqa: ANN001, ANN202 - records what the CLI passed on
        sizes.append(render_size)
        return predict(self, photo, render_size)

    monkeypatch.setattr(Colorizer, "predict", spy)
    grey = tmp_path / "grey.png"
    Image.fromarray(make_colour_image(48, 40, seed=3)).convert("L").save(grey)
    out = tmp_path / "painted.png"
    code = main(["stylize", str(grey), "--style", "comic", "-o", str(out), "--size", "32", "--steps", "1",
                 "--colorize-first", "--model", str(tiny_model), "--render-size", "96", "--device", "cpu"])
    assert code == 0, capsys.readouterr().err
    assert sizes == [96]
    description = read_provenance(out.read_bytes())["description"]
    assert "with the model tiny" in description and "Colorized and stylized" in description
    assert Image.open(out).size == (48, 40)
    # Without --colorize-first the colorizer options would change nothing: said, not ignored.
    assert main(["stylize", str(grey), "--style", "comic", "-o", str(tmp_path / "o2.png"), "--size", "32",
                 "--steps", "1", "--model", str(tiny_model)]) == 1
    assert "--colorize-first" in capsys.readouterr().err
    assert not (tmp_path / "o2.png").exists()


def test_console_script_entry_point_runs_cli():
    result = subprocess.run([sys.executable, "-m", "magicbrush_desktop", "--version"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "magicbrush" in result.stdout


@pytest.mark.parametrize("value, message", [("abc", "must be a number (got 'abc')"),
                                            ("2", "must be a number from 0 to 1"),
                                            ("nan", "must be a finite number")])
def test_train_rebalance_values_are_refused_in_one_line(tmp_path, capsys, value, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", str(tmp_path), "--out", str(tmp_path / "run"), "--head", "classes", "--rebalance", value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "_finite" not in err and "Traceback" not in err


def test_train_colour_classes_need_the_vgg_generator(tmp_path, colour_folder, capsys):
    code = main(["train", str(colour_folder), "--out", str(tmp_path / "run"), "--generator", "resunet",
                 "--head", "classes", "--epochs", "1", "--image-size", "32"])
    assert code != 0
    assert "--head classes needs the vgg_resunet generator (got resunet)" in capsys.readouterr().err
