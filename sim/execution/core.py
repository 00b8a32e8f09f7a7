"""``execute``: run tasks on a backend and get one record per task, failures included."""
from __future__ import annotations

from typing import Callable, Iterable, Iterator, Optional

from .backends import Backend, InProcess, LocalPool, cpu_count
from .tasks import RunRecord, RunTask

__all__ = ["execute", "iter_execute", "iter_execute_batches", "backend_for", "RecordFn"]

RecordFn = Callable[[RunRecord], None]


def backend_for(workers: Optional[int] = None, scheduler: Optional[str] = None,
                worker_wait: float = 60.0) -> Backend:
    """The backend for a command's ``--workers`` / ``--scheduler`` / ``--worker-wait``.

    ``scheduler`` (a Dask address, ``tcp://host:port``) wins over ``workers``;
    ``workers=None`` means every core of this machine; 1 runs in this process
    (no pickling; what tests and debuggers want).  Connecting to a scheduler
    fails in seconds with one line (:class:`~sim.execution.BackendError`).
    Close the backend (or use it as a context manager) to release workers.
    """
    if scheduler:
        from .dask import DaskBackend

        return DaskBackend(scheduler, worker_wait=worker_wait)
    n = cpu_count() if workers is None else int(workers)
    if n < 1:
        raise ValueError(f"workers: must be >= 1, got {workers}")
    return InProcess() if n == 1 else LocalPool(n)


def iter_execute(tasks: Iterable[RunTask], backend: Optional[Backend] = None, *,
                 timeout: Optional[float] = None, on_record: Optional[RecordFn] = None,
                 batch_size: Optional[int] = None, expected: Optional[int] = None
                 ) -> Iterator[RunRecord]:
    """Run ``tasks`` lazily; yield each record as it completes (completion order).

    ``tasks`` may be a generator: only a bounded window is taken from it at a
    time.  ``timeout``: seconds each task may take; a task past it is stopped
    and recorded with ``status == "timeout"``.  ``backend=None`` runs in this
    process when there is a single task, else on a local pool of every core
    (closed when the iteration ends).  A task's failure never raises here: it
    is in its record; ``KeyboardInterrupt`` does propagate.  ``batch_size``:
    tasks per worker round trip (default: adaptive, about a quarter second of
    work per batch); ``expected``: how many tasks a generator will give (sizes
    batches so that every worker still gets several).
    """
    for records in iter_execute_batches(tasks, backend, timeout=timeout, batch_size=batch_size,
                                        expected=expected):
        for record in records:
            if on_record is not None:
                on_record(record)
            yield record


def iter_execute_batches(tasks: Iterable[RunTask], backend: Optional[Backend] = None, *,
                         timeout: Optional[float] = None, batch_size: Optional[int] = None,
                         expected: Optional[int] = None) -> Iterator[list[RunRecord]]:
    """:func:`iter_execute`, one list per delivery: the records that came back together.

    What a caller that writes results wants (the sweep writes a delivery's runs of one
    (point, policy) as one file); every task is in exactly one list.
    """
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout: must be > 0 seconds, got {timeout}")
    own = backend is None
    if own:
        tasks = list(tasks)
        backend = InProcess() if len(tasks) <= 1 else backend_for()
    try:
        yield from backend.run_batches(tasks, timeout=timeout, batch_size=batch_size,
                                       expected=expected)
    finally:
        if own:
            backend.close()


def execute(tasks: Iterable[RunTask], backend: Optional[Backend] = None, *,
            timeout: Optional[float] = None, on_record: Optional[RecordFn] = None,
            batch_size: Optional[int] = None) -> list[RunRecord]:
    """Run every task; return their records **in the order of** ``tasks``.

    ``on_record`` is called with each record as it completes (progress bars,
    writing results as they come).  See :func:`iter_execute` for the rest.
    """
    tasks = list(tasks)
    by_key: dict = {}
    for i, t in enumerate(tasks):
        by_key.setdefault(t.key, []).append(i)
    out: list[Optional[RunRecord]] = [None] * len(tasks)
    for record in iter_execute(tasks, backend, timeout=timeout, on_record=on_record,
                               batch_size=batch_size):
        slots = by_key.get(record.key) or []
        slot = next((i for i in slots if out[i] is None), None)
        if slot is None:  # pragma: no cover - a backend answered a task twice
            raise AssertionError(f"a backend returned a record for {record.key!r} twice")
        out[slot] = record
    missing = [tasks[i].key for i, r in enumerate(out) if r is None]
    if missing:  # pragma: no cover - a backend dropped a task
        raise AssertionError(f"no record for {missing[:5]}")
    return out  # type: ignore[return-value]
