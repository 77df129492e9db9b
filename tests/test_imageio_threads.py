"""Reading photos from several threads at once leaves Pillow's process-wide settings alone.

The desktop app reads photos in worker threads while the window thread opens others; the old reader set
``Image.MAX_IMAGE_PIXELS`` and ``ImageFile.LOAD_TRUNCATED_IMAGES`` around every read (and swapped the
warnings filters), so two reads at once could leave Pillow's limit at ours for the rest of the process.
"""

from __future__ import annotations

import io
import threading
import types
import warnings
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from magicbrush_desktop.core import imageio
from magicbrush_desktop.core.errors import PhotoError
from magicbrush_desktop.core.imageio import read_photo

from .conftest import make_colour_image

WATCHED = ("MAX_IMAGE_PIXELS", "LOAD_TRUNCATED_IMAGES")


class _WriteRecorder(types.ModuleType):
    """A module class that records assignments to Pillow's global settings (module ``__setattr__``)."""

    writes: list[tuple[str, object]] = []

    def __setattr__(self, name: str, value: object) -> None:
        if name in WATCHED:
            _WriteRecorder.writes.append((name, value))
        super().__setattr__(name, value)


@pytest.fixture
def recorded_writes():
    """Every write to Image.MAX_IMAGE_PIXELS / ImageFile.LOAD_TRUNCATED_IMAGES while the test runs."""
    _WriteRecorder.writes = []
    for module in (Image, ImageFile):
        module.__class__ = _WriteRecorder
    try:
        yield _WriteRecorder.writes
    finally:
        for module in (Image, ImageFile):
            module.__class__ = types.ModuleType


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` grey pixels but holds only a few bytes of data
    (what a decompression bomb's header looks like to a reader, without the gigabytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def _photos(folder: Path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        path = folder / f"p{i}.{'jpg' if i % 2 else 'png'}"
        Image.fromarray(make_colour_image(48 + i, 40, seed=i)).save(path)
        paths.append(path)
    return paths


def test_two_threads_read_at_once_without_touching_pillow_settings(tmp_path, recorded_writes):
    paths = _photos(tmp_path, 6)
    bomb = _png_header(12_500, 12_500)  # 156 MP: over our limit, under Pillow's hard refusal
    limit, truncated, filters = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, warnings.filters
    seen_filters: list[bool] = []
    real_open = Image.open

    def watching_open(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        # catch_warnings swaps warnings.filters for a copy while it is active: a read that did that
        # would be seen here, mid-read, even though the list is put back afterwards.
        seen_filters.append(warnings.filters is filters)
        return real_open(*args, **kwargs)

    Image.open = watching_open
    start = threading.Barrier(2)
    results: dict[int, list[object]] = {0: [], 1: []}

    def reader(index: int) -> None:
        start.wait()
        for _ in range(5):
            for path in paths[index::2]:
                results[index].append(read_photo(path).size)
            if index == 0:
                try:
                    read_photo(bomb)
                    results[index].append("bomb read")
                except PhotoError as exc:
                    results[index].append(str(exc))

    try:
        threads = [threading.Thread(target=reader, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        Image.open = real_open
    assert not any(t.is_alive() for t in threads)
    # Both threads read all their photos; the bomb was refused, readably, every time.
    expected = {i: [(48 + j, 40) for j in range(i, 6, 2)] for i in (0, 1)}
    assert [r for r in results[1]] == expected[1] * 5
    sizes = [r for r in results[0] if isinstance(r, tuple)]
    refusals = [r for r in results[0] if isinstance(r, str)]
    assert sizes == expected[0] * 5
    assert len(refusals) == 5 and all("too large to open safely" in r for r in refusals)
    # Nothing process-wide was written, nor swapped while reading.
    assert recorded_writes == []
    assert seen_filters and all(seen_filters)
    assert Image.MAX_IMAGE_PIXELS == limit and ImageFile.LOAD_TRUNCATED_IMAGES == truncated
    assert warnings.filters is filters


def test_recorder_sees_writes():
    """The recorder the test above relies on does see an assignment (so its empty list means something)."""
    _WriteRecorder.writes = []
    Image.__class__ = _WriteRecorder
    try:
        Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS
    finally:
        Image.__class__ = types.ModuleType
    assert _WriteRecorder.writes == [("MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)]


def test_our_limit_governs_not_pillows(tmp_path, monkeypatch):
    """Our own size check refuses bombs before decoding; Pillow's stricter default does not refuse
    photos under our limit, and its hard refusal far above it reads the same."""
    assert imageio.MAX_PIXELS > Image.MAX_IMAGE_PIXELS  # the band this test is about
    for width, height in ((12_500, 12_500), (20_000, 10_000)):  # ours; Pillow's hard limit (> 2x its)
        with pytest.raises(PhotoError, match="too large to open safely"):
            read_photo(_png_header(width, height))
    # 90 MP, over Pillow's 89 MP but under ours: decoding is tried (and fails, the data being a stub).
    with pytest.raises(PhotoError) as caught:
        read_photo(_png_header(9_500, 9_500))
    assert "too large" not in str(caught.value)
    # The limit is read at call time: lowering it on the module refuses smaller photos.
    buf = io.BytesIO()
    Image.new("L", (100, 100)).save(buf, "PNG")
    monkeypatch.setattr(imageio, "MAX_PIXELS", 1000)
    with pytest.raises(PhotoError, match="too large"):
        read_photo(buf.getvalue())


def test_truncated_file_still_refused_and_setting_untouched(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(make_colour_image(64, 64)).save(buf, "JPEG")
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    before = ImageFile.LOAD_TRUNCATED_IMAGES
    with pytest.raises(PhotoError, match="cut.jpg"):
        read_photo(cut)
    assert ImageFile.LOAD_TRUNCATED_IMAGES == before
