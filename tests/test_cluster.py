"""``magicbrush colorize --engine ray`` (core/cluster.py): a local Ray cluster of 2 workers gives the local
engine's files, names and failure list. Skipped when Ray (the ``cluster`` extra) is not installed."""

from __future__ import annotations

import builtins
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from magicbrush_desktop.cli import main
from magicbrush_desktop.core.errors import MagicBrushError

from .conftest import make_colour_image


def test_without_ray_the_engine_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):  # noqa: ANN001, ANN202
        if name == "ray" or name.startswith("ray."):
            raise ImportError(f"No module named '{name}'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    from magicbrush_desktop.core.cluster import import_ray

    with pytest.raises(MagicBrushError, match=r"magicbrush-desktop\[cluster\]"):
        import_ray()
    Image.fromarray(make_colour_image(32, 24)).save(tmp_path / "a.png")
    rc = main(["colorize", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"), "--engine", "ray"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "pip install 'magicbrush-desktop[cluster]'" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing was started or created


@pytest.fixture(scope="module")
def ray_cluster():
    """One small local Ray instance for the module (2 CPUs, no dashboard, a small object store)."""
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    from magicbrush_desktop.core.cluster import _start_ray

    import signal

    before = signal.getsignal(signal.SIGTERM)
    ours = _start_ray(ray, None, 2)
    assert ray.cluster_resources().get("CPU") == 2
    # Ray's own SIGTERM handler (exit at once) must not replace ours (stop after the current photo).
    assert signal.getsignal(signal.SIGTERM) == before
    yield ray
    if ours:
        ray.shutdown()


@pytest.fixture()
def photo_tree(tmp_path) -> Path:
    """Grey photos in a folder tree, a broken "photo" and a text file."""
    src = tmp_path / "src"
    (src / "1920s").mkdir(parents=True)
    for i, rel in enumerate(["a.png", "b.jpg", "1920s/c.png", "1920s/d.jpg"]):
        grey = Image.fromarray(make_colour_image(160 + 16 * i, 120, seed=i)).convert("L")
        grey.save(src / rel, quality=90) if rel.endswith(".jpg") else grey.save(src / rel)
    (src / "1920s" / "broken.jpg").write_bytes(b"not a jpeg at all")
    (src / "notes.txt").write_text("not a photo")
    return src


def _outputs(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _pixels(data: bytes) -> np.ndarray:
    import io

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def test_ray_batch_equals_the_local_engine(ray_cluster, photo_tree, tmp_path, capsys):
    import torch

    outs = {}
    for engine in ("ray", "local"):
        out = tmp_path / f"out-{engine}"
        (out / "1920s").mkdir(parents=True)
        (out / "1920s" / "c.png").write_bytes(b"someone else's file")  # an existing output: never replaced
        args = ["colorize", str(photo_tree), "-o", str(out), "-r", "--engine", engine]
        if engine == "ray":
            args += ["--workers", "2", "--cpus-per-worker", "1"]
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # the workers' thread count: the same arithmetic, so the same bytes
        try:
            rc = main(args)
        finally:
            torch.set_num_threads(threads)
        captured = capsys.readouterr()
        assert rc == 1, captured  # the broken file
        assert "4 photo(s) written" in captured.out and "1 failed" in captured.out
        assert "broken.jpg: 'broken.jpg' is not an image Magic Brush can read" in captured.out
        assert "c.png: 'c.png' already exists there; written as 'c_colorized.png'" in captured.out + captured.err
        assert "Traceback" not in captured.err
        outs[engine] = _outputs(out)

    ray_out, local_out = outs["ray"], outs["local"]
    assert sorted(ray_out) == sorted(local_out) == sorted(
        ["a.png", "b.jpg", "1920s/c.png", "1920s/c_colorized.png", "1920s/d.jpg"])
    assert ray_out["1920s/c.png"] == b"someone else's file"
    for name, data in local_out.items():
        if name == "1920s/c.png":
            continue
        assert _pixels(ray_out[name]).shape == _pixels(data).shape
        assert ray_out[name] == data, name  # same pixels, EXIF, ICC and provenance: the same file
    assert not list(tmp_path.rglob("*.part"))
    # The source tree is untouched.
    assert (photo_tree / "1920s" / "broken.jpg").read_bytes() == b"not a jpeg at all"


def test_ray_batch_skip_existing_resumes(ray_cluster, photo_tree, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["colorize", str(photo_tree), "-o", str(out), "-r", "--engine", "ray", "--workers", "2"]) == 1
    first = _outputs(out)
    (out / "b.jpg").unlink()  # as if the run had been killed before this one
    stamps = {p: os.stat(p).st_mtime_ns for p in out.rglob("*") if p.is_file()}
    capsys.readouterr()
    rc = main(["colorize", str(photo_tree), "-o", str(out), "-r", "--engine", "ray", "--skip-existing"])
    captured = capsys.readouterr()
    assert rc == 1  # the broken file is tried again and still fails
    assert "1 photo(s) written" in captured.out and "broken.jpg" in captured.out
    assert {p: os.stat(p).st_mtime_ns for p in stamps} == stamps  # skipped outputs are not rewritten
    assert _outputs(out) == first


def test_ray_batch_refuses_bad_worker_count(ray_cluster, photo_tree, tmp_path, capsys):
    rc = main(["colorize", str(photo_tree), "-o", str(tmp_path / "out"), "-r", "--engine", "ray", "--workers", "0"])
    assert rc == 1
    assert "--workers must be at least 1" in capsys.readouterr().err


def test_ray_batch_refuses_a_gpu_number(photo_tree, tmp_path, capsys):
    """Ray gives each worker one GPU of its own; a fixed GPU number would put every worker on it."""
    pytest.importorskip("ray")
    rc = main(["colorize", str(photo_tree), "-o", str(tmp_path / "out"), "-r", "--engine", "ray",
               "--device", "cuda:1"])
    assert rc == 1
    assert "use --device cuda" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
