"""Estimators used by calibration: each turns per-ticket facts into one scenario value.

Kept apart from :mod:`.calibrate` (which decides what goes where in the scenario) so each
estimate can be read, and checked, on its own.
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd

from .fit import fit_durations
from .reader import Report
from ..schema import CONFIDENCE_Z

SEP = " | "             # between separate notes of one YAML comment (assumptions go first)
TARGET_UTILISATION = 0.8


def tiers(cases: pd.DataFrame, teams: list[str]) -> tuple[dict[str, int], Counter]:
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


def reopens(cases: pd.DataFrame, issue: str, entry: dict, report: Report, note: str) -> str:
    """Reopen probability (failed resolutions / resolutions), delay fit and where re-contacts go."""
    from ..scenario import IssueType

    reopens = int(cases["reopens"].sum())
    if not reopens or "reopen_probability" not in IssueType.model_fields:
        if reopens:
            note = (note + SEP if note else "") + f"{reopens} reopens seen (no scenario key yet)"
        return note

    obs = np.array([g for gaps in cases["reopen_gaps"] for g in gaps], dtype=float).reshape(-1, 2)
    p, mean_delay, naive = reopen_mle(obs[:, 0], obs[:, 1])
    entry["reopen_probability"] = round(min(p, 0.99), 4)
    entry["reopen_delay"] = {"dist": "exponential", "mean": round4(mean_delay)}
    delay = fit_durations(obs[~np.isnan(obs[:, 0]), 0])
    n_res = len(obs)
    half = CONFIDENCE_Z * math.sqrt(p * (1 - p) / max(n_res, 1))
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


def round4(x: float) -> float:
    return float(f"{x:.4g}")


def reopen_mle(delay: np.ndarray, window: np.ndarray) -> tuple[float, float, float]:
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


def size_unnamed_teams(teams: list[dict], issues: list[dict], per_hour: float) -> None:
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


def swarm_overhead(cases: pd.DataFrame, work_rows: pd.DataFrame, report: Report,
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


def durations(df: pd.DataFrame, activity: str) -> pd.DataFrame:
    rows = df[(df["activity"] == activity) & df["start"].notna() & ~df["open_activity"]]
    return rows.assign(minutes=(rows["ts"] - rows["start"]).dt.total_seconds() / 60.0)


def shares(counts: dict[str, int]) -> dict[str, float]:
    """Shares rounded to 4 decimals that sum to exactly 1 (the rounding rest on the largest)."""
    total = sum(counts.values())
    shares = {k: round(v / total, 4) for k, v in counts.items()}
    top = max(shares, key=shares.get)
    shares[top] = round(1.0 - sum(v for k, v in shares.items() if k != top), 4)
    return shares


def profile(arrivals: pd.Series, tz, key: str, n: int) -> tuple[list[float], float]:
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


def team_sizes(df: pd.DataFrame, shift_hours: float) -> dict[str, dict[str, float]]:
    """Distinct agents active per shift window, per team: median, 90th percentile, max."""
    act = df[df["resource"].notna() & df["group"].notna()]
    if not len(act):
        return {}
    origin = act["ts"].min().floor("D")
    width = shift_hours * 3600
    last = ((act["ts"] - origin).dt.total_seconds() // width).astype(int).to_numpy()
    # an agent is active in every shift an activity of theirs spans, not only where it ends
    began = act["start"].where(act["start"].notna() & (act["start"] <= act["ts"]), act["ts"])
    first = np.maximum(((began - origin).dt.total_seconds() // width).to_numpy(), last.min())
    first = np.minimum(first.astype(int), last)
    reps = last - first + 1
    rows = np.repeat(np.arange(len(act)), reps)
    offset = np.arange(len(rows)) - np.repeat(np.cumsum(reps) - reps, reps)
    shift = np.repeat(first, reps) + offset
    per = pd.DataFrame({"group": act["group"].to_numpy(object)[rows],
                        "resource": act["resource"].to_numpy(object)[rows],
                        "shift": shift}).groupby(["group", "shift"])["resource"].nunique()
    out = {}
    for team, s in per.groupby(level=0):
        out[team] = {"median": float(s.median()), "p90": float(s.quantile(0.9)),
                     "max": float(s.max()), "distinct": float(act.loc[act["group"] == team,
                                                                       "resource"].nunique()),
                     "shifts": float(len(s))}
    return out


# --------------------------------------------------------------------------- calibration


def tier_loads(teams: list[dict], issues: list[dict], frictions: dict,
               per_hour: float) -> dict[int, tuple[float, float]]:
    """Offered agent-minutes per minute and agents, per tier, under ``tiered``: every ticket
    enters tier 1; each tier below the issue's diagnoses and hands it on (diagnose + handoff),
    each tier it reaches after the first hears the customer again (repeat), and the issue's
    tier does the work.  Teams of one tier share one queue, so the tier is the unit of load."""
    from pydantic import TypeAdapter

    from ..distributions import Distribution as D

    ta: TypeAdapter = TypeAdapter(D)

    def mean(spec) -> float:
        return float(ta.validate_python(spec).mean) if spec is not None else 0.0

    lam = per_hour / 60.0
    levels = sorted({t["tier"] for t in teams})
    handoff, repeat = mean(frictions.get("handoff")), mean(frictions.get("repeat"))
    out = {}
    for k in levels:
        at = [t for t in teams if t["tier"] == k]
        agents = float(sum(t["agents"] for t in at))
        diag = sum(mean(t.get("diagnose")) * t["agents"] for t in at) / agents if agents else 0.0
        work = 0.0
        for i in issues:
            if k < i["tier"]:
                work += i["share"] * (diag + handoff)
            elif k == i["tier"]:
                work += i["share"] * mean(i["work"])
            if levels[0] < k <= i["tier"]:
                work += i["share"] * repeat
        out[k] = (lam * work, agents)
    return out
