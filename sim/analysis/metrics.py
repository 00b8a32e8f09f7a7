"""Analysis: turns saved or in-memory results into metrics. Reads results only.

Replications are the independent observations: every metric is first
computed per (policy, replication), then summarised across replications with
a Student-t confidence interval.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["replication_metrics", "summarize", "t_interval", "METRIC_LABELS"]

METRIC_LABELS: dict[str, str] = {
    "tickets": "measured tickets",
    "resolved_share": "share resolved",
    "abandoned_share": "share abandoned",
    "open_share": "share still open at horizon",
    "resolution_mean_min": "mean resolution time (min)",
    "resolution_median_min": "median resolution time (min)",
    "resolution_p90_min": "p90 resolution time (min)",
    "wait_mean_min": "mean time queued (min)",
    "handoffs_per_ticket": "handoffs per ticket",
    "repeats_per_ticket": "repeats per ticket",
    "agents_touched_per_ticket": "agents per ticket",
    "agent_min_per_ticket": "agent minutes per ticket",
    "cost_per_resolved": "labour cost per resolved ticket",
    "labour_cost": "labour cost of measured tickets",
    "expert_min_per_ticket": "top-tier minutes on lower-tier tickets, per ticket",
    "helpers_per_ticket": "swarm helpers per ticket",
}


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


def replication_metrics(tickets: pd.DataFrame, teams: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (policy, replication), one column per metric."""
    rows = []
    for (policy, rep), g in tickets.groupby(["policy", "replication"], observed=True, sort=True):
        n = len(g)
        resolved = g["outcome"] == "resolved"
        res = g.loc[resolved, "resolution_min"].to_numpy()
        cost = float(g["cost"].sum())
        n_res = int(resolved.sum())
        rows.append({
            "policy": policy, "replication": rep, "tickets": n,
            "resolved_share": n_res / n if n else np.nan,
            "abandoned_share": float((g["outcome"] == "abandoned").mean()) if n else np.nan,
            "open_share": float((g["outcome"] == "open").mean()) if n else np.nan,
            "resolution_mean_min": float(res.mean()) if len(res) else np.nan,
            "resolution_median_min": float(np.median(res)) if len(res) else np.nan,
            "resolution_p90_min": float(np.percentile(res, 90)) if len(res) else np.nan,
            "wait_mean_min": float(g["wait_min"].mean()),
            "handoffs_per_ticket": float(g["handoffs"].mean()),
            "repeats_per_ticket": float(g["repeats"].mean()),
            "agents_touched_per_ticket": float(g["agents_touched"].mean()),
            "agent_min_per_ticket": float(g["agent_min"].mean()),
            "cost_per_resolved": cost / n_res if n_res else np.nan,
            "labour_cost": cost,
            "expert_min_per_ticket": float(g["expert_min"].mean()),
            "helpers_per_ticket": float(g["helpers"].mean()),
        })
    out = pd.DataFrame(rows)
    if teams is not None and len(teams) and len(out):
        util = teams.pivot_table(index=["policy", "replication"], columns="team",
                                 values="utilisation", observed=True)
        util.columns = [f"utilisation_{c}" for c in util.columns]
        out = out.merge(util.reset_index(), on=["policy", "replication"], how="left")
    return out


def summarize(per_rep: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Long table: policy, metric, mean, ci_low, ci_high, half_width, n."""
    rows = []
    metrics = [c for c in per_rep.columns if c not in ("policy", "replication")]
    for policy, g in per_rep.groupby("policy", observed=True, sort=False):
        for m in metrics:
            mean, half, n = t_interval(g[m].to_numpy(dtype=float), level)
            rows.append({"policy": policy, "metric": m, "mean": mean, "ci_low": mean - half,
                         "ci_high": mean + half, "half_width": half, "n": n})
    return pd.DataFrame(rows)
