"""Is the run fit to be read as a steady-state result? Warm-up and stability checks.

Measured window: tickets arriving in ``[warmup, horizon)`` are measured;
team utilisation is busy time within the same window.  The backlog is
sampled hourly from the warm-up end, so its first samples show the state
the warm-up left the system in.

Warm-up check: the simulation starts empty, so a warm-up that is too short
leaves the measured window starting with a backlog still climbing towards
its usual level.  Per replication we compare the tickets in system at the
start of the window (its first sample; with weekly or daily patterns, the
mean over its first whole cycle) with the mean level over the window's
second half (whole cycles only);
the warm-up looks too short when that gap is both statistically clear (a
paired Student-t interval over replications, Bonferroni-corrected across
policies) and material (at least 20 % of the usual level and one ticket).

Stability (team utilisation near or above 1, backlog still growing) lives
in :mod:`.stability`; :func:`stability_flags` is re-exported here for older
imports.  Findings are typed records: :class:`WarmupFinding` here,
:class:`~.stability.Finding` there.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Optional

import numpy as np
import pandas as pd

from .metrics import t_interval
from .stability import stability_flags

__all__ = ["WarmupFinding", "warmup_check", "stability_flags", "measured_window",
           "MATERIAL_SHARE", "MATERIAL_ABS"]

MATERIAL_SHARE = 0.2     # gap worth flagging, relative to the usual level
MATERIAL_ABS = 1.0       # ... and in tickets


@dataclass
class WarmupFinding:
    """The warm-up verdict for one policy.  Read ``status`` (or ``kind``), never the message.

    ``value``: the gap early - steady (tickets); ``threshold``: the gap that counts as
    material, max(MATERIAL_ABS, MATERIAL_SHARE x steady) (tickets).
    """

    policy: str
    status: str                  # "ok" | "too_short" | "not_assessed"
    early: float = math.nan      # mean tickets in system at the window's first sample
    steady: float = math.nan     # mean tickets in system over the window's second half
    gap_half: float = math.nan   # CI half-width of early - steady
    suggested_warmup_days: Optional[float] = None
    message: str = ""

    team: Optional[str] = None   # warm-up concerns the whole system

    @property
    def kind(self) -> str:
        return f"warmup_{self.status}"

    @property
    def value(self) -> float:
        return self.early - self.steady

    @property
    def threshold(self) -> float:
        return max(MATERIAL_ABS, MATERIAL_SHARE * self.steady) if self.steady == self.steady else math.nan

    def __str__(self) -> str:
        return self.message


def measured_window(scenario: Any) -> str:
    """One sentence saying what is measured, for reports."""
    h = scenario.horizon
    return (f"Each replication simulates {h.days:g} days from an empty system; tickets arriving "
            f"in the first {h.warmup_days:g} day(s) (warm-up) are simulated but not measured, so "
            f"the measured window is day {h.warmup_days:g} to day {h.days:g} "
            f"({h.days - h.warmup_days:g} days). Tickets still open at the end count as open.")


def warmup_check(backlog: pd.DataFrame, scenario: Any, skip: Iterable[str] = (),
                 level: float = 0.95) -> list[WarmupFinding]:
    """One finding per policy in ``backlog``; policies in ``skip`` (unstable) are not assessed."""
    skip = set(skip)
    policies = [str(p) for p in pd.unique(backlog["policy"].astype(str))] if len(backlog) else []
    level_each = 1 - (1 - level) / max(1, len(policies))
    out = []
    for policy in policies:
        if policy in skip:
            out.append(WarmupFinding(policy, "not_assessed", message=(
                f"{policy}: warm-up not assessed - the run is unstable, so its backlog trend "
                f"is not a warm-up effect")))
            continue
        g = backlog[backlog["policy"].astype(str) == policy]
        out.append(_assess(policy, g, scenario, level_each))
    return out


def _assess(policy: str, g: pd.DataFrame, scenario: Any, level: float) -> WarmupFinding:
    early_vals: list[float] = []
    steady_vals: list[float] = []
    curves: list[pd.Series] = []
    cycle = getattr(scenario, "cycle_min", None)
    for _, r in g.groupby("replication"):
        t = r["time_min"].to_numpy(dtype=float)
        y = r["in_system"].to_numpy(dtype=float)
        if len(t) < 8:
            continue
        mid = t[0] + (t[-1] - t[0]) / 2
        second_half = t >= mid
        if cycle:
            # weekly/daily patterns: compare the window's first whole cycle with whole
            # cycles of the second half, so a quiet night or weekend is not a warm-up effect
            if t[-1] - mid < cycle:
                continue
            first = t < t[0] + cycle
            k = np.floor((t - mid) / cycle)
            whole = second_half & (k < np.floor((t[-1] - mid) / cycle))
            early_vals.append(y[first].mean())
            steady_vals.append(y[whole].mean())
        else:
            early_vals.append(y[0])
            steady_vals.append(y[second_half].mean())
        curves.append(pd.Series(y, index=t))
    if len(early_vals) < 2:
        return WarmupFinding(policy, "not_assessed", message=(
            f"{policy}: warm-up not assessed - needs at least 2 replications and a window of "
            f"8 hours or more (with weekly or daily patterns: a second half of at least one "
            f"whole cycle)"))
    early_arr, steady_arr = np.asarray(early_vals), np.asarray(steady_vals)
    gap, half, _ = t_interval(early_arr - steady_arr, level)
    steady = float(steady_arr.mean())
    early = float(early_arr.mean())
    clear = half == half and abs(gap) > half
    material = abs(gap) >= max(MATERIAL_ABS, MATERIAL_SHARE * steady)
    days = scenario.horizon.warmup_days
    if not (clear and material):
        return WarmupFinding(policy, "ok", early, steady, half, message=(
            f"{policy}: warm-up of {days:g} day(s) looks adequate - {early:.1f} tickets in system "
            f"at the start of the measured window vs {steady:.1f} later"))
    suggestion = _suggest(curves, steady, scenario)
    direction = "below" if gap < 0 else "above"
    hint = (f"; try horizon.warmup_days: {suggestion:g}" if suggestion is not None else
            "; lengthen horizon.days and horizon.warmup_days")
    return WarmupFinding(policy, "too_short", early, steady, half, suggestion, message=(
        f"{policy}: warm-up of {days:g} day(s) looks too short - the measured window starts with "
        f"{early:.1f} tickets in system, clearly {direction} the usual {steady:.1f}, so early "
        f"tickets see an unrepresentative queue{hint}"))


def _suggest(curves: list[pd.Series], steady: float, scenario: Any) -> Optional[float]:
    """Warm-up (days) = current + twice the time the mean backlog needs to reach its usual level."""
    mean = pd.concat(curves, axis=1).mean(axis=1).sort_index()
    smooth = mean.rolling(3, min_periods=1).mean()
    tol = max(MATERIAL_ABS, MATERIAL_SHARE * steady)
    reached = smooth.index[(smooth - steady).abs() <= tol]
    settle_min = float(reached[0] - mean.index[0]) if len(reached) else float(mean.index[-1] - mean.index[0])
    extra_days = max(1.0, 2 * settle_min / 1440.0)
    proposal = math.ceil((scenario.horizon.warmup_days + extra_days) * 2) / 2
    if proposal >= scenario.horizon.days * 0.5:
        return None     # would eat most of the horizon: the horizon must grow too
    return proposal
