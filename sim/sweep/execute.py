"""Running a sweep's tasks: in-process, on a local process pool, or on a Dask cluster.

The coordinator keeps only a bounded window of tasks in flight (a few per
worker) and writes each finished task's rows to disk at once, so its memory
does not grow with the sweep.  Every backend runs exactly the same task
function on exactly the same inputs, so results do not depend on the backend
or the worker count.
"""
from __future__ import annotations

import itertools
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional

import yaml

from .._version import __version__
from ..scenario import ScenarioError
from .expand import SweepPlan
from .store import Layout, remove_stale_temporaries, write_json, write_table, atomic_write
from .tasks import Task, TaskOutput, execute_batch

__all__ = ["SweepOutcome", "run_sweep", "pending_tasks", "prepare_directory"]

ProgressFn = Callable[[int, int, int], None]     # (done, total, failed)


@dataclass
class SweepOutcome:
    out: Path
    total: int                  # tasks in the sweep
    skipped: int = 0            # already complete in DIR before this call
    done: int = 0               # completed by this call
    failed: int = 0             # raised (recorded under DIR/failed/)
    seconds: float = 0.0
    task_seconds: float = 0.0       # sum of the tasks' own wall time in their workers
    task_cpu_seconds: float = 0.0   # ... and CPU time (what the simulation itself cost)
    errors: list[tuple[tuple[int, str, int], str]] = field(default_factory=list)  # first few only

    @property
    def complete(self) -> int:
        return self.skipped + self.done


# ------------------------------------------------------------------------------ directory
def manifest_of(plan: SweepPlan, tickets: bool) -> dict:
    return {
        "software": "supportsim", "version": __version__, "name": plan.name,
        "sweep_file": str(plan.source), "base": str(plan.base_path), "seed": plan.seed,
        "replications": plan.replications, "policies": plan.policies,
        "axes": [{"paths": list(a.paths), "rows": [list(r) for r in a.rows]} for a in plan.axes],
        "report": plan.spec.report.model_dump(),
        "tickets": tickets,
        "points": [{"index": p.index, "seed": p.seed, "params": p.params, "fingerprints": p.fingerprints}
                   for p in plan.points],
    }


def prepare_directory(plan: SweepPlan, out: Path, resume: bool, tickets: bool) -> tuple[Layout, bool]:
    """Create or re-open DIR; refuse to mix results of a different sweep into it.

    Returns the layout and whether tickets are written (once a sweep directory
    has per-ticket rows, every later run into it keeps writing them).
    """
    layout = Layout(out)
    if layout.manifest.exists():
        import json

        try:
            old = json.loads(layout.manifest.read_text(encoding="utf-8"))
        except ValueError:
            raise ScenarioError([f"{layout.manifest}: unreadable manifest; use another --out"]) from None
        old_fp = {int(p["index"]): p.get("fingerprints", {}) for p in old.get("points", [])}
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
    layout.root.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(layout.root)
    write_json(layout.manifest, manifest_of(plan, tickets))
    for point in plan.points:
        path = layout.point_file(point.index)
        text = (f"# {point.scenario.description}\n# seed derived from sweep seed {plan.seed} and point "
                f"{point.index}; run alone: python run_sim.py run {path.name}\n"
                + yaml.safe_dump(point.scenario.to_dict(), sort_keys=False))
        if not path.exists() or path.read_text(encoding="utf-8") != text:   # e.g. policies were added
            atomic_write(path, lambda p, t=text: p.write_text(t, encoding="utf-8"))
    return layout, tickets


def pending_tasks(plan: SweepPlan, layout: Layout, tickets: bool) -> Iterator[Task]:
    """Tasks not yet complete in DIR, in a fixed order (generated lazily)."""
    from ..policies import registry

    classes = {policy: registry.get(policy) for policy in plan.policies}
    for point in plan.points:
        for policy in plan.policies:
            for rep in range(plan.replications):
                if not layout.is_done(point.index, policy, rep, tickets):
                    yield Task(point=point.index, policy=policy, replication=rep, scenario=point.scenario,
                               params=point.params, tickets=tickets, policy_cls=classes[policy])


def count_done(plan: SweepPlan, layout: Layout, tickets: bool) -> int:
    return sum(layout.is_done(p.index, pol, r, tickets)
               for p in plan.points for pol in plan.policies for r in range(plan.replications))


# ------------------------------------------------------------------------------ running
def run_sweep(plan: SweepPlan, out: str | os.PathLike, workers: Optional[int] = None,
              scheduler: Optional[str] = None, resume: bool = False, tickets: bool = False,
              batch_size: int = 1, progress: Optional[ProgressFn] = None) -> SweepOutcome:
    """Run every task of ``plan`` not yet complete in ``out``; return counts (never raises per task).

    ``workers``: local processes (default: all cores; 1 runs in this process).
    ``scheduler``: address of a Dask distributed scheduler (``tcp://host:port``); overrides ``workers``.
    """
    t0 = time.perf_counter()
    out = Path(out)
    client = _connect(scheduler) if scheduler else None      # fail before touching DIR
    try:
        return _run(plan, out, workers, client, resume, tickets, batch_size, progress, t0)
    finally:
        if client is not None:
            client.close()


def _run(plan: SweepPlan, out: Path, workers: Optional[int], client, resume: bool, tickets: bool,
         batch_size: int, progress: Optional[ProgressFn], t0: float) -> SweepOutcome:
    layout, tickets = prepare_directory(plan, out, resume, tickets)
    outcome = SweepOutcome(out=out, total=plan.total_tasks)
    outcome.skipped = count_done(plan, layout, tickets)
    todo = plan.total_tasks - outcome.skipped
    report = progress or (lambda done, total, failed: None)
    report(outcome.skipped, outcome.total, 0)

    def handle(result: TaskOutput) -> None:
        point, policy, rep = result.key
        outcome.task_seconds += result.seconds
        outcome.task_cpu_seconds += result.cpu_seconds
        if result.error is not None:
            write_json(layout.failed_file(point, policy, rep),
                       {"point": point, "policy": policy, "replication": rep, "error": result.error,
                        "traceback": result.traceback})
            outcome.failed += 1
            if len(outcome.errors) < 20:
                outcome.errors.append((result.key, result.error))
        else:
            if result.tickets is not None:
                write_table(layout.tickets_file(point, policy, rep), result.tickets)
            write_table(layout.runs_file(point, policy, rep), result.runs)   # marks the task done
            layout.failed_file(point, policy, rep).unlink(missing_ok=True)
            outcome.done += 1
        report(outcome.complete, outcome.total, outcome.failed)

    batches = _batches(pending_tasks(plan, layout, tickets), max(1, int(batch_size)))
    if todo > 0:
        if client is not None:
            _run_dask(client, batches, handle)
        else:
            n = workers if workers is not None else (os.cpu_count() or 1)
            if n <= 1 or todo == 1:
                for batch in batches:
                    for result in execute_batch(batch):
                        handle(result)
            else:
                _run_pool(min(n, todo), batches, handle)
    outcome.seconds = time.perf_counter() - t0
    return outcome


def _batches(tasks: Iterator[Task], size: int) -> Iterator[list[Task]]:
    batch: list[Task] = []
    for task in tasks:
        batch.append(task)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _failed_batch(batch: list[Task], exc: BaseException) -> list[TaskOutput]:
    msg = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return [TaskOutput(key=t.key, error=f"task lost: {msg}") for t in batch]


def _worker_init() -> None:
    """Die with the coordinator (Linux): a killed sweep leaves no orphan workers computing."""
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


def _pool(n: int) -> ProcessPoolExecutor:
    import multiprocessing

    ctx = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    return ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_worker_init)


def _run_pool(n: int, batches: Iterator[list[Task]], handle: Callable[[TaskOutput], None]) -> None:
    window = 2 * n
    pool = _pool(n)
    inflight: dict[Future, list[Task]] = {}
    exhausted = False
    try:
        while True:
            while not exhausted and len(inflight) < window:
                batch = next(batches, None)
                if batch is None:
                    exhausted = True
                    break
                inflight[pool.submit(execute_batch, batch)] = batch
            if not inflight:
                break
            finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
            broken = False
            for fut in finished:
                batch = inflight.pop(fut)
                try:
                    results = fut.result()
                except BrokenProcessPool as exc:
                    results, broken = _failed_batch(batch, exc), True
                except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable result
                    results = _failed_batch(batch, exc)
                for r in results:
                    handle(r)
            if broken:       # a worker died: the tasks still in flight are lost (unless already finished)
                for fut, batch in inflight.items():
                    try:
                        results = fut.result(timeout=5)
                    except Exception as exc:  # noqa: BLE001 - BrokenProcessPool, or never answered
                        results = _failed_batch(batch, exc)
                    for r in results:
                        handle(r)
                inflight.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = _pool(n)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _connect(address: str):
    """A Client for ``address``, or one clear ScenarioError quickly (never a hang at exit).

    The address is parsed and, for TCP, the port is probed with a short timeout
    first, so a typo or a dead scheduler fails in seconds.  ``Client.__init__``
    keeps a half-built client alive when connecting fails, whose ``__del__``
    later blocks ~30 s and prints a traceback; the client is therefore created
    with ``__new__`` first so it can be closed if ``__init__`` raises.
    """
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask[distributed] is a dependency
        raise ScenarioError(["--scheduler needs dask[distributed]: pip install 'dask[distributed]'"]) from None
    problem = _address_problem(address)
    if problem:
        raise ScenarioError([f"--scheduler {address}: {problem}"])
    client = Client.__new__(Client)
    try:
        client.__init__(address, timeout="15s", set_as_default=False)
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the user's address
        try:
            client.close(timeout=2)
        except Exception:  # noqa: BLE001 - half-built: nothing more to release
            pass
        raise ScenarioError([f"--scheduler {address}: cannot connect to a Dask scheduler ({exc})"]) from None
    return client


def _address_problem(address: str, probe_seconds: float = 5.0) -> Optional[str]:
    """Why ``address`` cannot be a reachable Dask scheduler, or None (TCP ports are probed)."""
    import socket

    from distributed.comm import parse_address, parse_host_port

    expected = "expected e.g. tcp://127.0.0.1:8786"
    try:
        scheme, loc = parse_address(address, strict=False)      # 'host:port' means tcp, as in distributed
    except ValueError as exc:
        return f"not a scheduler address: {exc} ({expected})"
    if scheme not in ("tcp", "tls"):
        return None      # other transports (e.g. inproc, ucx) are left to distributed
    try:
        host, port = parse_host_port(loc)
    except ValueError as exc:
        return f"not a scheduler address: {exc} ({expected})"
    try:
        with socket.create_connection((host, port), timeout=probe_seconds):
            return None
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        return f"cannot connect to a Dask scheduler ({reason})"


def _run_dask(client, batches: Iterator[list[Task]], handle: Callable[[TaskOutput], None]) -> None:
    from distributed import as_completed

    address = client.scheduler.address

    def window() -> int:
        """Two tasks per worker thread, re-read as workers join or leave (cached by the client)."""
        threads = sum(w.get("nthreads", 1) for w in client.scheduler_info().get("workers", {}).values())
        return max(4, 2 * threads)

    if not client.scheduler_info().get("workers"):
        print(f"warning: the Dask scheduler at {address} has no workers yet; tasks wait until one "
              f"connects (dask worker {address})", file=sys.stderr)
    futures = as_completed(loop=client.loop)
    owner: dict[str, list[Task]] = {}
    exhausted = False
    serial = itertools.count()
    tag = f"{os.getpid()}-{time.time_ns():x}"

    def submit_more() -> None:
        nonlocal exhausted
        limit = window()
        while not exhausted and futures.count() < limit:
            batch = next(batches, None)
            if batch is None:
                exhausted = True
                return
            first = batch[0]
            key = f"sweep-{first.point}.{first.policy}.{first.replication}-{tag}-{next(serial)}"
            fut = client.submit(execute_batch, batch, key=key, pure=False)
            owner[fut.key] = batch
            futures.add(fut)

    submit_more()
    for fut in futures:
        batch = owner.pop(fut.key)
        try:
            results = fut.result()
        except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: record, go on
            results = _failed_batch(batch, exc)
        fut.release()
        for r in results:
            handle(r)
        submit_more()
