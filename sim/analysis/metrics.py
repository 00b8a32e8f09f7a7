"""Per-replication metrics and their confidence intervals. Reads results only.

Replications are the independent observations: every metric is first
computed per (policy, replication) — optionally per segment or issue type
too — then summarised across replications with a Student-t confidence
interval.  Pooling tickets across replications would understate the
uncertainty, because tickets of one replication share its queue history.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["replication_metrics", "group_metrics", "summarize", "t_interval", "METRIC_LABELS",
           "ticket_targets", "metric_label", "is_share_metric"]

METRIC_LABELS: dict[str, str] = {
    "tickets": "measured tickets",
    "resolved_share": "share resolved",
    "abandoned_share": "share abandoned",
    "open_share": "share still open at horizon",
    "resolution_mean_min": "mean resolution time (min)",
    "resolution_median_min": "median resolution time (min)",
    "resolution_p90_min": "p90 resolution time (min)",
    "resolution_p95_min": "p95 resolution time (min)",
    "wait_mean_min": "mean time queued (min)",
    "handoffs_per_ticket": "handoffs per ticket",
    "repeats_per_ticket": "repeats per ticket",
    "repeat_share": "share of tickets with ≥ 1 repeat",
    "agents_touched_per_ticket": "agents per ticket",
    "agent_min_per_ticket": "agent minutes per ticket",
    "cost_per_resolved": "agent-time cost per resolved ticket",
    "labour_cost": "agent-time cost of measured tickets",
    "expert_min_per_ticket": "top-tier minutes on lower-tier tickets, per ticket",
    "expert_min": "top-tier minutes on lower-tier tickets (total)",
    "helpers_per_ticket": "swarm helpers per ticket",
    "service_level": "share first touched within target",
    "resolution_within_target": "share resolved within target",
    # operating-reality metrics (present only when the scenario switches the feature on)
    "sla_breaches_per_ticket": "SLA targets breached per ticket",
    "sla_penalty": "SLA penalties (total)",
    "customer_cost": "cost of the customers' time (total)",
    "customer_cost_per_ticket": "cost of the customer's time per ticket",
    "total_cost": "agent-time cost + SLA penalties + customers' time (total)",
    "reopens_per_ticket": "reopens per ticket",
    "interruptions_per_ticket": "times work on a ticket was interrupted for a swarm",
    "payroll": "payroll of the measured window",
    "payroll_per_resolved": "payroll per resolved ticket",
}


def metric_label(metric: str) -> str:
    """Readable name of a metric column, including the per-team utilisation columns."""
    if metric.startswith("utilisation_"):
        return f"utilisation of team {metric[len('utilisation_'):]}"
    return METRIC_LABELS.get(metric, metric)


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence half-width of independent observations."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return float("nan"), float("nan"), 0
    mean = float(values.mean())
    if n < 2:
        return mean, float("nan"), n
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n))
    return mean, half, n


def ticket_targets(tickets: pd.DataFrame, scenario: Any = None) -> pd.DataFrame:
    """Per ticket: whether it counts for, and met, its segment's service targets.

    ``sl_eligible``/``sl_met`` concern ``first_response_target`` (first agent
    touch within the target), ``rt_eligible``/``rt_met`` ``resolution_target``.
    A ticket never touched (abandoned or still waiting) missed the target —
    except one still waiting at the horizon that has not yet waited as long as
    the target: its outcome is unknown, so it is left out (censored).
    """
    n = len(tickets)
    out = pd.DataFrame({"sl_eligible": np.zeros(n, bool), "sl_met": np.zeros(n, bool),
                        "rt_eligible": np.zeros(n, bool), "rt_met": np.zeros(n, bool)},
                       index=tickets.index)
    if scenario is None or n == 0:
        return out
    segs = list(scenario.segments)
    fr = {s.name: s.first_response_target for s in segs if s.first_response_target is not None}
    rt = {s.name: s.resolution_target for s in segs if s.resolution_target is not None}
    age_at_end = scenario.horizon_min - tickets["arrival_min"].to_numpy(dtype=float)
    still_open = _is(tickets["outcome"], "open")
    if fr:
        target = _per_label(tickets["segment"], fr)
        first = tickets["first_response_min"].to_numpy(dtype=float)
        has_target = ~np.isnan(target)
        censored = np.isnan(first) & still_open & (age_at_end < target)
        out["sl_eligible"] = has_target & ~censored
        out["sl_met"] = out["sl_eligible"].to_numpy() & (first <= target)   # NaN compares False
    if rt:
        target = _per_label(tickets["segment"], rt)
        res = tickets["resolution_min"].to_numpy(dtype=float)
        has_target = ~np.isnan(target)
        censored = still_open & (age_at_end < target)
        out["rt_eligible"] = has_target & ~censored
        out["rt_met"] = out["rt_eligible"].to_numpy() & (res <= target)
    return out


def _codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Category codes and names of a label column (fast; str conversion of 10^5 rows is not)."""
    cat = series if isinstance(series.dtype, pd.CategoricalDtype) else series.astype("category")
    return cat.cat.codes.to_numpy(), [str(c) for c in cat.cat.categories]


def _is(series: pd.Series, value: str) -> np.ndarray:
    codes, names = _codes(series)
    return codes == names.index(value) if value in names else np.zeros(len(series), bool)


def _per_label(series: pd.Series, values: dict[str, float]) -> np.ndarray:
    """Look a float up per row by its label (NaN where the label has no value)."""
    codes, names = _codes(series)
    table = np.array([values.get(n, np.nan) for n in names] + [np.nan], dtype=float)
    return table[codes]        # code -1 (missing label) picks the trailing NaN


def _share(mask: np.ndarray, of: np.ndarray) -> float:
    k = int(of.sum())
    return float(mask[of].mean()) if k else np.nan


def _metrics(g: pd.DataFrame, t: pd.DataFrame) -> dict[str, float]:
    """All ticket-level metrics of one group of tickets (one policy, replication[, group])."""
    n = len(g)
    resolved = g["_resolved"].to_numpy()
    res = g["resolution_min"].to_numpy(dtype=float)[resolved]
    cost = float(g["cost"].sum())
    n_res = int(resolved.sum())
    repeats = g["repeats"].to_numpy()
    nan = np.nan
    return {
        "tickets": n,
        "resolved_share": n_res / n if n else nan,
        "abandoned_share": float(g["_abandoned"].mean()) if n else nan,
        "open_share": float(g["_open"].mean()) if n else nan,
        "resolution_mean_min": float(res.mean()) if len(res) else nan,
        "resolution_median_min": float(np.median(res)) if len(res) else nan,
        "resolution_p90_min": float(np.percentile(res, 90)) if len(res) else nan,
        "resolution_p95_min": float(np.percentile(res, 95)) if len(res) else nan,
        "wait_mean_min": float(g["wait_min"].mean()) if n else nan,
        "handoffs_per_ticket": float(g["handoffs"].mean()) if n else nan,
        "repeats_per_ticket": float(repeats.mean()) if n else nan,
        "repeat_share": float((repeats >= 1).mean()) if n else nan,
        "agents_touched_per_ticket": float(g["agents_touched"].mean()) if n else nan,
        "agent_min_per_ticket": float(g["agent_min"].mean()) if n else nan,
        "cost_per_resolved": cost / n_res if n_res else nan,
        "labour_cost": cost,
        "expert_min_per_ticket": float(g["expert_min"].mean()) if n else nan,
        "expert_min": float(g["expert_min"].sum()),
        "helpers_per_ticket": float(g["helpers"].mean()) if n else nan,
        "service_level": _share(t["sl_met"].to_numpy(), t["sl_eligible"].to_numpy()),
        "resolution_within_target": _share(t["rt_met"].to_numpy(), t["rt_eligible"].to_numpy()),
        **_reality_metrics(g, n, cost),
    }


def _reality_metrics(g: pd.DataFrame, n: int, labour: float) -> dict[str, float]:
    """Metrics of the optional operating-reality columns (SLA penalties, customer time,
    reopens, interruptions); unconfigured ones are dropped again by :func:`_drop_unconfigured`."""
    if "sla_penalty" not in g.columns:      # a table from before these columns existed
        return {}
    nan = np.nan
    breaches = g["first_response_breached"].to_numpy(int) + g["resolution_breached"].to_numpy(int)
    penalty = float(g["sla_penalty"].sum())
    customer = float(g["customer_cost"].sum())
    return {
        "sla_breaches_per_ticket": float(breaches.mean()) if n else nan,
        "sla_penalty": penalty,
        "customer_cost": customer,
        "customer_cost_per_ticket": customer / n if n else nan,
        "total_cost": labour + penalty + customer,
        "reopens_per_ticket": float(g["reopens"].mean()) if n else nan,
        "interruptions_per_ticket": float(g["interruptions"].mean()) if n else nan,
    }


def _drop_unconfigured(out: pd.DataFrame, tickets: pd.DataFrame, scenario: Any) -> pd.DataFrame:
    """Keep an operating-reality metric only if the scenario (or a policy) used the feature."""
    segs = list(scenario.segments) if scenario is not None else []
    issues = list(scenario.issues) if scenario is not None else []
    targets = any(s.first_response_target is not None or s.resolution_target is not None for s in segs)
    penalty = any(s.sla_penalty > 0 for s in segs)
    customer = any(s.customer_cost_per_hour > 0 for s in segs)
    keep = {
        "sla_breaches_per_ticket": targets, "sla_penalty": penalty, "customer_cost": customer,
        "customer_cost_per_ticket": customer, "total_cost": penalty or customer,
        "reopens_per_ticket": any(i.can_reopen for i in issues),
        "interruptions_per_ticket": "interruptions" in tickets.columns
                                    and bool(tickets["interruptions"].any()),
    }
    return out.drop(columns=[m for m, k in keep.items() if not k and m in out.columns])


def _grouped(tickets: pd.DataFrame, keys: list[str], scenario: Any) -> pd.DataFrame:
    targets = ticket_targets(tickets, scenario)
    # outcome flags once for all groups, not per group
    out_col = tickets["outcome"]
    data = tickets.assign(_resolved=_is(out_col, "resolved"), _abandoned=_is(out_col, "abandoned"),
                          _open=_is(out_col, "open"))
    rows = []
    for key, idx in data.groupby(keys, observed=True, sort=True).indices.items():
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(keys, key))
        row.update(_metrics(data.iloc[idx], targets.iloc[idx]))
        rows.append(row)
    out = pd.DataFrame(rows)
    if len(out) == 0:
        return out
    # a target metric the scenario never asked for is noise, not a result
    segs = scenario.segments if scenario is not None else []
    if not any(s.first_response_target is not None for s in segs):
        out = out.drop(columns="service_level")
    if not any(s.resolution_target is not None for s in segs):
        out = out.drop(columns="resolution_within_target")
    return _drop_unconfigured(out, tickets, scenario)


def replication_metrics(tickets: pd.DataFrame, teams: pd.DataFrame | None = None,
                        scenario: Any = None) -> pd.DataFrame:
    """One row per (policy, replication), one column per metric.

    Pass ``scenario`` to get the service-level columns (they need the
    segments' targets); without it, or if no segment sets a target, they are
    left out.
    """
    out = _grouped(tickets, ["policy", "replication"], scenario)
    if teams is not None and len(teams) and len(out):
        util = teams.pivot_table(index=["policy", "replication"], columns="team",
                                 values="utilisation", observed=True)
        util.columns = [f"utilisation_{c}" for c in util.columns]
        out = out.merge(util.reset_index(), on=["policy", "replication"], how="left")
        pay = payroll_frame(teams, scenario)
        if pay is not None:
            out = out.merge(pay, on=["policy", "replication"], how="left")
            out["payroll_per_resolved"] = _per_resolved(out["payroll"].to_numpy(dtype=float), out)
    return out


def paid_minutes(teams: pd.DataFrame) -> np.ndarray:
    """Paid agent-minutes in the measured window, per row of a teams table.

    Without shifts every agent is paid for the whole window (``agents x window_min``);
    with shifts (``on_shift_min`` present) the on-shift minutes plus the overtime spent
    finishing work after a shift ended.
    """
    if "on_shift_min" in teams.columns:
        over = teams["overtime_min"].fillna(0.0) if "overtime_min" in teams.columns else 0.0
        return (teams["on_shift_min"] + over).to_numpy(dtype=float)
    return (teams["agents"] * teams["window_min"]).to_numpy(dtype=float)


def payroll_frame(teams: pd.DataFrame, scenario: Any) -> Optional[pd.DataFrame]:
    """policy, replication, payroll: paid agent-hours x the team's ``cost_per_hour``, summed over teams.

    ``None`` without a scenario (the wage lives there) or when a team of the table is
    not in it.
    """
    if scenario is None or not len(teams):
        return None
    wage = {t.name: float(t.cost_per_hour) for t in scenario.teams}
    names = teams["team"].astype(str)
    if not set(names).issubset(wage):
        return None
    cost = paid_minutes(teams) / 60.0 * names.map(wage).to_numpy(dtype=float)
    frame = pd.DataFrame({"policy": teams["policy"], "replication": teams["replication"],
                          "payroll": cost})
    return frame.groupby(["policy", "replication"], observed=True, sort=False)["payroll"].sum().reset_index()


def _per_resolved(values: np.ndarray, per_rep: pd.DataFrame) -> np.ndarray:
    """``values`` per resolved measured ticket of each replication (NaN when none was resolved)."""
    resolved = (per_rep["resolved_share"] * per_rep["tickets"]).round().to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(resolved > 0, values / resolved, np.nan)


def group_metrics(tickets: pd.DataFrame, by: str, scenario: Any = None) -> pd.DataFrame:
    """One row per (policy, replication, ``by``) — ``by`` is ``"segment"`` or ``"issue"``.

    Service level per segment uses that segment's own target.
    """
    if by not in tickets.columns:
        raise ValueError(f"tickets have no column {by!r}")
    out = _grouped(tickets, ["policy", "replication", by], scenario)
    if len(out):
        out[by] = out[by].astype(str)
    return out


def summarize(per_rep: pd.DataFrame, level: float = 0.95, by: Optional[str] = None,
              metrics: Optional[Sequence[str]] = None) -> pd.DataFrame:
    """Long table: policy[, by], metric, mean, ci_low, ci_high, half_width, n."""
    keys = ["policy"] + ([by] if by else [])
    if metrics is None:
        metrics = [c for c in per_rep.columns if c not in (*keys, "replication")]
    rows = []
    for key, g in per_rep.groupby(keys, observed=True, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        for m in metrics:
            mean, half, n = t_interval(g[m].to_numpy(dtype=float), level)
            low, high = _clip_bounds(m, mean, mean - half, mean + half)
            rows.append({**dict(zip(keys, key)), "metric": m, "mean": mean, "ci_low": low,
                         "ci_high": high, "half_width": half, "n": n})
    return pd.DataFrame(rows)


def is_share_metric(metric: str) -> bool:
    """Metrics that are fractions of tickets or of capacity (shown as percentages)."""
    return (metric.endswith("_share") or metric.startswith("utilisation_")
            or metric in ("service_level", "resolution_within_target"))


def _clip_bounds(metric: str, mean: float, low: float, high: float) -> tuple[float, float]:
    """Keep an interval inside the values the metric can take.

    The Student-t interval is symmetric and can reach below 0 (or above 100 %)
    when a share or count is near its bound; a bound nobody can observe only
    confuses readers.  ``half_width`` stays as computed.  Every known metric is
    non-negative (times, counts, costs, shares); unknown columns are left alone.
    """
    if not (is_share_metric(metric) or metric in METRIC_LABELS):
        return low, high
    if not np.isnan(low):
        low = max(low, 0.0)
    if is_share_metric(metric) and not np.isnan(high):
        # utilisation may exceed 1 when agents finish work past their shift: never cut below the mean
        high = min(high, max(1.0, mean))
    return low, high
