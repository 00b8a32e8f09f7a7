"""Operating-reality features: off means unchanged, and each mechanic does what docs/model.md says.

- Every feature switched off reproduces the earlier results exactly: against a
  run with the keys absent, and against digests of the ticket table computed
  with the engine *before* these features existed.
- Shifts: nobody takes work off shift, handover mode stops work at shift end,
  returning agents pick up what waited, nothing is lost.
- Learning only ever adds capability; interruptions add exactly the
  configured context-switch time; reopens keep one row per ticket, fail at
  the configured rate and count as repeats; SLA and customer-cost columns
  follow their definitions.
"""
from __future__ import annotations

import copy
import hashlib
import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from sim import scenario_from_dict, simulate
from sim.analysis import ticket_targets
from sim.engine import Engine, run_replication
from sim.mechanics.calendar import shift_windows
from sim.policies import registry

# ---------------------------------------------------------------------------------------------
# the reference scenario, frozen here (conftest's builders may change; these digests must not)
REFERENCE = {
    "name": "three-tier", "seed": 5, "replications": 2,
    "horizon": {"days": 4, "warmup_days": 0.5},
    "arrivals": {"per_hour": 12},
    "segments": [
        {"name": "vip", "share": 0.2, "priority": 0, "patience": {"dist": "exponential", "mean": 120}},
        {"name": "std", "share": 0.8, "priority": 1},
    ],
    "issues": [
        {"name": "how_to", "share": 0.6, "tier": 1, "skill": "general",
         "work": {"dist": "lognormal", "mean": 15, "cv": 0.7}},
        {"name": "config", "share": 0.3, "tier": 2, "skill": "product",
         "work": {"dist": "gamma", "mean": 45, "cv": 0.8}},
        {"name": "defect", "share": 0.1, "tier": 3, "skill": "engineering",
         "work": {"dist": "lognormal", "mean": 120, "cv": 1.0}},
    ],
    "teams": [
        {"name": "L1", "tier": 1, "agents": 5, "skills": ["general"], "cost_per_hour": 30,
         "diagnose": {"dist": "exponential", "mean": 10}},
        {"name": "L2", "tier": 2, "agents": 5, "skills": ["general", "product"], "cost_per_hour": 50,
         "diagnose": {"dist": "triangular", "low": 5, "mode": 15, "high": 40}},
        {"name": "L3", "tier": 3, "agents": 4, "skills": ["general", "product", "engineering"],
         "cost_per_hour": 90},
    ],
    "frictions": {"handoff": {"dist": "fixed", "value": 5},
                  "repeat": {"dist": "uniform", "low": 3, "high": 9}, "swarm_overhead": 0.25},
    "policies": {"tiered": {}, "skill_routing": {"triage_accuracy": 0.85},
                 "swarming": {"max_helpers": 1}},
}
# sha256 of the ticket table's base columns, computed with the engine of commit 86c5901
# (before any operating-reality mechanics) by exactly the digest() below.  Re-recorded on
# 2026-12-02 when sampling moved from numpy's log1p/exp to the C library's
# (sim.distributions.libm_log1p): numpy's SIMD versions differ in the last bit between CPUs
# with and without AVX-512, so the old values held only on AVX-512 machines.  The engine of
# 915112f gives these new values on a machine without AVX-512 (where numpy uses the C
# library), so the engine itself did not change; now they hold on every machine.
DIGEST_REFERENCE = "7dd951cceaa185ff1c179d2ac2395481baab8a1ceb8d5ee500f98d36c6a71b4e"
DIGEST_VARIANT = "5747f9a87e5e2590a2c16bf524e1a6ddc1f491d40605643d82b30a5e8b02dba6"

BASE = ["policy", "replication", "ticket_id", "segment", "issue", "tier", "arrival_min", "end_min",
        "outcome", "wait_min", "resolution_min", "handoffs", "repeats", "agents_touched",
        "agent_min", "cost", "first_response_min", "expert_min", "helpers"]


def digest(df: pd.DataFrame) -> str:
    h = hashlib.sha256()
    for c in BASE:
        s = df[c]
        h.update(c.encode())
        if isinstance(s.dtype, pd.CategoricalDtype):
            h.update("\x1f".join(s.astype(str)).encode())
        else:
            h.update(np.ascontiguousarray(s.to_numpy(dtype=np.float64)).tobytes())
    return h.hexdigest()


def ref(**over) -> dict:
    d = copy.deepcopy(REFERENCE)
    d.update(copy.deepcopy(over))
    return d


def test_old_scenarios_give_exactly_the_stored_results():
    res = simulate(scenario_from_dict(ref(), "reference"))
    assert len(res.tickets) == 6036
    assert digest(res.tickets) == DIGEST_REFERENCE
    variant = ref(frictions={**REFERENCE["frictions"], "swarm_wait_is_queue": False},
                  policies={"swarming": {"max_helpers": 2}, "tiered_warm_handoff": {}})
    res = simulate(scenario_from_dict(variant, "variant"))
    assert len(res.tickets) == 4024
    assert digest(res.tickets) == DIGEST_VARIANT


def _off(name: str) -> dict:
    """The reference scenario with one feature's keys present but switched off (or neutral)."""
    d = ref()
    if name == "flat profiles":
        d["arrivals"].update(hourly_profile=[1.0] * 24, weekday_profile=[1.0] * 7)
    elif name == "round-the-clock shifts":
        for i, team in enumerate(d["teams"]):
            team["shift"] = {"start": 0, "end": 24, "utc_offset": -5 + 3 * i,
                             "shift_end": "handover" if i else "finish"}
    elif name == "no SLA penalty or customer cost":
        for seg in d["segments"]:
            seg.update(sla_penalty=0, customer_cost_per_hour=0)
    elif name == "no reopens":
        for issue in d["issues"]:
            issue.update(reopen_probability=0.0, reopen_to="last_queue")
    elif name == "zero context switch":
        d["frictions"]["context_switch"] = {"dist": "fixed", "value": 0}
    elif name == "helper_mode when_free":
        d["policies"]["swarming"]["helper_mode"] = "when_free"
    elif name == "learning never reached":
        d["learning"] = {"swarms_to_learn": 10**6, "escalations_to_learn": 10**6, "up_to_tier": 2}   # the documented maximum
    return d


@pytest.mark.parametrize("name", ["flat profiles", "round-the-clock shifts",
                                  "no SLA penalty or customer cost", "no reopens",
                                  "zero context switch", "helper_mode when_free",
                                  "learning never reached"])
def test_feature_switched_off_reproduces_results(name):
    base = simulate(scenario_from_dict(ref(), "base")).tickets
    off = simulate(scenario_from_dict(_off(name), name)).tickets
    pd.testing.assert_frame_equal(off[BASE], base[BASE], check_exact=True)
    assert digest(off) == DIGEST_REFERENCE


def test_switched_off_traces_are_identical_too():
    scn, off = scenario_from_dict(ref(), "base"), scenario_from_dict(_off("round-the-clock shifts"), "x")
    for policy in ("tiered", "swarming"):
        assert run_replication(scn, policy, 1, trace=True).trace == \
            run_replication(off, policy, 1, trace=True).trace


# ---------------------------------------------------------------------------------------------
# shifts
def shifted(mode: str) -> dict:
    d = ref(horizon={"days": 7, "warmup_days": 0}, replications=1, seed=9,
            segments=[{"name": "all", "share": 1.0}])
    d["arrivals"]["hourly_profile"] = [0.4] * 7 + [1.6] * 11 + [0.4] * 6
    d["teams"][0]["shift"] = {"start": 7, "end": 19, "shift_end": mode}
    d["teams"][1]["shift"] = {"start": 8, "end": 18, "days": ["mon", "tue", "wed", "thu", "fri"],
                              "shift_end": mode}
    d["teams"][2]["shift"] = {"start": 21, "end": 9, "utc_offset": 10, "shift_end": mode}
    d["policies"] = {"tiered": {}, "skill_routing": {}, "swarming": {"max_helpers": 1}}
    return d


def _windows(scn) -> dict[str, list[tuple[float, float]]]:
    week0, off = scn.clock
    return {t.name: shift_windows(t.shift, week0, off, scn.horizon_min) for t in scn.teams}


def _inside(x: float, windows, eps: float = 1e-9) -> bool:
    return any(s - eps <= x <= e + eps for s, e in windows)


@pytest.mark.parametrize("mode", ["finish", "handover"])
def test_shift_boundaries(mode):
    scn = scenario_from_dict(shifted(mode), f"shifts-{mode}")
    windows = _windows(scn)
    assert all(len(w) >= 5 for w in windows.values())
    for policy in scn.policy_names():
        run = run_replication(scn, policy, 0, trace=True)
        n = len(run.columns["ticket_id"])
        # nothing lost: one row per arrival, each ending resolved, abandoned or still open
        assert n == run.arrivals and sorted(run.columns["ticket_id"]) == list(range(n))
        last = {}
        for ev in run.trace:
            last[ev[2]] = ev[3]
        assert set(last.values()) <= {"resolved", "abandoned", "open"}
        assert len(last) == n
        for start, end, tid, activity, agent, team, _ in run.trace:
            if activity in ("taken", "helper_joined"):
                assert _inside(start, windows[team]), (
                    f"{policy}: {team} agent {agent} started work on ticket {tid} off shift at {start:.2f}")
            if mode == "handover" and activity in ("work", "diagnose", "repeat") and end > start:
                # stopped at shift end: no own work in overtime
                assert any(s - 1e-9 <= start and end <= e + 1e-9 for s, e in windows[team]), (
                    f"{policy}: {activity} of ticket {tid} by {team} runs past its shift ({start:.1f}-{end:.1f})")
        table = pd.DataFrame({k: np.frombuffer(v, dtype=v.typecode) for k, v in run.columns.items()})
        handovers = sum(run.extra["handovers"].values())
        if mode == "handover":
            assert handovers > 0
        if policy == "swarming":   # its only handoffs are shift handovers
            assert table["handoffs"].sum() == handovers
        # an agent returning on shift picks up what waited: under tiering L1 takes overnight tickets
        if policy == "tiered":
            taken_l1 = defaultdict(int)
            arrived = [ev[0] for ev in run.trace if ev[3] == "created"]
            for ev in run.trace:
                if ev[3] == "taken" and ev[5] == "L1":
                    taken_l1[ev[0]] += 1
            w = windows["L1"]
            for (s0, e0), (s1, _) in zip(w, w[1:]):
                waiting = sum(e0 < a < s1 for a in arrived)
                assert waiting > 0
                assert taken_l1[s1] >= min(5, waiting)      # 5 agents come back at s1


def test_utilisation_is_relative_to_time_on_shift():
    scn = scenario_from_dict(shifted("finish"), "shifts")
    teams = simulate(scn, policies=["tiered"]).teams
    windows = _windows(scn)
    for _, row in teams.iterrows():
        on = sum(e - s for s, e in windows[row["team"]])
        agents = {t.name: t.agents for t in scn.teams}[row["team"]]
        assert row["on_shift_min"] == pytest.approx(agents * on)
        assert row["utilisation"] == pytest.approx(row["busy_min"] / (agents * on))
        assert 0 < row["utilisation"] <= 1 + row["overtime_min"] / row["on_shift_min"] + 1e-9


# ---------------------------------------------------------------------------------------------
# learning
def _engine(d: dict, policy: str, rep: int = 0) -> Engine:
    scn = scenario_from_dict(d, "case")
    cls = registry.get(policy)
    return Engine(scn, cls, cls.Params.model_validate(scn.policies.get(policy) or {}), rep,
                  scn.seed, trace=True)


@pytest.mark.parametrize("policy", ["swarming", "tiered"])
def test_learning_only_adds_capability(policy):
    d = ref(horizon={"days": 6, "warmup_days": 0}, replications=1,
            learning={"swarms_to_learn": 3, "escalations_to_learn": 8, "up_to_tier": 2})
    engine = _engine(d, policy)
    run = engine.run()
    issues = engine.scn.issues
    assert run.learned, "nobody learned anything: the test would be vacuous"
    assert {how for *_, how in run.learned} == {"swarm" if policy == "swarming" else "escalation"}
    for agent in engine.agents:      # never less capable than the team, whatever happened
        assert all(a or not b for a, b in zip(agent.can, agent.team.can))
    learned_at = defaultdict(list)   # agent -> [(time, skill, up_to)]
    for time, agent, team, skill, up_to, _ in run.learned:
        learned_at[agent].append((time, skill, up_to))
        assert engine.agents[agent].can != engine.agents[agent].team.can
    # once learned, an agent never again diagnoses (i.e. fails to resolve) such a ticket ...
    issue_of = dict(zip(run.columns["ticket_id"], run.columns["issue"]))
    resolved_above_team = 0
    for start, end, tid, activity, agent, team, _ in run.trace:
        if agent < 0 or tid not in issue_of:
            continue
        iss = issues[issue_of[tid]]
        known = any(time <= start and skill == iss.skill and iss.tier <= up_to
                    for time, skill, up_to in learned_at[agent])
        if activity == "diagnose":
            assert not known, f"agent {agent} diagnosed ticket {tid} ({iss.name}) after learning it"
        if activity == "work" and not engine.agents[agent].team.can[issue_of[tid]]:
            assert known, f"agent {agent} resolved ticket {tid} ({iss.name}) it never learned"
            resolved_above_team += 1
    # ... and does resolve what it learned
    assert resolved_above_team > 0


# ---------------------------------------------------------------------------------------------
# interruptions
FIXED_WORK = {"how_to": 15.0, "config": 45.0, "defect": 120.0}


def interrupting(switch: float, mode: str = "interrupt") -> dict:
    d = ref(horizon={"days": 4, "warmup_days": 0}, replications=2, seed=3)
    for issue in d["issues"]:
        issue["work"] = {"dist": "fixed", "value": FIXED_WORK[issue["name"]]}
    d["frictions"]["context_switch"] = {"dist": "fixed", "value": switch}
    d["policies"] = {"swarming": {"max_helpers": 1, "helper_mode": mode}}
    return d


def test_interruptions_add_exactly_the_configured_time():
    switch = 7.0
    scn = scenario_from_dict(interrupting(switch), "interrupt")
    res = simulate(scn)
    t = res.tickets
    assert t["interruptions"].sum() > 20, "too few interruptions to test anything"
    assert (t["switch_min"] == switch * t["interruptions"]).all()
    # counted per expert per day, consistently with the tickets
    assert res.interruptions["interruptions"].sum() == t["interruptions"].sum()
    assert set(res.interruptions["team"]) <= {"L2", "L3"}
    for rep in range(scn.replications):
        run = run_replication(scn, "swarming", rep, trace=True)
        minutes = defaultdict(float)
        work = defaultdict(float)
        switches = defaultdict(int)
        for start, end, tid, activity, agent, team, _ in run.trace:
            if end > start:
                minutes[tid] += end - start
            if activity == "context_switch":
                assert end - start == pytest.approx(switch, abs=1e-9)
                switches[tid] += 1
            if activity == "work":
                work[tid] += end - start
        table = {k: np.frombuffer(v, dtype=v.typecode) for k, v in run.columns.items()}
        interrupted = 0
        for i, tid in enumerate(table["ticket_id"]):
            k = run.extra["interruptions"].get(int(tid), 0)
            # agent time = the trace's intervals (switches included): nothing lost or added
            assert table["agent_min"][i] == pytest.approx(minutes[tid], abs=1e-6)
            if table["outcome"][i] == 1 and table["helpers"][i] == 0:
                # resolved alone: the work itself is exactly the work draw, however often split
                name = scn.issues[table["issue"][i]].name
                assert work[tid] == pytest.approx(FIXED_WORK[name], abs=1e-6)
                if k:
                    assert switches[tid] == k
                    interrupted += 1
        assert interrupted > 0


def test_without_context_switch_interruptions_cost_nothing_extra():
    res = simulate(scenario_from_dict(interrupting(0.0), "interrupt-free"))
    assert res.tickets["interruptions"].sum() > 0
    assert (res.tickets["switch_min"] == 0).all()


@pytest.mark.parametrize("mode", ["interrupt", "idle_only"])
def test_helper_modes_keep_engine_invariants(mode):
    from sim.testing import check_run

    scn = scenario_from_dict(interrupting(5.0, mode), mode)
    run = run_replication(scn, "swarming", 0, trace=True)
    ignored = {"metrics consistent"} if mode == "interrupt" else set()   # the kit does not know
    problems = [v for v in check_run(scn, run) if v.rule not in ignored]  # context_switch yet
    assert not problems, problems[:3]
    assert sum(run.columns["helpers"]) > 0


# ---------------------------------------------------------------------------------------------
# reopens
def reopening() -> dict:
    d = ref(horizon={"days": 5, "warmup_days": 0}, replications=1, seed=12,
            segments=[{"name": "all", "share": 1.0}])
    d["issues"][0].update(reopen_probability=0.25, reopen_delay={"dist": "exponential", "mean": 120})
    d["issues"][1].update(reopen_probability=0.3, reopen_delay={"dist": "fixed", "value": 60},
                          reopen_to="last_queue")
    d["policies"] = {"tiered": {}, "swarming": {}}
    return d


def test_reopens_keep_one_row_fail_at_their_rate_and_count_as_repeats():
    scn = scenario_from_dict(reopening(), "reopen")
    horizon = scn.horizon_min
    for policy in scn.policy_names():
        run = run_replication(scn, policy, 0, trace=True)
        ids = list(run.columns["ticket_id"])
        assert len(ids) == len(set(ids)) == run.arrivals          # one row per ticket, none lost
        table = pd.DataFrame({k: np.frombuffer(v, dtype=v.typecode) for k, v in run.columns.items()})
        table["reopens"] = [run.extra["reopens"].get(int(i), 0) for i in table["ticket_id"]]
        assert table["reopens"].sum() > 20
        issue_of = dict(zip(table["ticket_id"], table["issue"]))
        events = defaultdict(list)
        for ev in run.trace:
            events[ev[2]].append(ev)
        # failure rate of issue 1 (fixed 60-minute delay: every fate before H-60 is observed)
        n = k = 0
        for tid, evs in events.items():
            if issue_of[tid] != 1:
                continue
            reopened = {round(e[0], 6) for e in evs if e[3] == "reopened"}
            for e in evs:
                if e[3] == "resolved" and e[0] < horizon - 60:
                    n += 1
                    k += round(e[0] + 60, 6) in reopened
        p = 0.3
        assert abs(k / n - p) <= 2.576 * math.sqrt(p * (1 - p) / n), (k, n)
        for tid, evs in events.items():
            for j, e in enumerate(evs):
                if e[3] != "reopened":
                    continue
                taken = next((x for x in evs[j:] if x[3] == "taken"), None)
                if taken is None:
                    continue
                before = [x for x in evs[:j] if x[3] in ("work", "swarm_work")]
                if policy == "tiered" and issue_of[tid] == 0:
                    assert taken[5] == "L1"                       # re-enters at tier 1
                if policy == "tiered" and issue_of[tid] == 1:
                    assert taken[5] == before[-1][5]              # back to the resolver's queue
        if policy == "swarming":
            # no handoffs under swarming: every repeat is a returning customer
            done = table[table["outcome"] == 1]
            assert (done["repeats"] == done["reopens"]).all()


# ---------------------------------------------------------------------------------------------
# SLAs and the customer's time
def test_sla_and_customer_cost_columns_follow_their_definitions():
    d = ref(horizon={"days": 3, "warmup_days": 0.5})
    d["segments"][0].update(first_response_target=20, resolution_target=180, sla_penalty=150,
                            customer_cost_per_hour=90)
    d["segments"][1].update(resolution_target=480, customer_cost_per_hour=30)
    scn = scenario_from_dict(d, "sla")
    t = simulate(scn).tickets
    targets = ticket_targets(t, scn)
    assert (t["first_response_breached"] == (targets["sl_eligible"] & ~targets["sl_met"])).all()
    assert (t["resolution_breached"] == (targets["rt_eligible"] & ~targets["rt_met"])).all()
    assert t["resolution_breached"].sum() > 0
    penalty = np.where(t["segment"] == "vip", 150.0, 0.0)
    breaches = t["first_response_breached"].astype(int) + t["resolution_breached"].astype(int)
    assert np.allclose(t["sla_penalty"], penalty * breaches)
    rate = np.where(t["segment"] == "vip", 90.0, 30.0) / 60
    assert np.allclose(t["customer_min"], t["wait_min"] + t["repeat_min"])
    assert np.allclose(t["customer_cost"], rate * t["customer_min"])
    # repeat minutes are customer time only when a repeat happened
    assert ((t["repeat_min"] > 0) == (t["repeats"] > 0)).all()


def test_reopen_probability_can_depend_on_the_resolving_tier():
    """A cheap low-tier fix that fails more often: only tier-1 resolutions of how_to reopen."""
    d = reopening()
    d["issues"][0].update(reopen_probability=0.0, reopen_probability_by_tier=[0.6, 0.0])
    d["policies"] = {"skill_routing": {"triage_accuracy": 0.5}}   # how_to also lands at L2/L3
    scn = scenario_from_dict(d, "by-tier")
    run = run_replication(scn, "skill_routing", 0, trace=True)
    issue_of = dict(zip(run.columns["ticket_id"], run.columns["issue"]))
    resolver = {}
    fails = defaultdict(lambda: [0, 0])          # resolver team -> [resolutions, reopens]
    for start, end, tid, activity, agent, team, _ in run.trace:
        if issue_of.get(tid) != 0:
            continue
        if activity == "work":
            resolver[tid] = team
        elif activity == "resolved" and start < scn.horizon_min - 600:
            fails[resolver[tid]][0] += 1
        elif activity == "reopened":
            fails[resolver[tid]][1] += 1
    assert fails["L1"][1] > 0.4 * fails["L1"][0] > 20
    assert fails["L2"][0] + fails["L3"][0] > 20
    assert fails["L2"][1] == fails["L3"][1] == 0


# idle_only helpers (issue 13.1 changed the rule: they wait for their *own* queues, not for
# swarming's shared intake, where requests starved at moderate load): tests/test_swarm_model.py


def test_shift_windows_follow_local_time():
    from sim.scenario import Shift

    day = 1440.0
    # 9-17 in New York (UTC-5) on a scenario clock in UTC starting Monday 00:00: 14:00-22:00 UTC
    ny = shift_windows(Shift(start=9, end=17, days=["mon"], utc_offset=-5), 0.0, 0.0, 7 * day)
    assert ny == [(14 * 60.0, 22 * 60.0)]
    # the same team on a scenario clock in UTC+1 that starts Wednesday 06:00 local
    week0 = 2 * day + 6 * 60
    ny2 = shift_windows(Shift(start=9, end=17, days=["mon"], utc_offset=-5), week0, 1.0, 7 * day)
    assert ny2 == [(5 * day - 6 * 60 + 15 * 60, 5 * day - 6 * 60 + 23 * 60)]   # next Monday
    # a night shift belongs to the day it starts; one that started before minute 0 is on at 0
    night = shift_windows(Shift(start=22, end=6, days=["sun"]), 0.0, 0.0, 8 * day)
    assert night == [(0.0, 360.0), (7 * day - 120, 7 * day + 360)]
    # round the clock every day is a single window, clipped to the horizon
    assert shift_windows(Shift(start=0, end=24), 0.0, 0.0, 3 * day) == [(0.0, 3 * day)]
