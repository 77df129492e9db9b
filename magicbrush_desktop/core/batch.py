"""Batch processing of files and folders: plan where each output goes, then process one file at a time.

Outputs keep each source's path relative to the folder it was found in, and its stem. A batch never
writes over a source, writes every file atomically, skips non-image files in folders quietly, and
carries on past unreadable files, listing each with its reason at the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .errors import MagicBrushError
from .events import FileDone, Finished, Progress
from .imageio import FORMAT_EXTENSIONS, Photo, format_from_path, is_image_path, read_photo, save_image
from .provenance import Provenance


@dataclass(frozen=True)
class BatchItem:
    source: Path
    output: Path


def _output_format(source: Path, fmt: str | None) -> str:
    if fmt:
        return fmt
    try:
        return format_from_path(source)
    except MagicBrushError:
        return "png"  # BMP, GIF, ... sources: a lossless format we can write


def plan_batch(
    sources: list[Path],
    out_dir: Path,
    *,
    recursive: bool = False,
    fmt: str | None = None,
    suffix: str = "",
) -> list[BatchItem]:
    """Map each source file (folders expanded) to its output path under ``out_dir``.

    A file given directly is processed whatever its extension (so a bad one is reported); files found
    in folders are taken only if they have an image extension.

    Raises:
        MagicBrushError: a source does not exist, or an output would overwrite a source.
    """
    out_dir = Path(out_dir).resolve()
    items: list[BatchItem] = []
    for src in map(Path, sources):
        if not src.exists():
            raise MagicBrushError(f"'{src}' does not exist")
        if src.is_dir():
            pattern = "**/*" if recursive else "*"
            root = src.resolve()
            for path in sorted(root.glob(pattern)):
                if not path.is_file() or not is_image_path(path) or path.name.startswith("."):
                    continue
                if out_dir != root and _inside(path, out_dir):
                    continue  # earlier outputs, when the output folder sits inside a source folder
                rel = path.relative_to(root)
                ext = FORMAT_EXTENSIONS[_output_format(path, fmt)]
                items.append(BatchItem(path, out_dir / rel.parent / f"{rel.stem}{suffix}{ext}"))
        else:
            path = src.resolve()
            ext = FORMAT_EXTENSIONS[_output_format(path, fmt)]
            items.append(BatchItem(path, out_dir / f"{path.stem}{suffix}{ext}"))
    sources_set = {item.source for item in items}
    for item in items:
        if item.output in sources_set or item.output.resolve() in sources_set:
            raise MagicBrushError(
                f"the output folder would overwrite the source '{item.source.name}'; choose another output folder"
            )
    seen: dict[Path, Path] = {}
    for item in items:
        if item.output in seen:
            raise MagicBrushError(
                f"'{seen[item.output].name}' and '{item.source.name}' would both be written to "
                f"'{item.output.name}'; process them separately or choose one output format"
            )
        seen[item.output] = item.source
    return items


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def run_batch(
    items: list[BatchItem],
    process: Callable[[Photo], np.ndarray],
    *,
    skip_existing: bool = False,
    fmt: str | None = None,
    quality: int = 95,
    provenance: Provenance | None = None,
) -> Iterator[Progress | FileDone | Finished]:
    """Process files one at a time; yields Progress before each file, FileDone after it, then Finished.

    ``process`` maps a photo to (H, W, 3) uint8 RGB. Stopping (``close()``) between files leaves
    nothing partial: each output appears whole (atomic rename) or not at all.
    The summary: {"done": n, "skipped": n, "failed": [(file name, reason), ...], "seconds": s}.
    ``provenance`` is recorded in each output's metadata (see :mod:`.provenance`).
    """
    done, skipped = 0, 0
    failed: list[tuple[str, str]] = []
    started = time.monotonic()
    for index, item in enumerate(items):
        yield Progress(index, len(items), item.source.name)
        if skip_existing and item.output.exists():
            skipped += 1
            yield FileDone(item.source, item.output, skipped=True)
            continue
        try:
            photo = read_photo(item.source)
            rgb = process(photo)
            save_image(item.output, rgb, like=photo, fmt=fmt or format_from_path(item.output), quality=quality,
                       provenance=provenance)
        except MagicBrushError as exc:
            failed.append((str(item.source), str(exc)))
            yield FileDone(item.source, error=str(exc))
            continue
        except MemoryError:
            failed.append((str(item.source), "not enough memory for this photo"))
            yield FileDone(item.source, error="not enough memory for this photo")
            continue
        done += 1
        yield FileDone(item.source, item.output)
    yield Progress(len(items), len(items), "finished")
    yield Finished(None, {"done": done, "skipped": skipped, "failed": failed,
                          "seconds": time.monotonic() - started})
