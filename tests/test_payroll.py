"""Payroll: paid agent-hours in the measured window x cost_per_hour, summed over teams.

Exact arithmetic: the expected payroll is worked out from the scenario alone
(head count, wage, window length, shift hours), never from the simulation,
except the overtime, which the engine measures and ``teams.csv`` reports.
"""
from __future__ import annotations

import math

import pytest

from sim import scenario_from_dict, simulate
from sim.analysis import replication_metrics

from conftest import three_tier_dict


def test_payroll_without_shifts_is_head_count_times_window_times_wage():
    # window 3.5 days = 84 h; 5 x 30 + 5 x 50 + 4 x 90 = 760 per hour
    scn = scenario_from_dict(three_tier_dict(), "pay")
    res = simulate(scn, policies=["tiered", "swarming"])
    per_rep = res.per_replication
    assert list(per_rep["payroll"]) == [760 * 84.0] * 4
    resolved = res.tickets[res.tickets["outcome"] == "resolved"].groupby(
        ["policy", "replication"], observed=True).size()
    for row in per_rep.itertuples():
        assert row.payroll_per_resolved == pytest.approx(760 * 84.0 / resolved[(row.policy, row.replication)],
                                                         rel=1e-15)
    # the same head count under every policy: same payroll, whatever the busy-minute cost says
    assert per_rep["labour_cost"].nunique() > 1
    summary = res.summary
    assert {"payroll", "payroll_per_resolved"} <= set(summary["metric"])


def test_payroll_with_shifts_pays_on_shift_hours_and_overtime():
    d = three_tier_dict(horizon={"days": 5, "warmup_days": 1})
    # L1 works 08:00-16:00 every day; L2 10:00-14:00 on weekdays (the week starts on a Monday);
    # L3 is always on.  Measured window: days 1-4 (Tue-Fri) = 4 whole days.
    d["teams"][0]["shift"] = {"start": 8, "end": 16}
    d["teams"][1]["shift"] = {"start": 10, "end": 14, "days": ["mon", "tue", "wed", "thu", "fri"]}
    scn = scenario_from_dict(d, "shifts")
    res = simulate(scn, policies=["tiered"])
    teams = res.teams.set_index(["replication", "team"])
    on_shift = {"L1": 5 * 8 * 60 * 4.0, "L2": 5 * 4 * 60 * 4.0, "L3": 4 * 24 * 60 * 4.0}
    wage = {"L1": 30.0, "L2": 50.0, "L3": 90.0}
    for rep in range(scn.replications):
        for team, minutes in on_shift.items():
            assert teams.loc[(rep, team), "on_shift_min"] == minutes
        overtime = {t: teams.loc[(rep, t), "overtime_min"] for t in wage}
        assert overtime["L3"] == 0 and overtime["L1"] > 0      # L1 finishes its tickets after 16:00
        expected = sum((on_shift[t] + overtime[t]) / 60 * wage[t] for t in wage)
        got = res.per_replication.set_index("replication").loc[rep, "payroll"]
        assert got == pytest.approx(expected, rel=1e-12)
        # without the overtime the payroll is exact: 4 days of (5x8x30 + 5x4x50 + 4x24x90)
        assert got - sum(overtime[t] / 60 * wage[t] for t in wage) == pytest.approx(
            4 * (5 * 8 * 30 + 5 * 4 * 50 + 4 * 24 * 90), rel=1e-12)


def test_payroll_needs_the_scenario_and_is_not_split_by_group():
    scn = scenario_from_dict(three_tier_dict(horizon={"days": 1, "warmup_days": 0.25}), "pay")
    res = simulate(scn, policies=["tiered"], replications=1)
    assert "payroll" not in replication_metrics(res.tickets, res.teams).columns   # no wages known
    row = replication_metrics(res.tickets, res.teams, scn).iloc[0]
    assert row["payroll"] == 760 * 18.0
    assert math.isfinite(row["payroll_per_resolved"])
