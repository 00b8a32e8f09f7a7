"""Running the sensitivity analysis's simulations: one small adapter over the run path.

The project's one way to run many simulations is :mod:`sim.execution`
(``RunTask`` / ``execute`` / ``backend_for``).  When it is importable this
module only translates to it; when it is not (it is being built in parallel)
the same tasks run on :func:`sim.engine.run_replication` in-process or on a
local process pool, and each record is exactly the per-replication metric row
``run`` computes (:func:`sim.analysis.replication_metrics` with the scenario).
Either way every finished run is handed to ``on_record`` at once, so the
caller can save it (the analysis is resumable run by run).
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

from ..scenario import Scenario

__all__ = ["Task", "Done", "run_tasks", "have_run_path"]


@dataclass(frozen=True)
class Task:
    key: str
    scenario: Scenario
    policy: str
    replication: int
    seed: int


@dataclass
class Done:
    key: str
    metrics: Optional[dict[str, float]]
    error: Optional[str] = None


def have_run_path() -> bool:
    try:
        from ..execution import backend_for, execute  # noqa: F401
    except ImportError:
        return False
    return True


def _metrics_of(scenario: Scenario, policy: str, replication: int, seed: int) -> dict[str, float]:
    from ..analysis import replication_metrics
    from ..engine import run_replication
    from ..policies import registry
    from ..results import teams_frame, tickets_frame

    run = run_replication(scenario, policy, replication, seed, policy_cls=registry.get(policy))
    tickets = tickets_frame([run], scenario, [policy])
    teams = teams_frame([run], scenario, [policy])
    row = replication_metrics(tickets, teams, scenario=scenario).iloc[0].to_dict()
    return {k: float(v) for k, v in row.items() if k not in ("policy", "replication")
            and isinstance(v, (int, float))}


def _one(task: Task) -> Done:
    try:
        return Done(task.key, _metrics_of(task.scenario, task.policy, task.replication, task.seed))
    except Exception as exc:       # recorded, reported by the caller; never a silent gap
        return Done(task.key, None, f"{type(exc).__name__}: {exc}")


@contextlib.contextmanager
def session(workers: Optional[int] = None, scheduler: Optional[str] = None) -> Iterator[Any]:
    """One run-path backend for every round of an analysis, so worker processes start once.

    Yields None without the run path (each :func:`run_tasks` call then makes its own pool).
    """
    if not have_run_path():
        yield None
        return
    from .. import execution as ex

    with ex.backend_for(workers=workers, scheduler=scheduler) as backend:
        yield backend


def run_tasks(tasks: list[Task], on_record: Callable[[Done], None], workers: Optional[int] = None,
              scheduler: Optional[str] = None, backend: Any = None) -> None:
    """Run ``tasks`` (any order), calling ``on_record`` in this process as each finishes.

    ``backend``: an open backend of :func:`session` (reused across calls).
    """
    if not tasks:
        return
    if have_run_path():
        _via_run_path(tasks, on_record, workers, scheduler, backend)
        return
    if scheduler is not None:
        from ..policies import PolicyError

        raise PolicyError("--scheduler needs the run path (sim.execution), which this installation "
                          "does not have; use --workers")
    n = (os.cpu_count() or 1) if workers is None else workers
    if n <= 1 or len(tasks) == 1:
        for t in tasks:
            on_record(_one(t))
        return
    ctx = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    with ProcessPoolExecutor(max_workers=min(n, len(tasks)), mp_context=ctx) as pool:
        pending = {pool.submit(_one, t) for t in tasks}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                on_record(f.result())


def _via_run_path(tasks: list[Task], on_record: Callable[[Done], None], workers: Optional[int],
                  scheduler: Optional[str], backend: Any = None) -> None:
    from .. import execution as ex
    from ..policies import registry

    run_tasks_ = [ex.RunTask(t.key, t.scenario, t.policy, t.replication, t.seed,
                             policy_cls=registry.get(t.policy)) for t in tasks]

    def record(rec: Any) -> None:
        metrics = None if rec.metrics is None or rec.error is not None else {
            k: float(v) for k, v in rec.metrics.items() if isinstance(v, (int, float))}
        on_record(Done(rec.key, metrics, rec.error))

    if backend is not None:
        ex.execute(run_tasks_, backend, on_record=record)
        return
    with ex.backend_for(workers=1 if len(tasks) == 1 else workers, scheduler=scheduler) as own:
        ex.execute(run_tasks_, own, on_record=record)
