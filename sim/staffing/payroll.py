"""Payroll: what the agents are paid, as opposed to what their busy minutes are worth. Pure.

``payroll`` of one replication is every team's paid agent-hours in the measured
window times its ``cost_per_hour``: without shifts every agent is paid for the
whole window (``agents x window hours``); with shifts, for the on-shift hours
plus overtime (the teams table's ``on_shift_min`` + ``overtime_min``).
``payroll_per_resolved`` divides it by the measured tickets resolved.

This is the staffing search's own copy of the catalogue's ``payroll`` metric
(``sim.analysis``), used until that metric exists in every per-replication row;
:func:`add_payroll` checks the two agree when both are there.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import pandas as pd

__all__ = ["PAYROLL_METRICS", "payroll_per_hour", "replication_payroll", "add_payroll",
           "PayrollMismatch"]

PAYROLL_METRICS = ("payroll", "payroll_per_resolved")


class PayrollMismatch(AssertionError):
    """The catalogue's payroll metric and this module's disagree: one of them is wrong."""


def payroll_per_hour(scenario: Any, agents: Mapping[str, int] | None = None) -> float:
    """Wage bill per hour of a staffing without shifts: sum of agents x cost_per_hour."""
    agents = agents or {t.name: t.agents for t in scenario.teams}
    return float(sum(agents[t.name] * t.cost_per_hour for t in scenario.teams))


def replication_payroll(scenario: Any, teams: pd.DataFrame) -> float:
    """Payroll of one replication from its rows of the teams table (one row per team)."""
    cost = {t.name: t.cost_per_hour for t in scenario.teams}
    total = 0.0
    for row in teams.itertuples(index=False):
        if "on_shift_min" in teams.columns and not _nan(getattr(row, "on_shift_min")):
            paid_min = float(row.on_shift_min) + float(getattr(row, "overtime_min", 0.0) or 0.0)
        else:
            paid_min = float(row.agents) * float(row.window_min)
        total += paid_min / 60.0 * cost[str(row.team)]
    return total


def add_payroll(row: dict[str, float], scenario: Any, teams: pd.DataFrame) -> dict[str, float]:
    """Put ``payroll`` and ``payroll_per_resolved`` into one replication's metric row.

    When the row already has them (the catalogue's metric), they are kept and
    checked against this module's arithmetic: a disagreement raises, because
    the search would otherwise minimise one number and report another.
    """
    mine = replication_payroll(scenario, teams)
    resolved = row.get("tickets", math.nan) * row.get("resolved_share", math.nan)
    per_resolved = mine / resolved if resolved and not _nan(resolved) else math.nan
    for name, value in (("payroll", mine), ("payroll_per_resolved", per_resolved)):
        theirs = row.get(name)
        if theirs is None or _nan(theirs):
            row[name] = value
        elif not _nan(value) and not math.isclose(float(theirs), value, rel_tol=1e-9, abs_tol=1e-6):
            raise PayrollMismatch(f"{name}: catalogue says {theirs!r}, staffing computes {value!r}")
    return row


def _nan(x: Any) -> bool:
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return True
