"""Running the simulations the search asks for: one metric row per (staffing, policy, replication).

The run path (``sim.execution``) is the project's one way to run many
simulations; until it exists this module carries a small equivalent of its
own (in-process, a local fork pool, or a Dask scheduler), behind the same
shape: :class:`Job` in, ``on_done(job, metrics)`` out, in completion order.
The metric row is exactly the per-replication row ``run`` computes
(``SimulationResult.per_replication``) plus the payroll metrics.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

from ..scenario import Scenario, ScenarioError
from .payroll import add_payroll

__all__ = ["Job", "Runner", "metric_row"]


@dataclass(frozen=True)
class Job:
    key: Any              # the caller's identifier, handed back with the result
    scenario: Scenario
    policy: str
    replication: int
    seed: int


def metric_row(scenario: Scenario, policy: str, replication: int, seed: int,
               policy_cls: Any = None) -> dict[str, float]:
    """Simulate one replication and return its per-replication metrics (as ``run`` computes them)."""
    from ..analysis import replication_metrics
    from ..engine import run_replication
    from ..results import teams_frame, tickets_frame

    run = run_replication(scenario, policy, replication, seed, policy_cls=policy_cls)
    tickets = tickets_frame([run], scenario, [policy])
    teams = teams_frame([run], scenario, [policy])
    per_rep = replication_metrics(tickets, teams, scenario)
    row = {k: float(v) for k, v in per_rep.iloc[0].items() if k not in ("policy", "replication")}
    return add_payroll(row, scenario, teams)


def _one(args: tuple) -> dict[str, float]:
    return metric_row(*args)


class Runner:
    """Runs :class:`Job` batches on one worker (in process), a local process pool, or Dask.

    Use as a context manager: the pool or the Dask client lives as long as the
    staffing command, so the many small batches of a search pay start-up once.
    """

    def __init__(self, workers: Optional[int] = None, scheduler: Optional[str] = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.scheduler = scheduler
        self._pool: Optional[ProcessPoolExecutor] = None
        self._client: Any = None

    def __enter__(self) -> "Runner":
        if self.scheduler:
            self._client = _connect(self.scheduler)
        elif self.workers > 1:
            ctx = (multiprocessing.get_context("fork")
                   if "fork" in multiprocessing.get_all_start_methods() else None)
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._client is not None:
            self._client.close()

    @property
    def description(self) -> str:
        if self.scheduler:
            return f"Dask scheduler {self.scheduler}"
        return f"{self.workers} local worker(s)"

    def run(self, jobs: Iterable[Job], on_done: Callable[[Job, dict[str, float]], None]) -> None:
        from ..policies import registry

        jobs = list(jobs)
        payload = [(j.scenario, j.policy, j.replication, j.seed, registry.get(j.policy)) for j in jobs]
        if self._client is not None:
            from distributed import as_completed

            futures = {self._client.submit(_one, p, pure=False): j for p, j in zip(payload, jobs)}
            for fut in as_completed(list(futures)):
                on_done(futures[fut], fut.result())
            return
        if self._pool is None or len(jobs) == 1:
            for p, j in zip(payload, jobs):
                on_done(j, _one(p))
            return
        pending: dict[Future, Job] = {self._pool.submit(_one, p): j for p, j in zip(payload, jobs)}
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fut in done:
                on_done(pending.pop(fut), fut.result())


def _connect(address: str) -> Any:
    """A Dask client, or one clear error within seconds (never a hang)."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - a dependency of the project
        raise ScenarioError(["--scheduler needs dask[distributed]: pip install 'dask[distributed]'"]) from None
    try:
        return Client(address, timeout=10, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ScenarioError([f"--scheduler {address}: cannot connect ({exc.__class__.__name__}: {exc})"]) from None
