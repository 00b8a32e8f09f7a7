"""``sweep FILE``: run a grid of scenario variants x policies x replications, resumably.

Locally on a process pool (``--workers``, default all cores) or on an existing
Dask cluster (``--scheduler tcp://host:port``); results stream to ``--out``.
Exit code: 0 all runs done, 1 some runs failed (recorded in DIR/failed/) or
were not run (the Dask cluster had no live worker for --worker-wait seconds;
re-running the same command resumes), 2 bad input (nothing ran).  The last
line accounts for every run: complete (of which already done), failed (of
which timed out), not run.
"""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

from .common import positive_float, positive_int

EXIT_FAILED_RUNS = 1


def add_parser(sub) -> None:
    p = sub.add_parser("sweep", help="run a sweep file: scenario variants x policies x replications")
    p.add_argument("file", type=Path, metavar="FILE", help="sweep YAML file (see scenarios/sweeps/)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="results directory (default: results/sweeps/<sweep name>)")
    p.add_argument("--workers", type=positive_int, default=None, metavar="N",
                   help=f"local worker processes (default: all cores, here {os.cpu_count()})")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (runs the tasks on that cluster)")
    p.add_argument("--resume", action="store_true",
                   help="continue a sweep in --out, skipping runs already done (re-running does the same)")
    p.add_argument("--tickets", action="store_true", help="also write per-ticket rows (large)")
    p.add_argument("--task-timeout", type=positive_float, default=None, metavar="SECONDS",
                   help="stop a run that takes longer than this and record it as failed "
                        "(default: no limit)")
    p.add_argument("--worker-wait", type=positive_float, default=60.0, metavar="SECONDS",
                   help="with --scheduler: stop (resumably) when no Dask worker has been alive "
                        "for this long (default 60)")
    p.add_argument("--force", action="store_true",
                   help="run even when the work estimate is above the refusal limit (docs/safety.md)")
    p.set_defaults(func=run)


@contextlib.contextmanager
def sweep_progress(label: str) -> Iterator[Callable[[int, int, int], None]]:
    """``update(done, total, failed)``: a rich bar on a terminal, silent otherwise."""
    console = Console(file=sys.stderr)
    if not console.is_terminal:
        yield lambda done, total, failed: None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(),
               TextColumn("[red]{task.fields[failed]} failed"), TextColumn("eta"), TimeRemainingColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as prog:
        task = prog.add_task(label, total=None, failed=0)
        started: list[bool] = []

        def update(done: int, total: int, failed: int) -> None:
            if not started:      # runs already complete count as done, but not towards the ETA's speed
                started.append(True)
                prog.reset(task, total=total, completed=done, failed=failed)
                return
            prog.update(task, total=total, completed=done, failed=failed)

        yield update


def run(args) -> int:
    from ..sweep import load_sweep, run_sweep, write_report, write_summary
    from ..sweep.store import Layout
    from .common import writable_dir

    plan = load_sweep(args.file)           # every point validated before anything runs
    from ..workload import estimate_plan
    from .common import report_workload

    report_workload(estimate_plan([(pt.scenario, len(plan.policies), plan.replications)
                                   for pt in plan.points]),
                    force=getattr(args, "force", False), where=str(args.file))
    out = args.out if args.out is not None else Path("results") / "sweeps" / plan.name
    writable_dir(out, "--out")
    if Layout(out).manifest.exists() and not args.resume:
        print(f"{out}: continuing the sweep found there (completed runs are skipped)", file=sys.stderr)
    _warn_unstable(plan)
    from ..execution import backend_for

    backend = backend_for(args.workers, args.scheduler, worker_wait=args.worker_wait)
    try:
        print(f"sweep {plan.name}: {len(plan.points)} point(s) x {len(plan.policies)} policies x "
              f"{plan.replications} replication(s) = {plan.total_tasks} runs on {backend.describe()}",
              file=sys.stderr)
        with sweep_progress("sweeping") as update:
            outcome = run_sweep(plan, out, resume=args.resume, tickets=args.tickets, progress=update,
                                task_timeout=args.task_timeout, backend=backend)
    finally:
        backend.close()
    for (point, policy, rep), error in outcome.errors:
        print(f"failed: point {point}, {policy}, replication {rep}: {error}", file=sys.stderr)
    if outcome.shelved:
        print(f"{outcome.shelved} file(s) of runs this sweep no longer has moved to "
              f"{Layout(out).root / 'outside-plan'}", file=sys.stderr)
    summary = write_summary(out, plan)
    report = write_report(out, plan, failed=outcome.failed + outcome.not_run)
    _print_wins(plan, summary)
    print(f"summary: {summary}\nreport:  {report}")
    print(final_line(plan.name, outcome, Layout(out).root / "failed"))
    return 0 if outcome.complete == outcome.total else EXIT_FAILED_RUNS


def final_line(name: str, outcome, failed_dir: Path) -> str:
    """One line accounting for every run: complete (already done), failed (timed out), not run."""
    skipped = f" ({outcome.skipped} already done)" if outcome.skipped else ""
    timed = f" ({outcome.timed_out} timed out)" if outcome.timed_out else ""
    line = (f"sweep {name}: {outcome.complete}/{outcome.total} runs complete{skipped}, "
            f"{outcome.failed} failed{timed}, {outcome.not_run} not run in {outcome.seconds:.1f} s")
    if outcome.stopped:
        line += f"; {outcome.stopped}"
    if outcome.failed:
        line += f"; errors in {failed_dir}"
    if outcome.complete < outcome.total:
        line += "; re-run the same command to " + ("retry them" if not outcome.not_run else "resume")
    return line


def _print_wins(plan, summary_path: Path) -> None:
    """One line per regime-map metric: at how many points each policy wins (the report's paired,
    stability-aware winners, read from ``DIR/report/regime.csv``)."""
    import pandas as pd

    from ..report.format import label
    from ..sweep.report import win_counts

    regime_csv = summary_path.parent / "report" / "regime.csv"
    if not regime_csv.exists():
        return
    from ..outputs.cells import csv_unescape_frame

    regime = csv_unescape_frame(pd.read_csv(regime_csv, keep_default_na=False))
    if not len(regime):
        return
    for metric, counts in win_counts(regime, plan).items():
        text = ", ".join(f"{k} {n}" for k, n in counts)
        print(f"wins on {label(metric)} (points): {text}")


def _warn_unstable(plan) -> None:
    from ..scenario import UNSTABLE_LOAD, offered_load

    unstable = [p.index for p in plan.points if offered_load(p.scenario) >= UNSTABLE_LOAD]
    if unstable:
        shown = ", ".join(map(str, unstable[:10])) + (" ..." if len(unstable) > 10 else "")
        print(f"warning: {len(unstable)} point(s) offer more work than the agents can do under any policy "
              f"(queues grow until the horizon): points {shown}", file=sys.stderr)
