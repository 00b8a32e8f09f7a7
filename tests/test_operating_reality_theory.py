"""Operating-reality features against theory: Erlang A abandonment, non-homogeneous arrivals.

Tolerances come from the simulation's own sampling error (99 % Student-t
intervals over independent replications) or from a chi-square test at the
1 % level; each test also shows that its check would reject a model that is
clearly wrong, so none of them can pass vacuously.  Seeds are fixed: the
tests are deterministic.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim import scenario_from_dict, simulate
from sim.analysis import t_interval
from sim.models.customers import CustomerStream
from sim.theory import erlang_a_abandonment

from conftest import mmc_dict

pytestmark = pytest.mark.theory

LEVEL = 0.99
ALPHA = 0.01


def _in_ci(values, theory: float, what: str) -> float:
    mean, half, n = t_interval(np.asarray(values, dtype=float), LEVEL)
    assert abs(mean - theory) <= half, (
        f"{what}: simulated {mean:.4f} ± {half:.4f} (99 % CI, {n} replications) "
        f"does not contain theory {theory:.4f}")
    return half


def test_abandonment_matches_erlang_a():
    """M/M/c+M: exponential work and exponential patience on one team."""
    servers, per_hour, mean_work, mean_patience = 4, 27.0, 10.0, 15.0   # offered load 4.5 > c
    d = mmc_dict(servers=servers, per_hour=per_hour, mean_work=mean_work, days=12, warmup_days=1,
                 replications=16, seed=23)
    d["segments"] = [{"name": "all", "share": 1.0,
                      "patience": {"dist": "exponential", "mean": mean_patience}}]
    res = simulate(scenario_from_dict(d, "erlang-a"))
    t = res.tickets
    theory = erlang_a_abandonment(servers, per_hour / 60, mean_work, mean_patience)
    by_rep = t.groupby("replication")
    p_ab = by_rep["outcome"].apply(lambda s: float((s == "abandoned").mean())).to_numpy()
    wait = by_rep["wait_min"].mean().to_numpy()
    p_wait = by_rep["wait_min"].apply(lambda s: float((s > 0).mean())).to_numpy()
    h1 = _in_ci(p_ab, theory["p_abandon"], "Erlang A P(abandon)")
    h2 = _in_ci(wait, theory["mean_wait"], "Erlang A mean wait (all customers)")
    _in_ci(p_wait, theory["p_wait"], "Erlang A P(wait)")
    # the intervals are tight enough to reject a model 10 % off
    assert h1 < 0.1 * theory["p_abandon"] and h2 < 0.1 * theory["mean_wait"]
    # and abandonment matters here: Erlang C (no abandonment) would not even be stable
    assert theory["p_abandon"] > 0.05


PROFILE = [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.8, 2.2, 2.2, 2.0,
           1.6, 1.8, 2.0, 1.9, 1.6, 1.2, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2]
WEEK = [1.3, 1.1, 1.0, 1.0, 0.9, 0.4, 0.3]


def _profiled(start: str | None = None) -> dict:
    d = mmc_dict(servers=40, per_hour=6, mean_work=5, days=28, warmup_days=0, replications=1, seed=4)
    d["arrivals"].update(hourly_profile=PROFILE, weekday_profile=WEEK)
    if start is not None:
        d["start"] = start
    return d


def test_arrivals_reproduce_hourly_and_weekday_profile():
    """Chi-square goodness of fit of arrivals by hour of day and by weekday (scenario clock)."""
    d = _profiled(start="2026-01-07T10:30")          # a Wednesday, half past ten: clock offset
    res = simulate(scenario_from_dict(d, "profile"))
    arrival = res.tickets["arrival_min"].to_numpy()
    week_min = (2 * 1440 + 10 * 60 + 30) + arrival
    hours = (week_min // 60).astype(int) % 24
    days = (week_min // 1440).astype(int) % 7
    observed_h = np.bincount(hours, minlength=24)
    # every hour of the day occurs equally often over 28 whole days, so the profile is the law
    expected_h = np.asarray(PROFILE) / sum(PROFILE) * len(arrival)
    p_hour = stats.chisquare(observed_h, expected_h).pvalue
    assert p_hour > ALPHA, f"hourly profile rejected (p={p_hour:.2g}): {observed_h}"
    observed_d = np.bincount(days, minlength=7)
    expected_d = np.asarray(WEEK) / sum(WEEK) * len(arrival)
    p_day = stats.chisquare(observed_d, expected_d).pvalue
    assert p_day > ALPHA, f"weekday profile rejected (p={p_day:.2g}): {observed_d}"
    # the test has power: a flat day is rejected outright, and so is a profile read in UTC+1
    assert stats.chisquare(observed_h, np.full(24, len(arrival) / 24)).pvalue < 1e-6
    shifted = np.roll(expected_h, 1)
    assert stats.chisquare(observed_h, shifted).pvalue < 1e-6
    # volume: the weekly mean rate is per_hour x mean(hourly) x mean(weekday)
    scn = scenario_from_dict(d, "profile")
    expected_n = scn.arrivals.mean_per_hour * 24 * 28
    assert abs(len(arrival) - expected_n) < 3.3 * np.sqrt(expected_n)


def test_flat_profile_is_the_homogeneous_process():
    """All multipliers 1: thinning keeps every candidate, so arrivals are exactly as without a profile."""
    d = mmc_dict(days=3, replications=1)
    plain = CustomerStream(scenario_from_dict(d, "plain"), 0, 7)
    d["arrivals"]["hourly_profile"] = [1.0] * 24
    flat = CustomerStream(scenario_from_dict(d, "flat"), 0, 7)
    for _ in range(2):
        a, b = next(plain.blocks()), next(flat.blocks())
        assert a.arrival == b.arrival and a.work == b.work and a.issue == b.issue


def test_arrival_draws_do_not_depend_on_run_length():
    """Ticket i is the i-th arrival however many blocks are drawn (CRN across horizons)."""
    d = _profiled()
    short = simulate(scenario_from_dict({**d, "horizon": {"days": 3}}, "short")).tickets
    long = simulate(scenario_from_dict({**d, "horizon": {"days": 9}}, "long")).tickets
    n = len(short)
    assert n > 100
    assert np.array_equal(short["arrival_min"].to_numpy(), long["arrival_min"].to_numpy()[:n])
    assert list(short["issue"]) == list(long["issue"][:n])
