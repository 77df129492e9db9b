"""The scripts that run a training on a lent GPU machine (DEVELOPERS.md): the photo packer keeps the
validation split and never overwrites; the device-side runner leaves best.pt in parts that rejoin to
the file its sha256 names, plus the run's log and settings, in $OUT."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from magicbrush_desktop.core.dataset import load_splits

from .conftest import make_colour_image

REPO = Path(__file__).resolve().parents[1]


def _final(gen):
    *_, last = gen
    return last


def test_pack_photos_shrinks_keeps_names_and_split(tmp_path, colour_folder):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    for p in sorted(colour_folder.iterdir()):
        shutil.copy(p, src / p.name)
    Image.fromarray(make_colour_image(400, 300, seed=9)).save(src / "sub" / "wide.jpg", quality=95)
    dst = tmp_path / "packed"
    subprocess.run([sys.executable, "scripts/pack_photos.py", str(src), str(dst), "--short-side", "100"],
                   cwd=REPO, check=True, capture_output=True, text=True)
    packed = sorted(p.relative_to(dst) for p in dst.rglob("*") if p.is_file())
    assert packed == sorted(p.relative_to(src) for p in src.rglob("*") if p.is_file())
    with Image.open(dst / "sub" / "wide.jpg") as im:
        assert im.format == "JPEG" and min(im.size) == 100 and im.size == (133, 100)
    with Image.open(dst / "photo_0.png") as im:  # small photos are never enlarged; the name stays
        assert im.format == "JPEG" and im.size == (72, 64)
    # The same names draw the same validation photos, so a GPU run never trains on them.
    val_names = [sorted(p.name for p in _final(load_splits(d, 32, val_split=0.3, seed=0))[1].paths)
                 for d in (src, dst)]
    assert val_names[0] == val_names[1] and val_names[0]


def test_pack_photos_refuses_a_folder_that_holds_files(tmp_path, colour_folder):
    dst = tmp_path / "packed"
    dst.mkdir()
    (dst / "mine.jpg").write_bytes(b"keep me")
    run = subprocess.run([sys.executable, "scripts/pack_photos.py", str(colour_folder), str(dst)],
                         cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 2 and "not empty" in run.stderr
    assert (dst / "mine.jpg").read_bytes() == b"keep me"


def _device_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """What the device tool gives the script (an empty $OUT), with this interpreter as the machine's
    python3, the CPU as its device and the run folder under ``tmp_path``."""
    (tmp_path / "out").mkdir()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python3").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (bindir / "python3").chmod(0o755)
    return {**os.environ, "OUT": str(tmp_path / "out"), "DEVICE": "cpu", "RUN": str(tmp_path / "run"),
            "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", **extra}


_COREUTILS = all(shutil.which(t) for t in ("bash", "split", "timeout", "sha256sum"))


@pytest.mark.skipif(not _COREUTILS, reason="needs bash and GNU coreutils")
def test_device_train_leaves_rejoinable_parts_in_out(tmp_path, colour_folder):
    out = tmp_path / "out"
    env = _device_env(tmp_path, PHOTOS=str(colour_folder), MINUTES="5", PART_SIZE="20k")
    run = subprocess.run(["bash", "scripts/device_train.sh", "--epochs", "1", "--image-size", "32", "--batch-size",
                          "2", "--generator", "resunet", "--base", "4", "--val-split", "0.25", "--threads", "1"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    parts = sorted(out.glob("best.pt.part*"))
    assert len(parts) >= 2 and all(p.stat().st_size <= 20 * 1024 for p in parts)
    joined = b"".join(p.read_bytes() for p in parts)
    assert joined == (tmp_path / "run" / "best.pt").read_bytes()
    digest, name = (out / "best.pt.sha256").read_text().split()
    assert name == "best.pt" and digest == hashlib.sha256(joined).hexdigest()
    assert {"log.jsonl", "config.json", "train.log", "epoch_001.png"} <= {p.name for p in out.iterdir()}
    assert "train exited with 0" in run.stdout


@pytest.mark.skipif(not _COREUTILS, reason="needs bash and GNU coreutils")
def test_device_train_refuses_to_run_outside_the_device_tool(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "OUT"}
    run = subprocess.run(["bash", "scripts/device_train.sh"], cwd=REPO, env=env, capture_output=True, text=True)
    assert run.returncode != 0 and "device tool" in run.stderr


@pytest.mark.skipif(not _COREUTILS, reason="needs bash and GNU coreutils")
def test_device_train_fails_when_training_fails(tmp_path):
    out = tmp_path / "out"
    env = _device_env(tmp_path, PHOTOS=str(tmp_path / "no-such-folder"))
    run = subprocess.run(["bash", "scripts/device_train.sh"], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode != 0 and "no best.pt" in run.stderr
    assert not list(out.glob("best.pt*"))
