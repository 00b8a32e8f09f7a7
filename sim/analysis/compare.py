"""Paired comparison of policies against a baseline.

Every policy sees the same customers in replication *r* (common random
numbers), so the difference ``metric(policy, r) - metric(baseline, r)``
cancels most of the replication-to-replication noise (a busy week is busy
for every policy).  A Student-t interval over those per-replication
differences is therefore much narrower than one built from two independent
samples; both are reported so the gain is visible.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import pandas as pd
from scipy import special   # stdtrit = Student t quantile (what stats.t.ppf calls); scipy.stats costs ~47 MiB per process

from .metrics import t_interval

__all__ = ["paired_differences", "unpaired_interval", "choose_baseline", "DEFAULT_BASELINE"]

DEFAULT_BASELINE = "tiered"


def choose_baseline(policies: Sequence[str], preferred: str = DEFAULT_BASELINE) -> str:
    """The preferred baseline if it was run, else the first policy run."""
    policies = list(policies)
    if not policies:
        raise ValueError("no policies to compare")
    return preferred if preferred in policies else policies[0]


def unpaired_interval(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Mean difference ``a - b`` and Welch half-width, treating the samples as independent."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    diff = float(a.mean() - b.mean()) if len(a) and len(b) else float("nan")
    if len(a) < 2 or len(b) < 2:
        return diff, float("nan")
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se2 = va + vb
    if se2 == 0:
        return diff, 0.0
    dof = se2 ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    return diff, float(special.stdtrit(dof, 0.5 + level / 2) * np.sqrt(se2))


def paired_differences(per_rep: pd.DataFrame, baseline: Optional[str] = None,
                       metrics: Optional[Sequence[str]] = None, level: float = 0.95,
                       by: Optional[str] = None) -> pd.DataFrame:
    """Per policy (≠ baseline)[, ``by`` group] and metric: the paired difference to the baseline.

    Columns: policy, [by,] metric, baseline, n, baseline_mean, policy_mean,
    diff_mean, diff_low, diff_high, diff_half (absolute, policy − baseline),
    rel_mean, rel_half (the difference and its half-width divided by the
    baseline's mean, so a relative change is called clear exactly when its
    interval excludes 0; NaN when the baseline mean is 0), unpaired_half (Welch half-width of the same
    difference, for comparison) and ``clear``: the interval of the difference
    excludes 0, i.e. the difference is statistically clear at ``level``.
    Only replications present for both policies are paired.
    """
    policies = [str(p) for p in pd.unique(per_rep["policy"].astype(str))]
    baseline = choose_baseline(policies) if baseline is None else baseline
    if baseline not in policies:
        raise ValueError(f"baseline policy {baseline!r} is not among the results ({', '.join(policies)})")
    keys = ["replication"] + ([by] if by else [])
    if metrics is None:
        metrics = [c for c in per_rep.columns
                   if c not in ("policy", "replication", by) and pd.api.types.is_numeric_dtype(per_rep[c])]
    data = per_rep.assign(policy=per_rep["policy"].astype(str))
    base = data[data["policy"] == baseline].set_index(keys)
    rows = []
    for policy in policies:
        if policy == baseline:
            continue
        mine = data[data["policy"] == policy].set_index(keys)
        common = mine.index.intersection(base.index)
        groups = [None] if not by else sorted(set(common.get_level_values(by)))
        for group in groups:
            idx = common if group is None else common[common.get_level_values(by) == group]
            for m in metrics:
                p = mine.loc[idx, m].to_numpy(dtype=float)
                b = base.loc[idx, m].to_numpy(dtype=float)
                ok = ~(np.isnan(p) | np.isnan(b))
                p, b = p[ok], b[ok]
                d_mean, d_half, n = t_interval(p - b, level)
                # relative change = the paired difference and its interval over the baseline's
                # mean, so "-20 % (±5 %)" is clear exactly when the absolute interval excludes 0
                b_mean = float(b.mean()) if len(b) else float("nan")
                if len(b) and b_mean != 0:
                    r_mean, r_half = d_mean / b_mean, d_half / abs(b_mean)
                else:
                    r_mean, r_half = float("nan"), float("nan")
                _, u_half = unpaired_interval(p, b, level)
                clear = bool(n >= 2 and not np.isnan(d_half)
                             and (d_mean - d_half > 0 or d_mean + d_half < 0))
                row: dict[str, object] = {"policy": policy}
                if by:
                    row[by] = group
                row.update({
                    "metric": m, "baseline": baseline, "n": n,
                    "baseline_mean": float(b.mean()) if len(b) else float("nan"),
                    "policy_mean": float(p.mean()) if len(p) else float("nan"),
                    "diff_mean": d_mean, "diff_low": d_mean - d_half, "diff_high": d_mean + d_half,
                    "diff_half": d_half, "rel_mean": r_mean, "rel_half": r_half,
                    "unpaired_half": u_half, "clear": clear,
                })
                rows.append(row)
    return pd.DataFrame(rows)
