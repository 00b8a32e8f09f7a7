"""Running the sensitivity analysis's simulations on the run path (:mod:`sim.execution`).

A task *is* a :class:`~sim.execution.RunTask` (scenario variant, policy, replication,
seed) and its outcome a :class:`~sim.execution.RunRecord`, whose ``metrics`` is
exactly the per-replication metric row ``run`` computes for that scenario; this module
keeps no mirror of either.  Every finished run is handed to ``on_record`` at once, in
this process, so the caller can save it (the analysis is resumable run by run).
:func:`session` keeps one backend (local pool or Dask) open across the bisection's
rounds, so worker processes start once.  A run past ``timeout`` seconds is stopped and
comes back as a failed record (``status == "timeout"``), like any other failure.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator, Optional

from ..execution import RunRecord, RunTask
from ..scenario import Scenario

__all__ = ["task", "run_tasks", "session", "RunTask", "RunRecord"]


def task(key: str, scenario: Scenario, policy: str, replication: int, seed: int) -> RunTask:
    """The run task of one evaluation (the policy's class sent along by reference)."""
    from ..policies import registry

    return RunTask(key, scenario, policy, replication, seed, policy_cls=registry.get(policy))


@contextlib.contextmanager
def session(workers: Optional[int] = None, scheduler: Optional[str] = None) -> Iterator[Any]:
    """One run-path backend for every round of an analysis (``workers=None``: all cores)."""
    from ..execution import backend_for

    with backend_for(workers=workers, scheduler=scheduler) as backend:
        yield backend


def run_tasks(tasks: list[RunTask], on_record: Callable[[RunRecord], None], workers: Optional[int] = None,
              scheduler: Optional[str] = None, backend: Any = None,
              timeout: Optional[float] = None) -> None:
    """Run ``tasks`` (any order), calling ``on_record`` in this process as each finishes.

    ``backend``: an open backend of :func:`session` (reused across calls); without one, a
    backend for ``workers``/``scheduler`` is opened for this call.  ``timeout``: seconds
    each run may take (``--task-timeout``).
    """
    if not tasks:
        return
    from .. import execution as ex

    if backend is not None:
        ex.execute(tasks, backend, timeout=timeout, on_record=on_record)
        return
    with ex.backend_for(workers=1 if len(tasks) == 1 else workers, scheduler=scheduler) as own:
        ex.execute(tasks, own, timeout=timeout, on_record=on_record)
