"""Running the sensitivity analysis's simulations: a thin adapter over the run path (:mod:`sim.execution`).

Each task is one (scenario variant, policy, replication, seed); its record is
exactly the per-replication metric row ``run`` computes for that scenario.
Every finished run is handed to ``on_record`` at once, in this process, so the
caller can save it (the analysis is resumable run by run).  :func:`session`
keeps one backend (local pool or Dask) open across the bisection's rounds, so
worker processes start once.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

from ..scenario import Scenario

__all__ = ["Task", "Done", "run_tasks", "session"]


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


@contextlib.contextmanager
def session(workers: Optional[int] = None, scheduler: Optional[str] = None) -> Iterator[Any]:
    """One run-path backend for every round of an analysis (``workers=None``: all cores)."""
    from ..execution import backend_for

    with backend_for(workers=workers, scheduler=scheduler) as backend:
        yield backend


def run_tasks(tasks: list[Task], on_record: Callable[[Done], None], workers: Optional[int] = None,
              scheduler: Optional[str] = None, backend: Any = None) -> None:
    """Run ``tasks`` (any order), calling ``on_record`` in this process as each finishes.

    ``backend``: an open backend of :func:`session` (reused across calls); without one, a
    backend for ``workers``/``scheduler`` is opened for this call.
    """
    if not tasks:
        return
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
