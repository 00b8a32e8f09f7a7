"""Running a sweep's tasks through the one execution path (:mod:`sim.execution`).

The coordinator holds the directory's lock for the whole sweep (a second sweep
into the same directory is refused with one line naming the holder), keeps
only a bounded window of tasks in flight (the backend's), and writes each
finished task's rows to disk at once, so its memory does not grow with the
sweep.  Every backend runs exactly the same task function on exactly the same
inputs, so results do not depend on the backend or the worker count.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional

import yaml

from .._version import __version__
from ..execution import Backend, RunRecord, RunTask, backend_for, iter_execute_batches
from ..scenario import ScenarioError
from .expand import SweepPlan
from ..outputs.cells import comment_line
from ..outputs.directory import foreign_entries
from .store import Layout, atomic_write, remove_stale_temporaries, shelve_outside_plan, write_json, write_table
from .tasks import row_signature, runs_rows_table, sweep_task, tickets_table

__all__ = ["SweepOutcome", "run_sweep", "pending_tasks", "prepare_directory"]

ProgressFn = Callable[[int, int, int], None]     # (done, total, failed)


@dataclass
class SweepOutcome:
    out: Path
    total: int                  # tasks in the sweep
    skipped: int = 0            # already complete in DIR before this call
    done: int = 0               # completed by this call
    failed: int = 0             # raised or timed out (recorded under DIR/failed/)
    timed_out: int = 0          # ... of which stopped by --task-timeout
    not_run: int = 0            # never started: the backend stopped (e.g. no live Dask worker)
    seconds: float = 0.0
    task_seconds: float = 0.0       # sum of the tasks' own wall time in their workers
    task_cpu_seconds: float = 0.0   # ... and CPU time (what the simulation itself cost)
    errors: list[tuple[tuple[int, str, int], str]] = field(default_factory=list)  # first few only
    stopped: Optional[str] = None   # why the backend stopped early (one line), if it did
    shelved: int = 0                # files of tasks no longer in the plan, moved to DIR/outside-plan/

    @property
    def complete(self) -> int:
        return self.skipped + self.done

    @property
    def accounted(self) -> bool:
        """Every task of the sweep is counted exactly once."""
        return self.complete + self.failed + self.not_run == self.total


# ------------------------------------------------------------------------------ directory
def manifest_of(plan: SweepPlan, tickets: bool) -> dict:
    return {
        "software": "supportsim", "version": __version__, "name": plan.name,
        "sweep_file": str(plan.source), "base": str(plan.base_path), "seed": plan.seed,
        "replications": plan.replications, "policies": plan.policies,
        "axes": [{"paths": list(a.paths), "rows": [list(r) for r in a.rows]} for a in plan.axes],
        "report": plan.spec.report.model_dump(),
        "tickets": tickets,
        "plugins": _plugins(plan.policies),
        "points": [{"index": p.index, "seed": p.seed, "params": p.params, "fingerprints": p.fingerprints}
                   for p in plan.points],
    }


def _plugins(policies: list[str]) -> list[dict[str, str]]:
    from ..policies import registry

    return registry.provenance(policies)


def _refuse_foreign(out: Path) -> None:
    """Never write into (or clean, or lock) a non-empty folder that is not a sweep's."""
    if not (out / "sweep.json").exists() and foreign_entries(out):
        raise ScenarioError([f"{out}: directory is not empty and holds no sweep (no sweep.json); "
                             "supportsim never overwrites files it did not write - choose a new or "
                             "empty directory"])


def prepare_directory(plan: SweepPlan, out: Path, resume: bool, tickets: bool) -> tuple[Layout, bool]:
    """Create or re-open DIR; refuse to mix results of a different sweep into it.

    Call it holding the directory's lock (:func:`run_sweep` does).  Files of
    tasks the plan no longer has (a sweep shrunk to fewer points, policies or
    replications) are moved to ``DIR/outside-plan/`` so that
    ``pandas.read_parquet(DIR / "runs")`` returns only this plan's rows.

    Returns the layout and whether tickets are written (once a sweep directory
    has per-ticket rows, every later run into it keeps writing them).
    """
    layout = Layout(out)
    if layout.manifest.exists():
        from ..outputs.jsonfile import read_json

        try:
            old = read_json(layout.manifest)
            old_fp = {int(p["index"]): dict(p.get("fingerprints", {})) for p in old.get("points", [])}
        except (ValueError, TypeError, KeyError, AttributeError):
            raise ScenarioError([f"{layout.manifest}: unreadable manifest; use another --out"]) from None
        for point in plan.points:
            prev = old_fp.get(point.index, {})
            for policy, fp in point.fingerprints.items():
                if policy in prev and prev[policy] != fp:
                    raise ScenarioError([
                        f"{out}: holds results of a different sweep (point {point.index}, policy {policy} "
                        "has other inputs); use another --out or delete the directory"])
        tickets = tickets or bool(old.get("tickets"))
    elif resume:
        raise ScenarioError([f"{out}: nothing to resume (no sweep.json); run without --resume"])
    else:
        _refuse_foreign(out)
    layout.root.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(layout.root)      # under the directory's lock: no live writer's file
    write_json(layout.manifest, manifest_of(plan, tickets))
    layout.shelved = shelve_outside_plan(layout, plan)
    for point in plan.points:
        path = layout.point_file(point.index)
        text = (f"# {comment_line(point.scenario.description)}\n# seed derived from sweep seed {plan.seed} and point "
                f"{point.index}; run alone: python run_sim.py run {path.name}\n"
                + yaml.dump(point.scenario.to_dict(), Dumper=_YAML_DUMPER, sort_keys=False))
        if not path.exists() or path.read_text(encoding="utf-8") != text:   # e.g. policies were added
            atomic_write(path, lambda p, t=text: p.write_text(t, encoding="utf-8"))
    return layout, tickets


#: libyaml's safe dumper when PyYAML has it: the same text for scenario files, 5x cheaper
#: (~6 ms of the coordinator's CPU per point, a sweep of one-day runs: issue 16)
_YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def pending_tasks(plan: SweepPlan, layout: Layout, tickets: bool,
                  rowed: Optional[set] = None) -> Iterator[RunTask]:
    """Run tasks not yet complete in DIR, in a fixed order (generated lazily).

    ``rowed``, if given, collects the keys of pending tasks whose runs row is already on disk
    (with ``tickets``: a run done before DIR had per-ticket rows): only their tickets are missing.
    """
    from ..policies import registry

    classes = {policy: registry.get(policy) for policy in plan.policies}
    for point in plan.points:
        for policy in plan.policies:
            have = layout.run_files(point.index, policy)
            done = layout.done_reps(point.index, policy, tickets, have)
            for rep in range(plan.replications):
                if rep not in done:
                    if rowed is not None and rep in have:
                        rowed.add((point.index, policy, rep))
                    yield sweep_task(point.index, point.scenario, policy, rep, tickets, classes[policy])


def count_done(plan: SweepPlan, layout: Layout, tickets: bool) -> int:
    return sum(sum(1 for r in layout.done_reps(p.index, pol, tickets) if 0 <= r < plan.replications)
               for p in plan.points for pol in plan.policies)




# ------------------------------------------------------------------------------ running
def run_sweep(plan: SweepPlan, out: str | os.PathLike, workers: Optional[int] = None,
              scheduler: Optional[str] = None, resume: bool = False, tickets: bool = False,
              batch_size: Optional[int] = None, progress: Optional[ProgressFn] = None, *,
              task_timeout: Optional[float] = None, worker_wait: float = 60.0,
              backend: Optional[Backend] = None) -> SweepOutcome:
    """Run every task of ``plan`` not yet complete in ``out``; return counts (never raises per task).

    ``workers``: local processes (default: all cores; 1 runs in this process).
    ``scheduler``: address of a Dask distributed scheduler (``tcp://host:port``); overrides
    ``workers``; ``worker_wait``: seconds without a live worker before the sweep stops
    (what is not done then is resumed by the next call).  ``task_timeout``: seconds one run
    may take (recorded as a failure past it).  ``backend``: an open backend to use instead
    (kept open).  ``batch_size``: tasks per worker round trip (default: chosen from the
    number of tasks and workers).  A second sweep into the same ``out`` while this one runs
    is refused with one line naming this process.
    """
    from ..outputs.lock import DirectoryBusy, DirectoryLock

    t0 = time.perf_counter()
    out = Path(out)
    _refuse_foreign(out)            # before the lock: a refused folder gets no lock file either
    if resume and not Layout(out).manifest.exists():     # before the lock creates DIR
        raise ScenarioError([f"{out}: nothing to resume (no sweep.json); run without --resume"])
    own = backend is None
    if own:      # connect before touching DIR: a bad address fails with one line, nothing written
        backend = backend_for(workers, scheduler, worker_wait=worker_wait)
    lock = DirectoryLock(out, "supportsim sweep")
    try:
        try:
            lock.acquire()
        except DirectoryBusy as exc:
            raise ScenarioError([str(exc)]) from None
        return _run(plan, out, backend, resume, tickets, batch_size, progress, task_timeout, t0)
    finally:
        lock.release()
        if own:
            backend.close()


def _run(plan: SweepPlan, out: Path, backend: Backend, resume: bool, tickets: bool,
         batch_size: Optional[int], progress: Optional[ProgressFn], timeout: Optional[float],
         t0: float) -> SweepOutcome:
    from ..execution import InProcess

    layout, tickets = prepare_directory(plan, out, resume, tickets)
    outcome = SweepOutcome(out=out, total=plan.total_tasks, shelved=layout.shelved)
    outcome.skipped = count_done(plan, layout, tickets)
    todo = plan.total_tasks - outcome.skipped
    report = progress or (lambda done, total, failed: None)
    report(outcome.skipped, outcome.total, 0)
    points = {p.index: p for p in plan.points}

    writer = _Writer()

    def handle(rec: RunRecord) -> bool:
        """Count ``rec``; write it if it failed; True if it is a success to write."""
        point, policy, rep = rec.key
        outcome.task_seconds += rec.seconds
        outcome.task_cpu_seconds += rec.cpu_seconds
        if rec.status == "not_run":
            outcome.not_run += 1
            outcome.stopped = outcome.stopped or (rec.error or "").removeprefix("not run: ")
            return False
        if rec.error is not None:
            record = {"point": point, "policy": policy, "replication": rep, "error": rec.error,
                      "status": rec.status, "traceback": rec.traceback}
            writer.submit(lambda: write_json(layout.failed_file(point, policy, rep), record))
            outcome.failed += 1
            outcome.timed_out += rec.status == "timeout"
            if len(outcome.errors) < 20:
                outcome.errors.append((rec.key, rec.error))
            return False
        outcome.done += 1
        return True

    def write_group(group: list[RunRecord]) -> None:
        point, policy, first = group[0].key
        last = group[-1].key[2]
        seed, params = points[point].scenario.seed, points[point].params

        def write() -> None:
            for rec in group:       # tickets first: the runs file is what marks the tasks done
                table = tickets_table(rec)
                if table is not None:
                    write_table(layout.tickets_file(point, policy, rec.key[2]), table)
            write_table(layout.runs_file(point, policy, first, last), runs_rows_table(group, seed, params))
            for rec in group:
                layout.failed_file(point, policy, rec.key[2]).unlink(missing_ok=True)

        writer.submit(write)

    def write_tickets_only(rec: RunRecord) -> None:
        """A re-run whose runs row is on disk already (perhaps in a file of several runs, which
        a second file would duplicate): the same simulation, so only its tickets file is new."""
        point, policy, rep = rec.key

        def write() -> None:
            table = tickets_table(rec)
            if table is not None:
                write_table(layout.tickets_file(point, policy, rep), table)
            layout.failed_file(point, policy, rep).unlink(missing_ok=True)

        writer.submit(write)

    rowed: set = set()
    try:
        if todo > 0:
            tasks = pending_tasks(plan, layout, tickets, rowed)
            if todo == 1 and backend.name == "process pool":
                backend = InProcess()      # one run: no pool to start
            for records in iter_execute_batches(tasks, backend, timeout=timeout, batch_size=batch_size,
                                                expected=todo):
                ok = [rec for rec in records if handle(rec)]
                if rowed:
                    for rec in [r for r in ok if r.key in rowed]:
                        write_tickets_only(rec)
                    ok = [r for r in ok if r.key not in rowed]
                for group in _groups(ok):
                    write_group(group)
                report(outcome.complete, outcome.total, outcome.failed)
    finally:
        writer.close()      # every row on disk (or the first write error raised) before returning
    outcome.seconds = time.perf_counter() - t0
    return outcome


def _groups(records: list[RunRecord]) -> list[list[RunRecord]]:
    """Successful records that came back together, as runs of consecutive replications of one
    (point, policy) and one row signature: each becomes one runs file (``r0005-0009.parquet``)."""
    out: list[list[RunRecord]] = []
    for rec in sorted(records, key=lambda r: (r.key[0], r.key[1], r.key[2])):
        if out:
            prev = out[-1][-1]
            sig = row_signature(rec)
            if (prev.key[0] == rec.key[0] and prev.key[1] == rec.key[1] and prev.key[2] + 1 == rec.key[2]
                    and sig is not None and sig == row_signature(prev)):
                out[-1].append(rec)
                continue
        out.append([rec])
    return out


class _Writer:
    """Writes finished tasks' files on a few threads, so the coordinator keeps feeding workers.

    A delivered group's files are written by one job in order (its tickets files,
    then the runs file that marks its runs done), atomically and fsynced (:mod:`sim.atomic`);
    waiting for the disk releases the GIL, so writes overlap with scheduling.
    At most ``limit`` jobs are pending (bounded memory); the first error is
    raised by the next :meth:`submit` or by :meth:`close`.
    """

    def __init__(self, threads: int = 4, limit: int = 256) -> None:
        from collections import deque
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sweep-writer")
        self._pending: "deque" = deque()
        self._limit = limit

    def submit(self, job: Callable[[], None]) -> None:
        while self._pending and (self._pending[0].done() or len(self._pending) >= self._limit):
            self._pending.popleft().result()        # raises the job's error here
        self._pending.append(self._pool.submit(job))

    def close(self) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
