"""Tornado and flip points from per-replication metrics (pure: tables in, tables out).

Every evaluation of the analysis is one value of one parameter, simulated for
the baseline and each compared policy on the same customers (same seed and
replications at every value: common random numbers).  At each value the
*paired* difference ``metric(policy, r) - metric(baseline, r)`` is averaged
over replications (:func:`sim.analysis.paired_differences`); its sign says
which of the two is ahead there.

A **flip point** is a value where that mean paired difference changes sign.
It is found by bisection: start from the evaluated values (the range's ends and
the scenario's own value), take the sign change nearest the scenario's value,
and halve the bracket until it is no wider than the tolerance; the flip value
is the linear interpolation of the difference inside the final bracket, so it
always lies in ``[low, high]`` where the two ends have opposite signs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Optional

import numpy as np
import pandas as pd

from ..analysis import UTILISATION_LIMIT, paired_differences
from ..analysis.pairwise import better_direction, utilisation_unstable
from ..schema import verdict_metrics as catalogue_verdict_metrics
from .params import Param

__all__ = ["TORNADO_COLUMNS", "FLIPS_COLUMNS", "FLIPS_EXTRA_COLUMNS", "POINTS_COLUMNS", "paired_at", "bracket",
           "sign_changes", "sign_changes_in_points", "next_values",
           "flip_rows", "tornado_rows", "better_direction", "DEFAULT_METRICS", "unstable_policies",
           "unstable_note", "unstable_at", "UTILISATION_LIMIT"]

TORNADO_COLUMNS = ["parameter", "value", "policy", "metric", "relative_change", "ci_low", "ci_high"]
FLIPS_COLUMNS = ["parameter", "policy", "baseline", "metric", "flip_value", "low", "high", "direction"]
#: flips.csv's columns after :data:`FLIPS_COLUMNS`, in order (``sign_changes`` added last, so older
#: readers of the file see every earlier column where it was)
FLIPS_EXTRA_COLUMNS = ["better_side", "note", "ahead", "unstable", "sign_changes"]
POINTS_COLUMNS = ["parameter", "value", "policy", "baseline", "metric", "n", "baseline_mean", "policy_mean",
                  "diff_mean", "diff_low", "diff_high", "relative_change", "ci_low", "ci_high"]

def verdict_metrics() -> list[str]:
    """The metrics the verdict shows, in catalogue order (:func:`sim.schema.verdict_metrics`)."""
    return [m.name for m in catalogue_verdict_metrics()]


#: the verdict's metrics when the analysis was written (kept for older imports; the catalogue decides)
DEFAULT_METRICS = tuple(verdict_metrics())


def paired_at(per_rep: pd.DataFrame, baseline: str, metrics: list[str]) -> pd.DataFrame:
    """Paired differences of every policy against ``baseline`` at one evaluated value.

    Columns as :data:`POINTS_COLUMNS` minus parameter/value; the relative change and its
    95 % interval are the mean paired difference and its Student-t interval over the
    baseline's mean (as in the verdict).
    """
    present = [m for m in metrics if m in per_rep.columns]
    p = paired_differences(per_rep, baseline, metrics=present)
    if p.empty:
        return pd.DataFrame(columns=POINTS_COLUMNS[2:])
    rel = p["rel_mean"]
    out = p[["policy", "baseline", "metric", "n", "baseline_mean", "policy_mean", "diff_mean",
             "diff_low", "diff_high"]].copy()
    out["relative_change"] = rel
    out["ci_low"] = rel - p["rel_half"]
    out["ci_high"] = rel + p["rel_half"]
    return out


def _sign(x: float) -> int:
    if x is None or not math.isfinite(x) or x == 0:
        return 0
    return 1 if x > 0 else -1


def _sign_change_pairs(values: dict[float, float]) -> list[tuple[float, float]]:
    """Adjacent evaluated values (NaN and 0 skipped) whose differences have opposite signs, in order."""
    xs = sorted(v for v, d in values.items() if _sign(d) != 0)
    return [(a, b) for a, b in zip(xs, xs[1:]) if _sign(values[a]) * _sign(values[b]) < 0]


def sign_changes(values: dict[float, float]) -> int:
    """How many times the mean paired difference changes sign over the evaluated values.

    ``values`` maps parameter value -> mean paired difference.  One change is a clean
    threshold; more than one (typically noise near an end of the range, where the two
    policies are close) means the flip point reported - the change nearest the scenario's
    value - is one of several, and the verdict is not "A above x, B below".  A count over
    what was evaluated: changes between two evaluated values that agree in sign are unseen.
    """
    return len(_sign_change_pairs(values))


def bracket(values: dict[float, float], centre: Optional[float]) -> Optional[tuple[float, float]]:
    """The adjacent pair of evaluated values whose differences have opposite signs, nearest ``centre``.

    ``values`` maps parameter value -> mean paired difference (NaN or 0 never brackets).
    """
    xs = sorted(v for v, d in values.items() if _sign(d) != 0)
    pairs = _sign_change_pairs(values)
    if not pairs:
        return None
    c = centre if centre is not None else (xs[0] + xs[-1]) / 2
    return min(pairs, key=lambda ab: (0 if ab[0] <= c <= ab[1] else min(abs(ab[0] - c), abs(ab[1] - c)), ab[0]))


@dataclass
class Evaluated:
    """What is known about one parameter: value -> {(policy, metric): mean paired difference}."""

    param: Param
    centre: Optional[float]
    diffs: dict[float, dict[tuple[str, str], float]] = field(default_factory=dict)

    def series(self, policy: str, metric: str) -> dict[float, float]:
        return {v: d[(policy, metric)] for v, d in self.diffs.items() if (policy, metric) in d}


def next_values(ev: Evaluated, pairs: Iterable[tuple[str, str]], tolerance: float) -> list[float]:
    """Midpoints still needed: one per (policy, metric) bracket wider than ``tolerance``, deduplicated."""
    need = set()
    for policy, metric in pairs:
        b = bracket(ev.series(policy, metric), ev.centre)
        if b is not None and b[1] - b[0] > tolerance * (1 + 1e-9):
            need.add((b[0] + b[1]) / 2)
    return sorted(need - set(ev.diffs))


def flip_rows(ev: Evaluated, pairs: Iterable[tuple[str, str]], baseline: str) -> list[dict]:
    """One :data:`FLIPS_COLUMNS` row (plus :data:`FLIPS_EXTRA_COLUMNS`) per (policy, metric).

    ``ahead``: without a flip, the policy ahead over the whole range (empty when there is
    none); ``unstable`` is filled in by the caller (:func:`unstable_at`); ``sign_changes``:
    how often the difference changes sign over every value evaluated for the parameter
    (:func:`sign_changes`; above 1, the flip point is not a clean threshold).  Code reads
    these typed fields, never ``note``, which is the same facts in words."""
    rows = []
    for policy, metric in pairs:
        s = ev.series(policy, metric)
        row = {"parameter": ev.param.path, "policy": policy, "baseline": baseline, "metric": metric,
               "flip_value": math.nan, "low": ev.param.low, "high": ev.param.high, "direction": "",
               "better_side": "", "note": "", "ahead": "", "unstable": "", "sign_changes": sign_changes(s)}
        b = bracket(s, ev.centre)
        if b is None:
            signs = {_sign(d) for d in s.values()} - {0}
            better = better_direction(metric)
            if not s:
                row["note"] = "not evaluated"
            elif not signs:
                row["note"] = "no flip in range: no difference"
            else:
                ahead = (signs == {-1}) == (better == "lower")
                row["note"] = ("no flip in range: " + (f"{policy} ahead" if ahead else f"{baseline} ahead")
                               + " throughout" if len(signs) == 1 else "no flip in range")
                if len(signs) == 1:
                    row["ahead"] = policy if ahead else baseline
            rows.append(row)
            continue
        lo, hi = b
        dlo, dhi = s[lo], s[hi]
        flip = lo + (hi - lo) * dlo / (dlo - dhi)          # linear interpolation inside the bracket
        row["flip_value"] = float(min(max(flip, lo), hi))
        row["low"], row["high"] = lo, hi
        row["direction"] = "falls" if dlo > 0 else "rises"  # the difference, as the parameter grows
        policy_lower_above = dhi < 0
        row["better_side"] = "above" if policy_lower_above == (better_direction(metric) == "lower") else "below"
        rows.append(row)
    return rows


def tornado_rows(param: Param, values: Iterable[float], points: pd.DataFrame) -> pd.DataFrame:
    """Rows of :data:`TORNADO_COLUMNS` (plus ``kind``) for ``param`` at ``values`` from its points."""
    want = set(values)
    sel = points[(points["parameter"] == param.path) & points["value"].isin(want)]
    out = sel[TORNADO_COLUMNS].copy()
    out["kind"] = "multiplier" if param.relative else "value"
    return out.sort_values(["policy", "metric", "value"], kind="stable").reset_index(drop=True)


def summarise_swing(tornado: pd.DataFrame) -> pd.DataFrame:
    """Per (parameter, policy, metric): the swing of the relative change over the range (for ordering bars)."""
    if tornado.empty:
        return pd.DataFrame(columns=["parameter", "policy", "metric", "min", "max", "swing"])
    g = tornado.groupby(["parameter", "policy", "metric"], sort=False)["relative_change"]
    out = g.agg(["min", "max"]).reset_index()
    out["swing"] = out["max"] - out["min"]
    return out


def unstable_policies(per_rep: pd.DataFrame, limit: float = UTILISATION_LIMIT) -> set[str]:
    """Policies with a team at or above ``limit`` mean utilisation at one evaluated value.

    There the system does not settle and the difference depends on the horizon: a flip point
    next to such a value is about overload, not about the organisation of work.  The rule
    and its limit are the run's own stability check (:mod:`sim.analysis.stability`), applied
    to the per-replication ``utilisation_<team>`` columns.
    """
    return {p for p, hot in utilisation_unstable(per_rep, limit).items() if hot}


def unstable_at(points: pd.DataFrame, flip: dict) -> tuple[list[str], list[float]]:
    """(policies, values): who is overloaded (policy or baseline) at the values of this flip's
    range - only the final bracket's ends when there is a flip - and at which values."""
    if "unstable" not in points.columns or not len(points):
        return [], []
    sel = points[(points["parameter"] == flip["parameter"]) & (points["policy"] == flip["policy"])
                 & (points["metric"] == flip["metric"]) & (points["unstable"].fillna("").astype(str) != "")]
    flip_value = flip.get("flip_value")
    if flip_value is not None and not (isinstance(flip_value, float) and math.isnan(flip_value)):
        sel = sel[sel["value"].isin([flip["low"], flip["high"]])]     # only where the flip is
    if not len(sel):
        return [], []
    who = sorted({w for x in sel["unstable"] for w in str(x).split()})
    return who, sorted(float(v) for v in set(sel["value"]))


def unstable_note(points: pd.DataFrame, flip: dict) -> str:
    """``"... unstable (a team at least 95 % busy) at ..."``: :func:`unstable_at` in words."""
    who, values = unstable_at(points, flip)
    if not who:
        return ""
    vals = ", ".join(f"{v:g}" for v in values)
    return f"{' and '.join(who)} unstable (a team at least {UTILISATION_LIMIT:.0%} busy) at {vals}"


def _nan_to_none(x: float) -> Optional[float]:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else float(x)


def sign_changes_in_points(points: pd.DataFrame, flip: dict) -> int:
    """:func:`sign_changes` of one flip row's series, read back from ``points.csv``'s rows
    (its ``diff_mean`` per evaluated value): for a flips.csv written before the column existed."""
    if not len(points) or not {"parameter", "policy", "metric", "value", "diff_mean"} <= set(points.columns):
        return 0
    sel = points[(points["parameter"] == flip["parameter"]) & (points["policy"] == flip["policy"])
                 & (points["metric"] == flip["metric"])]
    return sign_changes({float(v): float(d) for v, d in zip(sel["value"], sel["diff_mean"])})
