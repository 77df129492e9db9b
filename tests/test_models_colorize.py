"""Checkpoints, the model registry, inference and batch processing."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from magicbrush_desktop.core import models as registry
from magicbrush_desktop.core.batch import plan_batch, run_batch
from magicbrush_desktop.core.checkpoint import (
    generator_from_checkpoint,
    load_checkpoint,
    make_checkpoint,
    save_checkpoint,
)
from magicbrush_desktop.core.colorize import Colorizer, compose, guided_coefficients
from magicbrush_desktop.core.errors import MagicBrushError, ModelError
from magicbrush_desktop.core.events import FileDone, Finished
from magicbrush_desktop.core.imageio import read_photo
from magicbrush_desktop.core.networks import build_generator

from .conftest import make_colour_image


def test_checkpoint_roundtrip_rebuilds_model(tmp_path, tiny_model):
    ckpt = load_checkpoint(tiny_model)
    assert ckpt["format_version"] == 1 and ckpt["arch"]["name"] == "resunet"
    gen = generator_from_checkpoint(ckpt)
    x = torch.rand(1, 1, 16, 16)
    again = generator_from_checkpoint(load_checkpoint(tiny_model))
    assert torch.allclose(gen(x), again(x))


def test_frozen_encoder_checkpoint_is_small_and_reloads(tmp_path):
    gen = build_generator("vgg_resunet", base=4, depth=3)
    arch = {"name": "vgg_resunet", "kwargs": {"base": 4, "depth": 3}}
    path = save_checkpoint(make_checkpoint(gen, arch, half=True), tmp_path / "v.pt")
    assert path.stat().st_size < 500_000  # the VGG weights are not inside
    again = generator_from_checkpoint(load_checkpoint(path))
    x = torch.rand(1, 1, 32, 32) * 2 - 1
    assert torch.allclose(gen.eval()(x), again(x), atol=2e-2)


@pytest.mark.parametrize("content", [b"", b"garbage", None])
def test_bad_checkpoints_are_readable_errors(tmp_path, content):
    path = tmp_path / "bad.pt"
    if content is None:
        torch.save({"something": torch.zeros(1)}, path)  # a real torch file, but foreign
    else:
        path.write_bytes(content)
    with pytest.raises(ModelError):
        load_checkpoint(path)
    with pytest.raises(ModelError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")


def test_registry_lookup_order(tmp_path, tiny_model, monkeypatch):
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    (env_dir / "mine.pt").write_bytes(tiny_model.read_bytes())
    monkeypatch.setenv("MAGICBRUSH_MODELS", str(env_dir))
    user = registry.install_trained_model(tiny_model, "mine")  # same name in the user folder
    found = {m.name: m for m in registry.list_models()}
    assert found["mine"].origin == "env"
    assert registry.resolve_model("mine") == env_dir / "mine.pt"
    assert registry.resolve_model(str(user)) == user
    with pytest.raises(ModelError, match="no model named"):
        registry.resolve_model("nothing-like-this")


def test_bundled_checksum_checked(tmp_path, tiny_model, monkeypatch):
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    (bundled / "tiny.pt").write_bytes(tiny_model.read_bytes())
    manifest = {"default": "tiny", "models": [{"name": "tiny", "file": "tiny.pt", "sha256": "0" * 64}]}
    (bundled / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setattr(registry, "bundled_models_dir", lambda: bundled)
    with pytest.raises(ModelError, match="damaged"):
        registry.resolve_model(None)
    manifest["models"][0]["sha256"] = registry.sha256_of(bundled / "tiny.pt")
    (bundled / "manifest.json").write_text(json.dumps(manifest))
    assert registry.resolve_model(None) == bundled / "tiny.pt"


def test_colorize_keeps_full_size_and_lightness(tmp_path, tiny_model):
    grey = np.asarray(Image.fromarray(make_colour_image(301, 157)).convert("L"))
    p = tmp_path / "old.png"
    Image.fromarray(grey).save(p)
    photo = read_photo(p)
    colorizer = Colorizer.load(str(tiny_model), device="cpu")
    chroma = colorizer.predict(photo, render_size=64)
    assert chroma.render_size == (64, 33)
    out = colorizer.compose(photo, chroma, strength=1.0)
    assert out.shape == (157, 301, 3)
    # The photo's own lightness survives colorization (up to gamut clipping and rounding).
    from magicbrush_desktop.core.color import lightness
    assert np.abs(lightness(out) - photo.lightness).mean() < 1.5
    zero = colorizer.compose(photo, chroma, strength=0.0)
    assert np.abs(zero.astype(int) - np.asarray(photo.rgb, int)).max() <= 1
    small = colorizer.compose(photo, chroma, strength=2.0, max_side=100)
    assert max(small.shape[:2]) == 100


def test_guided_upsampling_follows_edges():
    # A sharp vertical edge in L; chroma predicted blurry at low resolution.
    guide = np.zeros((16, 16), np.float32)
    guide[:, 8:] = 1.0
    ab = np.zeros((16, 16, 2), np.float32)
    ab[:, 8:, 0] = 40.0
    ab = np.ascontiguousarray(np.stack([np.convolve(r, np.ones(5) / 5, mode="same") for r in ab[..., 0]])[..., None]
                              .repeat(2, axis=2), dtype=np.float32)
    a, b = guided_coefficients(guide, ab)
    q = a * guide[..., None] + b
    # Guided output is sharper across the edge than the blurry input.
    assert (q[:, 9, 0] - q[:, 6, 0]).mean() > (ab[:, 9, 0] - ab[:, 6, 0]).mean()


def test_big_photo_composition_is_strip_wise():
    l = np.full((3000, 2000), 50.0, np.float32)
    from magicbrush_desktop.core.colorize import ChromaPrediction
    coef = np.zeros((30, 20, 2), np.float32)
    ab = np.full((30, 20, 2), 10.0, np.float32)
    out = compose(l, ChromaPrediction(coef, ab, ab, (20, 30)), 1.0)
    assert out.shape == (3000, 2000, 3)
    assert np.all(out[0, 0] == out[-1, -1])


def test_batch_plans_relative_paths_and_refuses_overwrite(tmp_path):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    Image.fromarray(make_colour_image(8, 8)).save(src / "a.jpg")
    Image.fromarray(make_colour_image(8, 8)).save(src / "sub" / "b.png")
    (src / "notes.txt").write_text("not a photo")
    items = plan_batch([src], tmp_path / "out", recursive=True)
    assert [i.output.relative_to(tmp_path / "out").as_posix() for i in items] == ["a.jpg", "sub/b.png"]
    assert len(plan_batch([src], tmp_path / "out")) == 1  # not recursive
    with pytest.raises(MagicBrushError, match="overwrite"):
        plan_batch([src], src)
    png = plan_batch([src], tmp_path / "o2", recursive=True, fmt="webp")
    assert {i.output.suffix for i in png} == {".webp"}


def test_batch_runs_past_failures_and_reports_them(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(make_colour_image(8, 8)).save(src / "good.png")
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    items = plan_batch([src], tmp_path / "out")
    events = list(run_batch(items, lambda photo: photo.rgb))
    done = [e for e in events if isinstance(e, FileDone)]
    summary = events[-1].summary
    assert isinstance(events[-1], Finished)
    assert summary["done"] == 1 and len(summary["failed"]) == 1
    assert "broken.jpg" in summary["failed"][0][0]
    assert any(e.error for e in done)
    assert (tmp_path / "out" / "good.png").exists()
    again = list(run_batch(items, lambda photo: photo.rgb, skip_existing=True))
    assert again[-1].summary["skipped"] == 1


def test_batch_stop_between_files_leaves_nothing_partial(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        Image.fromarray(make_colour_image(8, 8, seed=i)).save(src / f"{i}.png")
    job = run_batch(plan_batch([src], tmp_path / "out"), lambda photo: photo.rgb)
    for event in job:
        if isinstance(event, FileDone):
            break
    job.close()
    out = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert out == ["0.png"]


def test_checkpoint_chroma_gain_is_applied(tmp_path, tiny_model):
    ckpt = load_checkpoint(tiny_model)
    gen = generator_from_checkpoint(ckpt)
    boosted = save_checkpoint(make_checkpoint(gen, ckpt["arch"], inference={"chroma_gain": 2.0}), tmp_path / "g.pt")
    grey = np.asarray(Image.fromarray(make_colour_image(64, 48)).convert("L"))
    Image.fromarray(grey).save(tmp_path / "p.png")
    photo = read_photo(tmp_path / "p.png")
    plain, twice = Colorizer.load(str(tiny_model), "cpu"), Colorizer.load(str(boosted), "cpu")
    assert plain.chroma_gain == 1.0 and twice.chroma_gain == 2.0
    assert np.allclose(twice.predict(photo, 64).ab, 2 * plain.predict(photo, 64).ab, atol=1e-4)


def test_figures_text_shows_false_colour_in_per_cent_and_skips_what_is_not_a_number():
    text = registry.figures_text({"psnr": 22.76, "ssim": 0.933, "colourfulness": 29.8, "false_colour": 0.131,
                                  "set": "BSDS500 test (200 photos)"})
    assert text == ("PSNR 22.76 dB \u00b7 SSIM 0.933 \u00b7 colourfulness 29.8 \u00b7 false colour 13.1 %, "
                    "on BSDS500 test (200 photos)")
    # A hand-edited sidecar: a string or a bool is no figure, and a run's epoch names the set.
    assert registry.figures_text({"psnr": "high", "ssim": True, "false_colour": 0.05, "epoch": 3}) == \
        "false colour 5.0 %, on the validation photos after epoch 3"
    assert registry.figures_text({}) == "no figures recorded"


def test_shipped_manifest_records_false_colour_for_every_model():
    for entry in registry.read_manifest()["models"]:
        assert 0.0 <= entry["metrics"]["false_colour"] <= 1.0, entry["name"]
