"""Writing files safely: never over a file the run did not create, atomically, with readable errors.

The overwrite policy (README, "Never overwrite"):

- a batch (``colorize``, the desktop app's Batch) whose output name is already taken writes its result
  under a free name beside it (``NAME_colorized.jpg``, then ``NAME_colorized-2.jpg``, ...) and says so;
- where the user names one output (``stylize -o``, ``train --out``, ``models install --name``, the
  desktop app's Save As), an existing file is refused (the app asks) unless the user says so
  (``--overwrite``, ``--force``);
- inputs (photos, paintings, models) are never written over, whatever the options.

Every file is written through a hidden temporary ``.NAME.XXXXXXXX.part`` in the same folder and a
rename; a run removes stale ones of its own outputs (left by a kill) when it starts.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Iterable

from .errors import MagicBrushError, OutputExists, WriteError

PART_SUFFIX = ".part"
# tempfile.mkstemp's random part: 8 characters of [a-z0-9_].
_PART_RE = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.part$")
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})


def _reason(exc: OSError) -> str:
    code = exc.errno
    if code in DISK_FULL_ERRNOS:
        return "the disk is full"
    if code == errno.EROFS:
        return "the folder is on a read-only disk"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if code == errno.EISDIR or isinstance(exc, IsADirectoryError):
        return "a folder of that name is in the way"
    if code == errno.ENOTDIR or isinstance(exc, NotADirectoryError):
        return "part of the path is a file, not a folder"
    if code == errno.EEXIST or isinstance(exc, FileExistsError):
        return "a file of that name is in the way"
    if code == errno.ENAMETOOLONG:
        return "the name is too long"
    return exc.strerror or str(exc)


def write_error(exc: OSError, path: Path | str) -> WriteError:
    """A readable :class:`WriteError` for an OSError met while writing ``path``."""
    return WriteError(f"cannot write '{path}': {_reason(exc)}", exc.errno)


def atomic_write(path: Path | str, data: bytes, *, replace: bool = True) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    A crash or Ctrl-C leaves either the old file or the new one, never half a file. With
    ``replace=False`` an existing ``path`` is never replaced (:class:`OutputExists`), even if it
    appears while writing.

    Raises:
        WriteError: the folder cannot be created or written (read-only, full, permission), with ``errno``.
        OutputExists: ``replace=False`` and ``path`` exists.
    """
    path = Path(path)
    if not replace and os.path.lexists(path):
        raise OutputExists(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=PART_SUFFIX, dir=path.parent)
    except OSError as exc:
        raise write_error(exc, path) from exc
    except ValueError as exc:  # e.g. a NUL character in the name
        raise WriteError(f"cannot write '{path}': the name is not valid ({exc})", errno.EINVAL) from exc
    try:
        # mkstemp makes owner-only files; a saved file gets the usual permissions (umask applies).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            _rename_no_replace(tmp, path)
    except OutputExists:
        Path(tmp).unlink(missing_ok=True)
        raise
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise write_error(exc, path) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _rename_no_replace(tmp: str, path: Path) -> None:
    try:
        os.link(tmp, path)  # fails if path exists: no window in which another file could be replaced
    except FileExistsError:
        raise OutputExists(path) from None
    except OSError:
        # File systems without hard links (FAT, some network shares): check, then rename.
        if os.path.lexists(path):
            raise OutputExists(path) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


# A stem from safe_stem is at most this long: with an extension (".thumb.png") and our temporary-file
# affixes (".NAME.XXXXXXXX.part") around it, a name stays under the 255-byte limit of common file systems.
SAFE_STEM_CHARS = 60
_SAFE_STEM_BYTES = 200
# Every run of characters other than letters, digits (any script), "_" and "." becomes one "-": spaces,
# slashes, colons, control characters and dashes themselves, so "a - b" and "a/b" both give "a-b".
_UNSAFE_RUN = re.compile(r"[^\w.]+")


def safe_stem(name: str, fallback: str = "") -> str:
    """A file stem made from a name a user typed (a model, a training run, an imported style).

    Letters and digits of any script, "_" and "." are kept; each run of anything else becomes one "-".
    Leading and trailing "-", "_" and "." go (no hidden files, no "..", no names Windows trims), and the
    stem is cut to :data:`SAFE_STEM_CHARS` characters (and 200 UTF-8 bytes). Case is kept.

    Examples: "My family (1950s)" -> "My-family-1950s"; "../../etc/passwd" -> "etc-passwd";
    "Café terrace" -> "Café-terrace"; "???" -> ``fallback``.

    Args:
        name: any text.
        fallback: returned when nothing usable is left ("" lets the caller refuse the name).
    Returns:
        A non-empty stem with no path separator, or ``fallback``.
    """
    # NFC first: a decomposed "é" (e + combining accent, as macOS file dialogs give) stays one letter.
    stem = _UNSAFE_RUN.sub("-", unicodedata.normalize("NFC", name))[:SAFE_STEM_CHARS].strip("-_.")
    while len(stem.encode("utf-8")) > _SAFE_STEM_BYTES:
        stem = stem[:-1].rstrip("-_.")
    return stem or fallback


def free_path(path: Path, tag: str = "colorized", taken: Iterable[Path] = ()) -> Path:
    """``path`` if nothing is there, else ``STEM_TAG.EXT``, ``STEM_TAG-2.EXT``, ... (first free one)."""
    path = Path(path)
    taken = set(taken)
    if not os.path.lexists(path) and path not in taken:
        return path
    for n in range(1, 10_000):
        name = f"{path.stem}_{tag}{'' if n == 1 else f'-{n}'}{path.suffix}"
        candidate = path.with_name(name)
        if not os.path.lexists(candidate) and candidate not in taken:
            return candidate
    raise MagicBrushError(f"no free name for '{path.name}' in {path.parent}")


def is_part_file(path: Path, names: Iterable[str] | None = None) -> bool:
    """True for our temporary files (``.NAME.XXXXXXXX.part``), of one of ``names`` when given."""
    m = _PART_RE.match(Path(path).name)
    return bool(m) and (names is None or m.group("name") in set(names))


def remove_stale_parts(folder: Path, names: Iterable[str] | None = None) -> list[Path]:
    """Delete leftover temporary files of our own naming in ``folder`` (of ``names`` only, if given).

    A killed run (kill -9, power cut) leaves them; the next run over the same outputs removes them.
    Returns what was removed. Unreadable folders and files are left alone.
    """
    folder = Path(folder)
    wanted = set(names) if names is not None else None
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = _PART_RE.match(entry.name)
        if not m or (wanted is not None and m.group("name") not in wanted):
            continue
        try:
            if entry.is_file() and not entry.is_symlink():
                entry.unlink()
                removed.append(entry)
        except OSError:
            pass
    return removed


def check_output_folder(folder: Path | str) -> Path:
    """Make sure ``folder`` exists (created if missing) and accepts files, before any work starts.

    Raises:
        WriteError: it is a file (``-o /dev/null``), cannot be created, or is read-only.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise WriteError(f"the output '{folder}' is a file, not a folder; choose a folder", errno.ENOTDIR)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot create the output folder '{folder}': {_reason(exc)}", exc.errno) from exc
    check_writable(folder)
    return folder


def check_writable(folder: Path) -> None:
    """Raise WriteError unless a file can be created in the existing ``folder``."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".magicbrush-check.", suffix=PART_SUFFIX, dir=folder)
    except OSError as exc:
        raise WriteError(f"cannot write in '{folder}': {_reason(exc)}", exc.errno) from exc
    os.close(fd)
    Path(tmp).unlink(missing_ok=True)


def check_output_file(path: Path | str, inputs: Iterable[Path | str] = (), *, overwrite: bool = False) -> Path:
    """Refuse an output file that is one of the ``inputs``, exists (unless ``overwrite``), is not a
    regular file, or whose folder cannot be written. Checked before any work starts.

    Raises:
        MagicBrushError: the output is an input (never allowed).
        OutputExists: it exists and ``overwrite`` is False.
        WriteError: a folder or device is in the way, or the folder is missing or read-only.
    """
    path = Path(path)
    for item in inputs:
        if same_file(path, Path(item)):
            raise MagicBrushError(f"the output '{path}' is one of the inputs ({item}); it is never written over")
    if path.exists() and not path.is_file():
        raise WriteError(f"the output '{path}' is a folder or a device, not a file", errno.EISDIR)
    if os.path.lexists(path) and not overwrite:
        raise OutputExists(path)
    if not path.parent.is_dir():
        raise WriteError(f"the output folder does not exist: {path.parent}", errno.ENOENT)
    check_writable(path.parent)
    return path


def same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` name the same file (also through links)."""
    try:
        if a.resolve() == b.resolve():
            return True
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False
