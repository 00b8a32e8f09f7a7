"""Where tasks run: in this process, on a local process pool, or on a Dask cluster.

Every backend runs exactly the same function (:func:`~sim.execution.tasks.run_batch`)
on exactly the same inputs, so results do not depend on the backend or the
worker count.  A backend keeps only a bounded window of batches in flight (a
few per worker), so the caller's memory does not grow with the number of
tasks, and yields each record as soon as its batch is back.

Workers import the simulator once (pool workers are forked from the
coordinator, which has it imported already; Dask workers import it on their
first task) and then take *batches* of tasks, so the fixed cost per task is
one function call, not one inter-process round trip.
"""
from __future__ import annotations

import itertools
import math
import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Iterable, Iterator, Optional

from .tasks import RunRecord, RunTask, run_batch, run_batch_remote

__all__ = ["Backend", "InProcess", "LocalPool", "cpu_count", "batches", "lost"]

#: a batch holds at most this many tasks (bounded memory per round trip and fair progress)
MAX_BATCH = 64
#: and is sized to take about this long (seconds), when the tasks' cost is known
TARGET_BATCH_SECONDS = 0.25


def cpu_count() -> int:
    """Cores this process may use (the affinity mask, not the machine's count, where known)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def batches(tasks: Iterable[RunTask], size: int) -> Iterator[list[RunTask]]:
    batch: list[RunTask] = []
    for task in tasks:
        batch.append(task)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Batcher:
    """Batches sized to take about :data:`TARGET_BATCH_SECONDS` each, learned as records come back.

    Short runs travel many to a batch (one round trip, one measurement of the
    same-scenario runs); long runs one or two at a time (a killed run loses
    little, progress stays live).  ``fixed`` forces a size; ``cap`` bounds it
    (a few batches per worker remain for load balance at the end).
    """

    def __init__(self, tasks: Iterable[RunTask], fixed: Optional[int] = None,
                 cap: int = MAX_BATCH, start: int = 2) -> None:
        self._it = iter(tasks)
        self.fixed = fixed
        self.cap = max(1, min(cap, MAX_BATCH))
        self.start = start
        self._per_task: Optional[float] = None

    def next(self) -> Optional[list[RunTask]]:
        batch = list(itertools.islice(self._it, self.size()))
        return batch or None

    def size(self) -> int:
        if self.fixed:
            return self.fixed
        if self._per_task is None:
            return min(self.start, self.cap)
        return max(1, min(self.cap, int(TARGET_BATCH_SECONDS / max(self._per_task, 1e-4))))

    def observe(self, records: list[RunRecord]) -> None:
        secs = [r.seconds for r in records if r.status != "not_run"]
        if secs:
            mean = sum(secs) / len(secs)
            self._per_task = mean if self._per_task is None else 0.7 * self._per_task + 0.3 * mean

    def __iter__(self) -> Iterator[list[RunTask]]:
        while True:
            batch = self.next()
            if batch is None:
                return
            yield batch


def cap_for(n_tasks: Optional[int], workers: int) -> int:
    """The largest batch that still leaves about eight batches per worker (load balance)."""
    if not n_tasks:
        return MAX_BATCH
    return max(1, min(MAX_BATCH, math.ceil(n_tasks / (8 * workers))))


def lost(batch: list[RunTask], exc: BaseException | str, status: str = "failed") -> list[RunRecord]:
    """Records for tasks whose worker never answered (died, was killed, or the backend stopped)."""
    if isinstance(exc, BaseException):
        msg = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        text = f"task lost: {msg}"
    else:
        text = exc
    return [RunRecord(key=t.key, error=text, status=status) for t in batch]


class Backend:
    """Runs batches of tasks; ``run`` yields one record per task, in completion order.

    To write a backend, implement :meth:`run_batches` (yield the records of each
    round trip as one list, as soon as it is back); :meth:`run` flattens it.
    """

    workers: int = 1
    name: str = "backend"

    def run(self, tasks: Iterable[RunTask], timeout: Optional[float] = None,
            batch_size: Optional[int] = None, expected: Optional[int] = None) -> Iterator[RunRecord]:
        """``batch_size``: tasks per batch (None: adaptive, see :class:`Batcher`);
        ``expected``: how many tasks ``tasks`` holds, if it is a generator (sizes batches)."""
        for records in self.run_batches(tasks, timeout, batch_size, expected):
            yield from records

    def run_batches(self, tasks: Iterable[RunTask], timeout: Optional[float] = None,
                    batch_size: Optional[int] = None, expected: Optional[int] = None
                    ) -> Iterator[list[RunRecord]]:
        """The records of each delivery (a batch back from a worker, or the batch's lost
        records) as one list, in completion order; every task in exactly one list."""
        raise NotImplementedError

    def close(self) -> None:
        """Release workers or connections (a closed backend may be used again: it reopens)."""

    def describe(self) -> str:
        return self.name

    def __enter__(self) -> "Backend":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class InProcess(Backend):
    """One worker: this process, this thread (nothing is pickled; exceptions keep their type)."""

    name = "in-process"

    def run_batches(self, tasks, timeout=None, batch_size=None, expected=None):
        # batches here only to measure same-scenario runs together (see run_batch)
        batcher = Batcher(tasks, batch_size)
        for batch in batcher:
            records = run_batch(batch, timeout)
            batcher.observe(records)
            yield records

    def describe(self) -> str:
        return "1 worker (in this process)"


def _worker_init() -> None:
    """Die with the coordinator (Linux): a killed run leaves no orphan workers computing."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)      # PR_SET_PDEATHSIG
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the coordinator's to handle
    except Exception:  # noqa: BLE001 - best effort on other systems
        pass
    import tracemalloc

    if tracemalloc.is_tracing():      # inherited through fork from a profiled coordinator: not ours
        tracemalloc.stop()
    import gc

    # everything inherited (the simulator, pandas, numpy: ~90,000 objects) lives as long as the
    # worker: keep the cyclic collector from ever traversing it again (a full collection of
    # it costs ~10 ms or more) and from touching, hence copying, the pages shared with the parent
    gc.freeze()


def _warm() -> None:
    """Import what a task needs *before* forking, so every worker starts with it imported
    (shared copy-on-write, instead of each worker paying ~1 s of CPU on its first task)."""
    from .tasks import warm

    warm()


def auto_batch_size(n_tasks: Optional[int], workers: int) -> int:
    """A fixed batch size for ``n_tasks`` on ``workers`` (callers that want one; default adaptive)."""
    return cap_for(n_tasks, workers)


class LocalPool(Backend):
    """``workers`` forked processes (default: every core), kept until :meth:`close`.

    A worker that dies (killed, out of memory) costs only the tasks of its
    batch, recorded as lost; the pool is rebuilt and the rest go on.  With a
    ``timeout`` a batch that has not answered long after its tasks' deadlines
    (code stuck in C ignores the in-worker deadline) is given up and its worker
    replaced, so nothing waits forever.
    """

    name = "process pool"
    #: extra seconds a batch may take beyond its tasks' deadlines before its worker is replaced
    GRACE = 10.0

    def __init__(self, workers: Optional[int] = None) -> None:
        self.workers = max(1, int(workers)) if workers else cpu_count()
        self._pool: Optional[ProcessPoolExecutor] = None

    def describe(self) -> str:
        return f"{self.workers} local worker process(es)"

    def _ensure(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            _warm()

            ctx = (multiprocessing.get_context("fork")
                   if "fork" in multiprocessing.get_all_start_methods() else None)
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                             initializer=_worker_init)
        return self._pool

    def _reset(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            procs = list(getattr(pool, "_processes", {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:          # a worker stuck in a hook must not outlive its pool
                try:
                    p.kill()
                except Exception:  # noqa: BLE001 - already gone
                    pass

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def run_batches(self, tasks, timeout=None, batch_size=None, expected=None):
        try:
            yield from self._run(tasks, timeout, batch_size, expected)
        except BaseException:
            # Ctrl-C, or the caller stopped iterating (GeneratorExit): what is in flight is
            # unwanted, and workers ignore SIGINT, so stop them now instead of waiting for them
            self._reset()
            raise

    def _run(self, tasks, timeout, batch_size, expected):
        todo = Batcher(tasks, batch_size, cap_for(expected or _len(tasks), self.workers))
        retry: list[list[RunTask]] = []      # batches a replaced pool never started
        window = 2 * self.workers
        inflight: dict[Future, list[RunTask]] = {}
        exhausted = False
        progress = time.monotonic()          # when a batch last came back
        while True:
            while len(inflight) < window and (retry or not exhausted):
                batch = retry.pop() if retry else todo.next()
                if batch is None:
                    exhausted = True
                    break
                inflight[self._ensure().submit(run_batch_remote, batch, timeout)] = batch
            if not inflight:
                return
            # every running batch started at or before the last completion, and each of its
            # tasks stops itself after ``timeout``: no answer for longer means a stuck worker
            allowance = (max(len(b) for b in inflight.values()) * timeout + self.GRACE
                         if timeout else None)
            limit = None if allowance is None else max(0.05, progress + allowance - time.monotonic())
            finished, _ = wait(inflight, timeout=limit, return_when=FIRST_COMPLETED)
            broken = False
            for fut in finished:
                batch = inflight.pop(fut)
                progress = time.monotonic()
                try:
                    records = fut.result()
                    todo.observe(records)
                except BrokenProcessPool as exc:
                    records, broken = lost(batch, exc), True
                except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable task or result
                    records = lost(batch, exc)
                yield records
            stuck = not finished and allowance is not None
            if broken or stuck:
                # a worker died or hangs: batches it may have been running are lost (unless they
                # finished meanwhile); batches still queued are run again on a fresh pool
                for fut, batch in list(inflight.items()):
                    if fut.done() and not fut.cancelled():
                        try:
                            records = fut.result()
                        except Exception as exc:  # noqa: BLE001 - BrokenProcessPool
                            records = lost(batch, exc)
                    elif fut.running() or not fut.cancel():
                        records = (lost(batch, f"TaskTimeout: no answer within {allowance:g} s "
                                                "(stuck outside Python?); its worker was replaced",
                                        "timeout") if stuck else lost(batch, "task lost: a worker died"))
                    else:
                        retry.append(batch)
                        continue
                    yield records
                inflight.clear()
                self._reset()
                progress = time.monotonic()


def _len(tasks) -> Optional[int]:
    try:
        return len(tasks)
    except TypeError:
        return None
