"""Training data: scan a folder, decode once into memory, split, augment, batch as (L, ab) tensors.

Photos are decoded once, resized so the short side is a little larger than the training crop, and kept
as uint8 in memory (about 0.1 MB each at 128 px), so epochs cost no JPEG decoding.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from PIL import Image

from .color import normalize_ab, normalize_l, rgb_to_lab
from .errors import PhotoError
from .imageio import is_image_path, read_photo

# Shorter photos than this carry too little to learn colour from.
MIN_SIDE = 32
# Short side kept in memory relative to the crop: room for random crops (augmentation).
_KEEP_SCALE = 1.15


RUN_FOLDER_FILES = ("last.pt", "best.pt", "log.jsonl")


def is_run_folder(folder: Path) -> bool:
    """True for a Magic Brush training run folder (its config.json beside a checkpoint or log)."""
    return (folder / "config.json").is_file() and any((folder / n).is_file() for n in RUN_FOLDER_FILES)


def scan_images(folder: Path, recursive: bool = True, exclude: tuple[Path, ...] | list[Path] = ()) -> list[Path]:
    """Image files under ``folder`` (by extension), sorted for reproducibility.

    Hidden files, the folders in ``exclude`` (a training run's own folder) and any sub-folder that is a
    Magic Brush run folder (sample grids, not photos) are left out.
    """
    folder = Path(folder)
    pattern = "**/*" if recursive else "*"
    skip = [Path(e).resolve() for e in exclude]
    runs: dict[Path, bool] = {}

    def in_run(path: Path) -> bool:
        for parent in path.parents:
            if parent == folder or folder not in parent.parents:
                break
            if parent not in runs:
                runs[parent] = is_run_folder(parent)
            if runs[parent]:
                return True
        return False

    found = []
    for p in folder.glob(pattern):
        if not p.is_file() or not is_image_path(p) or p.name.startswith("."):
            continue
        if skip and any(s == p.resolve().parent or s in p.resolve().parents for s in skip):
            continue
        if recursive and in_run(p):
            continue
        found.append(p)
    return sorted(found)


def _split_key(path: Path, seed: int) -> float:
    """A stable number in [0, 1) per file name: the split does not change when files are added."""
    digest = hashlib.sha1(f"{seed}:{path.name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class ImageSet:
    """Decoded photos of one split: uint8 (h, w, 3) arrays, short side = keep size."""

    images: list[np.ndarray]
    paths: list[Path]

    def __len__(self) -> int:
        return len(self.images)


@dataclass
class DataSummary:
    folder: str
    found: int
    used: int
    train: int
    val: int
    test: int
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "folder": self.folder, "found": self.found, "used": self.used, "train": self.train,
            "val": self.val, "test": self.test, "skipped": len(self.skipped),
        }


def _decode(path: Path, keep_short: int) -> np.ndarray:
    photo = read_photo(path)
    if _made_by_us(photo.exif):
        raise PhotoError("a Magic Brush result (its metadata says so), not an original colour photo")
    h, w = photo.rgb.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise PhotoError(f"too small ({w}x{h}; at least {MIN_SIDE} px per side)")
    if photo.is_greyscale:
        raise PhotoError("black-and-white: nothing to learn colour from")
    scale = keep_short / min(h, w)
    size = (max(keep_short, round(w * scale)), max(keep_short, round(h * scale)))
    img = Image.fromarray(photo.rgb).resize(size, Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC)
    return np.asarray(img, dtype=np.uint8)


def _made_by_us(exif: bytes | None) -> bool:
    """True when EXIF Software says Magic Brush wrote the file (see provenance.py)."""
    if not exif:
        return False
    try:
        software = Image.Exif()
        software.load(exif)
        return str(software.get(0x0131, "")).startswith("Magic Brush")
    except Exception:  # noqa: BLE001 - unreadable EXIF says nothing
        return False


def load_splits(
    folder: Path,
    image_size: int,
    *,
    val_split: float = 0.1,
    test_split: float = 0.0,
    seed: int = 0,
    exclude: tuple[Path, ...] | list[Path] = (),
) -> Iterator[tuple[int, int, str] | tuple[ImageSet, ImageSet, ImageSet, DataSummary]]:
    """Scan and decode ``folder``; a generator yielding (done, total, name) while decoding, then
    finally (train, val, test, summary). Unreadable, tiny and black-and-white files, and Magic Brush's
    own results, are skipped and listed in the summary; ``exclude`` folders (the run's own) and run
    folders inside ``folder`` are not scanned. With a single usable photo it is also the validation photo."""
    paths = scan_images(folder, exclude=exclude)
    keep_short = round(image_size * _KEEP_SCALE)
    sets: dict[str, tuple[list, list]] = {"train": ([], []), "val": ([], []), "test": ([], [])}
    skipped: list[tuple[str, str]] = []
    for i, path in enumerate(paths):
        yield (i, len(paths), path.name)
        try:
            img = _decode(path, keep_short)
        except PhotoError as exc:
            skipped.append((str(path), str(exc)))
            continue
        key = _split_key(path, seed)
        split = "test" if key < test_split else "val" if key < test_split + val_split else "train"
        sets[split][0].append(img)
        sets[split][1].append(path)
    train, val, test = (ImageSet(*sets[s]) for s in ("train", "val", "test"))
    if len(train) == 0 and len(val) + len(test) > 0:
        # Tiny folders whose photos all drew validation or test: train on them rather than refuse.
        train = ImageSet(val.images + test.images, val.paths + test.paths)
        val, test = ImageSet([], []), ImageSet([], [])
    if len(train) == 0:
        raise PhotoError(f"no usable colour photos to train on in '{folder}'")
    if len(val) == 0:
        # Tiny folders: still validate on something rather than nothing.
        val = ImageSet([train.images[-1]], [train.paths[-1]])
    summary = DataSummary(str(folder), len(paths), len(train) + len(val) + len(test), len(train), len(val),
                          len(test), skipped)
    yield (train, val, test, summary)


def lab_batch(images: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 RGB crops of one size -> (L (N, 1, H, W) in [-1, 1], ab (N, 2, H, W) in ~[-1, 1])."""
    lab = np.stack([rgb_to_lab(img) for img in images])  # (N, H, W, 3)
    t = torch.from_numpy(lab).permute(0, 3, 1, 2).contiguous()
    return normalize_l(t[:, :1]), normalize_ab(t[:, 1:])


def random_crop_flip(img: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Augmentation: a random size x size crop and a horizontal flip half the time, pix2pix's random
    crop and mirroring (Isola et al. 2017): more distinct views of each photo, its colours untouched."""
    h, w = img.shape[:2]
    y = int(rng.integers(0, h - size + 1))
    x = int(rng.integers(0, w - size + 1))
    crop = img[y : y + size, x : x + size]
    return crop[:, ::-1] if rng.random() < 0.5 else crop


def center_crop(img: np.ndarray, size: int) -> np.ndarray:
    h, w = img.shape[:2]
    y, x = (h - size) // 2, (w - size) // 2
    return img[y : y + size, x : x + size]


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffled order of epoch ``epoch``: derived, so a resumed run continues the same order."""
    return np.random.default_rng([seed, epoch]).permutation(n)
