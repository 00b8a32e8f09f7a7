"""The stronger tiered baselines behave as defined: tiered_skip and tiered_pull (issue 13.2).

Both pass the conformance kit through tests/test_conformance.py (parametrised over every
built-in); here: what each one does differently from strict tiering, read off the trace.
"""
from __future__ import annotations

from collections import defaultdict

from conftest import three_tier_dict

from sim import scenario_from_dict
from sim.engine import Engine
from sim.policies import registry
from sim.testing import run_checked


def _issue_of(run, scn):
    """ticket id -> (tier, skill) of its issue, from the ticket columns."""
    issues = scn.issues
    return {tid: (issues[i].tier, issues[i].skill)
            for tid, i in zip(run.columns["ticket_id"], run.columns["issue"])}


def _queue_teams(policy, scn):
    cls = registry.get(policy)
    engine = Engine(scn, cls, cls.Params(), 0, scn.seed)
    return {name: [t.name for t in q.teams] for name, q in engine.queues.items()}, engine


def test_both_are_registered_builtins_not_run_by_default():
    names = registry.builtin_names()
    assert "tiered_skip" in names and "tiered_pull" in names
    assert "tiered_skip" not in registry.default_names() and "tiered_pull" not in registry.default_names()


def _taken_by(run):
    """ticket id -> teams that took it, in order (from the trace's 'taken' records)."""
    out = defaultdict(list)
    for r in sorted(run.trace, key=lambda r: r[0]):
        if r[3] == "taken":
            out[r[2]].append(r[5])
    return out


def test_tiered_skip_hands_each_ticket_only_to_a_team_able_to_resolve_it():
    scn = scenario_from_dict(three_tier_dict(horizon={"days": 2, "warmup_days": 0}))
    teams = {t.name: t for t in scn.teams}
    can = lambda team, tier_skill: teams[team].tier >= tier_skill[0] and tier_skill[1] in teams[team].skills
    for policy, expect_skips in (("tiered_skip", True), ("tiered", False)):
        run = run_checked(policy, scn)
        issue = _issue_of(run, scn)
        taken = _taken_by(run)
        escalated = {tid: seq for tid, seq in taken.items() if len(seq) > 1 and tid in issue}
        assert escalated
        # after tier 1, every team that takes the ticket can resolve it (no stop at L2 for a defect)
        bad = {tid: seq for tid, seq in escalated.items() if not all(can(t, issue[tid]) for t in seq[1:])}
        assert (not bad) is expect_skips, (policy, list(bad.items())[:3])
        if expect_skips:
            assert all(seq[0] == "L1" for seq in taken.values())
            assert max(len(seq) for seq in taken.values()) == 2      # one escalation, straight there


def test_tiered_skip_keeps_cold_handoffs_and_hands_off_less_than_tiered():
    scn = scenario_from_dict(three_tier_dict(horizon={"days": 2, "warmup_days": 0}))
    skip, strict = run_checked("tiered_skip", scn), run_checked("tiered", scn)
    assert sum(skip.columns["repeats"]) > 0              # cold: the customer re-explains
    assert sum(skip.columns["handoffs"]) < sum(strict.columns["handoffs"])


def test_tiered_pull_queues_higher_tiers_serve_own_queue_first_then_lower():
    scn = scenario_from_dict(three_tier_dict())
    queues, engine = _queue_teams("tiered_pull", scn)
    assert queues == {"L3": ["L3"], "L2": ["L2", "L3"], "L1": ["L1", "L2", "L3"]}
    serves = {t.name: [q.name for q in t.serves] for t in engine.teams}
    assert serves == {"L1": ["L1"], "L2": ["L2", "L1"], "L3": ["L3", "L2", "L1"]}


def test_tiered_pull_only_pulls_from_pools_whose_skills_it_has():
    d = three_tier_dict()
    d["teams"][1]["skills"] = ["product"]           # L2 cannot do L1's general work
    queues, _ = _queue_teams("tiered_pull", scenario_from_dict(d))
    assert queues["L1"] == ["L1", "L3"] and queues["L2"] == ["L2", "L3"]


def test_tiered_pull_uses_idle_experts_on_waiting_tier1_work():
    # tier 1 overloaded, tiers 2-3 mostly idle: strict tiering queues, pull lets experts help
    d = three_tier_dict(horizon={"days": 2, "warmup_days": 0})
    d["teams"][0]["agents"] = 2
    scn = scenario_from_dict(d)
    pull, strict = run_checked("tiered_pull", scn), run_checked("tiered", scn)
    issue = _issue_of(pull, scn)
    first = lambda run: {tid: seq[0] for tid, seq in _taken_by(run).items() if issue.get(tid, (0,))[0] == 1}
    assert {t for t in first(pull).values()} >= {"L1", "L2"}   # tier-1 tickets taken by idle L2 agents
    assert set(first(strict).values()) == {"L1"}
    wait = lambda run: sum(run.columns["wait_min"]) / len(run.columns["wait_min"])
    assert wait(pull) < wait(strict)
