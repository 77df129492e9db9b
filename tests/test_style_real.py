"""Style transfer with the real embedded VGG19 weights, and the ``magicbrush stylize`` command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from skimage import data

from magicbrush_desktop.cli import main
from magicbrush_desktop.core.pipeline import run_to_end
from magicbrush_desktop.core.style.engine import StyleEngine
from magicbrush_desktop.core.style.gatys import StyleTransfer
from magicbrush_desktop.core.style.looks import stained_glass


@pytest.fixture(scope="module")
def engine() -> StyleEngine:
    return StyleEngine("cpu")


@pytest.mark.slow
def test_real_weights_style_loss_halves_and_content_stays(engine):
    photo = data.astronaut()
    session = StyleTransfer(engine, photo, [stained_glass(256)], size=128)
    done = run_to_end(session.run(25, style_weight=100.0))
    ini, fin = done.summary["losses_initial"], done.summary["losses_final"]
    assert fin["style"] < 0.5 * ini["style"]
    # Content bound: the result stays closer to the photo (in relu4_2 features) than the painting itself
    # is. A loose bound on purpose: at 128 px relu4_2 is an 8x8 map and this harsh style pulls hard.
    painting_as_picture = session.evaluate(image=stained_glass(256), style_weight=100.0)
    assert 0 < fin["content"] < 0.9 * painting_as_picture.content
    assert done.result.shape == photo.shape


def _photo(tmp_path, name="cat.jpg"):
    path = tmp_path / name
    Image.fromarray(data.chelsea()[:150, :200]).save(path, quality=92)
    return path


@pytest.mark.slow
def test_cli_stylize_json_and_output(tmp_path, capsys):
    src = _photo(tmp_path)
    before = src.read_bytes()
    out = tmp_path / "out.png"
    rc = main(["stylize", str(src), "--style", "comic", "--style", "pencil", "--blend", "2,1", "-o", str(out),
               "--size", "48", "--steps", "4", "--json", "--device", "cpu"])
    assert rc == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    info = json.loads(line)
    for key in ("style_loss_initial", "style_loss_final", "content_loss_initial", "content_loss_final",
                "total_loss_final", "steps", "seconds"):
        assert key in info
    assert info["steps"] == 4 and info["style_loss_final"] < info["style_loss_initial"]
    assert Image.open(out).size == (200, 150)
    assert src.read_bytes() == before


@pytest.mark.slow
def test_cli_stylize_preserve_colors_seed_layers_and_style_file(tmp_path, capsys):
    src = _photo(tmp_path)
    style = tmp_path / "style.png"
    Image.fromarray(stained_glass(128)).save(style)
    out = tmp_path / "out.jpg"
    rc = main(["stylize", str(src), "--style", str(style), "-o", str(out), "--size", "40", "--steps", "3",
               "--layers", "seed", "--preserve-colors", "--optimizer", "adam"])
    assert rc == 0 and "Saved" in capsys.readouterr().out
    assert Image.open(out).size == (200, 150)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--style", "no-such-look"], "neither an image file nor a gallery style"),
        (["--style", "comic", "--blend", "1,2"], "--blend has 2 weights for 1 styles"),
        (["--style", "comic", "--same-out"], "would overwrite the photo"),
        (["--style", "comic", "--bad-ext"], "cannot save as"),
    ],
)
def test_cli_stylize_errors_are_one_line(tmp_path, capsys, extra, message):
    src = _photo(tmp_path)
    out = tmp_path / "o.png"
    if "--same-out" in extra:
        extra, out = [e for e in extra if e != "--same-out"], src
    if "--bad-ext" in extra:
        extra, out = [e for e in extra if e != "--bad-ext"], tmp_path / "o.xyz"
    before = src.read_bytes()
    rc = main(["stylize", str(src), *extra, "-o", str(out), "--size", "32", "--steps", "1"])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and message in err and len(err.splitlines()) == 1
    assert src.read_bytes() == before


def test_cli_stylize_missing_photo(tmp_path, capsys):
    rc = main(["stylize", str(tmp_path / "nope.jpg"), "--style", "comic", "-o", str(tmp_path / "o.png")])
    assert rc == 1 and "error" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_colorize_first(tmp_path, capsys):
    pytest.importorskip("magicbrush_desktop.core.colorize")
    from magicbrush_desktop.core.models import list_models

    if not list_models():
        pytest.skip("no colorizer model available")
    grey = tmp_path / "grey.png"
    Image.fromarray(data.camera()[:120, :160]).save(grey)
    out = tmp_path / "o.png"
    rc = main(["stylize", str(grey), "--style", "watercolour", "-o", str(out), "--size", "32", "--steps", "2",
               "--colorize-first", "--json"])
    assert rc == 0 and Image.open(out).size == (160, 120)
    assert np.asarray(Image.open(out).convert("RGB")).std(axis=2).mean() > 0.5  # colour, not grey
