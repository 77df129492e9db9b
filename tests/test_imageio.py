"""Reading and writing awkward real-world files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from magicbrush_desktop.core import files, imageio
from magicbrush_desktop.core.errors import PhotoError
from magicbrush_desktop.core.imageio import read_photo, save_image

from .conftest import make_colour_image, shared_path


def _save(img: Image.Image, path: Path, **kw) -> Path:
    img.save(path, **kw)
    return path


def test_rgb_jpeg_roundtrip_keeps_size_and_values(tmp_path):
    rgb = make_colour_image(40, 30)
    p = _save(Image.fromarray(rgb), tmp_path / "a.png")
    photo = read_photo(p)
    assert photo.size == (40, 30)
    assert np.array_equal(photo.rgb, rgb)
    assert not photo.is_greyscale
    assert photo.lightness.shape == (30, 40) and photo.lightness.dtype == np.float32


def test_exif_orientation_applied_and_reset_on_save(tmp_path):
    rgb = make_colour_image(40, 20)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when displayed
    exif[0x010F] = "TestCam"
    p = _save(Image.fromarray(rgb), tmp_path / "o.jpg", exif=exif.tobytes())
    photo = read_photo(p)
    assert photo.size == (20, 40)  # upright: width and height swapped
    out = save_image(tmp_path / "out.jpg", photo.rgb, like=photo)
    with Image.open(out) as saved:
        assert saved.getexif().get(0x0112) == 1
        assert saved.getexif().get(0x010F) == "TestCam"
        assert saved.size == (20, 40)


def test_icc_profile_kept(tmp_path):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    p = _save(Image.fromarray(make_colour_image(16, 16)), tmp_path / "icc.png", icc_profile=icc)
    photo = read_photo(p)
    assert photo.icc_profile == icc
    for fmt in ("jpg", "png", "tiff", "webp"):
        out = save_image(tmp_path / f"o.{ 'tif' if fmt == 'tiff' else fmt}", photo.rgb, like=photo)
        with Image.open(out) as saved:
            assert saved.info.get("icc_profile") == icc, fmt


def test_grey_8_and_16_bit(tmp_path):
    grey = np.tile(np.linspace(0, 255, 32, dtype=np.uint8), (8, 1))
    photo = read_photo(_save(Image.fromarray(grey, "L"), tmp_path / "g.png"))
    assert photo.is_greyscale and photo.rgb.shape == (8, 32, 3)
    assert photo.lightness[0, 0] == pytest.approx(0, abs=0.01)
    assert photo.lightness[0, -1] == pytest.approx(100, abs=0.01)
    grey16 = np.tile(np.linspace(0, 65535, 32).astype(np.uint16), (8, 1))
    photo16 = read_photo(_save(Image.fromarray(grey16), tmp_path / "g16.png"))
    assert photo16.is_greyscale
    # 16-bit keeps precision beyond 8 bits: neighbouring levels differ in L.
    assert np.all(np.diff(photo16.lightness[0]) > 0)


def test_palette_rgba_and_la_keep_alpha(tmp_path):
    rgba = np.dstack([make_colour_image(20, 10), np.tile(np.arange(0, 200, 10, dtype=np.uint8), (10, 1))])
    photo = read_photo(_save(Image.fromarray(rgba, "RGBA"), tmp_path / "a.png"))
    assert photo.alpha is not None and photo.alpha[0, 5] == 50
    out = save_image(tmp_path / "o.png", photo.rgb, like=photo)
    with Image.open(out) as saved:
        assert saved.mode == "RGBA"
        assert np.array_equal(np.asarray(saved)[..., 3], rgba[..., 3])
    la = Image.fromarray(rgba[..., :2].copy(), "LA")
    photo_la = read_photo(_save(la, tmp_path / "la.png"))
    assert photo_la.is_greyscale and photo_la.alpha is not None
    pal = Image.fromarray(make_colour_image(16, 16)).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    photo_p = read_photo(_save(pal, tmp_path / "p.png"))
    assert photo_p.rgb.shape == (16, 16, 3)
    # JPEG has no alpha: saved without it rather than failing.
    save_image(tmp_path / "o.jpg", photo.rgb, like=photo)


def test_cmyk_and_tiff_and_webp(tmp_path):
    rgb = make_colour_image(24, 24)
    cmyk = Image.fromarray(rgb).convert("CMYK")
    photo = read_photo(_save(cmyk, tmp_path / "c.jpg"))
    assert photo.rgb.shape == (24, 24, 3) and not photo.is_greyscale
    assert read_photo(_save(Image.fromarray(rgb), tmp_path / "t.tif")).size == (24, 24)
    assert read_photo(_save(Image.fromarray(rgb), tmp_path / "w.webp")).size == (24, 24)


def test_grey_stored_as_rgb_and_sepia(tmp_path):
    grey = np.tile(np.linspace(0, 255, 32, dtype=np.uint8), (8, 1))
    rgb = np.dstack([grey] * 3)
    assert read_photo(_save(Image.fromarray(rgb), tmp_path / "g.png")).is_greyscale
    sepia = np.clip(np.dstack([grey * 1.0, grey * 0.85, grey * 0.65]), 0, 255).astype(np.uint8)
    photo = read_photo(_save(Image.fromarray(sepia), tmp_path / "s.png"))
    assert not photo.is_greyscale
    # Lightness follows the tone, darkest to brightest.
    assert np.all(np.diff(photo.lightness[0]) >= 0)


def test_animated_gif_first_frame_noted(tmp_path):
    frames = [Image.fromarray(make_colour_image(16, 16, seed=i)).convert("P") for i in range(3)]
    p = tmp_path / "anim.gif"
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=100)
    photo = read_photo(p)
    assert photo.size == (16, 16)
    assert any("first of its 3 frames" in n for n in photo.notes)


@pytest.mark.parametrize("content,match", [
    (b"", "empty"),
    (b"this is not an image", "not an image"),
])
def test_bad_files_give_readable_errors(tmp_path, content, match):
    p = tmp_path / "bad.jpg"
    p.write_bytes(content)
    with pytest.raises(PhotoError, match=match):
        read_photo(p)


def test_truncated_and_missing(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(make_colour_image(64, 64)).save(buf, "JPEG")
    p = tmp_path / "cut.jpg"
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(PhotoError, match="cut.jpg"):
        read_photo(p)
    with pytest.raises(PhotoError, match="does not exist") as missing:
        read_photo(tmp_path / "nope.jpg")
    assert str(tmp_path / "nope.jpg") in str(missing.value)  # the folder too: a typo may lie there
    with pytest.raises(PhotoError, match="folder"):
        read_photo(tmp_path)


def test_decompression_bomb_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(imageio, "MAX_PIXELS", 1000)
    p = _save(Image.new("L", (100, 100)), tmp_path / "big.png")
    with pytest.raises(PhotoError, match="too large"):
        read_photo(p)


def test_one_pixel_and_non_ascii_name(tmp_path):
    p = _save(Image.new("RGB", (1, 1), (10, 20, 30)), tmp_path / "фото é 写真.png")
    photo = read_photo(p)
    assert photo.size == (1, 1)
    out = save_image(tmp_path / "résultat.png", photo.rgb, like=photo)
    assert read_photo(out).size == (1, 1)


def test_atomic_save_leaves_no_partial_file(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", boom)  # the atomic write lives in core/files.py
    with pytest.raises(KeyboardInterrupt):
        save_image(tmp_path / "x.png", make_colour_image(8, 8))
    assert list(tmp_path.iterdir()) == []


def test_unknown_output_extension(tmp_path):
    with pytest.raises(PhotoError, match="cannot save"):
        save_image(tmp_path / "x.bmp2", make_colour_image(8, 8))


def test_real_scan_with_corrupt_exif_reads():
    photo = read_photo(shared_path("data", "old-bw", "bicycles.jpg"))
    assert photo.rgb.ndim == 3 and photo.lightness.shape == photo.rgb.shape[:2]


def test_corrupt_exif_block_is_dropped_not_fatal(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(make_colour_image(32, 32)).save(buf, "JPEG")
    data = buf.getvalue()
    # An APP1 segment that claims to be EXIF but holds garbage, right after the SOI marker.
    junk = b"Exif\x00\x00" + b"MM\x00\x2a\x00\x00\x00\x08\xff\xff" + b"\x13" * 40
    app1 = b"\xff\xe1" + (len(junk) + 2).to_bytes(2, "big") + junk
    p = tmp_path / "badexif.jpg"
    p.write_bytes(data[:2] + app1 + data[2:])
    photo = read_photo(p)
    assert photo.size == (32, 32)
    out = save_image(tmp_path / "out.jpg", photo.rgb, like=photo)
    assert read_photo(out).size == (32, 32)
