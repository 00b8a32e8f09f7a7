"""``run SCENARIO``: simulate policies x replications, print the summary, optionally save."""
from __future__ import annotations

import sys
from pathlib import Path

from ..runner import simulate
from ..scenario import load_scenario
from .common import (nonneg_int, positive_float, positive_int, resolve_scenario_path,
                     writable_dir)
from .display import print_summary, progress_bar
from .plugins import policies_to_run


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="simulate a scenario under its policies (default: scenarios/default.yaml)")
    p.add_argument("scenario", nargs="?", default=None, help="scenario YAML file")
    p.add_argument("--policy", action="append", dest="policies", metavar="NAME",
                   help="policy to run (repeatable; default: the scenario's policies)")
    p.add_argument("--replications", type=positive_int, help="override the scenario's replications")
    p.add_argument("--seed", type=nonneg_int, help="override the scenario's seed")
    p.add_argument("--days", type=positive_float, help="override horizon.days")
    p.add_argument("--out", type=Path, help="directory for tickets.parquet, summary.csv, ...")
    p.add_argument("--workers", type=positive_int, default=1, help="parallel processes (default 1)")
    p.add_argument("--events", nargs="?", const="csv", default=None, metavar="FORMAT",
                   help="also write the per-event log into --out: csv (default), parquet, xes, "
                        "ocel, a comma list, or all (see docs/eventlog.md)")
    p.add_argument("--report", type=Path, default=None, metavar="DIR",
                   help="write the HTML + Markdown decision report here (default: into --out DIR, "
                        "or reports/<scenario-name>/ when no scenario is given)")
    p.add_argument("--no-report", action="store_true", help="do not write the decision report")
    p.set_defaults(func=run)


def load_for_run(args):
    path = resolve_scenario_path(args.scenario)
    scn = load_scenario(path)
    if args.days is not None:
        horizon = dict(scn.horizon.model_dump())
        horizon["days"] = args.days
        if horizon["warmup_days"] >= args.days:
            horizon["warmup_days"] = 0.0
            print(f"warning: --days {args.days:g} is within the warm-up; warm-up set to 0",
                  file=sys.stderr)
        scn = scn.replace(horizon=horizon)
    return path, scn


def run(args) -> int:
    events = _event_formats(args)
    path, scn = load_for_run(args)
    for flag, target in (("--out", args.out), ("--report", args.report)):
        if target is not None:
            writable_dir(target, flag)      # fail now, not after the simulation
    with progress_bar("simulating") as advance:
        result = simulate(scn, policies=policies_to_run(args, scn), replications=args.replications,
                          seed=args.seed, workers=args.workers, progress=advance,
                          trace=bool(events))
    for w in result.warnings:
        print(f"warning: {path}: {w}", file=sys.stderr)
    print_summary(result)
    if args.out is not None:
        out = result.save(args.out)
        print(f"results written to {out}")
    if events:
        from ..eventlog import export_events

        for written in export_events(result, args.out, events):
            print(f"event log written to {written}")
    _report(args, result)
    return 0


def _report(args, result) -> None:
    """The decision report: into --report, else --out, else reports/<name>/ for the default run."""
    if getattr(args, "no_report", False):
        return
    from ..report import default_report_dir
    from .report_cmd import write_report

    target = args.report if args.report is not None else args.out
    if target is None and args.scenario is None:
        target = default_report_dir(result.scenario.name)
    if target is None:
        print("(add --report DIR or --out DIR to also write the HTML decision report)")
        return
    write_report(result, target)


def _event_formats(args) -> list[str]:
    """Check ``--events`` before simulating, so a typo costs no simulation time."""
    if getattr(args, "events", None) is None:
        return []
    from ..eventlog import ExportError, parse_formats
    from . import UserError

    if args.out is None:
        raise UserError("--events: needs --out DIR (the event log is written next to the results)")
    try:
        return parse_formats(args.events)
    except ExportError as exc:
        raise UserError(f"--events: {exc}") from None
