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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pandas as pd

from . import vocabulary as V
from .estimate import (SEP, durations, profile, reopens, shares, size_unnamed_teams,
                       swarm_overhead, team_sizes, tier_loads, tiers)
from .fit import FitResult, fit_durations
from .groups import DEFAULT_MAX_TEAMS, dense_tiers
from .prepare import prepare
from .reader import LogError, Mapping, Report
from .render import render_yaml
from ..schema import CONFIDENCE_TEXT, CONFIDENCE_Z

DEFAULT_SHIFT_HOURS = 8.0
DEFAULT_MAX_ISSUES = 12


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


def calibrate(path: str | Path, mapping: Optional[Mapping] = None, name: Optional[str] = None,
              shift_hours: float = DEFAULT_SHIFT_HOURS, policy: Optional[str] = None,
              case_filter: Optional[str] = None, max_teams: Optional[int] = DEFAULT_MAX_TEAMS,
              allow_partial: bool = False, allow_overload: bool = False,
              max_issues: Optional[int] = DEFAULT_MAX_ISSUES) -> Calibration:
    """Estimate a valid scenario from the event log at ``path``.

    ``policy``: keep only cases of that ``case:policy`` (a supportsim log of
    several policies mixes organisations). ``case_filter``: keep cases whose id
    starts with this prefix (e.g. ``tiered/r0/``). ``max_teams``: merge the smallest
    groups into their support line beyond this many teams. ``allow_partial``: calibrate even
    when more than half the rows are ignored; ``allow_overload``: write a scenario whose team
    is offered more work than its agents can do (else a LogError naming the team).
    ``max_issues``: the rarest issue types beyond this many are merged, per tier, into
    ``other (tier k)``.
    """
    from ..scenario import Arrivals, Scenario, ScenarioError, scenario_from_dict

    path = Path(path)
    mapping = mapping or Mapping()
    prep = prepare(path, mapping, policy, case_filter, max_teams, allow_partial)
    report, cases, known, window = prep.report, prep.cases, prep.rows, prep.window
    df = known
    comments: dict[str, str] = {}
    header: list[str] = []
    n = len(cases)

    # ---- arrivals: the rate where creations are dense (a snapshot extract's old tickets
    # would otherwise stretch the span)
    arr_all = cases["arrival"].sort_values()
    arr = arr_all[window.contains(arr_all)]
    span_h = window.hours
    if window.dense:
        rate = len(arr) / span_h
        half = CONFIDENCE_Z * rate / math.sqrt(max(len(arr), 1))
    else:
        rate = (n - 1) / span_h
        half = CONFIDENCE_Z * rate / math.sqrt(n - 1)
    report.add(len(arr), f"tickets; arrival rate {rate:.3f}/hour ({CONFIDENCE_TEXT} CI {rate - half:.3f}-"
               f"{rate + half:.3f}) over {span_h / 24:.1f} days "
               f"({'dense window' if window.dense else 'first to last creation'}: "
               f"{window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC)")
    arrivals: dict[str, Any] = {"per_hour": round(rate, 4)}
    # the scenario clock is the wall clock of `start`, a fixed UTC offset: the log's time zone
    # as it was when the log begins (profiles and start are written in that offset)
    clock = _dt.timezone(arr.iloc[0].tz_convert(mapping.timezone).utcoffset())
    hourly, p_h = (profile(arr, clock, "hour", 24) if span_h >= 48 else (None, math.nan))
    weekly, p_w = (profile(arr, clock, "weekday", 7) if span_h >= 14 * 24
                   else (None, math.nan))
    prof_notes = []
    for key, prof, p, label in (("hourly_profile", hourly, p_h, "hour-of-day"),
                                ("weekday_profile", weekly, p_w, "weekday")):
        if prof is None:
            prof_notes.append(f"{label} profile: log too short to estimate")
            continue
        report.add(None, f"{label} arrival profile (relative rate, UTC{_offset_text(clock)}): {prof} "
                   f"(chi-square p={p:.3g} against a flat rate)", detail=True)
        if not p < 0.05:
            prof_notes.append(f"{label} profile not distinguishable from flat (p={p:.2g}): "
                              "constant rate")
        elif key in Arrivals.model_fields:
            arrivals[key] = prof
        else:
            prof_notes.append(f"{label} profile (not a scenario key yet): {prof}")
    comments["arrivals"] = ("Poisson, estimated from ticket creation times" +
                            (f" in the dense window {window.start:%Y-%m-%d} to "
                             f"{window.end:%Y-%m-%d} ({len(arr)} of {n} tickets)"
                             if window.dense else "") +
                            ("; " + "; ".join(prof_notes) if prof_notes else ""))

    # ---- teams and tiers
    team_names = sorted({t for seq in cases["teams"] for t in seq} |
                        set(known["group"].dropna().unique()))
    if not team_names:
        team_names = ["team"]
        df = known = df.assign(group=df["group"].fillna("team"))
        comments["teams"] = "ASSUMPTION: the log names no teams; one team does everything"
    flow_tier, flow = tiers(cases, team_names)
    tier_of = dense_tiers(team_names, prep.level, flow_tier)
    if flow:
        report.add(None, "handoffs and swarm help between teams (from -> to: count): " + ", ".join(
            f"{a}->{b}: {c}" for (a, b), c in sorted(flow.items(), key=lambda kv: -kv[1])[:12]))
    how = ("the support line their names state" if prep.level else
           "the net direction of handoffs")
    report.add(None, f"team tiers from {how}: " +
               ", ".join(f"{t}={tier_of[t]}" for t in team_names))

    # ---- issues
    if cases["issue"].notna().any():
        cases["issue"] = cases["issue"].fillna("unknown")
    else:
        cases["issue"] = _issues_by_line(cases, tier_of, report, comments)
    issue_counts = cases["issue"].value_counts().to_dict()
    issue_shares = shares(issue_counts)
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
    if max_issues and len(issue_counts) > max_issues:
        issue_counts, issue_tier, issue_notes = _merge_rare_issues(
            cases, issue_counts, issue_tier, issue_notes, max_issues, report)
        issue_shares = shares(issue_counts)

    # ---- durations
    work_fits: dict[str, FitResult] = {}
    # work of a ticket = its 'worked' sessions added up (shift handovers and interruptions
    # split work into several sessions); a reopen starts the work over: one sample per episode
    work_rows = cases[["case", "issue", "work_min"]].explode("work_min").dropna(subset=["work_min"])
    work_rows = work_rows.assign(minutes=work_rows["work_min"].astype(float))
    session_rows = durations(known, V.WORKED).merge(cases[["case", "issue"]], on="case",
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
                        report.add(None, f"  work sessions of {iss} at {team}: {tf.describe()}",
                                   detail=True)
        few = fit.assumption(f"work of {iss}") if fit is not None else None
        if few:
            note = (note + SEP if note else "") + few
        entry = {"name": str(iss), "share": issue_shares[iss], "tier": issue_tier[iss],
                 "skill": str(iss), "work": spec}
        note = reopens(cases[cases["issue"] == iss], iss, entry, report, note)
        issues_out.append(entry)
        comments[f"issues.{iss}"] = note or (f"{issue_counts[iss]} tickets; work fitted: "
                                             f"{fit.best.dist}, sample mean {fit.sample_mean:.1f} min")

    diag_rows = durations(known, V.DIAGNOSED)
    diag_pooled = fit_durations(diag_rows["minutes"])
    sizes = team_sizes(known[window.contains(known["ts"])], shift_hours) or \
        team_sizes(known, shift_hours)
    cost_rows = known[known["activity"].isin(V.INTERVAL_ACTIVITIES) & known["start"].notna()
                      & known["cost"].notna() & ~known["open_activity"]]
    teams_out: list[dict[str, Any]] = []
    for team in sorted(team_names, key=lambda t: (tier_of[t], t)):
        tier = tier_of[team]
        skills = [str(i) for i in issue_counts if issue_tier[i] <= tier] or ["none"]
        sz = sizes.get(team)
        notes = []
        if sz:
            agents = max(1, int(round(sz["median"])))
            report.add(None, f"team {team}: distinct agents per {shift_hours:g}-hour shift median "
                       f"{sz['median']:g}, p90 {sz['p90']:g}, max {sz['max']:g} over "
                       f"{int(sz['shifts'])} shifts ({int(sz['distinct'])} distinct overall)",
                       detail=True)
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
                report.add(None, f"diagnose time of {team}: {d.describe()}", detail=True)
                notes.extend(filter(None, [d.assumption(f"diagnose of {team}")]))
            elif diag_pooled is not None:
                entry["diagnose"] = diag_pooled.best.spec
                notes.append("ASSUMPTION: diagnose = pooled fit of all teams (none logged for "
                             "this team)")
                notes.extend(filter(None, [diag_pooled.assumption("pooled diagnose")]))
            else:
                entry["diagnose"] = {"dist": "exponential", "mean": 10.0}
                notes.append("ASSUMPTION: diagnose exponential, mean 10 min (no diagnose "
                             "durations in the log)")
        teams_out.append(entry)
        comments[f"teams.{team}"] = SEP.join(notes)
    size_unnamed_teams(teams_out, issues_out, rate)
    comments.setdefault("teams", "ASSUMPTION: a team can resolve every issue type at or below "
                        "its tier (skills nested by tier)")

    # ---- frictions
    frictions: dict[str, Any] = {}
    fr_notes = []
    for key, activity in (("handoff", V.HANDED_OFF), ("repeat", V.REPEATED)):
        fit = fit_durations(durations(known, activity)["minutes"])
        if fit is not None:
            frictions[key] = fit.best.spec
            report.add(None, f"{key} friction ({activity}): {fit.describe()}")
            fr_notes.extend(filter(None, [fit.assumption(f"{key} friction")]))
        else:
            frictions[key] = {"dist": "fixed", "value": 0.0}
            fr_notes.append(f"ASSUMPTION: {key} friction 0 (no '{activity}' durations)")
    overhead = swarm_overhead(cases, work_rows, report)
    if overhead is None:
        frictions["swarm_overhead"] = 0.25
        fr_notes.append("ASSUMPTION: swarm_overhead 0.25 (the log has too few swarmed and solo "
                        "tickets of one issue type to compare)")
    else:
        frictions["swarm_overhead"] = overhead
    comments["frictions"] = SEP.join(fr_notes)

    # ---- offered load against capacity, per team (its tier's shared queue) under tiered
    loads = tier_loads(teams_out, issues_out, frictions, rate)
    over = []
    for team in teams_out:
        offered, tier_agents = loads[int(team["tier"])]
        rho = offered / tier_agents if tier_agents else math.inf
        report.add(None, f"team {team['name']}: tier {team['tier']}, {team['agents']} agent(s), "
                   f"offered load {rho:.0%} under 'tiered' ({offered:.2f} agent-minutes per minute "
                   f"for the tier's {tier_agents:g} agents)")
        if rho >= 1:
            over.append((rho, team["name"], offered, tier_agents))
    if over:
        rho, worst, offered, tier_agents = max(over)
        if not allow_overload:
            raise LogError(f"{path}: team {worst!r} would be offered {rho:.0%} of its agents' time "
                           f"({offered:.2f} agent-minutes of work per minute for {tier_agents:g} agents "
                           "of its tier): the calibrated scenario would be unstable; check the "
                           "work statuses, team sizes (--shift-hours) and the arrival window, or "
                           "pass --allow-overload")
        for rho_t, t, _o, _a in over:
            comments[f"teams.{t}"] = (f"ASSUMPTION: offered load {rho_t:.0%} exceeds capacity "
                                      "(written anyway: --allow-overload)" + SEP +
                                      comments.get(f"teams.{t}", "")).rstrip(SEP)
        report.add(len(over), "WARNING: teams offered more work than their agents can do "
                   "(--allow-overload): the scenario is unstable under tiered")

    # ---- handoff / escalation rates (observed; reproduced by the tier structure)
    done = cases[cases["outcome"] == "resolved"]
    if len(done):
        h = done["handoffs"].to_numpy(float)
        half_h = CONFIDENCE_Z * h.std(ddof=1) / math.sqrt(len(h)) if len(h) > 1 else math.nan
        report.add(None, f"handoffs per resolved ticket {h.mean():.3f} ({CONFIDENCE_TEXT} CI "
                   f"{h.mean() - half_h:.3f}-{h.mean() + half_h:.3f}); escalated share " +
                   ", ".join(f"{i}: {(done.loc[done['issue'] == i, 'handoffs'] > 0).mean():.1%}"
                             for i in issue_counts if (done["issue"] == i).any()))
        implied = sum(issue_shares[i] * (sorted(set(tier_of.values())).index(issue_tier[i]))
                      for i in issue_counts) if len(set(tier_of.values())) > 1 else 0.0
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
        seg_shares = shares(seg_counts)
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
        "description": (f"Calibrated from {path.name}: {n} tickets over {span_h / 24:.1f} days"
                        if not window.dense else
                        f"Calibrated from {path.name}: {len(arr)} tickets created in its "
                        f"{span_h / 24:.1f}-day arrival window ({n} in the log)"),
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


def _issues_by_line(cases: pd.DataFrame, tier_of: dict[str, int], report: Report,
                    comments: dict[str, str]) -> pd.Series:
    """Issue types for a log without an issue column.

    One type for every ticket would be resolved at the lowest tier a team resolved it at - so
    under ``tiered`` nobody would ever escalate, the upper lines would get no work, and the
    first line would be offered all of it (a log of a 3-line organisation became a 1-line
    model). The only issue-like fact such a log has is the line that resolved each ticket, so
    that is the type: ``resolved at tier k`` (an unresolved ticket: the highest tier it
    reached). One line resolving everything stays one type, ``all``."""
    def line(row) -> int:
        if row["resolver"] is not None and row["resolver"] in tier_of:
            return tier_of[row["resolver"]]
        reached = [tier_of[t] for t in row["teams"] if t in tier_of]
        return max(reached) if reached else min(tier_of.values(), default=1)

    lines = cases.apply(line, axis=1) if len(cases) else pd.Series([], dtype=int)
    resolved_lines = set(lines[cases["outcome"] == "resolved"])
    if len(resolved_lines) < 2:
        comments["issues"] = "ASSUMPTION: the log has no issue type column; one issue type 'all'"
        return pd.Series("all", index=cases.index)
    names = lines.map(lambda k: f"resolved at tier {k}")
    comments["issues"] = ("ASSUMPTION: the log has no issue type column; issue types are the "
                          "tier that resolved each ticket (unresolved: the highest it reached), so "
                          "the model escalates as the log does")
    report.add(len(set(names)), "issue types from the tier that resolved each ticket (the log has "
               "no issue type column; map one with --map issue=COLUMN)")
    return names


def _merge_rare_issues(cases: pd.DataFrame, counts: dict, tier: dict, notes: dict,
                       max_issues: int, report: Report) -> tuple[dict, dict, dict]:
    """Keep the most frequent issue types; merge the rest into one ``other (tier k)`` per tier
    (so each keeps the tier that resolves it). Changes ``cases["issue"]`` in place."""
    order = sorted(counts, key=lambda i: (-counts[i], str(i)))
    kept = order[:max_issues]
    while kept:
        rest = [i for i in order if i not in kept]
        if len(kept) + len({tier[i] for i in rest}) <= max_issues:
            break
        kept = kept[:-1]
    rest = [i for i in order if i not in kept]
    rename = {i: f"other (tier {tier[i]})" for i in rest}
    rename = {i: (n if n not in kept else f"{n} merged") for i, n in rename.items()}
    cases["issue"] = cases["issue"].map(lambda x: rename.get(x, x))
    new_tier = {i: tier[i] for i in kept}
    new_notes = {i: notes[i] for i in kept if i in notes}
    for i in rest:
        new_tier[rename[i]] = tier[i]
    for name in set(rename.values()):
        members = [i for i in rest if rename[i] == name]
        new_notes[name] = (f"ASSUMPTION: {len(members)} rare issue types merged into one (more than "
                           f"--max-issues {max_issues}), resolved at tier {new_tier[name]}: " +
                           ", ".join(map(str, members[:8])) + (" ..." if len(members) > 8 else ""))
    report.add(len(rest), f"rare issue types merged into 'other (tier k)' ({len(counts)} types > "
               f"--max-issues {max_issues}; {sum(counts[i] for i in rest)} tickets)")
    return cases["issue"].value_counts().to_dict(), new_tier, new_notes


def _offset_text(tz: _dt.timezone) -> str:
    text = _dt.datetime(2026, 1, 5, tzinfo=tz).isoformat()[-6:]
    return "" if text == "+00:00" else text


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_") or "calibrated"


# --------------------------------------------------------------------------- YAML output
