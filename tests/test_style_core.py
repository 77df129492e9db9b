"""Style transfer core on a tiny random-weight VGG (fast): loss definitions, events, caches, cancel,
warm restart, multi-scale, preserve colours, blending; generated looks; the gallery; the VGG download."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from magicbrush_desktop.core.color import rgb_to_lab
from magicbrush_desktop.core.errors import MagicBrushError, ModelError, PhotoError
from magicbrush_desktop.core.events import Finished, Metrics, Preview, Progress
from magicbrush_desktop.core.style import losses
from magicbrush_desktop.core.style.gallery import Gallery, load_style
from magicbrush_desktop.core.style.gatys import StyleTransfer
from magicbrush_desktop.core.style.looks import LOOKS, find_look
from magicbrush_desktop.core import vgg

from .conftest import make_colour_image, tiny_style_engine

SHARED_STYLES = Path(__file__).resolve().parents[1].parent / "shared" / "styles"


def painting(seed: int, size: int = 48) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((size, size, 3)) * 255).astype(np.uint8)


def finish(gen) -> tuple[Finished, list]:
    events = list(gen)
    assert isinstance(events[-1], Finished)
    return events[-1], events


def test_gram_and_losses_match_the_seed_formulas():
    torch.manual_seed(1)
    f = torch.randn(1, 3, 4, 5)
    a = torch.randn(1, 3, 4, 5)
    n, m = 3, 20
    fm, am = f.reshape(n, m), a.reshape(n, m)
    g_raw, a_raw = fm @ fm.T, am @ am.T
    expected = ((g_raw - a_raw) ** 2).sum() / (4 * n**2 * m**2)
    assert torch.allclose(losses.gram(f), g_raw / (n * m))
    assert torch.allclose(losses.style_layer_loss(f, losses.gram(a)), expected, rtol=1e-5)
    assert torch.allclose(losses.content_loss(f, a), 0.5 * ((f - a) ** 2).sum())
    x = torch.tensor([[[[0.0, 1.0], [0.5, 0.5]]]]).repeat(1, 3, 1, 1)
    assert float(losses.tv_loss(x)) == pytest.approx(3 * (1.0 + 0.25 + 0.25 + 0.0))


def test_presets_use_the_named_layers():
    seed = losses.PRESETS["seed"]
    assert seed.content_layers == ("conv2_2",)  # the tutorial's conv_4
    assert seed.style_layers == ("conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1")
    g = losses.PRESETS["gatys"]
    assert g.content_layers == ("relu4_2",) and g.deepest == "relu5_1"


def test_run_events_sizes_and_previews():
    content = make_colour_image(70, 50)
    session = StyleTransfer(tiny_style_engine(), content, [painting(1)], size=32)
    done, events = finish(session.run(6, preview_every=2))
    progress = [e for e in events if isinstance(e, Progress)]
    metrics = [e for e in events if isinstance(e, Metrics)]
    previews = [e for e in events if isinstance(e, Preview)]
    assert [p.done for p in progress] == list(range(1, 7)) and progress[-1].total == 6
    assert len(metrics) == 6 and all(m.kind == "style" for m in metrics)
    assert set(metrics[0].values) == {"content", "style", "tv", "total"}
    assert [p.step for p in previews] == [2, 4]
    assert previews[0].image.shape == (23, 32, 3) and previews[0].image.dtype == np.uint8
    assert done.result.shape == content.shape and done.result.dtype == np.uint8
    assert done.summary["steps"] == 6 and done.summary["seconds"] > 0
    assert done.summary["losses_initial"]["content"] == 0.0  # started from the photo
    assert done.summary["losses_final"]["style"] < done.summary["losses_initial"]["style"]


def test_targets_are_cached_per_image_and_size():
    engine = tiny_style_engine()
    content, style = make_colour_image(40, 40), painting(2)
    finish(StyleTransfer(engine, content, [style], size=32).run(2))
    misses = engine.cache_misses
    assert misses == 2  # content features + style Grams at 32 px
    finish(StyleTransfer(engine, content, [style], size=32).run(2))
    assert engine.cache_misses == misses and engine.cache_hits > 0
    finish(StyleTransfer(engine, content, [style], size=24).run(1))
    assert engine.cache_misses == misses + 2  # a new size is a new entry


def test_cancel_then_warm_restart_continues_from_the_current_picture():
    engine = tiny_style_engine()
    session = StyleTransfer(engine, make_colour_image(40, 32), [painting(3)], size=32)
    gen = session.run(50)
    for event in gen:
        if isinstance(event, Progress) and event.done == 3:
            break
    gen.close()
    assert session.steps_done == 3
    stopped_at = session.current().copy()
    misses = engine.cache_misses
    assert not np.array_equal(stopped_at, session.current() * 0)  # a real picture is kept
    # Same weights: the restart's initial losses are those of the picture where we stopped, not the photo.
    expected = session.evaluate()
    done, events = finish(session.run(2, style_weight=5e3))
    assert engine.cache_misses == misses  # no new targets
    assert done.summary["warm_restart"] is True and session.steps_done == 5
    assert done.summary["losses_initial"]["content"] == pytest.approx(expected.content, rel=1e-4)
    assert expected.content > 0


def test_multiscale_goes_coarse_to_fine_and_keeps_full_size():
    content = make_colour_image(90, 60)
    session = StyleTransfer(tiny_style_engine(), content, [painting(4)], size=64, scales=[32, 64])
    done, events = finish(session.run(4))
    labels = [e.message for e in events if isinstance(e, Progress)]
    assert "at 32×21" in labels[0] and "at 64×43" in labels[-1]
    assert done.result.shape == content.shape
    assert done.summary["size"] == [64, 43]


def test_preserve_colors_keeps_chroma():
    content = make_colour_image(48, 48, seed=3)
    session = StyleTransfer(tiny_style_engine(), content, [painting(5)], size=48, preserve_colors=True)
    done, _ = finish(session.run(5))
    lab_in, lab_out = rgb_to_lab(content), rgb_to_lab(done.result)
    assert np.abs(lab_out[..., 0] - lab_in[..., 0]).mean() > 0.1  # lightness was stylised
    # a*b* are the photo's, up to gamut clipping where the new lightness cannot hold them.
    assert np.median(np.abs(lab_out[..., 1:] - lab_in[..., 1:])) < 2.0


def test_blend_weights_select_and_mix_styles():
    engine = tiny_style_engine()
    content, a, b = make_colour_image(32, 32), painting(6), painting(7)
    only_a = StyleTransfer(engine, content, [a], size=32).evaluate()
    blend_a = StyleTransfer(engine, content, [a, b], blend=[1, 0], size=32).evaluate()
    mixed = StyleTransfer(engine, content, [a, b], blend=[3, 1], size=32)
    assert blend_a.style == pytest.approx(only_a.style, rel=1e-5)
    assert mixed.blend == [0.75, 0.25]
    with pytest.raises(MagicBrushError):
        StyleTransfer(engine, content, [a, b], blend=[1], size=32)


def test_adam_and_noise_init_and_bad_arguments():
    engine = tiny_style_engine()
    session = StyleTransfer(engine, make_colour_image(32, 32), [painting(8)], size=32, init="noise")
    done, _ = finish(session.run(3, optimizer="adam", tv_weight=1.0))
    assert done.summary["losses_final"]["tv"] > 0
    with pytest.raises(MagicBrushError):
        list(session.run(2, optimizer="sgd"))
    with pytest.raises(MagicBrushError):
        StyleTransfer(engine, make_colour_image(32, 32), [], size=32)
    with pytest.raises(MagicBrushError):
        StyleTransfer(engine, make_colour_image(32, 32), [painting(1)], layers="picasso")


def test_looks_are_deterministic_pictures():
    for key, look in LOOKS.items():
        img = look.generate(96)
        assert img.shape == (96, 96, 3) and img.dtype == np.uint8
        assert img.std() > 5, key  # a picture, not a flat fill
        assert np.array_equal(img, look.generate(96))
    assert find_look("Picasso").key == "cubist" and find_look("watercolor").key == "watercolour"
    assert find_look("nope") is None


def test_display_names_keep_roman_numerals_in_capitals():
    from magicbrush_desktop.core.style.gallery import display_name

    assert display_name("kandinsky-composition-vii") == "Kandinsky Composition VII"
    assert display_name("portrait_of_henry_viii") == "Portrait Of Henry VIII"
    assert display_name("van-gogh-starry-night") == "Van Gogh Starry Night"
    assert display_name("civic-mix-vivid") == "Civic Mix Vivid"  # words that only look Roman stay words
    assert display_name("--") == "Untitled"


def test_gallery_lists_looks_with_thumbnails_and_loads_by_name(tmp_path):
    gallery = Gallery(user_dir=tmp_path / "styles", pack_dir=tmp_path / "no-pack")
    keys = [e.key for e in gallery.entries()]
    assert {"look:comic", "look:watercolour", "look:stained-glass", "look:pencil", "look:cubist"} <= set(keys)
    thumb = gallery.find("comic").thumbnail_path()
    assert thumb.is_file() and thumb.stat().st_size > 100
    # The comic look was redrawn (revision 2): a thumbnail cached from the first drawing is not reused.
    assert thumb.name == "look-comic-r2.png"
    stale = thumb.with_name("look-comic.png")
    stale.write_bytes(b"the old drawing")
    assert gallery.find("comic").thumbnail_path() == thumb
    assert gallery.find("pencil").thumbnail_path().name == "look-pencil.png"
    assert load_style("mosaic", gallery).shape == (512, 512, 3)
    with pytest.raises(PhotoError, match="neither an image file nor a gallery style"):
        load_style("no-such-style", gallery)


def test_gallery_imports_the_shared_paintings(tmp_path):
    if not SHARED_STYLES.is_dir():
        pytest.skip("../shared/styles is not available")
    gallery = Gallery(user_dir=tmp_path / "styles", pack_dir=tmp_path / "no-pack")
    folder = tmp_path / "in"
    folder.mkdir()
    for p in SHARED_STYLES.iterdir():
        (folder / p.name).write_bytes(p.read_bytes())
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    imported, failed = gallery.import_folder(folder)
    n = len([p for p in SHARED_STYLES.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")])
    assert len(imported) == n and [f.name for f, _ in failed] == ["broken.jpg"]
    assert not list((tmp_path / "styles").glob("broken*"))
    entry = gallery.find("Van Gogh Starry Night")
    assert entry is not None and entry.kind == "user" and entry.thumb.is_file()
    assert entry.image().ndim == 3
    # Importing again adds nothing; removing works for user styles only.
    again, _ = gallery.import_folder(folder)
    assert len(gallery.user()) == n and {e.key for e in again} == {e.key for e in imported}
    assert gallery.remove(entry.key) and gallery.find("Van Gogh Starry Night") is None
    assert not gallery.remove("look:comic")


def test_download_reports_offline_and_corrupt_files(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    fake = tmp_path / "fake.pth"
    fake.write_bytes(b"x" * 3000)
    seen = []
    with pytest.raises(ModelError, match="corrupt"):
        vgg.download_torchvision_vgg19(lambda d, t: seen.append((d, t)), url=fake.as_uri())
    assert seen and seen[-1][0] == 3000
    assert not list((tmp_path / "hub" / "checkpoints").iterdir())
    with pytest.raises(ModelError, match="could not download"):
        vgg.download_torchvision_vgg19(url=(tmp_path / "missing.pth").as_uri())


def test_download_checks_the_name_hash_and_renames_into_place(tmp_path, monkeypatch):
    import hashlib

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    fake = tmp_path / "fake.pth"
    fake.write_bytes(bytes(range(256)) * 40)
    # A file named like torchvision's, <name>-<first 8 hex of its SHA-256>.pth, passes the check.
    name = f"vgg19-{hashlib.sha256(fake.read_bytes()).hexdigest()[:8]}.pth"
    monkeypatch.setattr(vgg, "TORCHVISION_FILE", name)
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    # What a kill -9 during an earlier download left: removed, never mistaken for the weights.
    (folder / f"{name}.0123456789abcdef0123456789abcdef.partial").write_bytes(b"half")
    (folder / f".{name}.download.part").write_bytes(b"half")
    hub_urlopen, hub_tqdm = torch.hub.urlopen, torch.hub.tqdm
    seen = []

    path = vgg.download_torchvision_vgg19(lambda d, t: seen.append((d, t)), url=fake.as_uri())

    assert path == folder / name and path.read_bytes() == fake.read_bytes()
    assert sorted(p.name for p in folder.iterdir()) == [name]
    assert seen[-1] == (10240, 10240)
    # torch.hub's own names are back once the download is over.
    assert (torch.hub.urlopen, torch.hub.tqdm) == (hub_urlopen, hub_tqdm)
    # Present: returned at once, nothing fetched.
    assert vgg.download_torchvision_vgg19(url=(tmp_path / "missing.pth").as_uri()) == path
