"""Calibrate a scenario from a ticket event log.

What the log can tell, it tells: arrival rate (with hour-of-day and weekday
profile), issue types and shares, work, diagnosis, handoff and repeat times
(fitted distributions), escalation structure (which team passes tickets to
which), handoff rates, team sizes (distinct active agents per shift), costs
per hour (if the log has costs), segment shares, patience (from abandonments)
and priority (from waiting times).  What it cannot tell - the horizon, the
number of replications, the policies' parameters, anything a column was
missing for - is written with an ``# ASSUMPTION:`` comment.

Model of the organisation that is fitted (say so, because it is a choice):
teams are ordered into tiers by the net direction of handoffs between them;
an issue type's tier is the lowest tier of a team that resolves it; a team
can resolve every issue type at or below its tier (nested skills).
"""
from __future__ import annotations

import datetime as _dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pandas as pd
import yaml

from . import vocabulary as V
from .fit import FitResult, fit_durations
from .reader import LogError, Mapping, Report, read_event_log

DEFAULT_SHIFT_HOURS = 8.0
SEP = " | "             # between separate notes of one YAML comment (assumptions go first)
TARGET_UTILISATION = 0.8
_RANK = {a: i for i, a in enumerate(V.ACTIVITIES)}
_AGENT_ACTS = V.INTERVAL_ACTIVITIES | {V.TAKEN, V.HELPER_JOINED, V.SWARM_REQUESTED}


@dataclass
class Calibration:
    """The estimated scenario (plain data), the comments to write beside it, and the report."""

    data: dict[str, Any]
    comments: dict[str, str]                   # YAML path -> comment
    report: Report
    header: list[str] = field(default_factory=list)
    arrival_rate: float = math.nan
    arrival_ci: tuple[float, float] = (math.nan, math.nan)
    issue_counts: dict[str, int] = field(default_factory=dict)
    work_fits: dict[str, FitResult] = field(default_factory=dict)
    cases: pd.DataFrame | None = None

    def yaml_text(self) -> str:
        return render_yaml(self)


# --------------------------------------------------------------------------- per case
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
def _tiers(cases: pd.DataFrame, teams: list[str]) -> tuple[dict[str, int], Counter]:
    """Order teams by the net direction of handoffs and swarm help (Copeland score) into
    tiers 1, 2, ...: a team that receives more work from another than it passes back is higher."""
    flow: Counter = Counter()
    for seq in cases["teams"]:
        for a, b in zip(seq, seq[1:]):
            flow[(a, b)] += 1
    for pairs in cases["swarm_pairs"]:
        for a, b in pairs:
            flow[(a, b)] += 1
    score = {t: 0 for t in teams}
    for i, a in enumerate(teams):
        for b in teams[i + 1:]:
            net = flow[(a, b)] - flow[(b, a)]
            if net > 0:
                score[a] -= 1
                score[b] += 1
            elif net < 0:
                score[a] += 1
                score[b] -= 1
    levels = sorted(set(score.values()))
    return {t: levels.index(score[t]) + 1 for t in teams}, flow


def _reopens(cases: pd.DataFrame, issue: str, entry: dict, report: Report, note: str) -> str:
    """Reopen probability (failed resolutions / resolutions), delay fit and where re-contacts go."""
    from ..scenario import IssueType

    reopens = int(cases["reopens"].sum())
    if not reopens or "reopen_probability" not in IssueType.model_fields:
        if reopens:
            note = (note + SEP if note else "") + f"{reopens} reopens seen (no scenario key yet)"
        return note

    obs = np.array([g for gaps in cases["reopen_gaps"] for g in gaps], dtype=float).reshape(-1, 2)
    p, mean_delay, naive = _reopen_mle(obs[:, 0], obs[:, 1])
    entry["reopen_probability"] = round(min(p, 0.99), 4)
    entry["reopen_delay"] = {"dist": "exponential", "mean": _round4(mean_delay)}
    delay = fit_durations(obs[~np.isnan(obs[:, 0]), 0])
    n_res = len(obs)
    half = 1.96 * math.sqrt(p * (1 - p) / max(n_res, 1))
    # where did re-contacts go: back to the team that resolved it, or to the entry team?
    back = entry_ = 0
    for routes in cases["reopen_routes"]:
        for first, resolver, nxt in routes:
            if first is None or resolver is None or nxt is None or first == resolver:
                continue          # uninformative: the entry team resolved it
            back += nxt == resolver
            entry_ += nxt == first
    entry["reopen_to"] = "last_queue" if back > entry_ else "entry"
    report.add(reopens, f"reopens of {issue} over {n_res} resolutions: probability {p:.3f} "
               f"(about +-{half:.3f}; {naive:.3f} before correcting for resolutions too recent to "
               f"have come back), delay mean {mean_delay:.1f} min; observed delays "
               f"{delay.describe() if delay else '?'}; re-contacts to the resolving team {back}, "
               f"to the entry team {entry_}")
    notes = ["ASSUMPTION: exponential reopen delay (fitted jointly with the probability, "
             "allowing for customers not back yet when the log ends)"]
    if back == entry_ == 0:
        notes.append("ASSUMPTION: reopen_to entry (no informative reopens)")
    return SEP.join(([note] if note else []) + notes)


def _round4(x: float) -> float:
    return float(f"{x:.4g}")


def _reopen_mle(delay: np.ndarray, window: np.ndarray) -> tuple[float, float, float]:
    """Probability p that a resolution fails and mean delay m of the customer's return.

    Each resolution is watched for ``window`` minutes (until the log ends); the customer came
    back after ``delay`` minutes, or not (NaN) - because it did not fail, or because they had
    not returned yet.  Maximum likelihood with an exponential delay:
    L = prod_back p e^(-d/m)/m * prod_not (1 - p (1 - e^(-w/m))).
    Returns (p, m, naive p = returns / resolutions).
    """
    from scipy import optimize

    back = ~np.isnan(delay)
    k, n = int(back.sum()), len(delay)
    naive = k / n
    d, w = delay[back], window[~back]
    m0 = float(d.mean()) if k else 1440.0

    def nll(theta):
        p = 1 / (1 + math.exp(-theta[0]))
        m = math.exp(theta[1])
        ll = k * math.log(p) - k * math.log(m) - d.sum() / m
        ll += np.log1p(-p * -np.expm1(-w / m)).sum()
        return -ll

    start = [math.log(naive / (1 - naive)) if 0 < naive < 1 else 0.0, math.log(m0)]
    res = optimize.minimize(nll, start, method="Nelder-Mead",
                            options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 2000})
    p = 1 / (1 + math.exp(-res.x[0]))
    return p, math.exp(res.x[1]), naive


def _size_unnamed_teams(teams: list[dict], issues: list[dict], per_hour: float) -> None:
    """Agents for teams whose members the log does not name: enough for the work of the issues
    whose tier is the team's (shared among that tier's teams) at TARGET_UTILISATION."""
    from pydantic import TypeAdapter

    from ..distributions import Distribution as D

    mean_of = {i["name"]: TypeAdapter(D).validate_python(i["work"]).mean for i in issues}
    for team in teams:
        if team["agents"] is not None:
            continue
        peers = sum(1 for t in teams if t["tier"] == team["tier"])
        load = sum(per_hour / 60 * i["share"] * mean_of[i["name"]] for i in issues
                   if i["tier"] == team["tier"]) / peers
        team["agents"] = max(1, math.ceil(load / TARGET_UTILISATION))


def _swarm_overhead(cases: pd.DataFrame, work_rows: pd.DataFrame, report: Report,
                    min_n: int = 20) -> float | None:
    """Extra effort of swarming: a swarm's total effort / the same issue's solo work, minus 1.

    Per issue type with at least ``min_n`` swarmed and ``min_n`` solo tickets, weighted by the
    number of swarms (who gets swarmed does not depend on how hard the problem is, so the
    two samples are of the same work)."""
    num = den = 0.0
    parts = []
    for iss, c in cases.groupby("issue"):
        effort = [e for es in c["swarm_effort"] for e in es]
        solo = work_rows.loc[work_rows["issue"] == iss, "minutes"]
        if len(effort) >= min_n and len(solo) >= min_n:
            ratio = float(np.mean(effort)) / float(solo.mean())
            num += len(effort) * (ratio - 1)
            den += len(effort)
            parts.append(f"{iss}: {ratio - 1:+.3f} (n={len(effort)} swarms, {len(solo)} solo)")
    if not den:
        return None
    overhead = round(max(num / den, 0.0), 4)
    report.add(None, f"swarm overhead {overhead:.3f} = swarm effort / solo work - 1: "
               + ", ".join(parts))
    return overhead


def _durations(df: pd.DataFrame, activity: str) -> pd.DataFrame:
    rows = df[(df["activity"] == activity) & df["start"].notna() & ~df["open_activity"]]
    return rows.assign(minutes=(rows["ts"] - rows["start"]).dt.total_seconds() / 60.0)


def _shares(counts: dict[str, int]) -> dict[str, float]:
    """Shares rounded to 4 decimals that sum to exactly 1 (the rounding rest on the largest)."""
    total = sum(counts.values())
    shares = {k: round(v / total, 4) for k, v in counts.items()}
    top = max(shares, key=shares.get)
    shares[top] = round(1.0 - sum(v for k, v in shares.items() if k != top), 4)
    return shares


def _profile(arrivals: pd.Series, tz, key: str, n: int) -> tuple[list[float], float]:
    """Relative arrival rate per hour-of-day / weekday (mean 1) and the chi-square p-value
    of 'no profile at all' (flat).  ``tz``: the scenario clock's fixed UTC offset."""
    from scipy import stats

    local = arrivals.dt.tz_convert(tz)
    idx = local.dt.hour if key == "hour" else local.dt.day_of_week
    # exposure: how many of each hour/weekday the window covers
    span = pd.date_range(local.min().floor("h"), local.max().ceil("h"), freq="h", inclusive="left")
    exp_idx = span.hour if key == "hour" else span.day_of_week
    exposure = np.bincount(np.asarray(exp_idx), minlength=n).astype(float)
    counts = np.bincount(idx.to_numpy(), minlength=n).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(exposure > 0, counts / exposure, np.nan)
    mean = np.nanmean(rate)
    prof = [round(float(r / mean), 3) if np.isfinite(r) else 1.0 for r in rate]
    ok = exposure > 0
    expected = exposure[ok] / exposure[ok].sum() * counts.sum()
    p = float(stats.chisquare(counts[ok], expected).pvalue) if ok.sum() > 1 else math.nan
    return prof, p


def _team_sizes(df: pd.DataFrame, shift_hours: float) -> dict[str, dict[str, float]]:
    """Distinct agents active per shift window, per team: median, 90th percentile, max."""
    act = df[df["resource"].notna() & df["group"].notna()]
    if not len(act):
        return {}
    origin = act["ts"].min().floor("D")
    shift = ((act["ts"] - origin).dt.total_seconds() // (shift_hours * 3600)).astype(int)
    per = act.assign(shift=shift).groupby(["group", "shift"])["resource"].nunique()
    out = {}
    for team, s in per.groupby(level=0):
        out[team] = {"median": float(s.median()), "p90": float(s.quantile(0.9)),
                     "max": float(s.max()), "distinct": float(act.loc[act["group"] == team,
                                                                       "resource"].nunique()),
                     "shifts": float(len(s))}
    return out


# --------------------------------------------------------------------------- calibration
def calibrate(path: str | Path, mapping: Optional[Mapping] = None, name: Optional[str] = None,
              shift_hours: float = DEFAULT_SHIFT_HOURS, policy: Optional[str] = None,
              case_filter: Optional[str] = None) -> Calibration:
    """Estimate a valid scenario from the event log at ``path``.

    ``policy``: keep only cases of that ``case:policy`` (a supportsim log of
    several policies mixes organisations). ``case_filter``: keep cases whose id
    starts with this prefix (e.g. ``tiered/r0/``).
    """
    from ..scenario import Arrivals, Scenario, ScenarioError, scenario_from_dict

    path = Path(path)
    mapping = mapping or Mapping()
    df, report = read_event_log(path, mapping)
    if policy is not None or case_filter is not None:
        keep = pd.Series(True, index=df.index)
        if case_filter is not None:
            keep &= df["case"].str.startswith(case_filter)
        if policy is not None:
            keep &= df["case"].str.startswith(f"{policy}/")
        report.add(int((~keep).sum()), "rows of other cases left out (--policy/--cases filter)")
        df = df[keep].reset_index(drop=True)
    known = df[df["activity"].isin(set(V.ACTIVITIES))]
    if not len(known):
        raise LogError(f"{path}: no rows with a recognised activity; map the log's activity names "
                       "with --activity NAME=ACTIVITY (e.g. 'Ticket Created=created')")
    cases = case_table(known, report)
    # a log of several supportsim runs interleaves organisations: say so
    multi = df["case"].str.extract(r"^([^/]+/r\d+)/t\d+$", expand=False).dropna().nunique()
    if multi > 1:
        report.add(int(multi), "supportsim runs (policy/replication) mixed in this log: every run "
                   "is treated as one continuous period - use --policy/--cases to pick one")
    comments: dict[str, str] = {}
    header: list[str] = []
    n = len(cases)
    if n < 2:
        raise LogError(f"{path}: fewer than two usable tickets; nothing to calibrate from")

    # ---- arrivals
    arr = cases["arrival"].sort_values()
    span_h = (arr.iloc[-1] - arr.iloc[0]).total_seconds() / 3600.0
    if span_h <= 0:
        raise LogError(f"{path}: every ticket arrived at the same instant; no arrival rate")
    rate = (n - 1) / span_h
    half = 1.96 * rate / math.sqrt(n - 1)
    report.add(n, f"tickets; arrival rate {rate:.3f}/hour (95% CI {rate - half:.3f}-"
               f"{rate + half:.3f}) over {span_h / 24:.1f} days")
    arrivals: dict[str, Any] = {"per_hour": round(rate, 4)}
    # the scenario clock is the wall clock of `start`, a fixed UTC offset: the log's time zone
    # as it was when the log begins (profiles and start are written in that offset)
    clock = _dt.timezone(arr.iloc[0].tz_convert(mapping.timezone).utcoffset())
    hourly, p_h = (_profile(arr, clock, "hour", 24) if span_h >= 48 else (None, math.nan))
    weekly, p_w = (_profile(arr, clock, "weekday", 7) if span_h >= 14 * 24
                   else (None, math.nan))
    prof_notes = []
    for key, prof, p, label in (("hourly_profile", hourly, p_h, "hour-of-day"),
                                ("weekday_profile", weekly, p_w, "weekday")):
        if prof is None:
            prof_notes.append(f"{label} profile: log too short to estimate")
            continue
        report.add(None, f"{label} arrival profile (relative rate, UTC{_offset_text(clock)}): {prof} "
                   f"(chi-square p={p:.3g} against a flat rate)")
        if not p < 0.05:
            prof_notes.append(f"{label} profile not distinguishable from flat (p={p:.2g}): "
                              "constant rate")
        elif key in Arrivals.model_fields:
            arrivals[key] = prof
        else:
            prof_notes.append(f"{label} profile (not a scenario key yet): {prof}")
    comments["arrivals"] = "Poisson, estimated from ticket creation times" + (
        "; " + "; ".join(prof_notes) if prof_notes else "")

    # ---- teams and tiers
    team_names = sorted({t for seq in cases["teams"] for t in seq} |
                        set(known["group"].dropna().unique()))
    if not team_names:
        team_names = ["team"]
        df = df.assign(group=df["group"].fillna("team"))
        comments["teams"] = "ASSUMPTION: the log names no teams; one team does everything"
    tier_of, flow = _tiers(cases, team_names)
    if flow:
        report.add(None, "handoffs and swarm help between teams (from -> to: count): " + ", ".join(
            f"{a}->{b}: {c}" for (a, b), c in sorted(flow.items(), key=lambda kv: -kv[1])[:12]))
    report.add(None, "team tiers from the net direction of handoffs: " +
               ", ".join(f"{t}={tier_of[t]}" for t in team_names))

    # ---- issues
    cases["issue"] = cases["issue"].fillna("unknown") if cases["issue"].notna().any() else "all"
    if (cases["issue"] == "all").all():
        comments["issues"] = "ASSUMPTION: the log has no issue type column; one issue type 'all'"
    issue_counts = cases["issue"].value_counts().to_dict()
    issue_shares = _shares(issue_counts)
    resolved = cases[cases["outcome"] == "resolved"]
    issue_tier: dict[str, int] = {}
    issue_notes: dict[str, str] = {}
    for iss in issue_counts:
        res = resolved.loc[resolved["issue"] == iss, "resolver"].dropna()
        counts = res.value_counts()
        floor = max(2, 0.02 * len(res))
        able = [tier_of.get(t, 1) for t, c in counts.items() if c >= floor] or \
            [tier_of.get(t, 1) for t in counts.index]
        if able:
            issue_tier[iss] = min(able)
        else:
            issue_tier[iss] = max(tier_of.values())
            issue_notes[iss] = "ASSUMPTION: tier = top tier (no team recorded resolving it)"
    top = max(tier_of.values())

    # ---- durations
    work_fits: dict[str, FitResult] = {}
    # work of a ticket = its 'worked' sessions added up (shift handovers and interruptions
    # split work into several sessions); a reopen starts the work over: one sample per episode
    work_rows = cases[["case", "issue", "work_min"]].explode("work_min").dropna(subset=["work_min"])
    work_rows = work_rows.assign(minutes=work_rows["work_min"].astype(float))
    session_rows = _durations(known, V.WORKED).merge(cases[["case", "issue"]], on="case",
                                                     how="left", suffixes=("_row", ""))
    pooled = fit_durations(work_rows["minutes"])
    issues_out = []
    for iss in sorted(issue_counts, key=lambda k: -issue_counts[k]):
        mins = work_rows.loc[work_rows["issue"] == iss, "minutes"]
        fit = fit_durations(mins)
        note = issue_notes.get(iss, "")
        if fit is None:
            fit = pooled
            note = (note + SEP if note else "") + (
                "ASSUMPTION: work = pooled fit of all issues (no 'worked' durations for this one)"
                if pooled is not None else "ASSUMPTION: work = resolution time minus time queued "
                "(no work durations in the log: an upper bound)")
        proxied = fit is None
        if fit is None:     # no durations at all: time from creation to resolution, not queued
            done_i = cases[(cases["issue"] == iss) & (cases["outcome"] == "resolved")]
            proxy = (done_i["resolution_min"] - done_i["queued_min"]).dropna()
            fit = fit_durations(proxy[proxy > 0])
            if fit is not None:
                report.add(None, f"work time of {iss} (proxy: resolution - queued): "
                           f"{fit.describe()}")
        spec = fit.best.spec if fit is not None else {"dist": "exponential", "mean": 30.0}
        if fit is not None and fit is not pooled and not proxied:
            work_fits[iss] = fit
            report.add(None, f"work time of {iss}: {fit.describe()}")
            by_team = session_rows[session_rows["issue"] == iss].groupby("group")["minutes"]
            if by_team.ngroups > 1:       # the scenario has one work distribution per issue
                for team, m in by_team:
                    tf = fit_durations(m)
                    if tf is not None:
                        report.add(None, f"  work sessions of {iss} at {team}: {tf.describe()}")
        entry = {"name": str(iss), "share": issue_shares[iss], "tier": issue_tier[iss],
                 "skill": str(iss), "work": spec}
        note = _reopens(cases[cases["issue"] == iss], iss, entry, report, note)
        issues_out.append(entry)
        comments[f"issues.{iss}"] = note or (f"{issue_counts[iss]} tickets; work fitted: "
                                             f"{fit.best.dist}, sample mean {fit.sample_mean:.1f} min")

    diag_rows = _durations(known, V.DIAGNOSED)
    diag_pooled = fit_durations(diag_rows["minutes"])
    sizes = _team_sizes(known, shift_hours)
    cost_rows = known[known["activity"].isin(V.INTERVAL_ACTIVITIES) & known["start"].notna()
                      & known["cost"].notna() & ~known["open_activity"]]
    teams_out = []
    for team in sorted(team_names, key=lambda t: (tier_of[t], t)):
        tier = tier_of[team]
        skills = [str(i) for i in issue_counts if issue_tier[i] <= tier] or ["none"]
        sz = sizes.get(team)
        notes = []
        if sz:
            agents = max(1, int(round(sz["median"])))
            report.add(None, f"team {team}: distinct agents per {shift_hours:g}-hour shift median "
                       f"{sz['median']:g}, p90 {sz['p90']:g}, max {sz['max']:g} over "
                       f"{int(sz['shifts'])} shifts ({int(sz['distinct'])} distinct overall)")
            notes.append(f"agents = median distinct active agents per {shift_hours:g} h shift")
        else:
            agents = 1
            agents = None     # sized below from the offered load
            notes.append("ASSUMPTION: agents sized for 80 % utilisation by the fitted work "
                         "(no agents named in the log)")
        c = cost_rows[cost_rows["group"] == team]
        hours = ((c["ts"] - c["start"]).dt.total_seconds() / 3600.0).sum()
        if len(c) and hours > 0:
            cph = round(float(c["cost"].sum() / hours), 2)
        else:
            cph = 0.0
            notes.append("ASSUMPTION: cost_per_hour 0, set the real rate (no costs in the log)")
        entry: dict[str, Any] = {"name": str(team), "tier": tier, "agents": agents,
                                 "skills": skills, "cost_per_hour": cph}
        if any(issue_tier[i] > tier for i in issue_counts):
            d = fit_durations(diag_rows.loc[diag_rows["group"] == team, "minutes"])
            if d is not None:
                entry["diagnose"] = d.best.spec
                report.add(None, f"diagnose time of {team}: {d.describe()}")
            elif diag_pooled is not None:
                entry["diagnose"] = diag_pooled.best.spec
                notes.append("ASSUMPTION: diagnose = pooled fit of all teams (none logged for "
                             "this team)")
            else:
                entry["diagnose"] = {"dist": "exponential", "mean": 10.0}
                notes.append("ASSUMPTION: diagnose exponential, mean 10 min (no diagnose "
                             "durations in the log)")
        teams_out.append(entry)
        comments[f"teams.{team}"] = SEP.join(notes)
    _size_unnamed_teams(teams_out, issues_out, rate)
    comments.setdefault("teams", "ASSUMPTION: a team can resolve every issue type at or below "
                        "its tier (skills nested by tier)")

    # ---- frictions
    frictions: dict[str, Any] = {}
    fr_notes = []
    for key, activity in (("handoff", V.HANDED_OFF), ("repeat", V.REPEATED)):
        fit = fit_durations(_durations(known, activity)["minutes"])
        if fit is not None:
            frictions[key] = fit.best.spec
            report.add(None, f"{key} friction ({activity}): {fit.describe()}")
        else:
            frictions[key] = {"dist": "fixed", "value": 0.0}
            fr_notes.append(f"ASSUMPTION: {key} friction 0 (no '{activity}' durations)")
    overhead = _swarm_overhead(cases, work_rows, report)
    if overhead is None:
        frictions["swarm_overhead"] = 0.25
        fr_notes.append("ASSUMPTION: swarm_overhead 0.25 (the log has too few swarmed and solo "
                        "tickets of one issue type to compare)")
    else:
        frictions["swarm_overhead"] = overhead
    comments["frictions"] = SEP.join(fr_notes)

    # ---- handoff / escalation rates (observed; reproduced by the tier structure)
    done = cases[cases["outcome"] == "resolved"]
    if len(done):
        h = done["handoffs"].to_numpy(float)
        half_h = 1.96 * h.std(ddof=1) / math.sqrt(len(h)) if len(h) > 1 else math.nan
        report.add(None, f"handoffs per resolved ticket {h.mean():.3f} (95% CI "
                   f"{h.mean() - half_h:.3f}-{h.mean() + half_h:.3f}); escalated share " +
                   ", ".join(f"{i}: {(done.loc[done['issue'] == i, 'handoffs'] > 0).mean():.1%}"
                             for i in issue_counts if (done["issue"] == i).any()))
        implied = sum(issue_shares[i] * (sorted(set(tier_of.values())).index(issue_tier[i]))
                      for i in issue_counts) if flow else 0.0
        report.add(None, f"handoffs per ticket implied by the fitted tiers under 'tiered': "
                   f"{implied:.3f}")
        r = done["resolution_min"].dropna()
        report.add(len(r), f"resolved tickets; mean resolution {r.mean():.1f} min")

    # ---- segments: share, patience (exponential MLE with censoring), priority (waits)
    segments_out = []
    seg_col = cases["segment"]
    if seg_col.notna().any():
        cases["segment"] = seg_col.fillna("unknown")
        seg_counts = cases["segment"].value_counts().to_dict()
        seg_shares = _shares(seg_counts)
        waits = {}
        for seg in seg_counts:
            c = cases[cases["segment"] == seg]
            waits[seg] = (c["queued_min"].mean(), c["queued_min"].std(ddof=1) / math.sqrt(len(c))
                          if len(c) > 1 else math.inf)
        order = sorted(seg_counts, key=lambda s: waits[s][0])
        prio, level = {}, 0
        for i, seg in enumerate(order):
            if i and waits[seg][0] - waits[order[i - 1]][0] > 2 * math.hypot(
                    waits[seg][1], waits[order[i - 1]][1]):
                level += 1
            prio[seg] = level
        for seg in sorted(seg_counts, key=lambda s: (prio[s], -seg_counts[s])):
            c = cases[cases["segment"] == seg]
            ab = int((c["outcome"] == "abandoned").sum())
            exposure = float(c["queued_min"].sum())
            entry = {"name": str(seg), "share": seg_shares[seg], "priority": prio[seg]}
            note = (f"priority from mean queued time {waits[seg][0]:.1f} min (levels differ when "
                    "waits differ by > 2 standard errors)")
            if ab and exposure > 0:
                entry["patience"] = {"dist": "exponential", "mean": round(exposure / ab, 2)}
                note += (f"{SEP}ASSUMPTION: exponential patience, mean = queued minutes per "
                         f"abandonment ({exposure:.0f} min / {ab})")
            segments_out.append(entry)
            comments[f"segments.{seg}"] = note
        report.add(None, "segments: " + ", ".join(
            f"{s} {seg_shares[s]:.1%} (mean queued {waits[s][0]:.1f} min)" for s in seg_counts))
    else:
        ab = int((cases["outcome"] == "abandoned").sum())
        exposure = float(cases["queued_min"].sum())
        entry = {"name": "all", "share": 1.0, "priority": 0}
        if ab and exposure > 0:
            entry["patience"] = {"dist": "exponential", "mean": round(exposure / ab, 2)}
        segments_out.append(entry)
        comments["segments"] = "ASSUMPTION: the log has no segment column; one segment"

    # ---- the scenario
    days = 30
    data: dict[str, Any] = {
        "name": name or _slug(path.stem),
        "description": f"Calibrated from {path.name}: {n} tickets over {span_h / 24:.1f} days",
        "seed": 1,
    }
    if "start" in Scenario.model_fields:
        first = arr.iloc[0].tz_convert(clock).floor("D")
        data["start"] = first.to_pydatetime().isoformat(timespec="minutes")
    data.update({
        "horizon": {"days": days, "warmup_days": 2},
        "replications": 10,
        "arrivals": arrivals,
        "segments": segments_out,
        "issues": issues_out,
        "teams": teams_out,
        "frictions": frictions,
        "policies": {"tiered": {}, "skill_routing": {"triage_accuracy": 0.85},
                     "swarming": {"max_helpers": 1}},
    })
    comments["seed"] = "ASSUMPTION: any seed; change it to check results do not hinge on it"
    comments["horizon"] = "ASSUMPTION: 30 simulated days after a 2-day warm-up"
    comments["replications"] = "ASSUMPTION: 10 replications per policy"
    comments["policies"] = ("ASSUMPTION: all built-in policies; triage_accuracy and max_helpers "
                            "are not estimable from a log")
    if "start" in data:
        comments["start"] = "first day of the log"
    try:
        scenario_from_dict(data, source=f"<calibrated from {path.name}>")
    except ScenarioError as exc:
        profiles = [k for k in ("hourly_profile", "weekday_profile") if k in arrivals]
        if not profiles:    # a bug here, not the user's: still one clear line each
            raise LogError("calibrated scenario is not valid: " + "; ".join(exc.problems)) from None
        # the profile keys exist but want another form: keep the profile as a comment
        for k in profiles:
            comments["arrivals"] += f"; {k} (rejected by this version's scenario: " \
                                    f"{exc.problems[0]}): {arrivals.pop(k)}"
        try:
            scenario_from_dict(data, source=f"<calibrated from {path.name}>")
        except ScenarioError as exc2:
            raise LogError("calibrated scenario is not valid: " + "; ".join(exc2.problems)) from None
    header = [f"Calibrated by supportsim from {path.name} "
              f"({_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC).",
              "Fit report (counts of repairs first):"] + report.text()
    return Calibration(data=data, comments=comments, report=report, header=header,
                       arrival_rate=rate, arrival_ci=(rate - half, rate + half),
                       issue_counts=issue_counts, work_fits=work_fits, cases=cases)


def _offset_text(tz: _dt.timezone) -> str:
    text = _dt.datetime(2026, 1, 5, tzinfo=tz).isoformat()[-6:]
    return "" if text == "+00:00" else text


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_") or "calibrated"


# --------------------------------------------------------------------------- YAML output
def _flow(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False).strip()
    return text[:-3].rstrip() if text.endswith("\n...") else text   # a scalar's document end


def render_yaml(cal: Calibration) -> str:
    """The scenario as commented YAML: one line per item, comments beside what they explain."""
    d, c = cal.data, cal.comments
    out = [f"# {line}" if line.strip() else "#" for line in cal.header]
    out.append("")

    def assumptions_first(note: Optional[str]) -> Optional[str]:
        """A comment with an assumption starts with ``ASSUMPTION:``: it must not hide."""
        if not note:
            return note
        parts = note.split(SEP)
        return SEP.join(sorted(parts, key=lambda p: not p.startswith("ASSUMPTION:")))

    def line(key: str, value: Any, comment: Optional[str] = None) -> None:
        comment = assumptions_first(comment)
        text = f"{key}: {_flow(value)}"
        out.append(f"{text}  # {comment}" if comment else text)

    for key in ("name", "description", "seed", "start", "horizon", "replications", "arrivals"):
        if key in d:
            line(key, d[key], c.get(key))
    for key, label in (("segments", "segments"), ("issues", "issues"), ("teams", "teams")):
        if key in c:
            out.append(f"# {c[key]}")
        out.append(f"{key}:")
        for item in d[key]:
            note = assumptions_first(c.get(f"{label}.{item['name']}"))
            text = f"  - {_flow(item)}"
            out.append(f"{text}  # {note}" if note else text)
    if c.get("frictions"):
        out.append(f"# {c['frictions']}")
    line("frictions", d["frictions"])
    line("policies", d["policies"], c.get("policies"))
    out.append("# ASSUMPTION: not estimated from the log, so left off: team shifts, SLA targets and "
               "penalties, customer time cost, learning, swarm helper modes (docs/scenario.md)")
    return "\n".join(out) + "\n"
