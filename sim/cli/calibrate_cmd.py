"""``calibrate LOG --out scenario.yaml``: estimate a scenario from a ticket event log."""
from __future__ import annotations

from pathlib import Path

from .common import positive_float


def add_parser(sub) -> None:
    p = sub.add_parser(
        "calibrate", help="estimate a scenario from a ticket event log (CSV, Parquet or XES)",
        description="Read a ticket event log and write a valid scenario. Columns default to the "
                    "process-mining names (case:concept:name, concept:name, time:timestamp, "
                    "start_timestamp, lifecycle:transition, org:resource, org:group, case:issue, "
                    "case:segment, cost); see docs/eventlog.md.")
    p.add_argument("log", type=Path, help="event log: .csv, .parquet or .xes")
    p.add_argument("--out", type=Path, required=True, help="scenario YAML to write")
    add_mapping_options(p)
    p.add_argument("--shift-hours", type=positive_float, default=8.0,
                   help="window for counting distinct active agents per team (default 8)")
    p.add_argument("--policy", help="only cases of this supportsim policy (case ids policy/rN/tN)")
    p.add_argument("--cases", metavar="PREFIX", help="only cases whose id starts with PREFIX")
    p.add_argument("--name", help="scenario name (default: the log's file name)")
    p.add_argument("--max-issues", type=_max_teams, default=12, metavar="N",
                   help="merge the rarest issue types, per tier, into 'other (tier k)' beyond N "
                        "(default 12; 0 = never merge)")
    p.add_argument("--allow-overload", action="store_true",
                   help="write the scenario even if a team is offered more work than its agents "
                        "can do (default: one line naming the team, exit 2)")
    p.add_argument("--verbose", action="store_true",
                   help="print the whole report (default: at most ~40 lines; the written "
                        "scenario's header always has all of it)")
    p.set_defaults(func=run)


def add_mapping_options(p) -> None:
    """The options that say how to read a log: shared by calibrate and backtest."""
    p.add_argument("--mapping", type=Path, metavar="YAML",
                   help="column/activity/status mapping file (columns:, activities:, statuses:, "
                        "groups:, timezone:)")
    p.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                   help="column of a field, e.g. case=ticket_id (repeatable); fields: case, "
                        "activity, timestamp, start, lifecycle, resource, group, issue, segment, "
                        "cost, from_team, to_team, status, role")
    p.add_argument("--activity", action="append", default=[], metavar="NAME=ACTIVITY",
                   help="log activity name meaning a supportsim activity, e.g. "
                        "'Ticket Closed=resolved' (repeatable)")
    p.add_argument("--status", action="append", default=[], metavar="NAME=CLASS",
                   help="a status of a status-based log and its class (work, queue, "
                        "customer_wait, resolved, cancelled), e.g. 'With Vendor=customer_wait'")
    p.add_argument("--timezone", help="zone of timestamps that carry no offset (default UTC)")
    p.add_argument("--group-pattern", metavar="REGEX",
                   help="rewrite group names: named groups (?P<team>...) and (?P<tier>...) (or "
                        "group 1 = team), e.g. '(?P<team>.+) (?P<tier>[0-9])(st|nd|rd|th)$'")
    p.add_argument("--max-teams", type=_max_teams, default=10, metavar="N",
                   help="merge the smallest groups into their support line until at most N "
                        "teams remain (default 10; 0 = never merge)")
    p.add_argument("--allow-partial", action="store_true",
                   help="go on even if more than half of the log's rows are ignored")


def _max_teams(text: str) -> int:
    import argparse

    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= n <= 1000:
        raise argparse.ArgumentTypeError(f"must be 0-1000, got {n}")
    return n


def mapping_from_args(args):
    from ..eventlog.reader import Mapping

    return Mapping.build(args.mapping, args.map, args.activity, args.timezone,
                         group_pattern=args.group_pattern, status_pairs=args.status)


def run(args) -> int:
    from ..atomic import write_text
    from ..eventlog.calibrate import calibrate
    from ..eventlog.reader import LogError
    from . import UserError

    from ..outputs import check_replaceable, signed_text

    check_replaceable(args.out)      # before reading the log: never overwrite a user's file
    try:
        mapping = mapping_from_args(args)
        cal = calibrate(args.log, mapping, name=args.name, shift_hours=args.shift_hours,
                        policy=args.policy, case_filter=args.cases,
                        max_teams=args.max_teams or None, allow_partial=args.allow_partial,
                        allow_overload=args.allow_overload, max_issues=args.max_issues or None)
    except LogError as exc:
        raise UserError(str(exc)) from None
    for line in cal.report.text(verbose=args.verbose):
        print(line)
    text = signed_text(cal.yaml_text())
    out: Path = args.out
    try:
        check_replaceable(out)
        write_text(out, text)        # sim.atomic: the one atomic writer
    except OSError as exc:
        raise UserError(f"{out}: cannot write ({exc.strerror or exc})") from None
    print(f"scenario written to {out}")
    return 0
