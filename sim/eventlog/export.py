"""Turn simulated runs into a per-event log (one row per activity of each ticket).

The log is built one (policy, replication) run at a time and streamed to the
writer, so exporting long simulations never needs every event in memory at
once.  Timestamps are real calendar times: the scenario's ``start`` plus the
simulated minutes.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Optional

import numpy as np
import pandas as pd

from . import vocabulary as V
from .trace import TraceTable

if TYPE_CHECKING:
    from ..results import SimulationResult
    from ..scenario import Scenario

DEFAULT_START = _dt.datetime(2026, 1, 5, tzinfo=_dt.timezone.utc)   # a Monday
#: the calendar an event log's millisecond timestamps can hold (pandas' nanosecond range)
LOG_MIN = pd.Timestamp("1678-01-01", tz="UTC")
LOG_MAX = pd.Timestamp("2261-12-31", tz="UTC")


def scenario_start(scenario: "Scenario") -> pd.Timestamp:
    """The calendar time of simulated minute 0, as a UTC timestamp (naive = UTC)."""
    start = getattr(scenario, "start", None)
    if start is None:
        start = DEFAULT_START
    if isinstance(start, str):
        start = _dt.datetime.fromisoformat(start)
    elif isinstance(start, _dt.date) and not isinstance(start, _dt.datetime):
        start = _dt.datetime.combine(start, _dt.time())
    ts = pd.Timestamp(start)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    horizon_min = float(getattr(scenario, "horizon_min", 0.0) or 0.0)
    if not (LOG_MIN <= ts and ts + pd.Timedelta(minutes=horizon_min) <= LOG_MAX):
        from ..scenario import ScenarioError

        raise ScenarioError([f"start: {start} plus the {horizon_min / 1440:g}-day horizon is "
                             f"outside the dates an event log can hold ({LOG_MIN:%Y-%m-%d} to "
                             f"{LOG_MAX:%Y-%m-%d}); choose a start within them"])
    return ts


def ticket_attributes(scenario: "Scenario", replication: int, seed: int,
                      n_tickets: int) -> tuple[np.ndarray, np.ndarray]:
    """Segment and issue index of tickets ``0..n_tickets-1`` of one replication.

    Read back from the common random numbers (ticket *i* is the *i*-th draw of
    its streams, whatever the policy), so warm-up tickets, which the result
    tables do not keep, get their attributes too.
    """
    from ..models.customers import CustomerStream

    seg = np.empty(n_tickets, np.int16)
    iss = np.empty(n_tickets, np.int16)
    done = 0
    for block in CustomerStream(scenario, replication, seed).blocks():
        if done >= n_tickets:
            break
        take = min(len(block.issue), n_tickets - done)
        seg[done:done + take] = block.segment[:take]
        iss[done:done + take] = block.issue[:take]
        done += take
    return seg, iss


def run_events(table: TraceTable, scenario: "Scenario", seed: int,
               start: Optional[pd.Timestamp] = None) -> pd.DataFrame:
    """The event log of one run: one row per activity, ordered by case, then time."""
    start = scenario_start(scenario) if start is None else start
    horizon = scenario.horizon_min
    log_names = [V.ENGINE_TO_LOG.get(a, a) for a in table.activity_names]
    keep_code = np.array([name is not None for name in log_names] + [False], bool)
    keep = keep_code[table.activity] if len(table) else np.zeros(0, bool)
    n_raw = len(table)
    seq = np.arange(n_raw, dtype=np.float64)

    act = np.array([name or "" for name in log_names] + [""], dtype=object)[table.activity]
    teams = np.array(table.team_names, dtype=object)[table.team] if n_raw else np.empty(0, object)
    details = np.array(table.detail_names, dtype=object)[table.detail] if n_raw else np.empty(0, object)
    # an activity the vocabulary does not know yet is an interval if it took time
    is_interval = np.isin(act, list(V.INTERVAL_ACTIVITIES)) | (table.end > table.start)
    # still running when the horizon stopped the clock (even one that had only just begun)
    cut = is_interval & (table.end >= horizon - 1e-9)

    # helper_left: the end of each finished help interval (helpers leave when the swarm ends)
    helped = (act == V.HELPED) & ~cut
    idx = np.concatenate([np.flatnonzero(keep), np.flatnonzero(helped)])
    n_left = int(helped.sum())
    activity = np.concatenate([act[keep], np.full(n_left, V.HELPER_LEFT, object)])
    t_start = table.start[idx]
    t_end = table.end[idx]
    interval = np.concatenate([is_interval[keep], np.zeros(n_left, bool)])
    running = np.concatenate([cut[keep], np.zeros(n_left, bool)])
    t_start = np.where(interval, t_start, t_end)     # helper_left happens at the help's end
    when = np.where(running, t_start, t_end)         # a running activity is known by its start
    order_seq = np.concatenate([seq[keep], seq[helped] + 0.5])
    ticket = table.ticket[idx]
    agent = table.agent[idx]
    team_code = table.team[idx] if n_raw else np.empty(0, np.int16)
    team = teams[idx]
    detail = details[idx]

    order = np.lexsort((order_seq, when, ticket))
    activity, t_start, t_end, when, ticket, agent, team, team_code, detail, interval, running = (
        a[order] for a in (activity, t_start, t_end, when, ticket, agent, team, team_code, detail,
                           interval, running))

    # handoff target team: the team of the next agent who takes the ticket
    to_team = np.full(len(ticket), None, object)
    ho = np.flatnonzero(activity == V.HANDED_OFF)
    if len(ho):
        taken = np.flatnonzero(activity == V.TAKEN)
        nxt = np.searchsorted(taken, ho)
        for h, j in zip(ho, nxt):
            if j < len(taken) and ticket[taken[j]] == ticket[h]:
                to_team[h] = team[taken[j]]
    from_team = np.where(activity == V.HANDED_OFF, team, None)
    queue = np.where(np.isin(activity, [V.QUEUED, V.HANDED_OFF, V.SWARM_REQUESTED]) & (detail != ""),
                     detail, None)

    # cost: agent minutes times the team's rate (the engine charges exactly these intervals)
    rate = {t.name: t.cost_per_hour / 60.0 for t in scenario.teams}
    dur = np.where(interval, np.minimum(t_end, horizon) - t_start, 0.0)
    team_u = table.team_names
    team_inv = team_code.astype(np.int64)
    cost = np.array([rate.get(tm, 0.0) for tm in team_u] + [0.0])[team_inv] * dur

    # case attributes, from the common random numbers
    n_tickets = int(ticket.max()) + 1 if len(ticket) else 0
    seg_idx, iss_idx = ticket_attributes(scenario, table.replication, seed, n_tickets)
    seg_names = np.array([s.name for s in scenario.segments], object)
    iss_names = np.array([i.name for i in scenario.issues], object)
    created_at = np.full(n_tickets, np.nan)
    c = activity == V.CREATED
    created_at[ticket[c]] = when[c]
    measured = created_at[ticket] >= scenario.warmup_min

    ms_start = np.int64(start.value // 1_000_000)
    ts = pd.to_datetime(ms_start + np.round(when * 60_000.0).astype(np.int64), unit="ms", utc=True)
    ts_start = pd.to_datetime(ms_start + np.round(t_start * 60_000.0).astype(np.int64), unit="ms",
                              utc=True)
    ts_start = ts_start.where(interval)
    # names built once per distinct agent / ticket, then spread (a run has ~6 events a ticket)
    pairs = np.stack([agent.astype(np.int64), team_inv.astype(np.int64)]) if len(agent) \
        else np.zeros((2, 0), np.int64)
    pair_u, pair_inv = np.unique(pairs, axis=1, return_inverse=True)
    names = np.array([V.resource_name(team_u[ti], int(a)) if a >= 0 else None
                      for a, ti in pair_u.T] + [None], dtype=object)
    resource = names[pair_inv.ravel()] if len(agent) else np.empty(0, object)
    group = np.where(team == "", None, team)
    policy, rep = table.policy, table.replication
    tick_u, tick_inv = np.unique(ticket, return_inverse=True)
    cases = np.array([V.case_id(policy, rep, int(t)) for t in tick_u] + [""],
                     dtype=object)[tick_inv.ravel()] if len(ticket) else np.empty(0, object)
    return pd.DataFrame({
        V.CASE: cases,
        V.ACTIVITY: activity.astype(object),
        V.TIMESTAMP: ts,
        V.START: ts_start,
        V.LIFECYCLE: np.where(running, V.LIFECYCLE_START, V.LIFECYCLE_COMPLETE),
        V.RESOURCE: resource,
        V.GROUP: group,
        V.POLICY: policy,
        V.REPLICATION: np.full(len(ticket), rep, np.int32),
        V.TICKET: ticket.astype(np.int64),
        V.ISSUE: iss_names[iss_idx[ticket]] if len(ticket) else np.empty(0, object),
        V.SEGMENT: seg_names[seg_idx[ticket]] if len(ticket) else np.empty(0, object),
        V.MEASURED: measured,
        V.QUEUE: queue,
        V.FROM_TEAM: from_team,
        V.TO_TEAM: to_team,
        V.COST: np.round(cost, 6),
    }, columns=list(V.COLUMNS))


def iter_run_events(runs: Iterable[TraceTable], scenario: "Scenario", seed: int,
                    start: Optional[pd.Timestamp] = None) -> Iterator[pd.DataFrame]:
    start = scenario_start(scenario) if start is None else start
    for table in runs:
        yield run_events(table, scenario, seed, start)


def events_frame(result: "SimulationResult") -> pd.DataFrame:
    """The whole event log of a ``simulate(..., trace=True)`` result as one DataFrame."""
    frames = list(iter_run_events(_traces(result), result.scenario, result.seed))
    if not frames:
        return pd.DataFrame(columns=list(V.COLUMNS))
    return pd.concat(frames, ignore_index=True)


def _traces(result: "SimulationResult") -> list[TraceTable]:
    traces = getattr(result, "traces", None)
    if traces is None:
        raise ValueError("this result holds no traces: run simulate(..., trace=True) "
                         "to export its event log")
    return traces


def export_events(result: "SimulationResult", path: str | Path,
                  formats: Iterable[str] | str | None = None) -> list[Path]:
    """Write the event log of a ``simulate(..., trace=True)`` result.

    ``path`` is a file (``log.csv``: format from its suffix; with several formats,
    ``log.xes`` etc. beside it) or a directory (``events.<ext>`` per format;
    default CSV).  Returns the files written; each appears whole or not at all.
    """
    from .writers import open_writers

    traces = _traces(result)
    with open_writers(path, formats, result.scenario) as writers:
        for frame in iter_run_events(traces, result.scenario, result.seed):
            for w in writers:
                w.write(frame)
    return [w.path for w in writers]


def simulate_events(scenario: "Scenario", path: str | Path,
                    formats: Iterable[str] | str | None = None,
                    policies: Optional[Iterable[str]] = None, replications: Optional[int] = None,
                    seed: Optional[int] = None) -> list[Path]:
    """Simulate and stream the event log to disk one run at a time (least memory).

    Runs are the same as ``simulate`` makes (common random numbers), so the log
    matches a ``simulate`` result with the same arguments event for event.
    """
    from ..engine import run_replication
    from .writers import open_writers

    names = list(policies) if policies is not None else scenario.policy_names()
    reps = scenario.replications if replications is None else int(replications)
    seed = scenario.seed if seed is None else int(seed)
    start = scenario_start(scenario)
    with open_writers(path, formats, scenario) as writers:
        for policy in names:
            for rep in range(reps):
                run = run_replication(scenario, policy, rep, seed, trace=True)
                table = TraceTable.from_trace(policy, rep, run.trace or [])
                frame = run_events(table, scenario, seed, start)
                for w in writers:
                    w.write(frame)
    return [w.path for w in writers]
