"""Is a policy's run a steady-state result?  Stability findings as typed records.

A run is *unstable* under a policy when a team is at or above
:data:`UTILISATION_LIMIT` utilised (mean over replications) or when the
waiting backlog keeps growing over the second half of the horizon (see
:func:`backlog_growth`).  Its numbers then depend on the horizon and must not
be compared as if the queue had settled.

Findings are :class:`Finding` records (policy, team, kind, value, threshold)
with a ready-made ``message``: consumers filter by field, never by parsing
text.  Pure functions of the result tables (teams, backlog) and the scenario.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

import numpy as np
import pandas as pd

from .metrics import group_means, t_interval

__all__ = ["Finding", "stability_findings", "stability_warnings", "stability_flags", "findings_of",
           "mean_utilisation",
           "backlog_growth", "UTILISATION_LIMIT", "GROWTH_MIN_TICKETS", "GROWTH_MIN_SHARE",
           "UTILISATION", "BACKLOG_GROWTH"]

UTILISATION_LIMIT = 0.95      # a team this busy (mean over replications) may never settle
GROWTH_MIN_TICKETS = 5.0      # growth over the second half worth calling instability ...
GROWTH_MIN_SHARE = 0.25       # ... and relative to the backlog's level there

#: Finding kinds
UTILISATION = "utilisation"
BACKLOG_GROWTH = "backlog_growth"


@dataclass(frozen=True)
class Finding:
    """One reason a policy's run is not a steady-state result.

    ``kind`` ``utilisation``: ``team``'s mean utilisation ``value`` (a fraction) is at or
    above ``threshold``.  ``backlog_growth``: the waiting backlog grows by ``value``
    tickets/day over the second half of the horizon, at least the material ``threshold``
    (tickets/day); ``team`` is ``None`` (the whole system).
    """

    policy: str
    team: Optional[str]
    kind: str
    value: float
    threshold: float
    message: str

    def __str__(self) -> str:
        return self.message


def stability_findings(teams: pd.DataFrame, backlog: pd.DataFrame, scenario: Any,
                       util_limit: float = UTILISATION_LIMIT) -> list[Finding]:
    """Every stability finding of a result's tables: utilisation first, then backlog growth."""
    util = _mean_utilisation(teams) if teams is not None and len(teams) else ()
    groups = _by_policy(backlog) if backlog is not None and len(backlog) else ()
    return findings_of(util, groups, scenario, util_limit)


def findings_of(utilisation: Iterable[tuple[tuple[Any, Any], float]], backlog: Iterable[tuple[Any, Any]],
                scenario: Any, util_limit: float = UTILISATION_LIMIT) -> list[Finding]:
    """The findings from what :func:`stability_findings` reads off the tables.

    ``utilisation``: ((policy, team), mean utilisation) in ``groupby(["policy", "team"])``
    order (:func:`mean_utilisation`); ``backlog``: (policy, its ``replication``,
    ``time_min`` and ``waiting`` columns) per policy with samples, in the policies' order.
    A caller holding the runs' columns (``simulate``) passes them without building and
    reading back pandas tables (~1 ms of a small run's fixed cost: issue 16).
    """
    out: list[Finding] = []
    for (policy, team), u in utilisation:
        if u >= util_limit:
            out.append(Finding(str(policy), str(team), UTILISATION, float(u), util_limit, (
                f"unstable under {policy}: team {team} is {u:.0%} utilised "
                f"(>= {util_limit:.0%}); its queue may not settle within the horizon")))
    cycle = getattr(scenario, "cycle_min", None) if scenario is not None else None
    for policy, g in backlog:
        growth = _growth(g, cycle)
        if growth is not None:
            slope, threshold = growth
            out.append(Finding(str(policy), None, BACKLOG_GROWTH, slope, threshold, (
                f"unstable under {policy}: the backlog keeps growing "
                f"(about {slope:.1f} tickets/day over the second half of the horizon)")))
    return out


def stability_warnings(result: Any, util_limit: float = UTILISATION_LIMIT) -> list[str]:
    """The findings' messages, for ``result.warnings`` (text for people, not for code)."""
    return [f.message for f in stability_findings(result.teams, result.backlog, result.scenario,
                                                  util_limit)]


def stability_flags(result: Any) -> dict[str, list[Finding]]:
    """Policy -> the stability findings that concern it (empty list = stable)."""
    flags: dict[str, list[Finding]] = {str(p): [] for p in result.policies}
    for f in stability_findings(result.teams, result.backlog, result.scenario):
        flags.setdefault(f.policy, []).append(f)
    return flags


def backlog_growth(g: pd.DataFrame, cycle_min: Optional[float]) -> Optional[float]:
    """Growth (tickets/day) of the waiting backlog over the second half, if clear and material.

    The backlog is averaged over whole cycles (a week or a day when the scenario
    has weekly or daily patterns, else a day) and the trend is fitted to those
    averages, so a busy Monday after a closed weekend does not look like growth.
    Growth is *material* when, over the second half, it adds at least
    GROWTH_MIN_TICKETS tickets and GROWTH_MIN_SHARE of the backlog's level there
    (an overloaded queue grows by about two thirds of its level in that time; a
    stable one by nothing but noise), and *clear* when, with two or more
    replications, the 95 % t-interval of the slopes lies above zero.
    """
    found = _growth(g, cycle_min)
    return None if found is None else found[0]


def _growth(g: Any, cycle_min: Optional[float]) -> Optional[tuple[float, float]]:
    """(slope in tickets/day, material threshold in tickets/day) when growth is clear and material."""
    period = cycle_min or 1440.0
    slopes, growth, level, halves = [], [], [], []
    for t, y in _by_replication(g):
        if len(t) < 10:
            continue
        mid = t[0] + (t[-1] - t[0]) / 2
        half_days = (t[-1] - mid) / 1440.0
        k = np.floor((t - mid) / period)
        means = [(kk, y[k == kk].mean()) for kk in np.unique(k[k >= 0])
                 if (k == kk).sum() * (t[1] - t[0]) >= 0.99 * period]
        if len(means) < 2:
            # fewer than two whole cycles in the second half: compare the last two whole
            # cycles of the window (same phase, so the pattern cancels); shorter: not assessed
            end = t[-1] + (t[1] - t[0])
            if end - t[0] < 2 * period:
                continue
            last = y[t >= end - period].mean()
            prev = y[(t >= end - 2 * period) & (t < end - period)].mean()
            slope = (last - prev) / (period / 1440.0)
            level.append((last + prev) / 2)
        else:
            kk, mm = np.array(means).T
            slope = np.polyfit(kk * period / 1440.0, mm, 1)[0]
            level.append(mm.mean())
        slopes.append(slope)
        growth.append(slope * half_days)
        halves.append(half_days)
    if not slopes:
        return None
    mean_slope, half_width, n = t_interval(np.asarray(slopes))
    added = float(np.mean(growth))
    minimum = max(GROWTH_MIN_TICKETS, GROWTH_MIN_SHARE * float(np.mean(level)))
    material = added >= minimum
    clear = n < 2 or (half_width == half_width and mean_slope - half_width > 0)
    if not (material and clear):
        return None
    mean_half = float(np.mean(halves))
    threshold = minimum / mean_half if mean_half > 0 else float("nan")
    return float(mean_slope), threshold


# Grouping with numpy rather than DataFrame.groupby: the same groups in the same order with the
# same values, at a fraction of the cost on these small tables (a pandas groupby costs ~1 ms,
# which was most of a small run's fixed cost: issue 16).
def _by_policy(backlog: pd.DataFrame):
    """(policy, its rows) for each policy present, in category order (groupby observed=True)."""
    col = backlog["policy"]
    if not isinstance(col.dtype, pd.CategoricalDtype):
        yield from backlog.groupby("policy", observed=True)
        return
    cat = col.array             # the Categorical itself: .codes without building a Series
    codes = np.asarray(cat.codes)
    arrays = {c: backlog[c].to_numpy() for c in ("replication", "time_min", "waiting")}
    present = np.unique(codes[codes >= 0])
    if len(present) == 1 and bool((codes == present[0]).all()):
        yield cat.categories[present[0]], arrays      # one policy: every row, no copies
        return
    for code in present:
        mask = codes == code
        yield cat.categories[code], {c: v[mask] for c, v in arrays.items()}


def _by_replication(g: Any):
    """(time_min, waiting as float) per replication, in replication order (groupby sort=True).

    ``g``: a DataFrame or a mapping of those columns to arrays."""
    rep = np.asarray(g["replication"])
    t_all = np.asarray(g["time_min"])
    y_all = np.asarray(g["waiting"], dtype=float)
    for r in np.unique(rep):
        mask = rep == r
        yield t_all[mask], y_all[mask]


def _mean_utilisation(teams: pd.DataFrame):
    """((policy, team), mean utilisation) as ``groupby(["policy", "team"]).mean()`` yields them."""
    pol = teams["policy"]
    if isinstance(pol.dtype, pd.CategoricalDtype):
        found = mean_utilisation(np.asarray(pol.array.codes).tolist(),
                                 [str(x) for x in teams["team"].tolist()],
                                 teams["utilisation"].to_numpy(dtype=float).tolist(), pol.array.categories)
        if found is not None:
            yield from found
            return
    yield from teams.groupby(["policy", "team"], observed=True)["utilisation"].mean().items()


def mean_utilisation(codes: Sequence[int], teams: Sequence[str], util: Sequence[float],
                     policies: Sequence[Any]) -> Optional[list[tuple[tuple[Any, str], float]]]:
    """((policy, team), mean) of a teams table's rows given as columns (``codes`` into
    ``policies``), as ``groupby(["policy", "team"]).mean()`` gives them; ``None`` when some
    (policy, team) has more rows and this pandas averages in a way not known here.

    With at most two replications per (policy, team) - every small run - pandas' sum (a
    compensated loop, or ``numpy.add.reduceat``) equals the plain sum ``0.0 + a + b``, so
    the mean is the same float, without a groupby (~1 ms); with more, its summation is
    followed exactly (:func:`sim.analysis.metrics.group_means`).
    """
    groups: dict[tuple[int, str], list[float]] = {}
    for c, name, u in zip(codes, teams, util):
        groups.setdefault((c, name), []).append(u)
    if not all(c >= 0 for c, _ in groups):
        return None
    keys = sorted(groups)
    if all(len(v) <= 2 for v in groups.values()):
        out = []
        for (c, name) in keys:
            total, n = 0.0, 0
            for u in groups[(c, name)]:
                if u == u:                  # NaN is skipped, as by pandas
                    total = total + u
                    n += 1
            out.append(((policies[c], name), (total / n if n else float("nan"))))
        return out
    # more replications: pandas' own summation, followed exactly (None if not known)
    number = {key: i for i, key in enumerate(keys)}
    means = group_means([number[(c, name)] for c, name in zip(codes, teams)], list(util), len(keys))
    if means is None:
        return None
    return [((policies[c], name), m) for (c, name), m in zip(keys, means)]
