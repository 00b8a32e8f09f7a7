"""Analysis: metrics against hand-computed values, paired comparison, warm-up and stability checks."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import scenario_from_dict, simulate
from sim.analysis import (analyze, group_metrics, paired_differences, replication_metrics,
                          stability_flags, summarize, t_interval, ticket_targets, unpaired_interval,
                          warmup_check)

from conftest import mmc_dict, three_tier_dict

NAN = math.nan


# ----------------------------------------------------------------------------- fixtures
def target_scenario():
    """One-day horizon; vip: first response within 2 min, resolution within 15; std: 10 min."""
    d = three_tier_dict(horizon={"days": 1, "warmup_days": 0})
    d["segments"] = [
        {"name": "vip", "share": 0.5, "priority": 0, "first_response_target": 2, "resolution_target": 15},
        {"name": "std", "share": 0.5, "priority": 1, "first_response_target": 10},
    ]
    return scenario_from_dict(d, "targets")


def tickets_table(policy: str = "A", replication: int = 0) -> pd.DataFrame:
    """Five tickets whose metrics are easy to work out by hand."""
    rows = [
        # seg,  outcome,    arrival, res,  wait, hand, rep, agents, agent_min, cost, first, expert
        ("vip", "resolved", 100.0, 10.0, 2.0, 0, 0, 1, 8.0, 5.0, 1.0, 0.0),
        ("vip", "resolved", 200.0, 20.0, 4.0, 1, 1, 2, 16.0, 10.0, 3.0, 0.0),
        ("std", "resolved", 300.0, 30.0, 0.0, 2, 2, 3, 24.0, 15.0, 0.0, 6.0),
        ("vip", "abandoned", 400.0, NAN, 50.0, 0, 0, 0, 0.0, 0.0, NAN, 0.0),
        ("std", "open", 1435.0, NAN, 5.0, 0, 0, 0, 0.0, 2.0, NAN, 0.0),   # 5 min old at the horizon
    ]
    df = pd.DataFrame(rows, columns=["segment", "outcome", "arrival_min", "resolution_min", "wait_min",
                                     "handoffs", "repeats", "agents_touched", "agent_min", "cost",
                                     "first_response_min", "expert_min"])
    df.insert(0, "policy", policy)
    df.insert(1, "replication", replication)
    df["ticket_id"] = range(len(df))
    df["issue"] = ["how_to", "config", "config", "how_to", "defect"]
    df["tier"] = [1, 2, 2, 1, 3]
    df["end_min"] = df["arrival_min"] + df["resolution_min"].fillna(0)
    df["helpers"] = [0, 0, 1, 0, 0]
    return df


# ----------------------------------------------------------------------------- hand-computed metrics
def test_t_interval_hand_computed():
    mean, half, n = t_interval(np.array([1.0, 2.0, 3.0, 4.0]))
    # sd = sqrt(5/3) = 1.290994; t(0.975, 3) = 3.182446; half = t * sd / 2
    assert (mean, n) == (2.5, 4)
    assert half == pytest.approx(3.182446 * 1.290994 / 2, rel=1e-5)
    assert math.isnan(t_interval(np.array([7.0]))[1])


def test_replication_metrics_hand_computed():
    m = replication_metrics(tickets_table(), scenario=target_scenario()).iloc[0]
    assert m["tickets"] == 5
    assert m["resolved_share"] == pytest.approx(0.6)
    assert m["abandoned_share"] == pytest.approx(0.2)
    assert m["open_share"] == pytest.approx(0.2)
    # resolved [10, 20, 30]: linear-interpolated percentiles at ranks 1.8 and 1.9
    assert m["resolution_mean_min"] == pytest.approx(20)
    assert m["resolution_median_min"] == pytest.approx(20)
    assert m["resolution_p90_min"] == pytest.approx(28)
    assert m["resolution_p95_min"] == pytest.approx(29)
    assert m["wait_mean_min"] == pytest.approx(61 / 5)
    assert m["handoffs_per_ticket"] == pytest.approx(0.6)
    assert m["repeats_per_ticket"] == pytest.approx(0.6)
    assert m["repeat_share"] == pytest.approx(0.4)
    assert m["agents_touched_per_ticket"] == pytest.approx(1.2)
    assert m["cost_per_resolved"] == pytest.approx(32 / 3)     # all labour / resolved tickets
    assert m["labour_cost"] == pytest.approx(32)
    assert m["expert_min"] == pytest.approx(6)
    assert m["expert_min_per_ticket"] == pytest.approx(1.2)
    # first response: vip 1 <= 2 met, 3 > 2 missed, abandoned untouched missed;
    # std 0 <= 10 met, the open ticket is 5 min old < 10: censored, not counted
    assert m["service_level"] == pytest.approx(2 / 4)
    # resolution target only for vip: 10 met, 20 missed, abandoned missed
    assert m["resolution_within_target"] == pytest.approx(1 / 3)


def test_service_level_censoring_and_absent_targets():
    t = tickets_table()
    flags = ticket_targets(t, target_scenario())
    assert flags["sl_eligible"].tolist() == [True, True, True, True, False]
    assert flags["sl_met"].tolist() == [True, False, True, False, False]
    # the same open ticket, older than its target at the horizon, counts as missed
    old = t.copy()
    old.loc[4, "arrival_min"] = 1000.0
    assert ticket_targets(old, target_scenario())["sl_eligible"].tolist()[4]
    # a scenario without targets produces no service-level columns at all
    m = replication_metrics(t, scenario=scenario_from_dict(three_tier_dict(), "x"))
    assert "service_level" not in m.columns and "resolution_within_target" not in m.columns


def test_group_metrics_per_segment_and_issue():
    scn = target_scenario()
    seg = group_metrics(tickets_table(), "segment", scn).set_index("segment")
    assert seg.loc["vip", "tickets"] == 3 and seg.loc["std", "tickets"] == 2
    assert seg.loc["vip", "service_level"] == pytest.approx(1 / 3)
    assert seg.loc["std", "service_level"] == pytest.approx(1.0)
    assert seg.loc["vip", "resolution_mean_min"] == pytest.approx(15)
    assert math.isnan(seg.loc["std", "resolution_within_target"])      # std has no resolution target
    iss = group_metrics(tickets_table(), "issue", scn).set_index("issue")
    assert iss.loc["config", "handoffs_per_ticket"] == pytest.approx(1.5)
    assert iss.loc["how_to", "abandoned_share"] == pytest.approx(0.5)


def test_summarize_by_group_uses_replications_as_observations():
    t = pd.concat([tickets_table("A", 0), tickets_table("A", 1).assign(cost=lambda d: d["cost"] * 2)])
    s = summarize(group_metrics(t, "segment"), by="segment")
    row = s[(s["segment"] == "vip") & (s["metric"] == "labour_cost")].iloc[0]
    # vip labour cost: 15 in replication 0, 30 in replication 1
    assert row["mean"] == pytest.approx(22.5)
    assert row["half_width"] == pytest.approx(stats.t.ppf(0.975, 1) * np.std([15, 30], ddof=1) / np.sqrt(2))
    assert row["n"] == 2


# ----------------------------------------------------------------------------- paired differences
def per_rep_table() -> pd.DataFrame:
    return pd.DataFrame({
        "policy": ["base"] * 3 + ["x"] * 3,
        "replication": [0, 1, 2] * 2,
        "noisy": [10.0, 12.0, 14.0, 8.0, 11.0, 11.0],      # differences -2, -1, -3
        "steady": [10.0, 12.0, 14.0, 8.0, 9.9, 12.1],      # differences -2, -2.1, -1.9
        "zero_base": [0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
    })


def test_paired_differences_hand_computed():
    p = paired_differences(per_rep_table(), baseline="base").set_index("metric")
    t2 = stats.t.ppf(0.975, 2)
    noisy = p.loc["noisy"]
    assert noisy["diff_mean"] == pytest.approx(-2)
    assert noisy["diff_half"] == pytest.approx(t2 * 1.0 / np.sqrt(3))       # sd of (-2,-1,-3) is 1
    assert not noisy["clear"]                                                # -2 ± 2.48 includes 0
    # relative = difference over the baseline mean, on the same scale as its interval
    assert noisy["rel_mean"] == pytest.approx(-2 / 12)
    assert noisy["rel_half"] == pytest.approx(noisy["diff_half"] / 12)
    assert (abs(noisy["rel_mean"]) > noisy["rel_half"]) == noisy["clear"]
    assert (noisy["baseline_mean"], noisy["policy_mean"]) == (12, 10)
    steady = p.loc["steady"]
    assert steady["diff_half"] == pytest.approx(t2 * 0.1 / np.sqrt(3))
    assert steady["clear"]
    # a baseline of zero has no relative change; the absolute difference is still exact
    zb = p.loc["zero_base"]
    assert math.isnan(zb["rel_mean"]) and zb["diff_mean"] == 1 and zb["diff_half"] == 0 and zb["clear"]
    # the unpaired (Welch) interval of the same data, from scipy's own implementation
    welch = stats.ttest_ind([8.0, 11.0, 11.0], [10.0, 12.0, 14.0], equal_var=False).confidence_interval()
    assert noisy["unpaired_half"] == pytest.approx((welch.high - welch.low) / 2)
    with pytest.raises(ValueError, match="baseline"):
        paired_differences(per_rep_table(), baseline="nope")


def test_unpaired_interval_degenerate_inputs():
    d, h = unpaired_interval(np.array([1.0]), np.array([2.0, 3.0]))
    assert d == pytest.approx(-1.5) and math.isnan(h)


def test_paired_interval_narrower_than_unpaired_on_crn_data():
    """Common random numbers: the same customers make policy differences much less noisy."""
    scn = scenario_from_dict(three_tier_dict(replications=6), "crn")
    res = simulate(scn, policies=["tiered", "skill_routing", "swarming"])
    a = analyze(res)
    assert a.baseline == "tiered"
    p = a.paired.set_index(["policy", "metric"])
    for policy in ("skill_routing", "swarming"):
        for metric in ("resolution_mean_min", "wait_mean_min", "cost_per_resolved", "labour_cost"):
            row = p.loc[(policy, metric)]
            assert row["diff_half"] < row["unpaired_half"], (policy, metric)
        # identical arrivals under every policy: the ticket count does not differ at all
        assert p.loc[(policy, "tickets"), "diff_half"] == 0
        assert not p.loc[(policy, "tickets"), "clear"]


# ----------------------------------------------------------------------------- warm-up and stability
def backlog_table(first: float, level: float, reps: int = 6, hours: int = 48, start: float = 0.0):
    rng = np.random.default_rng(4)
    rows = []
    for r in range(reps):
        y = level + rng.normal(0, 1.0, hours)
        y[0] = first + rng.normal(0, 0.5)
        rows.append(pd.DataFrame({"policy": "p", "replication": r, "time_min": start + 60.0 * np.arange(hours),
                                  "waiting": y, "in_system": y}))
    return pd.concat(rows, ignore_index=True)


def test_warmup_check_flags_an_empty_start_and_suggests_more():
    scn = scenario_from_dict(three_tier_dict(horizon={"days": 20, "warmup_days": 0}), "w")
    (f,) = warmup_check(backlog_table(first=0.0, level=10.0), scn)
    assert f.status == "too_short"
    assert f.suggested_warmup_days is not None and f.suggested_warmup_days >= 1
    assert "warmup_days" in f.message
    (ok,) = warmup_check(backlog_table(first=10.0, level=10.0), scn)
    assert ok.status == "ok"
    (skipped,) = warmup_check(backlog_table(first=0.0, level=10.0), scn, skip=["p"])
    assert skipped.status == "not_assessed"
    (few,) = warmup_check(backlog_table(first=0.0, level=10.0, reps=1), scn)
    assert few.status == "not_assessed"


def test_warmup_check_on_simulated_runs():
    short = scenario_from_dict(three_tier_dict(replications=8, horizon={"days": 4, "warmup_days": 0}), "w0")
    res = simulate(short, policies=["tiered"])
    assert [f.status for f in warmup_check(res.backlog, short)] == ["too_short"]
    enough = short.replace(horizon={"days": 4, "warmup_days": 1})
    res = simulate(enough, policies=["tiered"])
    assert [f.status for f in warmup_check(res.backlog, enough)] == ["ok"]


def test_stability_flags_reuse_runner_warnings():
    over = scenario_from_dict(mmc_dict(servers=2, per_hour=24, mean_work=10, days=3, warmup_days=0.5,
                                       replications=2), "overloaded")
    over = over.replace(policies={"tiered": {}, "swarming": {}})
    res = simulate(over)
    flags = stability_flags(res)
    assert set(flags) == {"tiered", "swarming"}
    assert all(flags[p] for p in flags)
    assert all(f.message in res.warnings for p in flags for f in flags[p])
    # typed records: who, which team, what, how much against which limit
    util = [f for p in flags for f in flags[p] if f.kind == "utilisation"]
    assert util and all(f.team == "T" and f.value >= f.threshold == 0.95 for f in util)
    a = analyze(res)
    assert set(a.unstable) == {"tiered", "swarming"}
    assert all(w.status == "not_assessed" for w in a.warmup)


def test_analyze_falls_back_to_first_policy_without_tiered():
    scn = scenario_from_dict(three_tier_dict(horizon={"days": 1, "warmup_days": 0.2}), "fb")
    res = simulate(scn, policies=["swarming", "skill_routing"])
    a = analyze(res)
    assert a.baseline == "swarming" and a.notes
    assert set(a.paired["policy"]) == {"skill_routing"}
    with pytest.raises(ValueError, match="not run"):
        analyze(res, baseline="tiered")


def test_summarize_clips_intervals_to_possible_values_keeping_half_width():
    per_rep = pd.DataFrame({
        "policy": ["A"] * 3, "replication": [0, 1, 2],
        "abandoned_share": [0.0, 0.0, 0.03],          # interval would reach below 0
        "resolved_share": [1.0, 1.0, 0.97],           # ... and above 1
        "utilisation_L1": [0.99, 0.999, 0.90],
        "handoffs_per_ticket": [0.0, 0.0, 0.5],       # a count: not below 0, no upper bound
        "signed_thing": [-1.0, 0.0, 1.0],             # unknown column: left alone
    })
    s = summarize(per_rep).set_index("metric")
    for m in per_rep.columns[2:]:
        mean, half, _ = t_interval(per_rep[m].to_numpy())
        row = s.loc[m]
        assert row["half_width"] == pytest.approx(half)
        assert row["ci_low"] == pytest.approx(max(mean - half, 0.0) if m != "signed_thing" else mean - half)
    assert s.loc["abandoned_share", "ci_low"] == 0.0
    assert s.loc["resolved_share", "ci_high"] == 1.0
    assert s.loc["utilisation_L1", "ci_high"] == 1.0
    assert s.loc["handoffs_per_ticket", "ci_high"] == pytest.approx(
        per_rep["handoffs_per_ticket"].mean() + s.loc["handoffs_per_ticket", "half_width"])
    assert s.loc["signed_thing", "ci_low"] < 0
