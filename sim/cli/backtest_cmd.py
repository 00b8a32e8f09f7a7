"""``backtest SCENARIO LOG``: simulate a scenario over a ticket log's window and compare KPIs."""
from __future__ import annotations

from pathlib import Path

from ..schema import CONFIDENCE_LEVEL
from .calibrate_cmd import add_mapping_options, mapping_from_args


def add_parser(sub) -> None:
    p = sub.add_parser(
        "backtest", help="simulate a scenario and compare it with a ticket event log",
        description="Simulate SCENARIO over the arrival window of LOG and compare what both "
                    "measure: arrivals per day, resolution time (median, p90), handoffs per "
                    "ticket, share of tickets reaching each tier, ticket share per team, "
                    "abandonment share and utilisation (when the log has durations). Read the "
                    "log with the same options given to calibrate. See docs/eventlog.md.")
    p.add_argument("scenario", type=Path, help="scenario YAML (e.g. the one calibrate wrote)")
    p.add_argument("log", type=Path, help="event log: .csv, .parquet or .xes")
    add_mapping_options(p)
    p.add_argument("--policy", default="tiered", help="policy to simulate (default tiered)")
    p.add_argument("--replications", type=int, default=None,
                   help="replications (default: the scenario's; at least 2)")
    p.add_argument("--confidence", type=float, default=CONFIDENCE_LEVEL,
                   help=f"confidence level of the intervals and the tolerance (default {CONFIDENCE_LEVEL:g})")
    p.add_argument("--seed", type=int, default=None, help="seed (default: the scenario's)")
    p.add_argument("--cases", metavar="PREFIX", help="only log cases whose id starts with PREFIX")
    p.add_argument("--log-policy", metavar="NAME",
                   help="only log cases of this supportsim policy (case ids policy/rN/tN)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="write DIR/backtest.csv, DIR/resolution_ecdf.png and DIR/backtest.json "
                        "(the run's facts and the files' checksums)")
    p.add_argument("--force", action="store_true",
                   help="run even when the work estimate is above the refusal limit (docs/safety.md)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..eventlog.backtest import backtest, check_outputs, table_lines, write_outputs
    from ..eventlog.reader import LogError
    from ..scenario import load_scenario
    from . import UserError
    from .common import check_workload

    scenario = load_scenario(args.scenario)
    try:
        if args.out is not None:
            check_outputs(args.out)          # before simulating: nothing to overwrite
        bt = backtest(scenario, args.log, mapping_from_args(args), policy=args.policy,
                      replications=args.replications, confidence=args.confidence,
                      policy_filter=args.log_policy, case_filter=args.cases,
                      max_teams=args.max_teams or None, allow_partial=args.allow_partial,
                      seed=args.seed,
                      # the simulated horizon is the log's window plus a warm-up: known only
                      # once the log is read, so the estimate is made then, before any run
                      check=lambda scn, reps: check_workload(
                          scn, 1, reps, force=args.force, events=True, keep_tickets=False,
                          where=str(args.scenario)))
        w = bt.window
        print(f"log window {w.start:%Y-%m-%d %H:%M} to {w.end:%Y-%m-%d %H:%M} UTC "
              f"({w.days:.1f} days, {w.tickets} tickets; "
              f"{'dense window: ' + w.reason if w.dense else 'first to last creation'})")
        print(f"simulated: {args.scenario} under {bt.policy}, {bt.replications} replications "
              "over the same window after a warm-up")
        for note in bt.notes:
            print(f"note: {note}")
        for line in table_lines(bt):
            print(line)
        if args.out is not None:
            facts = {"scenario": str(args.scenario), "log": str(args.log),
                     "seed": args.seed if args.seed is not None else scenario.seed}
            for path in write_outputs(bt, args.out, facts):
                print(f"written: {path}")
    except LogError as exc:
        raise UserError(str(exc)) from None
    return 0
