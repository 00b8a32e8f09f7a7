"""Payroll: what the agents are paid, as opposed to what their busy minutes are worth. Pure.

``payroll`` of one replication is every team's paid agent-hours in the measured
window times its ``cost_per_hour``: without shifts every agent is paid for the
whole window (``agents x window hours``); with shifts, for the on-shift hours
plus overtime.  ``payroll_per_resolved`` divides it by the measured tickets
resolved.  The catalogue computes both for every run (``sim.analysis``); the
staffing search minimises ``payroll`` and re-derives it here for staffings
without shifts, so a disagreement between the number it minimises and the
number it reports cannot go unnoticed.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Optional

__all__ = ["PAYROLL_METRICS", "window_hours", "payroll_per_hour", "expected_payroll",
           "complete_payroll", "PayrollMismatch"]

PAYROLL_METRICS = ("payroll", "payroll_per_resolved")


class PayrollMismatch(AssertionError):
    """The catalogue's payroll metric and this module's arithmetic disagree."""


def window_hours(scenario: Any) -> float:
    """Hours of the measured window (horizon after the warm-up)."""
    return (scenario.horizon_min - scenario.warmup_min) / 60.0


def payroll_per_hour(scenario: Any, agents: Optional[Mapping[str, int]] = None) -> float:
    """Wage bill per hour of a staffing without shifts: the sum of agents x cost_per_hour."""
    agents = agents or {t.name: t.agents for t in scenario.teams}
    return float(sum(agents[t.name] * t.cost_per_hour for t in scenario.teams))


def expected_payroll(scenario: Any) -> Optional[float]:
    """Payroll of one replication when it follows from the scenario alone (no shifts), else None."""
    if any(t.shift is not None for t in scenario.teams):
        return None            # paid hours include overtime, which depends on the run
    return payroll_per_hour(scenario) * window_hours(scenario)


def complete_payroll(row: dict[str, float], scenario: Any) -> dict[str, float]:
    """Check (and, for a row from before the catalogue had them, fill in) the payroll metrics."""
    expected = expected_payroll(scenario)
    theirs = row.get("payroll")
    if theirs is None or _nan(theirs):
        if expected is None:
            raise PayrollMismatch("payroll: the run reported none and shifts make it run-dependent")
        row["payroll"] = expected
    elif expected is not None and not math.isclose(float(theirs), expected, rel_tol=1e-9, abs_tol=1e-6):
        raise PayrollMismatch(f"payroll: the run reports {theirs!r}, agents x window hours x "
                              f"cost_per_hour gives {expected!r}")
    if row.get("payroll_per_resolved") is None:
        resolved = row.get("tickets", math.nan) * row.get("resolved_share", math.nan)
        row["payroll_per_resolved"] = row["payroll"] / resolved if resolved and not _nan(resolved) else math.nan
    return row


def _nan(x: Any) -> bool:
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return True
