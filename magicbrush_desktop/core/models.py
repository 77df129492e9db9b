"""Finding colorizer models: by explicit path, then ``MAGICBRUSH_MODELS``, then the user's models folder,
then the models shipped with the app (``models/manifest.json`` lists those, with sha256 checksums).

The shipped models' names are reserved: a file of such a name elsewhere never hides the shipped,
checksummed model (``models verify`` names it), and ``install`` refuses them. Installing over a user
model of the same name needs ``force``; an installed model is first checked to build and run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ModelError
from .files import safe_stem
from .paths import bundled_models_dir, user_models_dir

MODEL_SUFFIX = ".pt"
MANIFEST = "manifest.json"
# The terms of a model a user trained (recorded in its sidecar).
TRAINED_LICENCE = "yours: trained on your own photos (a pretrained encoder's ImageNet terms may apply)"
# Validation figures shown for a model: the run's figures at the model's own chroma gain (what users get).
_SHOWN_FIGURES = ("psnr", "ssim", "colourfulness", "colourfulness_real", "false_colour", "score")


@dataclass
class ModelInfo:
    """A model the app can offer. ``origin``: "env" (MAGICBRUSH_MODELS), "user" or "bundled"."""

    name: str
    path: Path
    origin: str
    description: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    sha256: str | None = None
    licence: str = ""  # the terms of use (the manifest's "licence"), shown in the picker and About


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(folder: Path | None = None) -> dict[str, Any]:
    """The shipped models' manifest ({"default": name, "models": [...]}) or an empty one."""
    path = (folder or bundled_models_dir()) / MANIFEST
    if not path.is_file():
        return {"default": None, "models": []}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"the shipped model list is damaged: {path}: {exc}") from exc


def _env_dirs() -> list[Path]:
    value = os.environ.get("MAGICBRUSH_MODELS", "")
    return [Path(p) for p in value.split(os.pathsep) if p]


def shipped_names() -> set[str]:
    """Names of the models shipped with the app (reserved)."""
    return {entry["name"] for entry in read_manifest().get("models", []) if "name" in entry}


def model_sidecar_path(model_path: Path) -> Path:
    """``NAME.json`` beside ``NAME.pt``: an installed model's description, licence and figures."""
    return Path(model_path).with_suffix(".json")


def read_model_sidecar(model_path: Path) -> dict[str, Any]:
    """The sidecar's {"description", "licence", "metrics"}, or {} when there is none or it is unreadable."""
    try:
        data = json.loads(model_sidecar_path(model_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_model_sidecar(model_path: Path, metrics: dict[str, Any], description: str = "",
                        licence: str = TRAINED_LICENCE) -> Path:
    """Record a model's validation figures next to it (numbers and short texts only), atomically, so the
    model picker and ``models list`` show them without loading the checkpoint (and without torch)."""
    keep = {k: v for k, v in (metrics or {}).items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)}
    path = model_sidecar_path(model_path)
    text = json.dumps({"description": description, "licence": licence, "metrics": keep}, indent=1)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def shown_figures(metrics: dict[str, Any]) -> dict[str, Any]:
    """A training run's best-epoch metrics as a model shows them: the figures at the run's fitted chroma
    gain (``psnr_calibrated`` ...) where it has them, since the model applies that gain, plus the epoch."""
    shown = {k: metrics[f"{k}_calibrated"] if f"{k}_calibrated" in metrics else metrics[k]
             for k in _SHOWN_FIGURES if k in metrics or f"{k}_calibrated" in metrics}
    for key in ("epoch", "chroma_gain"):
        if key in metrics:
            shown[key] = metrics[key]
    return shown


def figures_text(metrics: dict[str, Any]) -> str:
    """ "PSNR 22.76 dB · SSIM 0.933 · colourfulness 29.8 · false colour 13.1 %, on BSDS500 test (200 photos)"
    or a plain no: what ``models list``, the model picker and About say about a model's figures.

    ``false_colour`` is a share 0..1 (:func:`.metrics.false_colour`), shown in per cent.
    """
    def number(key: str) -> float | None:
        value = metrics.get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    parts = []
    for key, fmt in (("psnr", "PSNR {:.2f} dB"), ("ssim", "SSIM {:.3f}"), ("colourfulness", "colourfulness {:.1f}")):
        if (value := number(key)) is not None:
            parts.append(fmt.format(value))
    if (share := number("false_colour")) is not None:
        parts.append(f"false colour {100 * share:.1f} %")
    if not parts:
        return "no figures recorded"
    text = " \u00b7 ".join(parts)
    # Where they were measured: a named photo set (shipped models), or a training run's validation photos.
    where = metrics.get("set") or (f"the validation photos after epoch {int(metrics['epoch'])}"
                                   if "epoch" in metrics else "")
    return f"{text}, on {where}" if where else text


def _found_files() -> list[ModelInfo]:
    found: list[ModelInfo] = []
    for origin, folders in (("env", _env_dirs()), ("user", [user_models_dir()])):
        for folder in folders:
            try:
                if not folder.is_dir():
                    continue
                for p in sorted(folder.glob(f"*{MODEL_SUFFIX}")):
                    extra = read_model_sidecar(p)
                    metrics = extra.get("metrics")
                    found.append(ModelInfo(p.stem, p, origin, str(extra.get("description", "")),
                                           metrics if isinstance(metrics, dict) else {},
                                           licence=str(extra.get("licence", ""))))
            except OSError:  # an unreadable folder offers no models; it is not an error
                continue
    return found


def shadowing_files() -> list[ModelInfo]:
    """Files in $MAGICBRUSH_MODELS or the user folder named like a shipped model (they are ignored)."""
    reserved = shipped_names()
    return [m for m in _found_files() if m.name in reserved]


def list_models() -> list[ModelInfo]:
    """Every model found, in lookup order (a name found earlier hides the same name later), except that
    a shipped model's name is reserved: files of that name elsewhere are ignored."""
    found: dict[str, ModelInfo] = {}
    reserved = shipped_names()
    for info in _found_files():
        if info.name not in reserved:
            found.setdefault(info.name, info)
    manifest = read_manifest()
    for entry in manifest.get("models", []):
        path = bundled_models_dir() / entry["file"]
        if path.is_file():
            found.setdefault(entry["name"], ModelInfo(
                entry["name"], path, "bundled", entry.get("description", ""), entry.get("metrics", {}),
                entry.get("sha256"), entry.get("licence", "")))
    return list(found.values())


def default_model_name() -> str | None:
    return read_manifest().get("default")


def resolve_model(model: str | Path | None = None) -> Path:
    """Path of a model given by path or name; None = the shipped default.

    Raises:
        ModelError: nothing by that name or path; a shipped file whose checksum does not match.
    """
    if model is None:
        model = default_model_name()
        if model is None:
            raise ModelError("no default model is installed (models/manifest.json is missing)")
    text = str(model)
    as_path = Path(text).expanduser()
    if as_path.suffix == MODEL_SUFFIX or os.sep in text or (os.altsep and os.altsep in text):
        if as_path.is_file():
            return as_path
        raise ModelError(f"model file not found: {as_path}")
    for info in list_models():
        if info.name == text:
            if info.origin == "bundled" and info.sha256 and sha256_of(info.path) != info.sha256:
                raise ModelError(f"the shipped model '{text}' is damaged (checksum mismatch); reinstall")
            return info.path
    names = ", ".join(m.name for m in list_models()) or "none"
    raise ModelError(f"no model named '{text}' (available: {names})")


def safe_model_name(name: str) -> str:
    """The file stem a model installed as ``name`` gets (:func:`.files.safe_stem`); a name with nothing
    usable in it is refused."""
    safe = safe_stem(name)
    if not safe:
        raise ModelError("a model needs a name made of letters, digits, '-' or '_'")
    return safe


def user_model_path(name: str) -> Path:
    """Where ``install_trained_model(..., name)`` puts a model (it may exist already)."""
    return user_models_dir() / f"{safe_model_name(name)}{MODEL_SUFFIX}"


def install_trained_model(checkpoint_path: Path, name: str, *, force: bool = False, description: str = "") -> Path:
    """Copy a finished training's checkpoint into the user's models folder under ``name``, with a sidecar
    (``NAME.json``) of its validation figures and ``description`` (default: what it was trained on).

    The file is checked first: a readable Magic Brush colorizer whose architecture builds and runs on a
    tiny input. The copy is atomic (a hidden ``.NAME.pt.XXXXXXXX.part``, removed on any failure).

    Raises:
        ModelError: a shipped model's name (reserved), a user model of that name exists and ``force``
            is False, the file is not a working colorizer, or the user folder cannot be written (no or
            read-only home folder, full disk), with the reason.
    """
    from .checkpoint import load_checkpoint, validate_model
    from .files import remove_stale_parts, write_error

    safe = safe_model_name(name)
    if safe in shipped_names():
        raise ModelError(f"'{safe}' is the name of a model shipped with Magic Brush; choose another name")
    source = Path(checkpoint_path)
    ckpt = load_checkpoint(source)
    validate_model(ckpt, source.name)
    folder = user_models_dir()
    target = folder / f"{safe}{MODEL_SUFFIX}"
    if target.exists() and not force:
        raise ModelError(f"a model named '{safe}' is already installed ({target}); use --force to replace it")
    try:
        if target.exists() and os.path.samefile(source, target):
            return target
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot install into your models folder: {write_error(exc, folder)}") from exc
    remove_stale_parts(folder, {target.name, model_sidecar_path(target).name})
    tmp: Path | None = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
        tmp = Path(tmp_name)
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise ModelError(f"cannot install the model: {write_error(exc, target)}") from exc
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise
    metrics = dict(ckpt.get("metrics") or {})
    if "epoch" not in metrics and isinstance(ckpt.get("epoch"), int):
        metrics["epoch"] = ckpt["epoch"]
    try:
        write_model_sidecar(target, shown_figures(metrics), description or _trained_on(ckpt))
    except OSError:
        pass  # the model works without its figures; the picker then says none were recorded
    return target


def _trained_on(ckpt: dict[str, Any]) -> str:
    """ "Trained by you on family, 4 epoch(s) at 128 px" from a checkpoint's training config."""
    config = ckpt.get("config") if isinstance(ckpt.get("config"), dict) else {}
    folder = Path(str(config.get("data_dir", ""))).name or "your photos"
    parts = [f"Trained by you on {folder}"]
    if isinstance(config.get("epochs"), int):
        parts.append(f"{config['epochs']} epoch(s)")
    if isinstance(config.get("image_size"), int):
        parts[-1] += f" at {config['image_size']} px"
    return ", ".join(parts)
