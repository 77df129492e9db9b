"""The helpers several parts of the app share, each written once: safe file names, the device resolver,
the longest-side size rule and the grey of a lightness."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from magicbrush_desktop.core import devices
from magicbrush_desktop.core.devices import resolve_device
from magicbrush_desktop.core.errors import MagicBrushError, ModelError
from magicbrush_desktop.core.files import SAFE_STEM_CHARS, safe_stem
from magicbrush_desktop.core.sizing import fit_longest_side

# --- safe file names --------------------------------------------------------------------------------


@pytest.mark.parametrize("name, stem", [
    ("family", "family"),
    ("My family (1950s)", "My-family-1950s"),
    ("a - b", "a-b"),
    ("v1.2_final", "v1.2_final"),
    ("../../etc/passwd", "etc-passwd"),
    ("C:\\Users\\me", "C-Users-me"),
    (".hidden.", "hidden"),
    ("Café terrace", "Café-terrace"),
    ("Cafe\u0301", "Café"),  # decomposed accent (macOS) -> one letter
    ("tab\there\nnewline\x00nul", "tab-here-newline-nul"),
])
def test_safe_stem_keeps_letters_digits_dots_and_underscores(name, stem):
    assert safe_stem(name) == stem


@pytest.mark.parametrize("name", ["", "???", " / ", "..", "-._"])
def test_safe_stem_of_nothing_usable_is_the_fallback(name):
    assert safe_stem(name) == ""
    assert safe_stem(name, "run") == "run"


def test_safe_stem_is_short_enough_for_a_file_name_with_our_affixes():
    assert len(safe_stem("x" * 500)) == SAFE_STEM_CHARS
    wide = safe_stem("漢" * 500)  # three UTF-8 bytes each
    temporary = f".{wide}.thumb.png.abcdefgh.part"
    assert wide and len(temporary.encode("utf-8")) <= 255


def test_the_three_namers_share_the_rule():
    from magicbrush_desktop.core.models import safe_model_name
    from magicbrush_desktop.core.style.gallery import slugify

    assert safe_model_name("My family (1950s)") == "My-family-1950s"
    with pytest.raises(ModelError, match="letters, digits"):
        safe_model_name("???")
    # The gallery's stems are lower case (case-insensitive disks) and dot-free (``x.thumb`` would be
    # the thumbnail of ``x``); nothing usable gives "style".
    assert slugify("Van Gogh - Starry Night") == "van-gogh-starry-night"
    assert slugify("x.thumb") == "x-thumb"
    assert slugify("Monet_Water.Lilies") == "monet-water-lilies"
    assert slugify("Café") == "café"
    assert slugify("???") == "style"


# --- the device resolver ----------------------------------------------------------------------------


@pytest.fixture
def gpus(monkeypatch):
    """Pretend the machine has ``n`` CUDA GPUs (0: none), whatever it has."""

    def set_count(n: int) -> None:
        monkeypatch.setattr(devices, "cuda_available", lambda: n > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: n)

    return set_count


@pytest.mark.parametrize("choice", ["auto", "cpu", " CPU ", torch.device("cpu")])
def test_resolve_device_without_a_gpu_gives_the_cpu(gpus, choice):
    gpus(0)
    assert resolve_device(choice) == torch.device("cpu")


@pytest.mark.parametrize("choice, device", [
    ("auto", torch.device("cuda")),
    ("cuda", torch.device("cuda")),
    ("cuda:1", torch.device("cuda", 1)),
    (torch.device("cuda", 1), torch.device("cuda", 1)),
    (torch.device("cuda"), torch.device("cuda")),
    ("cpu", torch.device("cpu")),
])
def test_resolve_device_with_two_gpus(gpus, choice, device):
    gpus(2)
    assert resolve_device(choice) == device


@pytest.mark.parametrize("count, choice, message", [
    (0, "cuda", "no CUDA GPU is available"),
    (0, "cuda:0", "no CUDA GPU is available"),
    (0, torch.device("cuda"), "no CUDA GPU is available"),
    (2, "cuda:2", "there is no CUDA GPU 2: this machine has 2 \\(cuda:0 to cuda:1\\)"),
    (1, "cuda:5", "there is no CUDA GPU 5: this machine has 1 \\(cuda:0\\)"),
    (2, "gpu", "unknown device 'gpu' \\(use auto, cpu, cuda or cuda:N\\)"),
    (2, "cuda:x", "unknown device"),
    (2, "cuda:-1", "unknown device"),
    (2, "", "unknown device"),
    (2, torch.device("meta"), "unsupported device 'meta'"),
    (2, 0, "unknown device 0"),
])
def test_resolve_device_refuses_unknown_and_unavailable_devices_readably(gpus, count, choice, message):
    gpus(count)
    with pytest.raises(MagicBrushError, match=message):
        resolve_device(choice)


def test_the_colorizer_and_the_style_engine_take_the_same_device_values(gpus, tiny_model):
    from magicbrush_desktop.core.colorize import Colorizer
    from magicbrush_desktop.core.style.engine import StyleEngine

    from .conftest import tiny_style_engine

    gpus(0)
    vgg = tiny_style_engine()._model
    for choice in ("cpu", torch.device("cpu"), "auto"):
        assert Colorizer.load(tiny_model, choice).device == torch.device("cpu")
        assert StyleEngine(choice, model=vgg).device == torch.device("cpu")
    for choice in ("cuda:0", "mps"):
        with pytest.raises(MagicBrushError):
            Colorizer.load(tiny_model, choice)
        with pytest.raises(MagicBrushError):
            StyleEngine(choice, model=vgg)


# --- the longest-side size rule ---------------------------------------------------------------------


@pytest.mark.parametrize("hw, longest, kwargs, fitted", [
    ((3000, 4000), 256, {}, (192, 256)),  # (height, width) in, (height, width) out
    ((4000, 3000), 256, {}, (256, 192)),
    ((512, 512), 64, {}, (64, 64)),
    ((10, 20), 64, {}, (32, 64)),  # enlarged by default
    ((10, 20), 64, {"enlarge": False}, (10, 20)),
    ((300, 400), 160, {"enlarge": False}, (120, 160)),
    ((1000, 10), 64, {}, (64, 1)),
    ((1000, 10), 64, {"min_side": 16}, (64, 16)),  # VGG's minimum
])
def test_fit_longest_side(hw, longest, kwargs, fitted):
    assert fit_longest_side(*hw, longest, **kwargs) == fitted


def test_fit_longest_side_makes_the_longer_side_exact_and_keeps_the_aspect():
    rng = np.random.default_rng(0)
    for h, w, longest in rng.integers(1, 9000, size=(500, 3)):
        fh, fw = fit_longest_side(int(h), int(w), int(longest))
        scale = longest / max(h, w)
        assert max(fh, fw) == longest
        # Each side is the exact scaled one rounded (or 1 px where that rounds to nothing).
        assert abs(fh - h * scale) <= 0.5 or fh == 1
        assert abs(fw - w * scale) <= 0.5 or fw == 1


@pytest.mark.parametrize("args", [(0, 10, 64), (10, 0, 64), (10, 10, 0)])
def test_fit_longest_side_refuses_empty_sizes(args):
    with pytest.raises(ValueError, match="at least 1 px"):
        fit_longest_side(*args)


def test_every_user_of_the_size_rule_agrees(tiny_model):
    from magicbrush_desktop.core.colorize import Colorizer
    from magicbrush_desktop.core.imageio import encode_image, read_photo
    from magicbrush_desktop.core.style.gallery import make_thumbnail
    from magicbrush_desktop.core.style.gatys import StyleTransfer

    from .conftest import make_colour_image, tiny_style_engine

    photo = make_colour_image(30, 50, seed=3)  # (h, w) = (50, 30)
    assert make_thumbnail(photo, 20).shape[:2] == fit_longest_side(50, 30, 20) == (20, 12)
    assert make_thumbnail(photo, 400) is photo  # never enlarged
    session = StyleTransfer(tiny_style_engine(), photo, [make_colour_image(40, 40, seed=4)], size=48)
    assert session.current().shape[:2] == fit_longest_side(50, 30, 48, min_side=16) == (48, 29)
    # The colorizer predicts at the render size, enlarging a small photo up to it.
    chroma = Colorizer.load(tiny_model, "cpu").predict(read_photo(encode_image(photo, "png")), 64)
    assert chroma.ab.shape[:2] == fit_longest_side(50, 30, 64) == (64, 38)
    assert chroma.render_size == (38, 64)  # ChromaPrediction records (w, h), as OpenCV takes it


def test_a_style_session_refuses_pictures_without_pixels():
    from magicbrush_desktop.core.style.gatys import StyleTransfer

    from .conftest import make_colour_image, tiny_style_engine

    engine, painting = tiny_style_engine(), make_colour_image(40, 40, seed=4)
    with pytest.raises(MagicBrushError, match="with pixels"):
        StyleTransfer(engine, np.zeros((0, 8, 3), np.uint8), [painting])
    with pytest.raises(MagicBrushError, match="with pixels"):
        StyleTransfer(engine, painting, [np.zeros((8, 0, 3), np.uint8)])


# --- the grey of a lightness ------------------------------------------------------------------------


def test_grey_of_lightness_inverts_the_cie_lightness_of_every_grey_level():
    from magicbrush_desktop.core.color import grey_of_lightness, lightness_of_grey

    levels = np.arange(256, dtype=np.uint8)
    back = grey_of_lightness(lightness_of_grey(levels)) * 255.0
    assert back.dtype == np.float32 and np.abs(back - levels).max() < 0.01
    # The CIE curve, not L/100: mid lightness is level 119, and the ends are black and white.
    assert round(float(grey_of_lightness(np.float32(50.0))) * 255) == 119
    assert grey_of_lightness(np.array([-5.0, 0.0, 100.0, 120.0])).tolist() == pytest.approx([0.0, 0.0, 1.0, 1.0])


def test_grey_of_lightness_is_the_same_for_numpy_and_torch_and_has_gradients():
    from magicbrush_desktop.core.color import grey_of_lightness, normalize_l
    from magicbrush_desktop.core.networks import l_to_grey_rgb

    l_star = np.linspace(0, 100, 1001, dtype=np.float32)
    t = torch.from_numpy(l_star.copy()).requires_grad_(True)
    grey = grey_of_lightness(t)
    assert isinstance(grey, torch.Tensor) and grey.dtype == torch.float32
    assert np.abs(grey.detach().numpy() - grey_of_lightness(l_star)).max() < 1e-6
    grey.sum().backward()
    assert torch.isfinite(t.grad).all() and (t.grad[1:-1] > 0).all()
    # The colorizer's network input is that grey, on normalised L, in three channels.
    rgb = l_to_grey_rgb(torch.from_numpy(normalize_l(l_star))[None, None, None])
    assert rgb.shape == (1, 3, 1, 1001) and np.abs(rgb[0, 2, 0].numpy() - grey_of_lightness(l_star)).max() < 1e-6


def test_grey_baseline_and_preserve_colours_give_a_grey_photo_back():
    from magicbrush_desktop.core.color import lightness
    from magicbrush_desktop.core.evaluate import grey_baseline
    from magicbrush_desktop.core.style.gatys import StyleTransfer

    from .conftest import make_colour_image, tiny_style_engine

    grey = np.repeat(make_colour_image(40, 30, seed=5)[..., :1], 3, axis=2)
    assert np.abs(grey_baseline(lightness(grey)).astype(int) - grey).max() <= 1
    session = StyleTransfer(tiny_style_engine(), grey, [make_colour_image(40, 40, seed=4)], size=40,
                            preserve_colors=True)
    # What the VGG sees of a grey photo is that photo (a linear L/100 would brighten its midtones).
    assert np.abs(session._content_source * 255.0 - grey).max() <= 1.0
