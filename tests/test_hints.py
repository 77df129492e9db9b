"""Colour hints (the magic brush) in the core: propagation, sidecar files, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from magicbrush_desktop.core.color import rgb_to_lab
from magicbrush_desktop.core.colorize import ChromaPrediction, compose, guided_coefficients
from magicbrush_desktop.core.hints import (
    Hint,
    HintError,
    HintPropagator,
    HintSet,
    apply_hints,
    color_to_lab,
    compose_preview,
    hints_for_photo,
    parse_sidecar,
    rasterize,
    read_sidecar,
    sidecar_path,
    write_sidecar,
)
from magicbrush_desktop.core.imageio import read_photo

HINT = "#1f5fa8"  # a clear blue, far from the automatic colour below


def _prediction(lightness: np.ndarray, ab: tuple[float, float]) -> ChromaPrediction:
    h, w = lightness.shape
    chroma = np.empty((h, w, 2), np.float32)
    chroma[...] = ab
    a, b = guided_coefficients(lightness / 100.0, chroma)
    return ChromaPrediction(a, b, chroma, (w, h))


def _delta_e(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    return np.linalg.norm(lab1.astype(np.float64) - lab2, axis=-1)


def test_two_regions_hint_recolours_its_region_only():
    """A hint left of a strong edge moves that region to within ΔE 10 of the hint; the right stays within 3."""
    hint_lab = np.array(color_to_lab(HINT))
    h, w = 96, 128
    lightness = np.full((h, w), hint_lab[0], np.float32)  # left region: the hint's own lightness
    lightness[:, w // 2:] = 80.0  # right region, behind a strong lightness edge
    auto = _prediction(lightness, (12.0, 18.0))  # the "model" painted everything a warm beige
    before = rgb_to_lab(compose(lightness, auto))

    hints = HintSet([Hint.dot(0.2, 0.5, 0.02, HINT)])
    after = rgb_to_lab(compose(lightness, apply_hints(lightness, auto, hints)))

    left, right = after[:, 4:w // 2 - 4], after[:, w // 2 + 4:-4]
    assert _delta_e(left, hint_lab).max() <= 10.0
    assert _delta_e(right, before[:, w // 2 + 4:-4]).max() <= 3.0


def test_a_hint_reaches_far_along_a_similar_surface_and_fades_elsewhere():
    h, w = 60, 200
    lightness = np.full((h, w), 50.0, np.float32)
    lightness[:30] = 20.0  # a dark band above: different surface
    auto = _prediction(lightness, (0.0, 0.0))
    prop = HintPropagator(lightness, auto)
    u, mask = prop.correction([Hint.dot(0.05, 0.75, 0.02, "#b03a2e")])
    assert mask.sum() > 0
    target = np.array(color_to_lab("#b03a2e")[1:])
    near, far = u[45, 12], u[45, 190]
    assert np.linalg.norm(near - target) < 3.0
    assert np.linalg.norm(far) > 0.3 * np.linalg.norm(target)  # the same surface, across the photo
    assert np.abs(u[:25]).max() < 3.0  # the other surface keeps its automatic colour (ΔE < 3: unseen)


def test_a_hint_replaces_the_automatic_colour_of_its_surface_instead_of_shifting_it():
    """The network's colour varies over one surface: the hint's colour replaces it all, not shifted copies."""
    h, w = 40, 160
    lightness = np.full((h, w), 50.0, np.float32)
    auto = _prediction(lightness, (0.0, 0.0))
    auto.ab[..., 0] += np.linspace(-6.0, 6.0, w, dtype=np.float32)  # one wall, patchy automatic colour
    u, _ = HintPropagator(lightness, auto).correction([Hint.dot(0.5, 0.5, 0.02, "#b03a2e")])
    target = np.array(color_to_lab("#b03a2e")[1:])
    assert np.linalg.norm(auto.ab + u - target, axis=-1).max() < 1.0


def test_a_surface_the_network_coloured_differently_keeps_its_colour():
    """Same lightness, automatic colours 25 a*b* apart: a hint on one leaves the other within ΔE 3."""
    h, w = 60, 120
    lightness = np.full((h, w), 50.0, np.float32)
    auto = _prediction(lightness, (0.0, 0.0))
    auto.ab[:, w // 2:] = (25.0, 0.0)
    u, _ = HintPropagator(lightness, auto).correction([Hint.dot(0.2, 0.5, 0.02, "#1f5fa8")])
    assert np.linalg.norm(u[:, w // 2 + 2:], axis=-1).max() < 3.0


def test_spread_sets_how_far_a_hint_reaches():
    h, w = 40, 400
    lightness = np.full((h, w), 50.0, np.float32)
    auto = _prediction(lightness, (0.0, 0.0))
    prop = HintPropagator(lightness, auto)
    wide = Hint.dot(0.02, 0.5, 0.01, "#b03a2e")
    near = Hint(wide.points, wide.radius, wide.lab, spread=0.1)  # the desktop brush's default reach
    far_near = np.linalg.norm(prop.correction([near])[0][20, 380])
    far_wide = np.linalg.norm(prop.correction([wide])[0][20, 380])
    target = np.linalg.norm(color_to_lab("#b03a2e")[1:])
    assert far_near < 0.5 and far_wide > 0.3 * target  # spread 0.1: the stroke's region; default: far
    data = HintSet([near]).to_json()
    assert data["hints"][0]["spread"] == 0.1 and parse_sidecar(data).hints[0].spread == 0.1
    assert "spread" not in HintSet([wide]).to_json()["hints"][0]
    with pytest.raises(HintError, match="spread"):
        parse_sidecar({"version": 1, "hints": [{"x": 0.1, "y": 0.1, "color": "#ffffff", "spread": -1}]})


def test_eraser_removes_hints_under_it_and_later_hints_win():
    a = Hint.dot(0.25, 0.5, 0.05, "#b03a2e")
    b = Hint.dot(0.75, 0.5, 0.05, "#1f5fa8")
    eraser = Hint(((0.2, 0.5), (0.3, 0.5)), 0.1, (0.0, 0.0, 0.0), erase=True)
    mask, target = rasterize([a, b, eraser], 100, 50)
    assert not mask[:, :40].any() and mask[:, 60:].any()
    over = Hint.dot(0.75, 0.5, 0.05, "#5b7f35")
    mask, target = rasterize([b, over], 100, 50)
    assert np.allclose(target[25, 75], color_to_lab("#5b7f35")[1:])
    assert not HintSet([eraser]) and HintSet([a])


def test_screen_preview_composes_like_the_full_composer():
    rng = np.random.default_rng(3)
    lightness = (rng.random((90, 130)) * 100).astype(np.float32)
    ab = (rng.random((30, 44, 2)) * 60 - 30).astype(np.float32)
    a, b = guided_coefficients(np.ascontiguousarray(lightness[::3, ::3][:30, :44]) / 100.0, ab)
    chroma = ChromaPrediction(a, b, ab, (44, 30))
    for strength in (0.0, 0.7, 1.6):
        fast = compose_preview(lightness, chroma, strength).astype(int)
        assert np.abs(fast - compose(lightness, chroma, strength)).max() <= 1


def test_no_hints_is_the_automatic_result():
    lightness = np.full((20, 30), 50.0, np.float32)
    auto = _prediction(lightness, (5.0, 5.0))
    assert apply_hints(lightness, auto, HintSet()) is auto
    assert apply_hints(lightness, auto, None) is auto


# --- sidecar files ---------------------------------------------------------------------------------


def test_minimal_sidecar_from_the_issue(tmp_path):
    path = tmp_path / "photo.hints.json"
    path.write_text('{"version": 1, "hints": [{"x": 0.31, "y": 0.62, "radius": 0.01, "color": "#b03a2e"}]}')
    hints = read_sidecar(path, (640, 480))
    (hint,) = hints.hints
    assert hint.points == ((0.31, 0.62),) and hint.radius == 0.01 and hint.hex == "#b03a2e"
    assert sidecar_path(tmp_path / "photo.jpg") == path


def test_sidecar_round_trip_with_strokes_and_erasers(tmp_path):
    hints = HintSet([Hint.dot(0.1, 0.2, 0.01, "#b03a2e"),
                     Hint(((0.3, 0.3), (0.4, 0.35), (0.5, 0.5)), 0.02, color_to_lab("#5b7f35")),
                     Hint(((0.3, 0.3),), 0.05, (0.0, 0.0, 0.0), erase=True)], (640, 480))
    path = write_sidecar(tmp_path / "x.hints.json", hints)
    back = read_sidecar(path, (640, 480))
    assert len(back) == 3 and back.image_size == (640, 480)
    assert back.hints[1].points == hints.hints[1].points and back.hints[2].erase
    assert [h.hex for h in back.hints[:2]] == ["#b03a2e", "#5b7f35"]
    data = json.loads(path.read_text())
    assert data["version"] == 1 and data["image"] == {"width": 640, "height": 480}


@pytest.mark.parametrize("text, words", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "not a JSON object"),
    ('{"version": 7, "hints": []}', "version 7"),
    ('{"version": 1}', "no \"hints\" list"),
    ('{"version": 1, "hints": [{"x": 1.5, "y": 0.2, "color": "#b03a2e"}]}', "outside 0..1"),
    ('{"version": 1, "hints": [{"x": 0.5, "y": 0.2}]}', "no \"color\""),
    ('{"version": 1, "hints": [{"x": 0.5, "y": 0.2, "color": "red-ish"}]}', "not an sRGB colour"),
    ('{"version": 1, "hints": [{"x": 0.5, "y": 0.2, "color": [300, 0, 0]}]}', "outside the sRGB gamut"),
    ('{"version": 1, "hints": [{"x": 0.5, "y": 0.2, "lab": [50, 150, -150]}]}', "outside the sRGB gamut"),
    ('{"version": 1, "hints": [{"x": "a", "y": 0.2, "color": "#b03a2e"}]}', "must be a number"),
    ('{"version": 1, "image": {"width": 100, "height": 50}, "hints": []}', "100\u00d750 photo"),
])
def test_bad_sidecars_are_refused_with_a_clear_message(tmp_path, text, words):
    path = tmp_path / "bad.hints.json"
    path.write_text(text)
    with pytest.raises(HintError) as info:
        read_sidecar(path, (640, 480))
    assert "bad.hints.json" in str(info.value) and words in str(info.value)


def test_a_bad_sidecar_gives_the_automatic_result_and_a_message(tmp_path):
    photo_path = tmp_path / "old.png"
    Image.fromarray(np.full((48, 64), 120, np.uint8)).save(photo_path)
    photo = read_photo(photo_path)
    sidecar_path(photo_path).write_text('{"version": 1, "hints": [{"x": 0.5, "y": 0.5, "color": "#zzzzzz"}]}')
    hints, message = hints_for_photo(photo)
    assert hints is None and "automatic colours" in message and "#zzzzzz" in message
    sidecar_path(photo_path).write_text(json.dumps({"version": 1, "hints": [
        {"x": 0.5, "y": 0.5, "radius": 0.05, "color": "#b03a2e"}]}))
    hints, message = hints_for_photo(photo)
    assert len(hints) == 1 and "1 colour hint" in message
    assert hints_for_photo(photo, use_sidecar=False) == (None, None)
    missing, message = hints_for_photo(photo, tmp_path / "none.hints.json")
    assert missing is None and "does not exist" in message


def test_parse_sidecar_accepts_other_tools_fields():
    data = {"version": 1, "generator": "a script", "hints": [
        {"x": 0, "y": 1, "color": "#FFFFFF", "note": "a white collar"}]}
    (hint,) = parse_sidecar(data).hints
    assert hint.radius == 0.01 and hint.lab[0] > 99


# --- CLI ---------------------------------------------------------------------------------------------


def _grey_photo(path: Path, w: int = 64, h: int = 48) -> Path:
    img = np.full((h, w), 90, np.uint8)
    img[:, w // 2:] = 200
    Image.fromarray(img).save(path)
    return path


def _red_share(path: Path) -> float:
    lab = rgb_to_lab(np.asarray(Image.open(path).convert("RGB")))
    return float((lab[..., 1] > 25).mean())


def test_cli_colorize_with_hints_file_and_folder_sidecars(tiny_model, tmp_path, capsys):
    from magicbrush_desktop.cli import main

    src = tmp_path / "src"
    src.mkdir()
    a = _grey_photo(src / "a.png")
    _grey_photo(src / "b.png")
    hints = tmp_path / "red.hints.json"
    hints.write_text(json.dumps({"version": 1, "hints": [
        {"x": 0.25, "y": 0.5, "radius": 0.05, "color": "#c0302a"}]}))

    assert main(["colorize", str(a), "--model", str(tiny_model), "-o", str(tmp_path / "plain")]) == 0
    assert main(["colorize", str(a), "--hints", str(hints), "--model", str(tiny_model),
                 "-o", str(tmp_path / "hinted")]) == 0
    assert _red_share(tmp_path / "hinted" / "a.png") > _red_share(tmp_path / "plain" / "a.png") + 0.2

    # A folder run picks up NAME.hints.json beside NAME.png, and survives a broken one.
    sidecar_path(a).write_text(hints.read_text())
    (src / "b.hints.json").write_text("{broken")
    capsys.readouterr()
    assert main(["colorize", str(src), "--model", str(tiny_model), "-o", str(tmp_path / "folder")]) == 0
    err = capsys.readouterr().err
    assert "a.png: 1 colour hint" in err and "b.hints.json" in err and "automatic colours" in err
    assert _red_share(tmp_path / "folder" / "a.png") > 0.2
    assert _red_share(tmp_path / "folder" / "b.png") == pytest.approx(_red_share(tmp_path / "plain" / "a.png"),
                                                                      abs=0.05)
    assert not (tmp_path / "folder" / "a.hints.json").exists()  # sidecars are not photos

    assert main(["colorize", str(src), "--hints", str(hints), "--model", str(tiny_model),
                 "-o", str(tmp_path / "x")]) == 1
    assert "--hints goes with exactly one photo" in capsys.readouterr().err
    # A hints file named on the command line that is not there is refused, not replaced by automatic colours.
    assert main(["colorize", str(a), "--hints", str(tmp_path / "typo.hints.json"), "--model", str(tiny_model),
                 "-o", str(tmp_path / "y")]) == 1
    err = capsys.readouterr().err
    assert "hints file" in err and "typo.hints.json' does not exist" in err
    assert not (tmp_path / "y").exists() or not any((tmp_path / "y").iterdir())  # nothing written


def test_desktop_batch_uses_sidecars_too(tiny_model, tmp_path):
    from magicbrush_desktop.gui.pipeline import build_process

    photo_path = _grey_photo(tmp_path / "a.png")
    process = build_process(colorize=(str(tiny_model), "cpu", 64, 1.0), style=None, engine=None, gallery=None)
    plain = process(read_photo(photo_path))
    sidecar_path(photo_path).write_text(json.dumps({"version": 1, "hints": [
        {"x": 0.25, "y": 0.5, "radius": 0.05, "color": "#c0302a"}]}))
    hinted = process(read_photo(photo_path))
    assert (rgb_to_lab(hinted)[..., 1] > 25).mean() > (rgb_to_lab(plain)[..., 1] > 25).mean() + 0.2
