"""Running the simulations the search asks for, through the run path (:mod:`sim.execution`).

One :class:`Job` is one (staffing, policy, replication, seed); its result is
the per-replication metric row ``run`` computes for that scenario (every
metric, payroll included), handed to ``on_done`` in completion order so each
evaluation can be saved the moment its last replication finishes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

from ..scenario import Scenario
from .payroll import complete_payroll

__all__ = ["Job", "Runner", "RunFailed", "probe_metrics"]


class RunFailed(RuntimeError):
    """A simulation of the search failed (one line: which staffing, policy, replication, why)."""


@dataclass(frozen=True)
class Job:
    key: Any              # the caller's identifier, handed back with the result
    scenario: Scenario
    policy: str
    replication: int
    seed: int


class Runner:
    """A run-path backend (in process, local pool or Dask) held for the whole search.

    The search sends many small batches; keeping one backend open pays the pool's
    or the cluster connection's start-up once.
    """

    def __init__(self, workers: Optional[int] = None, scheduler: Optional[str] = None,
                 timeout: Optional[float] = None) -> None:
        self.workers = workers
        self.scheduler = scheduler
        self.timeout = timeout          # seconds per run: a run past it fails the search (RunFailed)
        self._backend: Any = None

    def __enter__(self) -> "Runner":
        from ..execution import backend_for

        self._backend = backend_for(self.workers, self.scheduler)
        self._backend.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._backend is not None:
            self._backend.__exit__(*exc)

    @property
    def description(self) -> str:
        return self._backend.describe() if self._backend is not None else ""

    def run(self, jobs: Iterable[Job], on_done: Callable[[Job, dict[str, float]], None]) -> None:
        from ..execution import RunTask, iter_execute
        from ..policies import registry

        by_key: dict[Any, Job] = dict(enumerate(jobs))
        tasks = [RunTask(key=i, scenario=j.scenario, policy=j.policy, replication=j.replication,
                         seed=j.seed, policy_cls=registry.get(j.policy)) for i, j in by_key.items()]
        for rec in iter_execute(tasks, self._backend, timeout=self.timeout):
            job = by_key[rec.key]
            if not rec.ok:
                agents = ", ".join(f"{t.name}={t.agents}" for t in job.scenario.teams)
                raise RunFailed(f"{job.policy} with {agents}, replication {job.replication} "
                                f"(seed {job.seed}): {rec.error}")
            on_done(job, complete_payroll(dict(rec.metrics or {}), job.scenario))


def probe_metrics(scenario: Scenario, policy: str, timeout: Optional[float] = None) -> list[str]:
    """The metric names a run of ``scenario`` reports (a one-day run of one replication)."""
    from ..execution import RunTask, run_task

    probe = scenario.replace(horizon={"days": min(1.0, scenario.horizon.days), "warmup_days": 0.0})
    rec = run_task(RunTask(key=0, scenario=probe, policy=policy, replication=0, seed=scenario.seed),
                   timeout=timeout)
    if not rec.ok:
        raise RunFailed(f"{policy}: {rec.error}")
    return sorted(complete_payroll(dict(rec.metrics or {}), probe))
