"""One way from a log file to per-ticket facts, shared by ``calibrate`` and ``backtest``.

Both commands must see the same log the same way - the same statuses, the same teams after
rewriting and merging, the same arrival window - or a backtest would compare a scenario with a
log other than the one it was calibrated from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pandas as pd

from . import vocabulary as V
from .cases import case_table
from .groups import DEFAULT_MAX_TEAMS, organise
from .reader import LogError, Mapping, Report, clean, read_event_log
from .window import Window, arrival_window

MAX_IGNORED_SHARE = 0.5


@dataclass
class Prepared:
    path: Path
    rows: pd.DataFrame               # canonical rows with a vocabulary activity
    cases: pd.DataFrame              # one row per ticket (cases.case_table)
    report: Report
    window: Window
    level: dict[str, int] = field(default_factory=dict)   # team -> line its name states
    status_log: bool = False


def prepare(path: str | Path, mapping: Optional[Mapping] = None, policy: Optional[str] = None,
            case_filter: Optional[str] = None, max_teams: Optional[int] = DEFAULT_MAX_TEAMS,
            allow_partial: bool = False, frame: Optional[pd.DataFrame] = None,
            report: Optional[Report] = None) -> Prepared:
    """Read ``path`` (or the in-memory ``frame``), filter, organise teams, build the ticket table
    and find the arrival window.  More than half the rows ignored is a LogError unless
    ``allow_partial``."""
    path = Path(path)
    mapping = mapping or Mapping()
    if frame is not None:
        report = report or Report()
        df = clean(frame, mapping, report, str(path))
    else:
        df, report = read_event_log(path, mapping, report)
    facts = df.attrs.get("status_facts")
    roles = df.attrs.get("group_roles") or {}
    if policy is not None or case_filter is not None:
        keep = pd.Series(True, index=df.index)
        if case_filter is not None:
            keep &= df["case"].str.startswith(case_filter)
        if policy is not None:
            keep &= df["case"].str.startswith(f"{policy}/")
        report.add(int((~keep).sum()), "rows of other cases left out (--policy/--cases filter)")
        df = df[keep].reset_index(drop=True)
        if not len(df):
            raise LogError(f"{path}: no case matches --policy/--cases "
                           f"{policy if policy is not None else case_filter!r}")
    df = one_run(df, report)
    known = df[df["activity"].isin(set(V.ACTIVITIES))]
    if not len(known):
        raise LogError(f"{path}: no rows with a recognised activity; map the log's activity names "
                       "with --activity NAME=ACTIVITY (e.g. 'Ticket Created=created')")
    read, ignored = report.rows_read, report.rows_ignored
    if read and ignored > MAX_IGNORED_SHARE * read:
        if not allow_partial:
            raise LogError(f"{path}: {ignored} of {read} rows ({ignored / read:.0%}) could not be "
                           "read or mapped (see the report's 'ignored'/'dropped' lines: map "
                           "activities with --activity, statuses in the mapping's statuses:, "
                           "columns with --map), so a scenario would describe a fraction of the "
                           "log; --allow-partial calibrates from the rest anyway")
        report.add(ignored, f"rows ignored out of {read} ({ignored / read:.0%}): calibrated from "
                   "the rest (--allow-partial)")
    if report.cases_dropped:
        report.add(report.cases_dropped, "tickets dropped: every row of theirs was ignored")
    known, level = organise(known, mapping.group_rules, max_teams, roles, report,
                            sources=mapping.group_rule_sources)
    cases = case_table(known, report)
    if len(cases) < 2:
        raise LogError(f"{path}: fewer than two usable tickets; nothing to calibrate from")
    if facts is not None and len(facts):
        f = facts.set_index("case")
        cases["queued_min"] = cases["case"].map(f["queue_min"]).fillna(cases["queued_min"])
        cases["customer_wait_min"] = cases["case"].map(f["customer_wait_min"]).fillna(0.0)
    window = arrival_window(cases["arrival"])
    if (cases["arrival"].max() - cases["arrival"].min()).total_seconds() <= 0:
        raise LogError(f"{path}: every ticket arrived at the same instant; no arrival rate")
    if window.dense:
        report.add(window.total - window.tickets, f"tickets created outside the arrival window, "
                   f"left out of the arrival rate: {window.reason}")
        if window.snapshot:
            report.add(None, "WARNING: the log looks like a snapshot extract (creations pile up "
                       "near its end after a long sparse head: old tickets still open when it "
                       "was taken); the arrival rate is the window's, resolution times of the "
                       "newest tickets are cut short by the extract")
    return Prepared(path, known.reset_index(drop=True), cases, report, window, level,
                    status_log=facts is not None)


def one_run(df: pd.DataFrame, report: Report) -> pd.DataFrame:
    """A supportsim log of several runs (policies x replications) overlays several organisations
    on the same calendar: calibrate from one run - tiered's first if there is one."""
    run = df["case"].str.extract(r"^([^/]+/r\d+)/t\d+$", expand=False)
    runs = list(dict.fromkeys(run.dropna()))
    if len(runs) < 2 or run.isna().any():
        return df
    pick = "tiered/r0" if "tiered/r0" in runs else sorted(runs)[0]
    keep = run == pick
    report.add(len(runs), f"supportsim runs (policy/replication) in this log: calibrated from "
               f"{pick} alone ({int((~keep).sum())} rows of the others left out); choose another "
               "with --cases PREFIX or --policy NAME")
    return df[keep].reset_index(drop=True)
