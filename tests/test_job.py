"""The GUI's one job adapter (``gui.worker.Job``): signal order, cancel, failure, cancel before start.

Recorders are connected with ``DirectConnection``, so they run on the worker thread in the exact order
the job emits; each test waits for the thread to end before it reads them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import Qt

from magicbrush_desktop.core.errors import MagicBrushError
from magicbrush_desktop.core.events import FileDone, Finished, Metrics, Preview, Progress
from magicbrush_desktop.gui.worker import CANCELLED, FAILED, FINISHED, Job, readable_error

SIGNALS = ("progress", "preview", "metrics", "file_done", "finished_event", "failed", "ended")


def record(job: Job) -> list[tuple[str, object]]:
    """Every signal ``job`` emits, as (signal name, payload), in emission order."""
    seen: list[tuple[str, object]] = []
    for name in SIGNALS:
        getattr(job, name).connect(lambda payload, name=name: seen.append((name, payload)),
                                   Qt.ConnectionType.DirectConnection)
    return seen


def run_to_end(qtbot, job: Job, timeout: int = 10_000) -> None:
    """Start ``job`` and return once its thread has finished (a QThread must not die running)."""
    with qtbot.waitSignal(job.ended, timeout=timeout):
        job.start()
    assert job.wait(timeout)


def test_events_become_signals_in_order_and_ended_comes_last(qtbot, tmp_path):
    picture = np.zeros((4, 5, 3), np.uint8)
    events = [Progress(0, 2, "starting"), Preview(picture, step=1), Metrics(1, {"loss": 0.5}),
              FileDone(tmp_path / "a.png", output=tmp_path / "out.png"), Progress(2, 2),
              Finished(result="done", summary={"files": 1})]

    def factory() -> Iterator[object]:
        yield from events

    job = Job(factory, name="order")
    seen = record(job)
    run_to_end(qtbot, job)

    assert [name for name, _ in seen] == ["progress", "preview", "metrics", "file_done", "progress",
                                          "finished_event", "ended"]
    # Each signal carries the very event the generator yielded, and ended says how the job went.
    assert [payload for _, payload in seen[:-1]] == events
    assert seen[-1] == ("ended", FINISHED)
    assert job.outcome == FINISHED
    assert job.result is events[-1]
    assert job.error is None


def test_the_factory_runs_on_the_worker_thread(qtbot):
    # Expensive set-up (loading a model) lives in the factory: it must never block the UI thread.
    threads: list[threading.Thread] = []

    def factory() -> Iterator[object]:
        threads.append(threading.current_thread())
        yield Finished()

    job = Job(factory)
    run_to_end(qtbot, job)
    assert threads and threads[0] is not threading.main_thread()
    assert job.outcome == FINISHED


def test_cancel_closes_the_generator_at_its_yield_and_its_finally_runs(qtbot):
    trace: list[str] = []

    def factory() -> Iterator[object]:
        try:
            yield Progress(0, 100, "first step")
            trace.append("second step ran")  # a cancel taken at once never gets here
            for i in range(1, 100):
                yield Progress(i, 100)
            yield Finished()
        except GeneratorExit:
            trace.append("closed at yield")
            raise
        finally:
            trace.append("finally")

    job = Job(factory, name="cancel")
    seen = record(job)
    # Cancel from the first progress signal, on the worker thread, before the job checks its flag.
    job.progress.connect(lambda _event: job.cancel(), Qt.ConnectionType.DirectConnection)
    run_to_end(qtbot, job)

    assert trace == ["closed at yield", "finally"]
    assert [name for name, _ in seen] == ["progress", "ended"]
    assert seen[-1] == ("ended", CANCELLED)
    assert job.outcome == CANCELLED
    assert job.result is None and job.error is None


def test_cancel_from_the_ui_thread_stops_a_running_job(qtbot):
    # The real app cancels from a button: the flag is set on another thread while the job loops.
    started = threading.Event()
    cleaned_up = threading.Event()

    def factory() -> Iterator[object]:
        try:
            i = 0
            while True:  # only a cancel ends it
                started.set()
                yield Progress(i, 0)
                i += 1
                threading.Event().wait(0.002)
        finally:
            cleaned_up.set()

    job = Job(factory, name="endless")
    seen = record(job)
    with qtbot.waitSignal(job.ended, timeout=10_000) as blocker:
        job.start()
        assert started.wait(10)
        job.cancel()
    assert job.wait(10_000)

    assert blocker.args == [CANCELLED]
    assert cleaned_up.is_set()
    assert seen[-1] == ("ended", CANCELLED)
    assert {name for name, _ in seen[:-1]} == {"progress"}


def test_an_exception_becomes_a_readable_failed_signal_then_ended_failed(qtbot):
    cleaned_up: list[bool] = []

    def factory() -> Iterator[object]:
        try:
            yield Progress(0, 3)
            raise ValueError("the tensor had the wrong shape")
        finally:
            cleaned_up.append(True)

    job = Job(factory, name="boom")
    seen = record(job)
    run_to_end(qtbot, job)

    message = "Something went wrong: the tensor had the wrong shape"
    assert seen == [("progress", Progress(0, 3)), ("failed", message), ("ended", FAILED)]
    assert job.outcome == FAILED
    assert job.error == message
    assert cleaned_up == [True]


def test_a_core_error_keeps_its_own_words(qtbot):
    def factory() -> Iterator[object]:
        raise MagicBrushError("'old.jpg' is not a photo")
        yield  # never reached: it makes this a generator, so the error comes from iterating it

    job = Job(factory)
    seen = record(job)
    run_to_end(qtbot, job)
    assert seen == [("failed", "'old.jpg' is not a photo"), ("ended", FAILED)]


def test_a_failing_factory_fails_the_job(qtbot):
    # Set-up errors (a missing model) are raised by the factory itself, before any generator exists.
    def factory() -> Iterator[object]:
        raise MagicBrushError("no model named 'family'")

    job = Job(factory)
    seen = record(job)
    run_to_end(qtbot, job)
    assert seen == [("failed", "no model named 'family'"), ("ended", FAILED)]
    assert job.outcome == FAILED


def test_a_failing_clean_up_after_cancel_is_reported(qtbot):
    def factory() -> Iterator[object]:
        try:
            yield Progress(0, 2)
            yield Finished()
        finally:
            raise OSError("could not save last.pt")

    job = Job(factory)
    seen = record(job)
    job.progress.connect(lambda _event: job.cancel(), Qt.ConnectionType.DirectConnection)
    run_to_end(qtbot, job)
    assert seen[-2:] == [("failed", "Something went wrong: could not save last.pt"), ("ended", FAILED)]
    assert job.outcome == FAILED


def test_a_job_cancelled_before_start_never_runs_its_factory(qtbot):
    calls: list[str] = []

    def factory() -> Iterator[object]:
        calls.append("factory")
        yield Finished()

    job = Job(factory, name="never")
    seen = record(job)
    job.cancel()
    run_to_end(qtbot, job)

    assert calls == []
    assert seen == [("ended", CANCELLED)]
    assert job.outcome == CANCELLED
    assert job.result is None


@pytest.mark.parametrize(("exc", "message"), [
    (MagicBrushError("disk full"), "disk full"),
    (MemoryError(), "Out of memory: try a smaller render or style size."),
    (RuntimeError("  "), "Something went wrong: RuntimeError"),
    (KeyError("x"), "Something went wrong: 'x'"),
])
def test_readable_error(exc: BaseException, message: str):
    assert readable_error(exc) == message

