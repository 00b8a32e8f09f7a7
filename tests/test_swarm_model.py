"""The swarm model with its contested parts separate (issue 13.1, docs/model.md "Swarm duration").

Per-ticket semantic checks with fixed times and no queueing (the duration formula, the search,
the owner-contribution shorthand), statistical checks of the helper-fit draw with tolerances
from its sampling distribution, and the idle_only helper mode: its rule and its stability at
moderate load.
"""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest

from sim import load_scenario, scenario_from_dict, simulate
from sim.engine import run_replication
from sim.policies.base import Policy, QueueSpec, Swarm
from sim.scenario import ScenarioError

WORK, DIAG = 60.0, 10.0


def quiet(frictions: dict | None = None, max_helpers: int = 1, per_hour: float = 0.2,
          days: float = 20, helper_mode: str = "when_free") -> dict:
    """Tier-2 tickets only, fixed work and diagnosis, so few arrivals that nobody ever queues:
    every swarm finds its helpers free, and each duration is the formula's exactly."""
    return {
        "name": "quiet", "seed": 4, "replications": 1,
        "horizon": {"days": days, "warmup_days": 0}, "arrivals": {"per_hour": per_hour},
        "issues": [{"name": "config", "share": 1.0, "tier": 2, "skill": "product",
                    "work": {"dist": "fixed", "value": WORK}}],
        "teams": [
            {"name": "L1", "tier": 1, "agents": 3, "skills": ["general"], "cost_per_hour": 30,
             "diagnose": {"dist": "fixed", "value": DIAG}},
            {"name": "L2", "tier": 2, "agents": 6, "skills": ["general", "product"],
             "cost_per_hour": 60},
        ],
        "frictions": {"swarm_overhead": 0.25, **(frictions or {})},
        "policies": {"swarming": {"max_helpers": max_helpers, "helper_mode": helper_mode}},
    }


def intervals(trace, activity: str) -> dict[int, list[tuple[float, float, int]]]:
    out: dict[int, list] = defaultdict(list)
    for start, end, tid, act, agent, _team, _detail in trace:
        if act == activity:
            out[tid].append((start, end, agent))
    return out


def table(run):
    return {k: np.frombuffer(v, dtype=v.typecode) for k, v in run.columns.items()}


@pytest.mark.parametrize("c,k,h", [(0.0, 0.0, 1), (0.4, 0.3, 1), (1.0, 0.25, 2), (0.0, 1.0, 3),
                                   (0.7, 0.0, 2)])
def test_swarm_duration_is_the_formula_exactly(c, k, h):
    scn = scenario_from_dict(quiet({"swarm_owner_contribution": c, "swarm_coordination": k}, h), "q")
    run = run_replication(scn, "swarming", 0, trace=True)
    cols = table(run)
    expected = WORK * (1 + k * h) / (h + c)
    swarms = intervals(run.trace, "swarm_work")
    helps = intervals(run.trace, "help")
    checked = 0
    for i, tid in enumerate(cols["ticket_id"]):
        if cols["outcome"][i] != 1 or cols["helpers"][i] != h:
            continue        # (rarely, swarms overlap and fewer than h helpers are free)
        checked += 1
        (start, end, owner), = swarms[int(tid)]
        assert end - start == pytest.approx(expected, rel=1e-12)
        # every participant occupied throughout: h helpers for the whole swarm, none longer
        assert [(s, e) for s, e, _ in helps[int(tid)]] == [(start, end)] * h
        assert cols["wait_min"][i] == 0.0
        assert cols["end_min"][i] - cols["arrival_min"][i] == pytest.approx(DIAG + expected, rel=1e-12)
        assert cols["agent_min"][i] == pytest.approx(DIAG + (h + 1) * expected, rel=1e-12)
    assert checked > 30 and checked >= 0.9 * (cols["outcome"] == 1).sum()


def test_swarm_overhead_shorthand_is_bit_identical():
    """swarm_overhead: o alone is c = 1, k = o: for one helper the same floats to the bit."""
    for o in (0.0, 0.25, 0.6):
        d = quiet({"swarm_overhead": o}, per_hour=6.0, days=6)     # busy: queues and holds too
        short = simulate(scenario_from_dict(d, "short")).tickets
        d["frictions"].update(swarm_owner_contribution=1.0, swarm_coordination=o)
        full = simulate(scenario_from_dict(d, "full")).tickets
        assert short["helpers"].sum() > 50
        assert short.equals(full)


def test_shorthand_with_several_helpers_keeps_the_stored_per_swarm_overhead():
    """With h >= 2 helpers swarm_overhead alone keeps its historical meaning (work * (1 + o) /
    (1 + h): stored results do not move); swarm_coordination makes the overhead per helper."""
    run = run_replication(scenario_from_dict(quiet({"swarm_overhead": 0.5}, max_helpers=2), "q"),
                          "swarming", 0, trace=True)
    durations = {round(e - s, 9) for v in intervals(run.trace, "swarm_work").values() for s, e, _ in v}
    assert durations == {round(WORK * 1.5 / 3, 9)}


def test_search_occupies_the_owner_and_the_customer_waits():
    search = 7.0
    for wait_is_queue in (True, False):
        scn = scenario_from_dict(quiet({"swarm_search": {"dist": "fixed", "value": search},
                                        "swarm_wait_is_queue": wait_is_queue}), "search")
        run = run_replication(scn, "swarming", 0, trace=True)
        cols = table(run)
        searches = intervals(run.trace, "swarm_search")
        swarm = WORK * 1.25 / 2
        n = 0
        for i, tid in enumerate(cols["ticket_id"]):
            if cols["outcome"][i] != 1:
                continue
            n += 1
            (s_start, s_end, owner), = searches[int(tid)]
            (w_start, _w_end, w_owner), = intervals(run.trace, "swarm_work")[int(tid)]
            assert s_end - s_start == pytest.approx(search) and owner == w_owner
            assert w_start == pytest.approx(s_end)          # asks right after finding the helper
            assert cols["end_min"][i] - cols["arrival_min"][i] == pytest.approx(DIAG + search + swarm)
            assert cols["agent_min"][i] == pytest.approx(DIAG + search + 2 * swarm)
            assert cols["wait_min"][i] == pytest.approx(search if wait_is_queue else 0.0)
        assert n > 30


def test_customers_can_give_up_during_a_search():
    d = quiet({"swarm_search": {"dist": "fixed", "value": 500.0}})
    d["segments"] = [{"name": "all", "share": 1.0, "patience": {"dist": "fixed", "value": 100}}]
    run = run_replication(scenario_from_dict(d, "impatient"), "swarming", 0, trace=True)
    cols = table(run)
    assert (cols["outcome"] == 2).sum() > 30 and (cols["outcome"] == 1).sum() == 0
    searches = intervals(run.trace, "swarm_search")
    for i, tid in enumerate(cols["ticket_id"]):
        if cols["outcome"][i] == 2:
            (s, e, _), = searches[int(tid)]
            # diagnosis is not waiting: the search stops when it has used up the patience
            assert e - s == pytest.approx(100) and cols["wait_min"][i] == pytest.approx(100)


@pytest.mark.parametrize("search", [0.0, 4.0])
def test_unfit_helpers_cost_another_search_at_the_configured_rate(search):
    """Searches per swarm are geometric with success p: mean 1/p, checked with a 99.9 % interval."""
    p = 0.4
    fr = {"swarm_helper_fit": p, "swarm_search": {"dist": "fixed", "value": search}}
    run = run_replication(scenario_from_dict(quiet(fr, per_hour=0.5, days=40), "fit"),
                          "swarming", 0, trace=True)
    cols = table(run)
    unfit = defaultdict(int)
    for _s, _e, tid, act, *_ in run.trace:
        if act == "helper_unfit":
            unfit[tid] += 1
    swarmed = intervals(run.trace, "swarm_work")
    attempts = []
    for i, tid in enumerate(cols["ticket_id"]):
        if cols["outcome"][i] == 1 and int(tid) in swarmed:     # (L2 resolves some alone)
            attempts.append(unfit[int(tid)] + 1)
            assert cols["helpers"][i] == 1                # only the helper who fits joins
            if search:
                assert len(intervals(run.trace, "swarm_search")[int(tid)]) == attempts[-1]
                assert cols["wait_min"][i] == pytest.approx(search * attempts[-1])
    n = len(attempts)
    assert n > 200
    half = 3.29 * math.sqrt((1 - p) / p ** 2 / n)
    assert abs(np.mean(attempts) - 1 / p) < half, (np.mean(attempts), 1 / p, half)


def test_fit_draws_are_common_random_numbers():
    """The k-th helper checked for ticket i fits or not alike whatever else changes."""
    fr = {"swarm_helper_fit": 0.5}
    a = run_replication(scenario_from_dict(quiet(fr), "a"), "swarming", 0, trace=True)
    b = run_replication(scenario_from_dict(quiet({**fr, "swarm_coordination": 0.9}), "b"),
                        "swarming", 0, trace=True)
    count = lambda run: {t: sum(1 for r in run.trace if r[2] == t and r[3] == "helper_unfit")
                         for t in set(r[2] for r in run.trace)}
    ca, cb = count(a), count(b)
    common = set(ca) & set(cb)
    assert len(common) > 30 and all(ca[t] == cb[t] for t in common)


@pytest.mark.parametrize("bad,message", [
    ({"swarm_owner_contribution": 1.5}, "swarm_owner_contribution"),
    ({"swarm_coordination": -0.1}, "swarm_coordination"),
    ({"swarm_helper_fit": 0.0}, "swarm_helper_fit"),
])
def test_bad_swarm_values_are_rejected(bad, message):
    with pytest.raises(ScenarioError, match=message):
        scenario_from_dict(quiet(bad), "bad")


# ------------------------------------------------------------------------------ idle_only
def test_idle_only_is_stable_at_moderate_load():
    """The default scenario (tiered loads the teams to ~60/75/65 %) under idle_only helpers:
    help requests no longer starve behind the shared intake (they did: mean resolution
    ~4,000 min over 30 days and a growing backlog), so the run is stable and, with the same
    customers, as fast as when_free to within the replications' paired 99 % interval."""
    base = load_scenario("scenarios/default.yaml")
    out = {}
    for mode in ("when_free", "idle_only"):
        scn = base.replace(horizon={"days": 20, "warmup_days": 3},
                           policies={"swarming": {"max_helpers": 1, "helper_mode": mode}})
        res = simulate(scn, replications=3)
        assert not [w for w in res.warnings if w.startswith("unstable")], res.warnings
        out[mode] = res.per_replication.set_index("replication")["resolution_mean_min"]
    diff = (out["idle_only"] - out["when_free"]).to_numpy()
    half = 9.925 * diff.std(ddof=1) / math.sqrt(len(diff)) if diff.std() > 0 else 0.0
    assert abs(diff.mean()) <= half + 1e-9, diff
    assert out["idle_only"].mean() < 120


class TieredSwarmIdle(Policy):
    """Tiered queues (each team its own), tier 1 swarms with idle_only helpers: a policy where
    helpers do have work of their own, so idle_only differs from when_free."""

    name = "tiered_swarm_idle"
    mode = "idle_only"

    def queues(self):
        return [QueueSpec(t.name, (t.name,)) for t in self.org.by_tier()]

    def route(self, ticket):
        return self.org.by_tier()[0].name

    def on_cannot_resolve(self, ticket, agent):
        return Swarm(max_helpers=1, mode=self.mode)


class TieredSwarmWhenFree(TieredSwarmIdle):
    name = "tiered_swarm_when_free"
    mode = "when_free"


def _joins_while_own_queue_waits(run, helper_team: str) -> tuple[int, int]:
    """(deferred helper joins, of which while the helper team's own queue had tickets)."""
    waiting: set[int] = set()
    requested: dict[int, float] = {}
    deferred = busy = 0
    for start, _end, tid, act, _agent, team, detail in run.trace:
        if act == "queued" and detail == helper_team:
            waiting.add(tid)
        elif act in ("taken", "abandoned"):
            waiting.discard(tid)
        elif act == "swarm_requested":
            requested[tid] = start
        elif act == "helper_joined" and start > requested[tid]:
            deferred += 1
            busy += bool(waiting)
    return deferred, busy


def test_idle_only_helpers_wait_until_their_own_queue_is_empty():
    d = quiet(per_hour=14, days=3)
    d["issues"] = [{"name": "how_to", "share": 0.3, "tier": 1, "skill": "general",
                    "work": {"dist": "exponential", "mean": 15}},
                   {"name": "config", "share": 0.3, "tier": 2, "skill": "product",
                    "work": {"dist": "exponential", "mean": 30}},
                   {"name": "direct", "share": 0.4, "tier": 2, "skill": "product",
                    "work": {"dist": "exponential", "mean": 20}}]
    d["teams"][1]["agents"] = 4
    d["policies"] = {}
    scn = scenario_from_dict(d, "own-queues")

    class Route(TieredSwarmIdle):       # "direct" tickets go straight to L2's own queue
        def route(self, ticket):
            return "L2" if ticket.issue == "direct" else "L1"

    class RouteFree(Route):
        mode = "when_free"

    idle = run_replication(scn, "x", 0, trace=True, policy_cls=Route)
    deferred, busy = _joins_while_own_queue_waits(idle, "L2")
    assert deferred > 10 and busy == 0
    free = run_replication(scn, "x", 0, trace=True, policy_cls=RouteFree)
    assert _joins_while_own_queue_waits(free, "L2")[1] > 0


def test_search_and_fit_keep_engine_invariants():
    """The conformance kit's checks of one run (no overlapping activities, the table agrees with
    the trace, waits rebuilt from it) hold with searches, unfit helpers and abandonment."""
    from sim.testing import check_run

    d = quiet({"swarm_search": {"dist": "exponential", "mean": 6}, "swarm_helper_fit": 0.6},
              per_hour=5, days=4)
    d["segments"] = [{"name": "all", "share": 1.0, "patience": {"dist": "exponential", "mean": 90}}]
    for mode in ("when_free", "idle_only", "interrupt"):
        d["policies"] = {"swarming": {"max_helpers": 2, "helper_mode": mode}}
        scn = scenario_from_dict(d, mode)
        run = run_replication(scn, "swarming", 0, trace=True)
        ignored = {"metrics consistent"} if mode == "interrupt" else set()
        problems = [v for v in check_run(scn, run) if v.rule not in ignored]
        assert not problems, problems[:3]
        assert sum(run.columns["helpers"]) > 0 and (np.asarray(run.columns["outcome"]) == 2).any()


def test_a_tiny_helper_fit_needs_many_asks_without_deep_recursion():
    """With no search time an unfit helper means asking again at once: thousands of asks for one
    swarm must be a loop (p = 0.0005: ~2,000 asks each), not a RecursionError."""
    d = quiet({"swarm_helper_fit": 0.0005}, per_hour=0.3, days=2)
    run = run_replication(scenario_from_dict(d, "tiny-fit"), "swarming", 0, trace=True)
    unfit = sum(1 for r in run.trace if r.activity == "helper_unfit")
    swarms = sum(1 for r in run.trace if r.activity == "swarm_work")
    assert swarms > 3 and unfit > 1000 * swarms * 0.5
