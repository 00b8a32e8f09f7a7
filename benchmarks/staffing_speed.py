#!/usr/bin/env python3
"""Staffing search speed: evaluations per second, and its overhead over the bare runs it needs.

Run: ``python benchmarks/staffing_speed.py`` (``--days 20`` for a quicker look, ``--workers N``).

The machine is shared, so besides wall time the script reports CPU time (this process and its
worker processes, from ``resource.getrusage``) and one *ratio* measured side by side in this
process: the whole ``staff`` search (pilot, Erlang C start, greedy search with its
neighbourhood check, confirmation, outputs and report) against simulating exactly the same
replications through the run path (``sim.execution.execute``) with nothing else.  The ratio
is the cost of the search's own machinery; the runs are the rest.  The issue-12 goal is
``staff scenarios/default.yaml`` with its three policies and one target in under 3 minutes on 2
cores: the CPU-seconds figure divided by 2 is what 2 free cores would take.  Prints figures;
asserts nothing.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim import load_scenario  # noqa: E402
from sim.execution import RunTask, backend_for, execute  # noqa: E402
from sim.report.staffing import write_staffing_report  # noqa: E402
from sim.staffing.driver import Options, staff  # noqa: E402
from sim.staffing.outputs import write_outputs  # noqa: E402
from sim.staffing.targets import Target  # noqa: E402


def cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "default.yaml"))
    ap.add_argument("--target", default="resolution_mean_min<=60")
    ap.add_argument("--days", type=float, default=None, help="override horizon.days (quicker)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    scn = load_scenario(args.scenario)
    if args.days is not None:
        scn = scn.replace(horizon={"days": args.days, "warmup_days": min(scn.horizon.warmup_days, args.days / 4)})
    metric, bound = args.target.split("<=")
    opts = Options([Target(metric, "<=", float(bound))], workers=args.workers)

    with tempfile.TemporaryDirectory() as tmp:
        c0, t0 = cpu(), time.perf_counter()
        outcome = staff(scn, None, opts, tmp)
        write_outputs(outcome, tmp)
        write_staffing_report(tmp)
        search_wall, search_cpu = time.perf_counter() - t0, cpu() - c0

    # the same replications, bare, through the run path
    tasks = []
    for e in outcome.evaluations:
        teams = [{**t.model_dump(mode="json", by_alias=True, exclude_none=True), "agents": n}
                 for t, n in zip(scn.teams, e.staffing)]
        variant = scn.replace(teams=teams)
        tasks += [RunTask(key=(e.policy, e.staffing, e.seed, r), scenario=variant, policy=e.policy,
                          replication=r, seed=e.seed) for r in range(e.replications)]
    c0, t0 = cpu(), time.perf_counter()
    with backend_for(args.workers) as backend:
        execute(tasks, backend)
    bare_wall, bare_cpu = time.perf_counter() - t0, cpu() - c0

    n_eval = len(outcome.evaluations)
    print(f"scenario {scn.name}: {scn.horizon.days:g} days, {len(outcome.policies)} policies, "
          f"target {args.target}, {args.workers} worker(s)")
    for p in outcome.policies:
        print(f"  {p.policy:<14} {'feasible' if p.feasible else 'INFEASIBLE':<10} "
              f"{' '.join(f'{k}={v}' for k, v in p.staffing.items())}  ({p.evaluations} evaluations)")
    print(f"evaluations: {n_eval}, replications simulated: {outcome.runs_simulated}")
    print(f"staff search: {search_wall:7.1f} s wall, {search_cpu:7.1f} s CPU  ->  "
          f"{n_eval / search_wall:.3f} evaluations/s wall, {n_eval / search_cpu:.3f} per CPU-second")
    print(f"bare runs:    {bare_wall:7.1f} s wall, {bare_cpu:7.1f} s CPU")
    print(f"search / bare runs: {search_wall / bare_wall:.2f} x wall, {search_cpu / bare_cpu:.2f} x CPU")
    print(f"on 2 free cores the search would take about {search_cpu / 2:.0f} s (goal: < 180 s)")


if __name__ == "__main__":
    main()
