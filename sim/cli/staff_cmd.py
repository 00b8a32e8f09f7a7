"""``staff SCENARIO``: per policy, the cheapest staffing that meets the service targets.

Exit code: 0 when at least one policy can meet every target and the
utilisation cap within the bounds, 1 when none can (one line says so), 2 bad
input (a malformed or unknown target, a bad bound, an unknown team or policy).
Re-running the same command reuses every replication already simulated in --out.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

from .common import (check_workload, nonneg_int, positive_float, positive_int,
                     resolve_scenario_path, writable_dir)
from .display import progress_bar
from .plugins import policies_to_run

EXIT_INFEASIBLE = 1


def add_parser(sub) -> None:
    p = sub.add_parser("staff", help="find each policy's cheapest staffing that meets service targets")
    p.add_argument("scenario", nargs="?", default=None, help="scenario YAML file (default: scenarios/default.yaml)")
    p.add_argument("--policy", action="append", dest="policies", metavar="NAME",
                   help="policy to staff (repeatable; default: the scenario's policies)")
    p.add_argument("--target", action="append", dest="targets", metavar="METRIC<=X", default=[],
                   help="service target on a summary.csv metric, METRIC<=X or METRIC>=X "
                        "(repeatable), e.g. resolution_mean_min<=60, service_level>=0.8")
    p.add_argument("--max-utilisation", type=positive_float, default=0.9, metavar="U",
                   help="utilisation cap on every team (default 0.9)")
    p.add_argument("--teams", action="append", metavar="NAMES", default=None,
                   help="teams whose agents may change, comma-separated (default: all)")
    p.add_argument("--min-agents", type=positive_int, default=1, metavar="N",
                   help="fewest agents a changeable team may have (default 1)")
    p.add_argument("--max-agents", type=positive_int, default=None, metavar="N",
                   help="most agents a changeable team may have (default: max(3 x current, current + 5))")
    p.add_argument("--replications", type=positive_int, default=None, metavar="N",
                   help="replications per evaluated staffing (default: the scenario's)")
    p.add_argument("--seed", type=nonneg_int, default=None, metavar="S",
                   help="seed of the search replications (default: the scenario's); the "
                        "confirmation uses S + 1000000")
    p.add_argument("--workers", type=positive_int, default=None, metavar="N",
                   help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDR", default=None,
                   help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="results directory (default: results/staffing/<scenario-name>)")
    p.add_argument("--force", action="store_true",
                   help="run even when one evaluation round is above the size limit (docs/safety.md)")
    p.add_argument("--task-timeout", type=positive_float, default=None, metavar="SECONDS",
                   help="stop a run that takes longer than this; the search then stops with one "
                        "line, its finished evaluations kept (default: no limit)")
    p.set_defaults(func=run)


def _known_metrics(scn, timeout=None) -> list[str]:
    """The summary.csv metrics this scenario produces (a one-day probe run), payroll included."""
    from ..policies import PolicyError
    from ..staffing.runs import RunFailed, probe_metrics

    try:
        return probe_metrics(scn, scn.policy_names()[0], timeout=timeout)
    except RunFailed as exc:        # the policy itself fails (or passes --task-timeout): exit 1
        raise PolicyError(f"the probe run of {exc}") from None


def parse_targets(texts: list[str], scn, timeout=None) -> list:
    from ..staffing.targets import TargetError, parse_target
    from . import UserError

    if not texts:
        raise UserError("--target: give at least one, e.g. --target resolution_mean_min<=60")
    known = _known_metrics(scn, timeout)
    try:
        return [parse_target(t, known) for t in texts]
    except TargetError as exc:
        raise UserError(str(exc)) from None


def run(args) -> int:
    from ..atomic import remove_stale_temporaries
    from ..outputs.lock import DirectoryBusy, DirectoryLock
    from ..report import slug
    from ..report.staffing import write_staffing_report
    from ..scenario import load_scenario
    from ..staffing.driver import Options, staff
    from ..staffing.outputs import write_outputs
    from ..staffing.runs import RunFailed
    from . import UserError

    path = resolve_scenario_path(args.scenario)
    scn = load_scenario(path)
    targets = parse_targets(args.targets, scn, args.task_timeout)
    if args.max_utilisation > 1:
        raise UserError(f"--max-utilisation: must be at most 1, got {args.max_utilisation:g}")
    teams = None
    if args.teams:
        teams = [t.strip() for chunk in args.teams for t in chunk.split(",") if t.strip()]
    out = args.out if args.out is not None else Path("results") / "staffing" / slug(scn.name)
    from ..outputs.directory import foreign_entries

    if not (out / "staffing.json").exists() and not (out / "runs").is_dir() and foreign_entries(out):
        raise UserError(f"--out {out}: directory is not empty and holds no staffing results (no "
                        "staffing.json); supportsim never overwrites files it did not write - "
                        "choose a new or empty directory")
    writable_dir(out, "--out")
    policies = policies_to_run(args, scn)      # --policy, else the scenario's (+ --plugin ones)
    n_policies = len(policies or scn.policy_names())
    # the size of one evaluation round (every policy once); a search makes a few dozen rounds
    check_workload(scn, n_policies, args.replications, force=args.force, keep_tickets=False,
                   where=str(path))
    opts = Options(targets=targets, max_utilisation=args.max_utilisation, teams=teams,
                   min_agents=args.min_agents, max_agents=args.max_agents,
                   replications=args.replications, seed=args.seed, workers=args.workers,
                   scheduler=args.scheduler, task_timeout=args.task_timeout)
    print(f"staff {scn.name}: targets {', '.join(map(str, targets))}; utilisation <= "
          f"{args.max_utilisation:g} on every team", file=sys.stderr)
    lock = DirectoryLock(out, "supportsim staff")
    try:
        lock.acquire()
    except DirectoryBusy as exc:
        raise UserError(str(exc)) from None
    try:
        remove_stale_temporaries(out / "runs")       # a killed search's half-written files
        with progress_bar("staffing (replications run)") as advance:
            try:
                outcome = staff(scn, policies, opts, out, progress=advance)
            except RunFailed as exc:
                print(f"error: a simulation failed: {exc} (finished evaluations are saved in {out}; "
                      "re-run to continue)", file=sys.stderr)
                return EXIT_INFEASIBLE
        paths = write_outputs(outcome, out)
        report = write_staffing_report(out)
    finally:
        lock.release()
    _print(outcome)
    print(f"{outcome.runs_simulated} replications simulated, {outcome.runs_reused} reused, "
          f"in {outcome.seconds:.1f} s")
    print(f"staffing: {paths['staffing']}\nsummary:  {paths['summary']}\nreport:   {report}")
    if not outcome.any_feasible:
        print(f"error: no policy meets {', '.join(map(str, targets))} and the utilisation cap "
              f"within the agent bounds (best reached in {paths['summary']})", file=sys.stderr)
        return EXIT_INFEASIBLE
    return 0


def _print(outcome) -> None:
    from ..staffing.driver import window_hours

    hours = window_hours(outcome.scenario)
    metrics = [t.metric for t in outcome.options.targets]
    head = ["policy", "feasible", "staffing", "payroll/h", "payroll/resolved", *metrics]
    rows = []
    for p in outcome.policies:
        iv = p.intervals
        cells = [p.policy, "yes" if p.feasible else "NO", " ".join(f"{t}={n}" for t, n in p.staffing.items()),
                 f"{iv['payroll'].mean / hours:,.1f}", f"{iv['payroll_per_resolved'].mean:,.2f}"]
        for m in metrics:
            x = iv[m]
            cells.append("-" if math.isnan(x.mean) else f"{x.mean:.4g} [{x.low:.4g}, {x.high:.4g}]")
        rows.append(cells)
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
