"""The conformance kit (sim.testing): built-ins pass it, broken policies are caught by rule."""
from __future__ import annotations

import random
from array import array

import pytest

from sim import scenario_from_dict
from sim.policies import HandOff, Policy, PolicyError, QueueSpec, Swarm, registry
from sim.policies.tiered import Tiered
from sim.testing import ConformanceError, check_policy, check_run, conformance_test, run_checked
from sim.engine import Engine

SMALL = {
    "name": "small", "seed": 3, "horizon": {"days": 0.5}, "arrivals": {"per_hour": 10},
    "issues": [
        {"name": "easy", "share": 0.6, "tier": 1, "skill": "general", "work": {"dist": "exponential", "mean": 8}},
        {"name": "hard", "share": 0.4, "tier": 2, "skill": "product", "work": {"dist": "exponential", "mean": 20}},
    ],
    "teams": [
        {"name": "L1", "tier": 1, "agents": 2, "skills": ["general"], "cost_per_hour": 30,
         "diagnose": {"dist": "fixed", "value": 4}},
        {"name": "L2", "tier": 2, "agents": 2, "skills": ["general", "product"], "cost_per_hour": 60},
    ],
    "frictions": {"handoff": {"dist": "fixed", "value": 3}, "repeat": {"dist": "fixed", "value": 2}},
}


def small():
    return scenario_from_dict(SMALL)


# ------------------------------------------------------------------ built-ins pass


@pytest.mark.parametrize("name", registry.builtin_names())
def test_builtin_policies_conform(name):
    check_policy(name, max_examples=12)


def test_all_four_builtins_are_registered_and_three_run_by_default():
    assert registry.builtin_names() == ["tiered", "skill_routing", "swarming", "tiered_warm_handoff",
                                     "tiered_skip", "tiered_pull"]
    no_policies = {k: v for k, v in SMALL.items() if k != "policies"}
    assert scenario_from_dict(no_policies).policy_names() == ["tiered", "skill_routing", "swarming"]


test_swarming_with_two_helpers = conformance_test("swarming", {"max_helpers": 2}, max_examples=6)


def test_warm_handoff_has_handoffs_without_repeats_and_pays_the_writeup():
    scn = small()
    cold = run_checked("tiered", scn)
    warm = run_checked("tiered_warm_handoff", scn)
    slow = run_checked("tiered_warm_handoff", scn, {"writeup_overhead": 1.0})
    assert sum(warm.columns["repeats"]) == 0 < sum(cold.columns["repeats"])
    # same customers, same queue hops up to the point where timing differs: handoffs happen
    assert sum(warm.columns["handoffs"]) > 0
    handoff_min = [r[1] - r[0] for r in slow.trace if r[3] == "handoff" and r[1] < scn.horizon_min]
    assert handoff_min and all(abs(m - 6.0) < 1e-9 for m in handoff_min)   # 3 min x (1 + 1.0)


# ------------------------------------------------------------------ broken policies are caught


class RoutesNowhere(Tiered):
    name = "routes_nowhere"

    def route(self, ticket):
        return "L9"


class ClaimsStaticRoute(Tiered):
    """Declares that it routes by kind, then routes by the ticket's own uniform."""

    name = "claims_static_route"
    route_by_kind = True

    def route(self, ticket):
        return self._entry if ticket.rand[0] < 0.5 else self.next_team_up(ticket, 1)


class ClaimsStaticDecision(Tiered):
    """Declares that it decides by kind, then escalates by the ticket's own uniform."""

    name = "claims_static_decision"
    decide_by_kind = True

    def on_cannot_resolve(self, ticket, agent):
        if ticket.rand[2] < 0.5:
            return HandOff(to=self.next_team_up(ticket, agent.team.tier))
        return HandOff(to=self.next_team_up(ticket, agent.team.tier), warm=True)


class PingPong(Tiered):
    """Hands every ticket it cannot resolve back to the first queue: forever."""

    name = "ping_pong"

    def on_cannot_resolve(self, ticket, agent):
        return HandOff(to=self.org.by_tier()[0].name)


class WritesOnTicket(Tiered):
    """Records its triage on the ticket itself: views are read-only."""

    name = "writes_on_ticket"

    def route(self, ticket):
        ticket.last_team = "triage"
        return super().route(ticket)


class EmptySwarm(Tiered):
    name = "empty_swarm"

    def on_cannot_resolve(self, ticket, agent):
        return Swarm(max_helpers=0)


class CheapHandoff(Tiered):
    name = "cheap_handoff"

    def on_cannot_resolve(self, ticket, agent):
        return HandOff(to=self.next_team_up(ticket, agent.team.tier), effort=0.5)


class Crashes(Tiered):
    name = "crashes"

    def route(self, ticket):
        return ["L1", "L2"][ticket.id // 0]


class Unseeded(Tiered):
    """Uses the global random generator: not reproducible."""

    name = "unseeded"

    def route(self, ticket):
        teams = self.org.by_tier()
        return teams[int(random.random() * len(teams))].name


def _failure(policy, **kw) -> str:
    kw.setdefault("max_examples", 10)
    kw.setdefault("shrink", False)
    with pytest.raises(ConformanceError) as info:
        check_policy(policy, **kw)
    return str(info.value)


def _names_ticket_and_time(msg: str) -> None:
    first = msg.splitlines()[0]
    assert "ticket " in first and "t=" in first, first


def test_unknown_queue_is_caught_with_ticket_time_and_rule():
    msg = _failure(RoutesNowhere)
    assert "rule 'engine accepts every decision'" in msg
    assert "route() returned unknown queue 'L9'" in msg
    _names_ticket_and_time(msg)
    assert "scenario:" in msg and "teams:" in msg     # the case can be replayed


def test_a_false_route_by_kind_declaration_is_caught():
    msg = _failure(ClaimsStaticRoute)
    assert "rule 'route_by_kind holds'" in msg
    _names_ticket_and_time(msg)


def test_route_by_kind_is_not_inherited_by_a_new_route():
    from sim.policies.base import routes_by_kind

    assert routes_by_kind(Tiered) and routes_by_kind(ClaimsStaticRoute)
    assert not routes_by_kind(RoutesNowhere)      # overrides route() without declaring it again


def test_a_false_decide_by_kind_declaration_is_caught():
    msg = _failure(ClaimsStaticDecision)
    assert "rule 'decide_by_kind holds'" in msg
    _names_ticket_and_time(msg)


def test_decide_by_kind_is_not_inherited_by_a_new_on_cannot_resolve():
    from sim.policies.base import decides_by_kind
    from sim.policies.registry import get

    assert decides_by_kind(Tiered) and decides_by_kind(ClaimsStaticDecision)
    assert not decides_by_kind(PingPong)          # overrides on_cannot_resolve, no declaration
    assert all(decides_by_kind(get(n)) for n in ("tiered", "tiered_warm_handoff", "tiered_skip",
                                                 "tiered_pull", "skill_routing", "swarming"))


def test_endless_handoffs_are_caught():
    msg = _failure(PingPong)
    assert "rule 'handoffs make progress'" in msg
    assert "every team serving it" in msg and "a loop" in msg
    _names_ticket_and_time(msg)


def test_endless_handoffs_are_caught_by_the_count_too():
    msg = _failure(PingPong, scenario_strategy=_with_learning(), max_handoffs=3, max_examples=20)
    assert "rule 'bounded handoffs'" in msg and "handed off" in msg
    _names_ticket_and_time(msg)


def _with_learning():
    """Generated scenarios where agents may learn (so the loop watch is off)."""
    from sim.testing import scenario_dicts

    def learning(data):
        top = max(t["tier"] for t in data["teams"])
        return scenario_from_dict({**data, "learning": {"swarms_to_learn": 50, "up_to_tier": top}})

    return scenario_dicts().map(learning)


def test_writing_to_a_view_is_caught():
    msg = _failure(WritesOnTicket)
    assert "rule 'read-only views'" in msg
    assert "route() tried to change TicketReadView.last_team" in msg
    _names_ticket_and_time(msg)


def test_engine_views_refuse_writes_outside_the_kit_too():
    """A plain run (no kit) stops with a one-line PolicyError instead of miscounting."""
    with pytest.raises(PolicyError, match="policy views are read-only"):
        Engine(small(), WritesOnTicket, WritesOnTicket.Params(), 0, 1).run()


def test_changing_the_engines_objects_through_a_view_is_impossible():
    seen = {}

    class Peek(Tiered):
        name = "peek"

        def on_cannot_resolve(self, ticket, agent):
            seen["ticket"], seen["agent"] = ticket, agent
            return super().on_cannot_resolve(ticket, agent)

    Engine(small(), Peek, Peek.Params(), 0, 1).run()
    ticket, agent = seen["ticket"], seen["agent"]
    for obj, attr in ((ticket, "handoffs"), (ticket, "repeats"), (agent, "team"),
                      (agent.team, "free_count")):
        with pytest.raises(AttributeError, match="read-only"):
            setattr(obj, attr, 0)
    assert not hasattr(ticket, "work") and not hasattr(agent.team, "free")   # not in the view


@pytest.mark.parametrize("policy, expected", [
    (EmptySwarm, "Swarm(max_helpers=0): must be a whole number >= 1"),
    (CheapHandoff, "HandOff(effort=0.5): must be a finite number >= 1"),
    (Crashes, "route() raised ZeroDivisionError"),
])
def test_invalid_decisions_are_caught(policy, expected):
    msg = _failure(policy, max_examples=5)
    assert expected in msg
    _names_ticket_and_time(msg)


def test_unseeded_randomness_breaks_determinism():
    msg = _failure(Unseeded)
    assert "rule 'determinism'" in msg


def test_shrinking_reports_a_failing_scenario():
    msg = _failure(RoutesNowhere, max_examples=2, shrink=True)
    assert "route() returned unknown queue" in msg


def test_not_a_policy_class_is_rejected():
    class NoHooks(Policy):
        name = "no_hooks"

    with pytest.raises(ConformanceError, match="does not implement route"):
        check_policy(NoHooks)


# ------------------------------------------------------------------ the trace checks themselves


@pytest.fixture(scope="module")
def good_run():
    scn = small()
    return scn, Engine(scn, Tiered, Tiered.Params(), 0, 3, trace=True, backlog_every=0).run()


def _copy(run):
    from dataclasses import replace

    return replace(run, columns={k: array(v.typecode, v) for k, v in run.columns.items()},
                   trace=list(run.trace))


def test_a_correct_run_has_no_violations(good_run):
    scn, run = good_run
    assert check_run(scn, run) == []
    assert sum(run.columns["handoffs"]) > 0 and sum(run.columns["repeats"]) > 0


@pytest.mark.parametrize("column, rule", [
    ("handoffs", "metrics consistent"), ("repeats", "metrics consistent"),
    ("agent_min", "metrics consistent"), ("cost", "metrics consistent"),
    ("wait_min", "metrics consistent"), ("agents_touched", "metrics consistent"),
])
def test_a_tampered_table_is_caught(good_run, column, rule):
    scn, run = good_run
    bad = _copy(run)
    i = max(range(len(bad.columns["handoffs"])), key=lambda k: bad.columns["handoffs"][k])
    bad.columns[column][i] += 1
    found = check_run(scn, bad)
    assert found and found[0].rule == rule and found[0].ticket == bad.columns["ticket_id"][i]
    assert column in found[0].detail


def test_a_lost_row_is_caught(good_run):
    scn, run = good_run
    bad = _copy(run)
    lost = bad.columns["ticket_id"][0]
    for col in bad.columns.values():
        del col[0]
    found = check_run(scn, bad)
    assert [v.rule for v in found] == ["no ticket lost or duplicated"] and found[0].ticket == lost


def test_a_double_booked_agent_is_caught(good_run):
    scn, run = good_run
    bad = _copy(run)
    works = [k for k, r in enumerate(bad.trace) if r[3] == "work"]
    a, b = bad.trace[works[0]], bad.trace[works[1]]
    # pretend agent of the first work interval also did the second one, overlapping it
    bad.trace[works[1]] = (a[0] + (a[1] - a[0]) / 2, b[1], b[2], b[3], a[4], a[5], b[6])
    rules = {v.rule for v in check_run(scn, bad)}
    assert "no agent double-booked" in rules


def test_a_ticket_ending_twice_is_caught(good_run):
    scn, run = good_run
    bad = _copy(run)
    k = next(k for k, r in enumerate(bad.trace) if r[3] == "resolved")
    bad.trace.append(bad.trace[k][:3] + ("abandoned",) + bad.trace[k][4:])
    found = check_run(scn, bad)
    assert any(v.rule == "every ticket ends" and v.ticket == bad.trace[k][2] for v in found)


def test_time_running_backwards_is_caught(good_run):
    scn, run = good_run
    bad = _copy(run)
    k = next(k for k, r in enumerate(bad.trace) if r[3] == "work" and r[1] > r[0])
    r = bad.trace[k]
    bad.trace[k] = (r[1], r[0]) + r[2:]
    assert any(v.rule == "clocks never go backwards" for v in check_run(scn, bad))


def test_engine_rejects_unknown_handoff_queue_naming_ticket_and_time():
    class Nowhere(Tiered):
        name = "handoff_nowhere"

        def on_cannot_resolve(self, ticket, agent):
            return HandOff(to="L7")

    with pytest.raises(PolicyError, match=r"ticket \d+ at t=[\d.]+ min: on_cannot_resolve\(\) "
                                          r"handed off to unknown queue 'L7'"):
        Engine(small(), Nowhere, Nowhere.Params(), 0, 3).run()


def test_engine_rejects_bad_queue_declarations():
    class Bad(Tiered):
        name = "bad_queues"

        def queues(self):
            return [QueueSpec("front", ("L1", "Nobody"))]

    with pytest.raises(PolicyError, match="unknown teams"):
        Engine(small(), Bad, Bad.Params(), 0, 3)


def test_a_policy_that_cannot_set_up_is_reported():
    class NeedsTeamL9(Tiered):
        name = "needs_l9"

        def __init__(self, params, org):
            super().__init__(params, org)
            self.special = org.team("L9")

    msg = _failure(NeedsTeamL9, max_examples=2)
    assert "rule 'policy sets up on any valid scenario'" in msg and "KeyError: 'L9'" in msg
