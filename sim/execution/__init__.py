"""One way to run many simulations: tasks, records, and the backends that run them.

    >>> from sim.execution import RunTask, execute, backend_for
    >>> tasks = [RunTask(key=r, scenario=scn, policy="tiered", replication=r, seed=scn.seed)
    ...          for r in range(10)]
    >>> with backend_for(workers=2) as backend:
    ...     records = execute(tasks, backend, timeout=60)
    >>> [rec.metrics["resolution_mean_min"] for rec in records if rec.ok]

``run`` (:func:`sim.simulate`), ``sweep``, the conformance kit, the staffing
search and the sensitivity analysis all go through :func:`execute` /
:func:`iter_execute`; a task is a (scenario, policy, replication, seed) and its
record holds the run's metric row (every metric ``run`` reports, computed with
the scenario) or the one-line error that stopped it.  Results do not depend on
the backend or the number of workers.
"""
from .backends import Backend, InProcess, LocalPool, cpu_count
from .core import backend_for, execute, iter_execute, iter_execute_batches
from .dask import BackendError, DaskBackend
from .deadline import TaskTimeout
from .plan import plan_runs
from .tasks import RunRecord, RunTask, metric_row, run_batch, run_task

__all__ = ["RunTask", "RunRecord", "execute", "iter_execute", "iter_execute_batches", "backend_for", "plan_runs",
           "Backend", "InProcess", "LocalPool", "DaskBackend", "BackendError", "TaskTimeout",
           "cpu_count", "run_task", "run_batch", "metric_row"]
