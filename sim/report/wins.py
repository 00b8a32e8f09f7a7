"""Where each model wins (all tickets, per issue type, per segment) and every pair of policies.

The numbers come from :mod:`sim.analysis.pairwise` (paired on the same
customers, unstable policies never candidates); this module only words them.
A winner's margin is its lead over the runner-up relative to the winner's own
mean: "tiered; next skill routing, 32 % dearer (±4 %)".
"""
from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Optional

import pandas as pd

from ..analysis.pairwise import best_policies, pairwise_differences
from .format import MINUS, fmt_level, fmt_rel, label, pct_digits, shows_zero

if TYPE_CHECKING:     # content imports this module; Table lives there
    from .content import Table

__all__ = ["TIME_METRIC", "COST_METRIC", "wins_table", "pair_matrices", "win_text", "tie_text", "margin_is_tie"]

TIME_METRIC = "resolution_mean_min"
COST_METRIC = "cost_per_resolved"
_WORSE = {TIME_METRIC: "slower", COST_METRIC: "dearer"}


def _plain(name: Optional[str]) -> str:
    return "-" if name is None else str(name).replace("_", " ")


def _margin_digits(rel: float, low: float, high: float) -> int:
    """Decimals the margin is shown with: its interval's precision (:func:`pct_digits`)."""
    half = (high - low) / 2 if not (math.isnan(low) or math.isnan(high)) else math.nan
    return pct_digits(rel, half)


def _pct_interval(rel: float, low: float, high: float) -> str:
    """'32 % (±4 %)' — or a range where the interval was cut at a possible value."""
    if math.isnan(rel):
        return "?"
    half = (high - low) / 2 if not (math.isnan(low) or math.isnan(high)) else math.nan
    d = _margin_digits(rel, low, high)
    body = f"{abs(rel) * 100:.{d}f} %"
    if math.isnan(half) or half == 0:
        return body
    return f"{body} {_spread(rel, low, high, d)}"


def _spread(rel: float, low: float, high: float, d: int) -> str:
    """'(±4 %)', or '(−1 to 3 %)' where the interval was cut at a possible value."""
    half = (high - low) / 2
    if abs((rel - low) - (high - rel)) > 1e-12:       # cut at a bound: show the range
        lo, hi = low * 100, high * 100
        return f"({lo:.{d}f} to {hi:.{d}f} %)".replace("-", MINUS)
    return f"(±{half * 100:.{d}f} %)"


def tie_text(best: str, runner: str, metric: str, rel: float, low: float, high: float) -> str:
    """'tiered and tiered skip tie on mean resolution time (±0.4 %)': a lead that prints as zero.

    Said instead of "ahead by 0.0 %" whenever the margin rounds to zero at the
    precision it is shown with (:func:`sim.report.format.shows_zero`).
    """
    half = (high - low) / 2 if not (math.isnan(low) or math.isnan(high)) else math.nan
    if math.isnan(half):
        spread = ""
    elif half == 0:
        spread = " (the same in every replication)"
    else:
        spread = " " + _spread(rel, low, high, _margin_digits(rel, low, high)).replace("(", "(within ", 1)
    name = re.sub(r" \([^()]*\)$", "", label(metric))     # the unit is not needed to say "tie"
    return f"{_plain(best)} and {_plain(runner)} tie on {name}{spread}"


def margin_is_tie(rel: float, low: float, high: float) -> bool:
    """True when the lead ``rel`` prints as zero at the precision the report shows it with."""
    return not math.isnan(rel) and shows_zero(rel * 100, _margin_digits(rel, low, high))


def win_text(rec: dict, metric: str) -> str:
    """One cell of the wins table, from a :func:`best_policies` row."""
    reason = rec.get("reason")
    if reason == "no_data":
        return "-"
    if reason == "none_stable":
        return "none: every policy is UNSTABLE"
    if reason == "only_stable":
        return f"{_plain(rec['winner'])} (the only stable policy)"
    best, runner = rec.get("best"), rec.get("runner_up")
    if runner is None:
        return _plain(best)
    worse = _WORSE.get(metric, "worse")
    if rec.get("better") == "higher" and metric not in _WORSE:
        worse = "lower"
    rel, low, high = float(rec["margin_rel"]), float(rec["rel_low"]), float(rec["rel_high"])
    if margin_is_tie(rel, low, high):
        return f"no clear winner: {tie_text(str(best), str(runner), metric, rel, low, high)}"
    margin = _pct_interval(rel, low, high)
    if reason == "clear":
        return f"{_plain(best)}; next {_plain(runner)}, {margin} {worse}"
    return f"no clear winner: {_plain(best)} ahead of {_plain(runner)} by {margin}"


def wins_table(a, currency: str = "") -> "Table":
    """Rows: all tickets, each issue type, each segment; columns: fastest, cheapest."""
    from .content import Table

    exclude = list(a.unstable)
    metrics = [m for m in (TIME_METRIC, COST_METRIC) if m in a.per_rep.columns]
    rows: list[list[str]] = []

    def add(title: str, table: pd.DataFrame, by: Optional[str]) -> None:
        if table is None or not len(table):
            return
        found = {m: best_policies(table, m, exclude=exclude, by=by, level=a.level) for m in metrics}
        groups = [None] if by is None else list(pd.unique(table[by].astype(str)))
        for g in groups:
            cells = []
            for m in metrics:
                f = found[m]
                rec = f.iloc[0] if by is None else f[f[by].astype(str) == g]
                if by is not None:
                    rec = rec.iloc[0] if len(rec) else None
                cells.append("-" if rec is None else win_text(rec.to_dict(), m))
            rows.append([title if by is None else f"{title}: {g}", *cells])

    add("all tickets", a.per_rep, None)
    add("issue", a.by_issue, "issue")
    add("segment", a.by_segment, "segment")
    header = ["tickets", *(f"best on {label(m, currency or None)}" for m in metrics)]
    note = (f"Paired on the same customers: a policy wins when its mean is best and its {fmt_level(a.level)} paired "
            "interval against every other stable policy excludes zero; the margin is the runner-up's "
            "paired gap relative to the winner's mean, with its interval. UNSTABLE policies never win"
            + (f" (here: {', '.join(_plain(p) for p in exclude)})." if exclude else "."))
    return Table("Where each model wins", header, rows, note)


def pair_matrices(a) -> list["Table"]:
    """Every pair of policies on time and cost: row policy against column policy (paired)."""
    from .content import Table

    policies = [str(p) for p in pd.unique(a.per_rep["policy"].astype(str))] if len(a.per_rep) else []
    if len(policies) < 2:
        return []
    unstable = set(a.unstable)
    out = []
    for metric in (TIME_METRIC, COST_METRIC):
        if metric not in a.per_rep.columns:
            continue
        diffs = pairwise_differences(a.per_rep, [metric], policies, level=a.level)
        idx = diffs.set_index(["policy", "other"]) if len(diffs) else None
        rows = []
        for p in policies:
            cells = []
            for q in policies:
                if p == q:
                    cells.append("—")
                elif p in unstable or q in unstable:
                    cells.append("not compared (UNSTABLE)")
                elif idx is None or (p, q) not in idx.index:
                    cells.append("-")
                else:
                    r = idx.loc[(p, q)]
                    half = (float(r["diff_high"]) - float(r["diff_low"])) / 2
                    ref = float(r["other_mean"])
                    text = fmt_rel(float(r["rel_mean"]), half / abs(ref) if ref else math.nan,
                                   float(r["policy_mean"]), ref)
                    removed = float(r["policy_mean"]) == 0 and ref > 0
                    cells.append(text + ("" if bool(r["clear"]) or removed else " · not clear"))
            rows.append([f"{p} (UNSTABLE)" if p in unstable else p, *cells])
        out.append(Table(f"Every pair: {label(metric)}, row vs column", ["row vs column", *policies], rows,
                         "Relative change of the row policy against the column policy (paired: the "
                         f"same customers, replication by replication), with its {fmt_level(a.level)} interval."))
    return out
