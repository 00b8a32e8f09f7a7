"""Every policy against every other, and which one wins: pure functions of per-replication tables.

The verdict compares each policy with one baseline; a leader also asks
"swarming or skill routing?" and "which model is best *for how-to tickets*?".
Both answers come from the same paired differences: in replication *r* every
policy sees the same customers, so ``metric(a, r) - metric(b, r)`` cancels
the luck of that replication, and a Student-t interval over those
differences says whether *a* and *b* really differ.

A policy **wins** a metric (within a group: all tickets, one issue type, one
segment, one sweep point) when its mean is best among the candidates and its
paired interval against *every* other candidate excludes zero.  The margin is
its paired lead over the runner-up (the candidate with the next-best mean),
with that interval; a lead whose interval includes zero is "no clear winner".
Policies passed in ``exclude`` (unstable ones) are never candidates: a policy
that cannot keep up with the load never wins, however good its numbers over a
finite horizon look.

Inputs are tables like ``replication_metrics`` / ``group_metrics`` output:
one row per (policy, replication[, group]) and one column per metric.  Nothing
here imports the engine, the runner or any output module.
"""
from __future__ import annotations

import math
from typing import Iterable, Optional, Sequence

import numpy as np
import pandas as pd

from ..schema import known_metric, metric_info
from .metrics import t_interval
from .stability import UTILISATION_LIMIT   # the run's own stability limit

__all__ = ["better_direction", "pairwise_differences", "best_policies", "utilisation_unstable",
           "UTILISATION_LIMIT"]



def better_direction(metric: str) -> str:
    """``"lower"`` or ``"higher"``: which way ``metric`` improves, as the catalogue says.

    A metric with no better direction in the catalogue (head counts, utilisation) or a
    column the catalogue does not know is ranked lower-is-better, as sweeps always did.
    """
    better = metric_info(metric).better if known_metric(metric) else None
    return "higher" if better == "higher" else "lower"


def _policies(per_rep: pd.DataFrame, policies: Optional[Sequence[str]]) -> list[str]:
    present = [str(p) for p in pd.unique(per_rep["policy"].astype(str))]
    return present if policies is None else [str(p) for p in policies if str(p) in present]


def _aligned(per_rep: pd.DataFrame, metric: str, keys: list[str]) -> pd.DataFrame:
    """Policies as columns, one row per (replication[, group]): only rows every listed policy has."""
    data = per_rep.assign(policy=per_rep["policy"].astype(str))
    return data.pivot_table(index=keys, columns="policy", values=metric, observed=True, aggfunc="first")


def _diff(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float, int, float]:
    """Paired mean difference a − b, its half-width, n, and b's mean (over the paired rows)."""
    ok = ~(np.isnan(a) | np.isnan(b))
    d_mean, d_half, n = t_interval(a[ok] - b[ok], level)
    b_mean = float(b[ok].mean()) if ok.any() else math.nan
    return d_mean, d_half, int(n), b_mean


def _relative(d_mean: float, d_half: float, ref_mean: float) -> tuple[float, float, float]:
    """The difference and its interval over the reference mean, kept within possible values.

    Every metric here is non-negative, so ``a / ref − 1`` cannot fall below −100 %:
    an interval reaching past it is cut there (a full removal reads "−100 %", never
    "−100 % ± 0.45 %").
    """
    if not ref_mean or math.isnan(ref_mean):
        return math.nan, math.nan, math.nan
    rel = d_mean / abs(ref_mean)
    half = d_half / abs(ref_mean) if not math.isnan(d_half) else math.nan
    low, high = rel - half, rel + half
    if ref_mean > 0 and not math.isnan(low):
        low = max(low, -1.0)
    return rel, low, high


def pairwise_differences(per_rep: pd.DataFrame, metrics: Iterable[str],
                         policies: Optional[Sequence[str]] = None, by: Optional[str] = None,
                         level: float = 0.95) -> pd.DataFrame:
    """Every ordered pair (policy, other) of distinct policies: the paired difference policy − other.

    Columns: [by,] metric, policy, other, n, policy_mean, other_mean, diff_mean,
    diff_low, diff_high, rel_mean, rel_low, rel_high (the difference over
    other's mean; the low end never below −100 %) and ``clear`` (the interval
    of the difference excludes 0).  Only replications both policies have are
    paired.
    """
    pols = _policies(per_rep, policies)
    keys = ["replication"] + ([by] if by else [])
    rows = []
    for metric in metrics:
        if metric not in per_rep.columns:
            continue
        wide = _aligned(per_rep[per_rep["policy"].astype(str).isin(pols)], metric, keys)
        groups = [(None, wide)] if not by else list(wide.groupby(level=by, sort=False))
        for group, g in groups:
            for a in pols:
                for b in pols:
                    if a == b or a not in g.columns or b not in g.columns:
                        continue
                    va, vb = g[a].to_numpy(dtype=float), g[b].to_numpy(dtype=float)
                    d_mean, d_half, n, b_mean = _diff(va, vb, level)
                    ok = ~(np.isnan(va) | np.isnan(vb))
                    rel, rlo, rhi = _relative(d_mean, d_half, b_mean)
                    row = {by: group} if by else {}
                    row.update({
                        "metric": metric, "policy": a, "other": b, "n": n,
                        "policy_mean": float(va[ok].mean()) if ok.any() else math.nan,
                        "other_mean": b_mean, "diff_mean": d_mean,
                        "diff_low": d_mean - d_half, "diff_high": d_mean + d_half,
                        "rel_mean": rel, "rel_low": rlo, "rel_high": rhi,
                        "clear": bool(n >= 2 and not math.isnan(d_half)
                                      and (d_mean - d_half > 0 or d_mean + d_half < 0)),
                    })
                    rows.append(row)
    cols = ([by] if by else []) + ["metric", "policy", "other", "n", "policy_mean", "other_mean",
                                   "diff_mean", "diff_low", "diff_high", "rel_mean", "rel_low",
                                   "rel_high", "clear"]
    return pd.DataFrame(rows, columns=cols)


def best_policies(per_rep: pd.DataFrame, metric: str, policies: Optional[Sequence[str]] = None,
                  exclude: Iterable[str] = (), by: Optional[str] = None, level: float = 0.95,
                  better: Optional[str] = None) -> pd.DataFrame:
    """Per group (or once without ``by``): which candidate policy wins ``metric``, and by how much.

    Columns: [by,] metric, better, winner (the policy, or None when no policy
    clearly beats every other), best (best mean, winner or not), runner_up,
    margin, ci_low, ci_high (best's paired lead over the runner-up, in the
    metric's unit, positive = best is better), margin_rel, rel_low, rel_high
    (the lead over the *best* policy's mean: "the runner-up is 32 % dearer"),
    reason (``clear`` | ``not_clear`` | ``only_stable`` | ``none_stable`` |
    ``no_data``), candidates and excluded (policy lists, in input order).
    """
    better = better or better_direction(metric)
    sign = 1.0 if better == "lower" else -1.0
    pols = _policies(per_rep, policies)
    excluded = [p for p in pols if p in set(map(str, exclude))]
    candidates = [p for p in pols if p not in excluded]
    keys = ["replication"] + ([by] if by else [])
    if metric not in per_rep.columns:
        return pd.DataFrame([_row(by, None, metric, better, "no_data", candidates, excluded)])
    wide = _aligned(per_rep[per_rep["policy"].astype(str).isin(pols)], metric, keys)
    groups = [(None, wide)] if not by else list(wide.groupby(level=by, sort=False))
    rows = []
    for group, g in groups:
        present = [p for p in candidates if p in g.columns and g[p].notna().any()]
        if not present:
            reason = "none_stable" if excluded and not candidates else "no_data"
            rows.append(_row(by, group, metric, better, reason, candidates, excluded))
            continue
        if len(present) == 1:
            rec = _row(by, group, metric, better, "only_stable" if excluded else "clear",
                       candidates, excluded)
            rec.update(winner=present[0], best=present[0])
            rows.append(rec)
            continue
        means = {p: float(np.nanmean(g[p].to_numpy(dtype=float))) for p in present}
        order = sorted(present, key=lambda p: sign * means[p])
        best, runner = order[0], order[1]
        b = g[best].to_numpy(dtype=float)
        leads = {}
        for other in order[1:]:
            d_mean, d_half, n, _ = _diff(g[other].to_numpy(dtype=float), b, level)
            leads[other] = (sign * d_mean, d_half, n)      # positive = best is better
        clear = all(n >= 2 and not math.isnan(h) and lead - h > 0 for lead, h, n in leads.values())
        lead, half, _ = leads[runner]
        ok = ~np.isnan(b)
        rel, rlo, rhi = _relative(lead, half, float(b[ok].mean()) if ok.any() else math.nan)
        rec = _row(by, group, metric, better, "clear" if clear else "not_clear", candidates, excluded)
        rec.update(winner=best if clear else None, best=best, runner_up=runner, margin=lead,
                   ci_low=lead - half, ci_high=lead + half, margin_rel=rel, rel_low=rlo, rel_high=rhi)
        rows.append(rec)
    return pd.DataFrame(rows)


def _row(by: Optional[str], group, metric: str, better: str, reason: str, candidates: list[str],
         excluded: list[str]) -> dict:
    rec = {by: group} if by else {}
    rec.update({"metric": metric, "better": better, "winner": None, "best": None, "runner_up": None,
                "margin": math.nan, "ci_low": math.nan, "ci_high": math.nan, "margin_rel": math.nan,
                "rel_low": math.nan, "rel_high": math.nan, "reason": reason,
                "candidates": list(candidates), "excluded": list(excluded)})
    return rec


def utilisation_unstable(per_rep: pd.DataFrame, limit: float = UTILISATION_LIMIT) -> dict[str, list[tuple[str, float]]]:
    """Policy -> [(team, mean utilisation)] of the teams at or above ``limit`` (empty = none).

    For tables that carry ``utilisation_<team>`` columns but no backlog (sweep
    rows): the same utilisation rule the run's stability check applies.
    """
    cols = [c for c in per_rep.columns if str(c).startswith("utilisation_")]
    out: dict[str, list[tuple[str, float]]] = {}
    data = per_rep.assign(policy=per_rep["policy"].astype(str))
    for policy, g in data.groupby("policy", sort=False):
        hot = []
        for c in cols:
            u = float(np.nanmean(g[c].to_numpy(dtype=float))) if g[c].notna().any() else math.nan
            if not math.isnan(u) and u >= limit:
                hot.append((str(c)[len("utilisation_"):], u))
        out[str(policy)] = hot
    return out
