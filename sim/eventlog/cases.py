"""One row per ticket from a cleaned event log: the facts every estimate is built on.

A single ordered pass over each case's events gives its arrival, outcome, handoffs, the teams
that took it, who resolved it, time queued, work per episode, reopen history and swarm help -
and counts what does not add up (missing creation, clock skew, conflicting attributes).
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd

from . import vocabulary as V
from .reader import Report

_RANK = {a: i for i, a in enumerate(V.ACTIVITIES)}
_AGENT_ACTS = V.INTERVAL_ACTIVITIES | {V.TAKEN, V.HELPER_JOINED, V.SWARM_REQUESTED}


def case_table(df: pd.DataFrame, report: Report) -> pd.DataFrame:
    """One row per ticket: arrival, outcome, handoffs, teams, queue exposure, issue, segment."""
    df = df.assign(_rank=df["activity"].map(_RANK).fillna(99))
    df = df.sort_values(["case", "ts", "_rank"], kind="stable").reset_index(drop=True)
    log_end = df["ts"].max()
    has_taken = (df["activity"] == V.TAKEN).any()
    has_handoff = (df["activity"] == V.HANDED_OFF).any()
    case = df["case"].to_numpy()
    act = df["activity"].to_numpy()
    ts = df["ts"].to_numpy()                          # datetime64[ns] (UTC)
    group = df["group"].to_numpy(dtype=object)
    issue = df["issue"].to_numpy(dtype=object)
    segment = df["segment"].to_numpy(dtype=object)
    resource = df["resource"].to_numpy(dtype=object)
    began = df["start"].to_numpy()
    unfinished = df["open_activity"].to_numpy(dtype=bool)
    bounds = np.flatnonzero(case[1:] != case[:-1]) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(case)]])
    rows = []
    no_created = skewed = conflicting = 0
    one_min = np.timedelta64(60, "s")
    for s, e in zip(starts, ends):
        a = act[s:e]
        t = ts[s:e]
        created = np.flatnonzero(a == V.CREATED)
        if len(created):
            arrival = t[created[0]]
        else:
            arrival = t.min()
            no_created += 1
        skewed += int((t < arrival - np.timedelta64(1, "s")).sum())
        term = np.flatnonzero((a == V.RESOLVED) | (a == V.ABANDONED))
        reopen = np.flatnonzero(a == V.REOPENED)
        outcome, end = "open", None
        if len(term) and not (len(reopen) and reopen[-1] > term[-1]):
            outcome = "resolved" if a[term[-1]] == V.RESOLVED else "abandoned"
            end = t[term[-1]]
        # teams in the order they took the ticket
        who = np.flatnonzero(a == V.TAKEN) if has_taken else np.flatnonzero(
            np.isin(a, list(_AGENT_ACTS)))
        teams = [group[s + i] for i in who if isinstance(group[s + i], str)]
        seq = [x for i, x in enumerate(teams) if i == 0 or x != teams[i - 1]]
        handoffs = int((a == V.HANDED_OFF).sum()) if has_handoff else max(len(seq) - 1, 0)
        # the team that resolved it: who did the final work
        # swarms: the owner asked for help, a (qualified) helper came - evidence of tiers too
        swarm_pairs = []
        owner_team = None
        for i in range(len(a)):
            if a[i] == V.SWARM_REQUESTED:
                owner_team = group[s + i]
            elif a[i] == V.HELPER_JOINED and isinstance(owner_team, str) \
                    and isinstance(group[s + i], str) and group[s + i] != owner_team:
                swarm_pairs.append((owner_team, group[s + i]))
        # a swarm's total effort: the owner's joint-work time x (owner + helpers)
        swarm_effort = ()
        sw = np.flatnonzero(a == V.SWARM_WORKED)
        if len(sw) == 1 and not unfinished[s + sw[0]] and began[s + sw[0]] == began[s + sw[0]]:
            joined = int((a == V.HELPER_JOINED).sum())
            if joined:
                swarm_effort = ((t[sw[0]] - began[s + sw[0]]) / one_min * (1 + joined),)
        resolver = None
        if outcome == "resolved":
            # the team able to resolve it: the last helper of a swarm, else who did the work
            helpers = np.flatnonzero(a == V.HELPER_JOINED)
            work = np.flatnonzero(a == V.WORKED)
            pick = helpers[-1] if len(helpers) else (
                work[-1] if len(work) else (who[-1] if len(who) else None))
            if pick is not None and isinstance(group[s + pick], str):
                resolver = group[s + pick]
        # time spent queued: each queued event until the next take / abandon / help
        exposure = 0.0
        q_at = None
        for i in range(len(a)):
            if a[i] == V.QUEUED:
                q_at = t[i] if q_at is None else q_at
            elif q_at is not None and a[i] in (V.TAKEN, V.ABANDONED, V.HELPER_JOINED):
                exposure += (t[i] - q_at) / one_min
                q_at = None
        if q_at is not None and outcome == "open":
            exposure += (log_end - q_at) / one_min      # still waiting when the log ends
        # work per episode (a reopen starts the work over); sessions of one episode add up
        episodes, ep_work, ep_ok, gaps, routes = [], 0.0, True, [], []
        last_resolved, resolver_before = None, None
        for i in range(len(a)):
            if a[i] == V.WORKED:
                if unfinished[s + i] or began[s + i] != began[s + i]:      # NaT: unknown length
                    ep_ok = False
                else:
                    ep_work += (t[i] - began[s + i]) / one_min
                if isinstance(group[s + i], str):
                    resolver_before = group[s + i]
            elif a[i] == V.RESOLVED:
                if ep_ok and ep_work > 0:
                    episodes.append(ep_work)
                if last_resolved is not None:        # resolved again without a reopen between
                    gaps.append((math.nan, (log_end - last_resolved) / one_min))
                last_resolved = t[i]
            elif a[i] == V.REOPENED:
                ep_work, ep_ok = 0.0, True
                if last_resolved is not None:
                    gaps.append(((t[i] - last_resolved) / one_min,
                                 (log_end - last_resolved) / one_min))
                    last_resolved = None
                nxt = next((group[s + j] for j in range(i + 1, len(a)) if a[j] == V.TAKEN), None)
                routes.append((seq[0] if seq else None, resolver_before, nxt))
        if last_resolved is not None:   # the last resolution: watched until the log ends
            gaps.append((math.nan, (log_end - last_resolved) / one_min))
        iss = [x for x in issue[s:e] if isinstance(x, str)]
        seg = [x for x in segment[s:e] if isinstance(x, str)]
        if len(set(iss)) > 1 or len(set(seg)) > 1:
            conflicting += 1
        rows.append((case[s], arrival, outcome, end, handoffs, tuple(seq), resolver, exposure,
                     Counter(iss).most_common(1)[0][0] if iss else None,
                     Counter(seg).most_common(1)[0][0] if seg else None,
                     int(len(reopen)), len({r for r in resource[s:e] if isinstance(r, str)}),
                     tuple(episodes), int((a == V.RESOLVED).sum()), tuple(gaps), tuple(routes),
                     tuple(swarm_pairs), swarm_effort))
    cases = pd.DataFrame(rows, columns=["case", "arrival", "outcome", "end", "handoffs", "teams",
                                        "resolver", "queued_min", "issue", "segment", "reopens",
                                        "agents", "work_min", "resolutions", "reopen_gaps",
                                        "reopen_routes", "swarm_pairs", "swarm_effort"])
    cases["arrival"] = pd.to_datetime(cases["arrival"], utc=True)
    cases["end"] = pd.to_datetime(cases["end"], utc=True)
    cases["resolution_min"] = (cases["end"] - cases["arrival"]).dt.total_seconds() / 60.0
    report.problem(no_created, "tickets without a 'created' event: arrival = their first event")
    report.problem(skewed, "events timestamped before their ticket was created (clock skew): kept")
    report.problem(conflicting, "tickets whose issue or segment changes within the log: the most "
                   "frequent value used")
    n_open = int((cases["outcome"] == "open").sum())
    report.problem(n_open, "tickets without a resolved/abandoned event (still open or end event "
                   "missing): count as arrivals, left out of resolution times")
    report.problem(int((cases["reopens"] > 0).sum()), "tickets reopened at least once")
    neg = cases["resolution_min"] < 0
    report.problem(int(neg.sum()), "tickets resolved before they were created (clock skew): "
                   "resolution time left out")
    cases.loc[neg, "resolution_min"] = np.nan
    return cases


# --------------------------------------------------------------------------- estimators
