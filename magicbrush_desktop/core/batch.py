"""Batch processing of files and folders: plan where each output goes, then process one file at a time.

Outputs keep each source's path relative to the folder it was found in, and its stem. A batch never
writes over a source, nor over any file it did not create unless asked to (``overwrite``): a taken
name gets a free one beside it (``NAME_colorized.jpg``, ``NAME_colorized-2.jpg``, ...; see
:mod:`.files`). It writes every file atomically, skips non-image files in folders quietly, carries on
past unreadable or unwritable files, listing each with its reason at the end, and stops on a full disk
with the list of what was and was not written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .errors import MagicBrushError, OutputExists, WriteError
from .events import FileDone, Finished, Progress
from .files import check_output_folder, free_path, is_part_file, remove_stale_parts
from .imageio import (FORMAT_EXTENSIONS, Photo, atomic_write_bytes, encode_photo, format_from_path, is_image_path,
                      read_photo)
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
        MagicBrushError: a source does not exist, an output would overwrite a source, no photo is
            found (the message says why), or the output folder cannot be used (a file, read-only).
    """
    out_dir = Path(out_dir).expanduser().resolve()
    items: list[BatchItem] = []
    in_output, not_images = 0, 0
    for src in map(Path, sources):
        if not src.exists():
            raise MagicBrushError(f"'{src}' does not exist")
        if src.is_dir():
            pattern = "**/*" if recursive else "*"
            root = src.resolve()
            for path in sorted(root.glob(pattern)):
                if not path.is_file() or path.name.startswith("."):
                    continue
                if not is_image_path(path):
                    not_images += 1
                    continue
                if out_dir != root and _inside(out_dir, root) and _inside(path, out_dir):
                    in_output += 1
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
    # The same photo named twice (or found again through its folder) is done once.
    unique: dict[Path, BatchItem] = {}
    for item in items:
        unique.setdefault(item.source, item)
    items = list(unique.values())
    seen: dict[Path, Path] = {}
    for item in items:
        if item.output in seen:
            other = seen[item.output]
            advice = ("they have the same name in different folders: colorize them into different output "
                      "folders" if other.name == item.source.name else
                      "process them separately or choose one output format (--format)")
            raise MagicBrushError(
                f"'{other}' and '{item.source}' would both be written to '{item.output.name}'; {advice}"
            )
        seen[item.output] = item.source
    if not items:
        names = ", ".join(f"'{s}'" for s in sources)
        if in_output:
            raise MagicBrushError(f"the {in_output} photo(s) in {names} all lie inside the output folder "
                                  f"'{out_dir}' (taken as earlier results); choose an output folder outside it")
        # -r is suggested only where it would find something.
        below = not recursive and photos_below([Path(s) for s in sources], limit=1) > 0
        hint = "; add -r (Include sub-folders) to take the photos in its sub-folders" if below else ""
        extra = f" ({not_images} other file(s) are not photos)" if not_images else ""
        raise MagicBrushError(f"no photos found in {names}{extra}{hint}")
    check_output_folder(out_dir)
    return items


def photos_below(sources: list[Path], limit: int = 10_000) -> int:
    """How many photos lie in sub-folders of the source folders (what a run without ``recursive``
    leaves out), counted up to ``limit`` so a huge archive is not walked to the end just to say so."""
    count = 0
    for src in map(Path, sources):
        if not src.is_dir():
            continue
        for sub in sorted(p for p in src.iterdir() if p.is_dir() and not p.name.startswith(".")):
            for path in sub.rglob("*"):
                if path.is_file() and is_image_path(path):
                    count += 1
                    if count >= limit:
                        return count
    return count


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


@dataclass
class Processed:
    """What a batch's ``process`` may return instead of bare RGB: the result plus a note for the user
    (e.g. "the hints file is damaged; using the automatic colours"), shown with that file's FileDone."""

    rgb: np.ndarray
    note: str | None = None


def run_batch(
    items: list[BatchItem],
    process: Callable[[Photo], "np.ndarray | Processed"],
    *,
    skip_existing: bool = False,
    fmt: str | None = None,
    quality: int = 95,
    provenance: Provenance | None = None,
    overwrite: bool = False,
    tag: str = "colorized",
) -> Iterator[Progress | FileDone | Finished]:
    """Process files one at a time; yields Progress before each file, FileDone after it, then Finished.

    ``process`` maps a photo to (H, W, 3) uint8 RGB, or to :class:`Processed` (RGB and a note). Stopping (``close()``) between files leaves
    nothing partial: each output appears whole (atomic rename) or not at all; temporary files a killed
    run left behind for these outputs are removed first.

    An output name already taken by a file this run did not write is never replaced unless
    ``overwrite``: the result goes to a free name (``STEM_TAG.EXT``, ``STEM_TAG-2.EXT``, ...) and its
    FileDone carries a ``note``. ``skip_existing`` skips photos whose output exists instead (resume).
    A full disk stops the batch after that file.

    The summary: {"done": n, "skipped": n, "failed": [(file name, reason), ...], "seconds": s,
    "renamed": [(source, output), ...], "stopped": None or the reason (e.g. the disk is full),
    "not_done": [sources never tried]}.
    ``provenance`` is recorded in each output's metadata (see :mod:`.provenance`).
    """
    if not 1 <= int(quality) <= 100:
        raise MagicBrushError(f"quality must be between 1 and 100 (got {quality})")
    if skip_existing and overwrite:
        raise MagicBrushError("skip photos already done or replace existing files: choose one")
    _remove_stale_parts(items, tag)
    done, skipped = 0, 0
    failed: list[tuple[str, str]] = []
    renamed: list[tuple[str, str]] = []
    stopped: str | None = None
    not_done: list[str] = []
    started = time.monotonic()
    for index, item in enumerate(items):
        yield Progress(index, len(items), item.source.name)
        if skip_existing and item.output.exists():
            skipped += 1
            yield FileDone(item.source, item.output, skipped=True)
            continue
        note = None
        try:
            photo = read_photo(item.source)
            rgb = process(photo)
            process_note = None
            if isinstance(rgb, Processed):
                rgb, process_note = rgb.rgb, rgb.note
            data = encode_photo(rgb, fmt or format_from_path(item.output), like=photo, quality=quality,
                                provenance=provenance)
            target, note = write_output(item, data, overwrite=overwrite, tag=tag)
            if process_note:
                note = f"{process_note}; {note}" if note else process_note
            if target != item.output:
                renamed.append((str(item.source), str(target)))
        except WriteError as exc:
            failed.append((str(item.source), str(exc)))
            yield FileDone(item.source, error=str(exc))
            if exc.disk_full:
                stopped = "the disk is full"
                not_done = [str(i.source) for i in items[index + 1:]]
                break
            continue
        except MagicBrushError as exc:
            failed.append((str(item.source), str(exc)))
            yield FileDone(item.source, error=str(exc))
            continue
        except MemoryError:
            failed.append((str(item.source), "not enough memory for this photo"))
            yield FileDone(item.source, error="not enough memory for this photo")
            continue
        except OSError as exc:  # e.g. a source folder that vanished; never a traceback
            failed.append((str(item.source), exc.strerror or str(exc)))
            yield FileDone(item.source, error=exc.strerror or str(exc))
            continue
        done += 1
        yield FileDone(item.source, target, note=note)
    yield Progress(len(items), len(items), "stopped: " + stopped if stopped else "finished")
    yield Finished(None, {"done": done, "skipped": skipped, "failed": failed, "renamed": renamed,
                          "stopped": stopped, "not_done": not_done, "seconds": time.monotonic() - started})


def write_output(item: BatchItem, data: bytes, *, overwrite: bool = False,
                 tag: str = "colorized") -> tuple[Path, str | None]:
    """Write one result's file bytes for ``item`` atomically, by the batch's naming policy.

    Returns (the path written, a note for the user when it is not ``item.output``). Without
    ``overwrite`` a taken name gets the next free one (``STEM_TAG.EXT``, ...). Shared by
    :func:`run_batch` and the Ray engine (:mod:`.cluster`), so both write the same files.

    Raises:
        WriteError: the file cannot be written (``disk_full`` says whether the disk is full).
        MagicBrushError: no free name was found.
    """
    target = item.output
    for _attempt in range(3):
        if not overwrite:
            target = free_path(item.output, tag)
        try:
            atomic_write_bytes(target, data, replace=overwrite)
            break
        except OutputExists:
            continue  # another program took the name meanwhile: the next free one
    else:
        raise MagicBrushError(f"no free name for '{item.output.name}'")
    if target != item.output:
        return target, f"'{item.output.name}' already exists there; written as '{target.name}'"
    return target, None


def remove_stale_parts_for(items: list[BatchItem], tag: str = "colorized") -> None:
    """Public name of :func:`_remove_stale_parts` for other engines (:mod:`.cluster`)."""
    _remove_stale_parts(items, tag)


def _remove_stale_parts(items: list[BatchItem], tag: str) -> None:
    """Delete ``.NAME.XXXXXXXX.part`` files a killed run left for these outputs (or their free names)."""
    by_folder: dict[Path, list[BatchItem]] = {}
    for item in items:
        by_folder.setdefault(item.output.parent, []).append(item)
    for folder, group in by_folder.items():
        if not folder.is_dir():
            continue
        names = {i.output.name for i in group}
        prefixes = {(f"{i.output.stem}_{tag}", i.output.suffix) for i in group}
        try:
            entries = [e.name for e in folder.iterdir() if is_part_file(e)]
        except OSError:
            continue
        ours = set()
        for entry in entries:
            inner = entry[1:].rsplit(".", 2)[0]  # .NAME.XXXXXXXX.part -> NAME
            if inner in names or any(inner.startswith(p) and inner.endswith(x) for p, x in prefixes):
                ours.add(inner)
        if ours:
            remove_stale_parts(folder, ours)
