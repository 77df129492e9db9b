"""Desktop polish (issue 13): never lose work, plain words, app conventions, provenance metadata."""

from __future__ import annotations

import numpy as np
from PIL import Image

from magicbrush_desktop.core.imageio import read_photo, save_image
from magicbrush_desktop.core.provenance import Provenance, read_provenance, software

from .gui_support import make_window, wait_idle, write_grey_photo  # noqa: F401


def _scan_with_exif(path):
    exif = Image.Exif()
    exif[0x010F] = "Old Camera Co."
    exif[0x010E] = "Grandparents, 1908"
    Image.fromarray(np.full((40, 48), 128, np.uint8)).save(path, exif=exif.tobytes())
    return path


# --- 10. provenance ---------------------------------------------------------------------------------


def test_save_image_records_provenance_and_keeps_original_metadata(tmp_path):
    photo = read_photo(_scan_with_exif(tmp_path / "scan.jpg"))
    prov = Provenance(model="magicbrush-colorizer-v1", strength=1.2, styles=("Stained glass",))
    for fmt in ("jpg", "png", "webp", "tiff"):
        out = save_image(tmp_path / f"out.{fmt}", photo.rgb, like=photo, fmt=fmt, provenance=prov)
        meta = read_provenance(out.read_bytes())
        assert meta["software"].startswith("Magic Brush")
        assert "Grandparents, 1908" in meta["description"]  # the archive's caption survives
        assert "magicbrush-colorizer-v1" in meta["description"] and "Stained glass" in meta["description"]
        assert Image.open(out).getexif().get(0x010F) == "Old Camera Co."
        if fmt != "tiff":
            assert "Stained glass" in meta["xmp"] and "CreatorTool" in meta["xmp"]
    # Without "keep metadata" the camera tags go, the provenance stays.
    out = save_image(tmp_path / "bare.jpg", photo.rgb, like=photo, provenance=prov, keep_metadata=False)
    assert Image.open(out).getexif().get(0x010F) is None
    assert "Colorized and stylized by Magic Brush" in read_provenance(out.read_bytes())["description"]


def test_cli_colorize_outputs_say_which_model(tmp_path, tiny_model):
    from magicbrush_desktop.cli import main

    src = _scan_with_exif(tmp_path / "scan.jpg")
    assert main(["colorize", str(src), "-o", str(tmp_path / "out"), "--model", str(tiny_model),
                 "--render-size", "64"]) == 0
    meta = read_provenance((tmp_path / "out" / "scan.jpg").read_bytes())
    assert meta["description"].endswith(f"Colorized by {software()} with the model tiny (colour strength 1.00)")
    assert "Grandparents, 1908" in meta["description"]
    assert Image.open(tmp_path / "out" / "scan.jpg").getexif().get(0x010F) == "Old Camera Co."
