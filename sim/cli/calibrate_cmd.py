"""``calibrate LOG --out scenario.yaml``: estimate a scenario from a ticket event log."""
from __future__ import annotations

import os
import tempfile
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
    p.add_argument("--mapping", type=Path, metavar="YAML",
                   help="column/activity mapping file (columns:, activities:, timezone:)")
    p.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                   help="column of a field, e.g. case=ticket_id (repeatable); fields: case, "
                        "activity, timestamp, start, lifecycle, resource, group, issue, segment, "
                        "cost, from_team, to_team")
    p.add_argument("--activity", action="append", default=[], metavar="NAME=ACTIVITY",
                   help="log activity name meaning a supportsim activity, e.g. "
                        "'Ticket Closed=resolved' (repeatable)")
    p.add_argument("--timezone", help="zone of timestamps that carry no offset (default UTC)")
    p.add_argument("--shift-hours", type=positive_float, default=8.0,
                   help="window for counting distinct active agents per team (default 8)")
    p.add_argument("--policy", help="only cases of this supportsim policy (case ids policy/rN/tN)")
    p.add_argument("--cases", metavar="PREFIX", help="only cases whose id starts with PREFIX")
    p.add_argument("--name", help="scenario name (default: the log's file name)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..eventlog.calibrate import calibrate
    from ..eventlog.reader import LogError, Mapping
    from . import UserError

    try:
        mapping = Mapping.build(args.mapping, args.map, args.activity, args.timezone)
        cal = calibrate(args.log, mapping, name=args.name, shift_hours=args.shift_hours,
                        policy=args.policy, case_filter=args.cases)
    except LogError as exc:
        raise UserError(str(exc)) from None
    for line in cal.report.text():
        print(line)
    text = cal.yaml_text()
    out: Path = args.out
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, out)
    except OSError as exc:
        raise UserError(f"{out}: cannot write ({exc.strerror or exc})") from None
    print(f"scenario written to {out}")
    return 0
