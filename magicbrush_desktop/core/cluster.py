"""Batch colorize on a Ray cluster (``magicbrush colorize ... --engine ray``).

Ray Data holds the batch's file list; an actor pool (``map_batches`` with a callable class) keeps one
loaded colorizer per worker. Each worker reads its photo, colours it exactly as the local engine does
(hints included) and encodes the output file's bytes with :func:`.imageio.encode_photo`; the driver, the
machine that owns the output folder, writes them with :func:`.batch.write_output`, the local engine's own
naming, overwrite policy and atomic write. So the outputs are the local engine's, byte for byte when the
network computes the same numbers.

Sources must be readable at the same path on every node (a shared file system); the output folder is only
ever written by the driver. Ray is optional (``pip install 'magicbrush-desktop[cluster]'``): this module
imports it only when a batch runs, and says how to install it when it is missing.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .batch import BatchItem, remove_stale_parts_for, write_output
from .errors import MagicBrushError, WriteError
from .events import FileDone, Finished, Progress
from .provenance import Provenance

RAY_MISSING = ("--engine ray needs Ray, an optional extra: pip install 'magicbrush-desktop[cluster]' "
               "(or: pip install 'ray[data]>=2.9')")
# A local Ray instance (no --address) starts with this small object store: results are encoded files.
LOCAL_OBJECT_STORE_BYTES = 256 * 1024 * 1024
# Photos per Ray Data block: small enough to spread a batch over the workers and to report progress often.
_PHOTOS_PER_BLOCK = 8


def import_ray():  # noqa: ANN201 - the ray module
    """Ray, or a :class:`MagicBrushError` saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise MagicBrushError(RAY_MISSING) from exc
    return ray


@dataclass(frozen=True)
class ColorizeSettings:
    """What every worker needs to colour a photo the way the local engine would."""

    model_file: str  # the model's file name (its stem is the model name recorded in provenance)
    device: str = "cpu"
    render_size: int | None = None
    strength: float = 1.0
    fmt: str | None = None
    quality: int = 95
    hints_file: str | None = None
    use_sidecar: bool = True
    provenance: Provenance | None = None
    threads: int = 1


def colorize_file(colorizer, settings: ColorizeSettings, source: Path, output: Path  # noqa: ANN001
                  ) -> tuple[bytes | None, str | None, str | None]:
    """One photo as :func:`.batch.run_batch` does it: (file bytes or None, error or None, message or None).

    Errors are worded as the local engine words them; never raises for a bad photo.
    """
    from .hints import hints_for_photo
    from .imageio import encode_photo, format_from_path, read_photo
    from .pipeline import colorize_job, run_to_end

    message = None
    try:
        photo = read_photo(source)
        hints, message = hints_for_photo(photo, settings.hints_file, use_sidecar=settings.use_sidecar)
        # The same colorize pipeline as the desktop, the local batch and the CLI.
        rgb = run_to_end(colorize_job(photo, colorizer, render_size=settings.render_size,
                                      strength=settings.strength, hints=hints)).result.rgb
        data = encode_photo(rgb, settings.fmt or format_from_path(output), like=photo,
                            quality=settings.quality, provenance=settings.provenance)
    except MagicBrushError as exc:
        return None, str(exc), message
    except MemoryError:
        return None, "not enough memory for this photo", message
    except OSError as exc:
        return None, exc.strerror or str(exc), message
    return data, None, message


class ColorizeWorker:
    """The callable class of the actor pool: one loaded colorizer per worker."""

    def __init__(self, settings: ColorizeSettings, model_ref: list) -> None:
        import tempfile

        import ray
        import torch

        from .colorize import Colorizer

        torch.set_num_threads(max(1, int(settings.threads)))
        self.settings = settings
        # The model travels through Ray's object store, so nodes need no copy of it.
        self._folder = tempfile.TemporaryDirectory(prefix="magicbrush-model-")
        path = Path(self._folder.name) / settings.model_file
        path.write_bytes(ray.get(model_ref[0]))
        self.colorizer = Colorizer.load(path, settings.device)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        datas, errors, messages = [], [], []
        for source, output in zip(batch["source"], batch["output"]):
            data, error, message = colorize_file(self.colorizer, self.settings, Path(str(source)), Path(str(output)))
            datas.append(data or b"")
            errors.append(error or "")
            messages.append(message or "")
        return {"index": np.asarray(batch["index"], dtype=np.int64),
                "data": np.array(datas, dtype=object),
                "error": np.array(errors, dtype=object),
                "message": np.array(messages, dtype=object)}


def _start_ray(ray, address: str | None, cpus: int):  # noqa: ANN001, ANN202
    """Connect to ``address`` or start a small local instance; returns whether we must shut it down."""
    if ray.is_initialized():
        return False
    kwargs = dict(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False,
                  configure_logging=True)
    # ray.init installs its own SIGTERM handler in this process (exit at once) and keeps it after
    # shutdown; the batch's own handler (stop after the current photo, list what was written) must win.
    previous_term = signal.getsignal(signal.SIGTERM) if hasattr(signal, "SIGTERM") else None
    try:
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=cpus, object_store_memory=LOCAL_OBJECT_STORE_BYTES, **kwargs)
    except Exception as exc:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ...
        where = f"the Ray cluster at '{address}'" if address else "a local Ray instance"
        raise MagicBrushError(f"cannot start {where}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    finally:
        _restore_sigterm(previous_term)
    return True


def _restore_sigterm(handler) -> None:  # noqa: ANN001 - a signal handler or None
    if handler is None:
        return
    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: Ray could not have installed one either
        pass


def run_ray_batch(
    items: list[BatchItem],
    settings: ColorizeSettings,
    model_path: Path,
    *,
    address: str | None = None,
    workers: int | None = None,
    cpus_per_worker: int = 1,
    skip_existing: bool = False,
    overwrite: bool = False,
    tag: str = "colorized",
    on_message: Callable[[str], None] | None = None,
) -> Iterator[Progress | FileDone | Finished]:
    """Like :func:`.batch.run_batch`, with the photos coloured by a pool of Ray workers.

    Yields FileDone as results arrive (in any order), then Finished with the same summary. ``workers``
    defaults to the cluster's CPUs / ``cpus_per_worker`` (a local instance: this machine's CPUs).
    ``on_message`` gets per-photo messages (hint sidecars used or ignored). Closing the generator stops
    after the files written so far; a full disk stops the batch, listing what was not written.
    """
    if settings.quality < 1 or settings.quality > 100:
        raise MagicBrushError(f"quality must be between 1 and 100 (got {settings.quality})")
    if skip_existing and overwrite:
        raise MagicBrushError("skip photos already done or replace existing files: choose one")
    cpus_per_worker = max(1, int(cpus_per_worker))
    if workers is not None and workers < 1:
        raise MagicBrushError(f"--workers must be at least 1 (got {workers})")
    ray = import_ray()
    remove_stale_parts_for(items, tag)
    started = time.monotonic()
    done, skipped = 0, 0
    failed: list[tuple[str, str]] = []
    renamed: list[tuple[str, str]] = []
    stopped: str | None = None
    written: set[int] = set()
    todo: list[int] = []
    for index, item in enumerate(items):
        if skip_existing and item.output.exists():
            skipped += 1
            written.add(index)
            yield FileDone(item.source, item.output, skipped=True)
        else:
            todo.append(index)
    yield Progress(skipped, len(items), "starting Ray")
    if not todo:
        yield Progress(len(items), len(items), "finished")
        yield Finished(None, {"done": 0, "skipped": skipped, "failed": [], "renamed": [], "stopped": None,
                              "not_done": [], "seconds": time.monotonic() - started})
        return
    local_cpus = (workers or os.cpu_count() or 1) * cpus_per_worker
    ours = _start_ray(ray, address, local_cpus)
    try:
        if workers is None:
            cluster_cpus = int(ray.cluster_resources().get("CPU", 1))
            workers = max(1, cluster_cpus // cpus_per_worker)
        workers = min(workers, len(todo))
        from ray.data import DataContext

        context = DataContext.get_current()
        context.enable_progress_bars = False  # the caller shows one bar with ETA
        logging.getLogger("ray.data").setLevel(logging.ERROR)  # not "progress bars disabled"
        model_ref = ray.put(Path(model_path).read_bytes())
        rows = [{"index": i, "source": str(items[i].source), "output": str(items[i].output)} for i in todo]
        blocks = min(len(rows), max(workers * 4, -(-len(rows) // _PHOTOS_PER_BLOCK)))
        ds = ray.data.from_items(rows, override_num_blocks=blocks)
        ds = ds.map_batches(ColorizeWorker, batch_size=1, compute=ray.data.ActorPoolStrategy(size=workers),
                            num_cpus=cpus_per_worker,
                            num_gpus=1 if settings.device == "cuda" else None,
                            fn_constructor_kwargs={"settings": settings, "model_ref": [model_ref]})
        yield Progress(skipped, len(items), f"{workers} Ray worker(s)")
        count = skipped
        for row in ds.iter_rows():
            index = int(row["index"])
            item = items[index]
            count += 1
            if row["message"] and on_message is not None:
                on_message(f"{item.source.name}: {row['message']}")
            error = str(row["error"] or "")
            if not error:
                try:
                    target, note = write_output(item, bytes(row["data"]), overwrite=overwrite, tag=tag)
                except WriteError as exc:
                    failed.append((str(item.source), str(exc)))
                    written.add(index)
                    yield FileDone(item.source, error=str(exc))
                    if exc.disk_full:
                        stopped = "the disk is full"
                        break
                    continue
                except MagicBrushError as exc:
                    error = str(exc)
                else:
                    done += 1
                    written.add(index)
                    if note:
                        renamed.append((str(item.source), str(target)))
                    yield Progress(count, len(items), item.source.name)
                    yield FileDone(item.source, target, note=note)
                    continue
            failed.append((str(item.source), error))
            written.add(index)
            yield Progress(count, len(items), item.source.name)
            yield FileDone(item.source, error=error)
    finally:
        if ours:
            ray.shutdown()
    not_done = [str(items[i].source) for i in todo if i not in written] if stopped else []
    yield Progress(len(items), len(items), "stopped: " + stopped if stopped else "finished")
    yield Finished(None, {"done": done, "skipped": skipped, "failed": failed, "renamed": renamed,
                          "stopped": stopped, "not_done": not_done, "seconds": time.monotonic() - started})
