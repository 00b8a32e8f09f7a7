"""Scenario sweeps: a grid of scenario variants x policies x replications.

``load_sweep`` expands and validates a sweep file (nothing runs);
``run_sweep`` executes its tasks on a local process pool or a Dask cluster,
streaming one small Parquet file per task into a results directory;
``write_summary`` and ``write_report`` turn that directory into
``sweep_summary.parquet`` and a report with the regime map.

The report (matplotlib, seaborn) is imported only when used.  A sweep task is a
:class:`sim.execution.RunTask` (:mod:`sim.sweep.tasks` builds them and turns their
records into rows), so process-pool and Dask workers import only the run path.
"""
from .expand import Axis, Point, SweepPlan, load_sweep, plan_sweep, point_seed
from .execute import SweepOutcome, run_sweep
from .summary import read_runs, write_summary

__all__ = ["Axis", "Point", "SweepPlan", "load_sweep", "plan_sweep", "point_seed", "run_sweep",
           "SweepOutcome", "write_summary", "read_runs", "write_report"]


def __getattr__(name: str):
    if name == "write_report":
        from .report import write_report

        return write_report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
