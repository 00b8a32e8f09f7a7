"""The engine against closed-form queueing theory.

Each check compares a theoretical value with the mean over independent
replications and accepts it when it lies inside the 99 % Student-t interval
of that mean: the tolerance is the simulation's own sampling error, not a
guess.  (Seeds are fixed, so the tests are deterministic; a correct engine
would fail one of them for about 1 seed in 100.)
"""
from __future__ import annotations

import numpy as np
import pytest

from sim import scenario_from_dict, simulate
from sim.analysis import t_interval
from sim.theory import MMc, tiered_jackson

from conftest import mmc_dict

pytestmark = pytest.mark.theory

LEVEL = 0.99


def assert_in_ci(values, theory: float, what: str) -> None:
    mean, half, n = t_interval(np.asarray(values), LEVEL)
    assert abs(mean - theory) <= half, (
        f"{what}: simulated {mean:.4f} ± {half:.4f} (99 % CI, {n} replications) "
        f"does not contain theory {theory:.4f}")


def per_rep(tickets, column, fn=np.mean):
    return tickets.groupby("replication")[column].apply(lambda s: fn(s.to_numpy())).to_numpy()


def test_mmc_matches_erlang_c():
    scn = scenario_from_dict(mmc_dict(servers=5, per_hour=24, mean_work=10), "mmc")
    res = simulate(scn)
    t = res.tickets
    q = MMc(arrival_rate=24 / 60, mean_service=10, servers=5)
    assert_in_ci(per_rep(t, "wait_min"), q.mean_wait, "Erlang C mean wait")
    assert_in_ci(per_rep(t, "wait_min", lambda w: float((w > 0).mean())), q.p_wait, "Erlang C P(wait)")
    util = res.teams.groupby("replication")["utilisation"].mean().to_numpy()
    assert_in_ci(util, q.utilisation, "utilisation")
    # a theory that is off by a tenth must be rejected by the same interval
    mean, half, _ = t_interval(per_rep(t, "wait_min"), LEVEL)
    assert half < 0.1 * q.mean_wait


def test_strict_tiering_matches_jackson_network():
    """Exponential work and diagnosis with equal means per tier, no frictions:
    tier k is an M/M/c node that every ticket of tier >= k visits."""
    means, servers, shares = [10.0, 20.0, 60.0], [3, 3, 2], [0.6, 0.3, 0.1]
    d = {
        "name": "jackson", "seed": 3, "replications": 20,
        "horizon": {"days": 30, "warmup_days": 2}, "arrivals": {"per_hour": 12},
        "issues": [
            {"name": f"t{k + 1}", "share": shares[k], "tier": k + 1, "skill": "s",
             "work": {"dist": "exponential", "mean": means[k]}} for k in range(3)],
        "teams": [
            {"name": f"L{k + 1}", "tier": k + 1, "agents": servers[k], "skills": ["s"],
             "cost_per_hour": 60, **({"diagnose": {"dist": "exponential", "mean": means[k]}} if k < 2 else {})}
            for k in range(3)],
        "frictions": {"handoff": {"dist": "fixed", "value": 0}, "repeat": {"dist": "fixed", "value": 0}},
        "policies": {"tiered": {}},
    }
    res = simulate(scenario_from_dict(d, "jackson"))
    theory = tiered_jackson(12 / 60, shares, means, servers)
    t = res.tickets
    resolved = t[t["outcome"] == "resolved"]
    assert_in_ci(per_rep(resolved, "resolution_min"), theory["mean_sojourn"], "mean time in system")
    assert_in_ci(per_rep(t, "handoffs"), theory["handoffs_per_ticket"], "handoffs per ticket")
    for k in range(3):
        u = res.teams[res.teams["team"] == f"L{k + 1}"]["utilisation"].to_numpy()
        assert_in_ci(u, theory[f"utilisation_{k + 1}"], f"utilisation L{k + 1}")
    # Little's law inside the simulation: time-average number in system = lambda x mean sojourn
    in_sys = res.backlog.groupby("replication")["in_system"].mean().to_numpy()
    w = per_rep(resolved, "resolution_min")
    assert_in_ci(in_sys - (12 / 60) * w, 0.0, "Little's law L - lambda W")
    # the interval is tight enough to reject a model 5 % off
    _, half, _ = t_interval(w, LEVEL)
    assert half < 0.05 * theory["mean_sojourn"]
