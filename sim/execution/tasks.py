"""One unit of work — a (scenario, policy, replication) run — and what comes back from it.

This module is what a process-pool or Dask worker imports, so it depends only
on the engine, the result frames and the metric functions.  The worker
computes; the coordinator writes files (so Dask workers need no shared disk).

Failures never escape a task: whatever the run raises (including a hook's
``SystemExit`` or a deadline passing) becomes the record's ``error`` and
``traceback``, so one bad run cannot take its worker, its batch or the
caller down.  ``KeyboardInterrupt`` is the only exception let through: it is
the user stopping everything.
"""
from __future__ import annotations

import contextlib
import gc
import pickle
import threading
import time
import traceback as tb
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterator, Optional

from .deadline import Deadline, TaskTimeout

__all__ = ["RunTask", "RunRecord", "run_task", "run_batch", "TaskTimeout"]


@dataclass(frozen=True)
class RunTask:
    """One run to do: ``policy`` on ``scenario``, replication ``replication`` with ``seed``.

    ``key`` is the caller's name for the task (any hashable; it comes back in
    the record).  Replication *r* with seed *s* sees the same customers under
    every policy (common random numbers), whatever backend runs it.
    ``policy_cls`` is sent along (by reference) so workers need not look the
    name up in their own registry.  ``tickets=True`` also returns the run's
    per-ticket table.

    Extras beyond the shared contract: ``trace`` records the activity trace,
    ``raw`` returns the engine's :class:`~sim.engine.RunResult` itself (what
    ``simulate`` assembles its tables from), ``measure=False`` skips the
    metric row when the caller computes it from the tables anyway, and
    ``pack_trace=False`` keeps the trace as the engine's list of tuples (the
    conformance kit reads it that way) instead of a compact ``TraceTable``;
    ``params`` (a validated ``PolicyParams``) replaces the scenario's parameters
    for the policy and ``engine_options`` are passed to the engine (the
    conformance kit runs with ``backlog_every=0``).
    """

    key: Hashable
    scenario: Any               # sim.scenario.Scenario (its seed is not used: ``seed`` is)
    policy: str
    replication: int
    seed: int
    policy_cls: Optional[type] = None
    tickets: bool = False
    trace: bool = False
    raw: bool = False
    measure: bool = True
    pack_trace: bool = True
    params: Any = None              # validated PolicyParams overriding the scenario's (the kit's)
    engine_options: Optional[dict[str, Any]] = None   # further Engine keywords, e.g. backlog_every


@dataclass
class RunRecord:
    """What one task gave: its metric row, or the error that stopped it.

    ``metrics``: exactly the per-replication metric row ``run`` computes for
    that scenario (``sim.analysis.replication_metrics(tickets, teams,
    scenario)``) on this run's tables, without the ``policy``/``replication``
    identity columns; ``{"tickets": 0}`` when nothing was measured.  (A metric
    present only because of other runs' tickets - interruptions under another
    policy - is in ``run``'s table of all runs, with 0, and not here.)  ``error`` is one line
    (``"Type: message"``); ``status`` says ``ok``, ``failed``, ``timeout``
    or ``not_run`` (the backend stopped before the task started, e.g. no live
    Dask worker: nothing about the task is known and it may simply be retried).
    """

    key: Hashable
    metrics: Optional[dict[str, float]] = None
    tickets: Any = None                  # pandas.DataFrame or None
    error: Optional[str] = None
    traceback: Optional[str] = None
    seconds: float = 0.0                 # wall time of the task in its worker
    cpu_seconds: float = 0.0             # CPU time of the task in its worker
    status: str = "ok"
    arrivals: int = 0                    # tickets created during the whole horizon
    run: Any = None                      # sim.engine.RunResult when the task asked for ``raw``
    stage: str = ""                      # where a failure happened: "setup" (the engine or the
                                         # policy's constructor), "run", or "output" (tables, metrics)
    #: the exception object, when it survived the trip back (for callers that need its type)
    exception: Optional[BaseException] = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.error is None


def run_task(task: RunTask, timeout: Optional[float] = None) -> RunRecord:
    """Run one task; every failure (and a passed ``timeout``, in seconds) becomes the record's error."""
    warm()      # imports once, never inside a task's deadline
    t0, c0 = time.perf_counter(), time.process_time()
    rec = RunRecord(key=task.key)
    _guarded(lambda: _compute(task, rec), rec, task, timeout)
    rec.seconds = time.perf_counter() - t0
    rec.cpu_seconds = time.process_time() - c0
    return rec


def _guarded(work: Callable[[], Any], rec: RunRecord, task: RunTask, timeout: Optional[float],
             what: str = "the run") -> Any:
    """``work()`` under the deadline; a failure is written into ``rec`` (returns None then)."""
    deadline = Deadline(timeout) if timeout else None
    out = None
    try:
        try:
            if deadline is not None:
                deadline.start()
            out = work()
        finally:
            if deadline is not None:
                deadline.stop()
    except KeyboardInterrupt:
        raise
    except TaskTimeout:
        _failed(rec, _timeout_error(what, timeout), "timeout")
    except BaseException as exc:  # noqa: BLE001 - recorded per task; the caller goes on
        _failed(rec, _as_policy_error(exc, task), "failed")
    if deadline is not None and deadline.fired and rec.status != "timeout":
        deadline.absorb()      # the alarm went off as the work ended: it still took too long
        _failed(rec, _timeout_error(what, timeout), "timeout")
    return None if rec.error is not None else out


def _timeout_error(what: str, timeout: Optional[float]) -> TaskTimeout:
    return TaskTimeout(f"{what} took longer than {timeout:g} s (--task-timeout); stopped")


#: a batch keeps at most about this many simulated tickets in memory before measuring them
HOLD_TICKETS = 200_000


def run_batch(tasks: list[RunTask], timeout: Optional[float] = None) -> list[RunRecord]:
    """Several tasks in one round trip (what a worker receives: cheap when runs are very short).

    Every run is measured on its own (a record never depends on how tasks were
    batched: a metric that depends on the tickets, like interruptions, is in a run's
    row when that run's tickets call for it), straight from its columns
    (:func:`fast_metric_rows`), without building pandas tables.
    """
    with _relaxed_gc():
        if len(tasks) <= 1 or sum(t.measure for t in tasks) <= 1:
            return [run_task(t, timeout) for t in tasks]
        warm()
        return _run_batch(tasks, timeout)


_gc_lock = threading.Lock()
_gc_batches = 0                                   # batches running in this process (Dask: threads)
_gc_saved: tuple[int, int, int] = (700, 10, 10)   # the thresholds before the first of them


@contextlib.contextmanager
def _relaxed_gc(gen0: int = 50_000) -> Iterator[None]:
    """Collect cyclic garbage less often for a whole batch, not only inside each run.

    The engine relaxes the collector while its event loop runs and restores it after; a
    batch of short runs then paid a collection of the run's leftovers right after every
    run (5 times fewer collections with this, measured on batches of one-day runs).  The
    thresholds are process-wide: batches running at once in threads (a Dask worker) share
    one relaxation, and the last to finish restores what the first found."""
    global _gc_batches, _gc_saved
    with _gc_lock:
        if _gc_batches == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(max(gen0, _gc_saved[0]), max(_gc_saved[1], 20), max(_gc_saved[2], 100))
        _gc_batches += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_batches -= 1
            if _gc_batches == 0:
                gc.set_threshold(*_gc_saved)


def _run_batch(tasks: list[RunTask], timeout: Optional[float]) -> list[RunRecord]:
    records: list[RunRecord] = []
    waiting: list[tuple[RunTask, RunRecord, Any]] = []
    held = 0
    for task in tasks:
        if not task.measure:
            records.append(run_task(task, timeout))
            continue
        t0, c0 = time.perf_counter(), time.process_time()
        rec = RunRecord(key=task.key)
        run = _guarded(lambda: _simulate(task, rec), rec, task, timeout)
        rec.seconds = time.perf_counter() - t0
        rec.cpu_seconds = time.process_time() - c0
        records.append(rec)
        if run is not None:
            waiting.append((task, rec, run))
            held += run.arrivals
        if held >= HOLD_TICKETS:
            _measure_all(waiting, timeout)
            waiting, held = [], 0
    _measure_all(waiting, timeout)
    return records


def _measure_all(waiting: list[tuple[RunTask, RunRecord, Any]], timeout: Optional[float]) -> None:
    """Measure the waiting runs, one group per scenario with distinct (policy, replication)."""
    groups: list[list[tuple[RunTask, RunRecord, Any]]] = []
    for item in waiting:
        task = item[0]
        for group in groups:
            head = group[0][0]
            if head.scenario is task.scenario and not any(
                    (t.policy, t.replication) == (task.policy, task.replication) for t, _, _ in group):
                group.append(item)
                break
        else:
            groups.append([item])
    for group in groups:
        _measure_group(group, timeout)


def _measure_group(group: list[tuple[RunTask, RunRecord, Any]], timeout: Optional[float]) -> None:
    from ..results import teams_frame, tickets_frame

    t0, c0 = time.perf_counter(), time.process_time()
    scn = group[0][0].scenario
    probe = RunRecord(key=None)
    if len(group) == 1:
        task, rec, run = group[0]
        _guarded(lambda: _finish(task, rec, run), rec, task, timeout, "measuring the run")
    else:
        runs = [run for _, _, run in group]

        def measure() -> dict:
            rows = fast_metric_rows(runs, scn)
            if rows is None:        # a metric registered elsewhere: each run's own tables
                rows = [metric_row(tickets_frame([r], scn, [r.policy]), teams_frame([r], scn, [r.policy]), scn)
                        for r in runs]
            return {(run.policy, run.replication): row for run, row in zip(runs, rows) if row is not None}

        rows = _guarded(measure, probe, group[0][0], timeout and timeout * len(group),
                        "measuring the runs")
        for task, rec, run in group:
            if probe.error is not None:
                _copy_failure(probe, rec)
                continue
            row = rows.get((task.policy, task.replication))
            rec.metrics = {k: _plain(v) for k, v in row.items()} if row is not None else {"tickets": 0}
            _guarded(lambda: _finish(task, rec, run, measured=True), rec, task, timeout,
                     "measuring the run")
    share_s = (time.perf_counter() - t0) / len(group)
    share_c = (time.process_time() - c0) / len(group)
    for _, rec, _ in group:
        rec.seconds += share_s
        rec.cpu_seconds += share_c


def _copy_failure(src: RunRecord, dst: RunRecord) -> None:
    dst.status, dst.error, dst.traceback, dst.exception = src.status, src.error, src.traceback, src.exception
    dst.stage = "output"
    dst.metrics = dst.tickets = dst.run = None


def run_batch_remote(tasks: list[RunTask], timeout: Optional[float] = None) -> list[RunRecord]:
    """:func:`run_batch` in a worker: imports first (once per worker, outside every task's
    deadline), and exception objects that cannot be pickled are dropped from the records."""
    warm()
    records = run_batch(tasks, timeout)
    for rec in records:
        if rec.exception is not None:
            try:
                pickle.dumps(rec.exception)
            except Exception:  # noqa: BLE001 - e.g. a plug-in's exception holding a lock
                rec.exception = None
    return records


def warm() -> None:
    """Import what a task needs (engine, tables, metrics, built-in policies); cheap once done.

    Pool workers are forked with this done; a Dask worker does it on its first
    batch, before any deadline starts, so a short ``timeout`` is not spent importing.
    """
    from .. import analysis, engine, results  # noqa: F401
    from ..policies import registry

    registry.builtin_names()


def _compute(task: RunTask, rec: RunRecord) -> None:
    _finish(task, rec, _simulate(task, rec))


def _simulate(task: RunTask, rec: RunRecord) -> Any:
    """The engine's run (set up, run), with ``rec.stage`` saying how far it got."""
    scn = task.scenario
    rec.stage = "setup"
    if task.params is None and not task.engine_options:
        from ..engine import run_replication

        rec.stage = "run"     # run_replication sets up and runs in one call
        run = run_replication(scn, task.policy, task.replication, task.seed, trace=task.trace,
                              policy_cls=task.policy_cls)
    else:
        from ..engine import Engine
        from ..policies import registry

        cls = task.policy_cls or registry.get(task.policy)
        if cls is None:
            raise KeyError(f"unknown policy {task.policy!r}; available: {registry.names()}")
        params = (task.params if task.params is not None
                  else cls.Params.model_validate(scn.policies.get(task.policy) or {}))
        engine = Engine(scn, cls, params, task.replication, task.seed, trace=task.trace,
                        **(task.engine_options or {}))
        rec.stage = "run"
        run = engine.run()
    rec.stage = "output"
    rec.arrivals = run.arrivals
    return run


def _finish(task: RunTask, rec: RunRecord, run: Any, measured: bool = False) -> None:
    """Tables, metrics and the trace of one finished run, as the task asked."""
    scn = task.scenario
    rec.stage = "output"
    if task.trace and task.pack_trace:      # packed in the worker: a fifth of the size to keep and to send back
        from ..eventlog.trace import TraceTable

        run.trace = TraceTable.from_trace(task.policy, task.replication, run.trace or [])
    if (task.measure and not measured) or task.tickets:
        from ..results import teams_frame, tickets_frame

        fast = fast_metric_rows([run], scn) if task.measure and not measured else None
        if fast is not None:
            rec.metrics = fast[0] if fast[0] is not None else {"tickets": 0}
        if task.tickets or (fast is None and task.measure and not measured):
            tickets = tickets_frame([run], scn, [task.policy])
            if fast is None and task.measure and not measured:
                rec.metrics = metric_row(tickets, teams_frame([run], scn, [task.policy]), scn)
            if task.tickets:
                rec.tickets = tickets
    if task.raw:
        rec.run = run
    rec.stage = ""


def fast_metric_rows(runs: list[Any], scenario: Any) -> Optional[list[Optional[dict[str, float]]]]:
    """The runs' metric rows straight from their columns (:func:`sim.analysis.metrics.metric_rows`:
    the same floats as from the tables, without building them), or ``None`` when that path
    does not apply (a metric registered outside sim.analysis)."""
    from ..analysis.metrics import metric_rows
    from ..results import team_columns, ticket_columns

    return metric_rows([ticket_columns(run, scenario) for run in runs],
                       [team_columns(run, scenario) for run in runs], scenario)


def metric_row(tickets, teams, scenario) -> dict[str, float]:
    """The one-run metric row, as ``run`` computes it (every metric, with the scenario)."""
    from ..analysis import replication_metrics

    frame = replication_metrics(tickets, teams, scenario)
    if not len(frame):          # nothing measured: still a row, so the task counts as done
        return {"tickets": 0}
    if len(frame) != 1:  # pragma: no cover - one run is one (policy, replication)
        raise AssertionError(f"one run gave {len(frame)} metric rows")
    row = frame.to_dict("records")[0]
    row.pop("policy", None)
    row.pop("replication", None)
    return {k: _plain(v) for k, v in row.items()}


def _plain(v: Any) -> Any:
    """numpy scalars to Python numbers (the row's types survive a trip through pandas)."""
    item = getattr(v, "item", None)
    return item() if item is not None else v


def _failed(rec: RunRecord, exc: BaseException, status: str) -> None:
    rec.status = status
    rec.error = _one_line(exc)
    rec.traceback = "".join(tb.format_exception(exc))
    rec.exception = exc
    rec.metrics = rec.tickets = rec.run = None


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _as_policy_error(exc: BaseException, task: RunTask) -> BaseException:
    """A hook's ``SystemExit``/``GeneratorExit``/other BaseException becomes a PolicyError.

    Plain exceptions are the engine's to word (it already wraps a hook's
    ``Exception`` as a :class:`~sim.policies.PolicyError` naming the ticket);
    anything that is not an ``Exception`` would otherwise stop the whole
    program (``SystemExit(0)``: exit code 0 and no output), so it is turned
    into a PolicyError here, the one place every run goes through.
    """
    if isinstance(exc, Exception):
        return exc
    from ..policies.base import PolicyError

    err = PolicyError(f"policy {task.policy!r}: a hook raised {type(exc).__name__}"
                      f"({', '.join(repr(a) for a in exc.args)}); policies must return a decision, "
                      "not stop the program")
    err.__cause__ = exc
    err.__traceback__ = exc.__traceback__
    return err
