"""One unit of sweep work: (point, policy, replication) -> a per-run summary row (and tickets).

This module is what a process-pool or Dask worker imports, so it stays small
and only depends on the engine and the analysis functions.  The worker
computes; the coordinator writes files (so Dask workers need no shared disk).
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import Any, Optional

import pyarrow as pa

from ..analysis import replication_metrics
from ..engine import run_replication
from ..results import teams_frame, tickets_frame
from ..scenario import Scenario

__all__ = ["Task", "TaskOutput", "execute_task", "execute_batch"]


@dataclass(frozen=True)
class Task:
    point: int
    policy: str
    replication: int
    scenario: Scenario          # the point's scenario (its seed keys the replication)
    params: dict[str, Any]      # varied path -> value, copied into the row
    tickets: bool = False
    policy_cls: Optional[type] = None   # sent along (by reference) so workers need not look the name up

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.point, self.policy, self.replication)


@dataclass
class TaskOutput:
    key: tuple[int, str, int]
    runs: Optional[pa.Table] = None
    tickets: Optional[pa.Table] = None
    error: Optional[str] = None
    traceback: Optional[str] = None
    seconds: float = 0.0            # wall time of the task in its worker
    cpu_seconds: float = 0.0        # CPU time of the task in its worker


def execute_task(task: Task) -> TaskOutput:
    """Run one task; an exception becomes a recorded error, never a lost worker."""
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        scn = task.scenario
        run = run_replication(scn, task.policy, task.replication, scn.seed, policy_cls=task.policy_cls)
        tickets = tickets_frame([run], scn, [task.policy])
        teams = teams_frame([run], scn, [task.policy])
        row = replication_metrics(tickets, teams)
        if len(row) == 0:       # no measured ticket: still one row, so the task counts as done
            import pandas as pd

            row = pd.DataFrame({"policy": [task.policy], "replication": [task.replication], "tickets": [0]})
        row = row.drop(columns=["policy"])
        row.insert(1, "seed", scn.seed)
        row.insert(2, "arrivals", run.arrivals)
        for i, (path, value) in enumerate(task.params.items()):
            row.insert(3 + i, path, value)
        row["replication"] = row["replication"].astype("int32")
        out = TaskOutput(key=task.key, runs=pa.Table.from_pandas(row, preserve_index=False))
        if task.tickets:
            tickets = tickets.drop(columns=["policy"])
            out.tickets = pa.Table.from_pandas(tickets, preserve_index=False)
    except Exception as exc:  # noqa: BLE001 - recorded per task; the sweep goes on
        out = TaskOutput(key=task.key, error=f"{type(exc).__name__}: {exc}",
                         traceback=traceback.format_exc())
    out.seconds = time.perf_counter() - t0
    out.cpu_seconds = time.process_time() - c0
    return out


def execute_batch(tasks: list[Task]) -> list[TaskOutput]:
    """Several tasks in one round trip (cheaper when runs are very short)."""
    return [execute_task(t) for t in tasks]
