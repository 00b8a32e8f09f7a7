"""The staffing search: a pure state machine over whole-agent staffings. No simulation here.

The search asks a *judge* about batches of staffings and gets back, for each,
whether every target and the utilisation cap hold, by how much they are
violated, and by how much the tightest one is met (its slack).  The judge is
where simulation happens (:mod:`sim.staffing.run`); because it evaluates every
candidate on the same customers (common random numbers), the difference between
two neighbouring staffings is the effect of the agent that differs, not noise
between samples, and a greedy walk can trust small differences.

Steps (docs/staffing.md, "Method"):

1. :func:`first_feasible`: the cheapest member of the Erlang C grade family
   (:func:`sim.staffing.queueing.staffing_family`) that the judge accepts;
2. :func:`repair`: while not feasible, add the agent with the largest
   reduction of the violation per unit of payroll;
3. :func:`descend`: while feasible, remove the agent that saves the most payroll
   and keeps every target; when none can go, try moving one agent from a dearer
   team to a cheaper one (the neighbourhood check); stop when neither helps.

A staffing is a tuple of agents per team in the scenario's team order.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

__all__ = ["Staffing", "Judgement", "Space", "Judge", "first_feasible", "repair", "descend"]

Staffing = tuple[int, ...]


@dataclass(frozen=True)
class Judgement:
    staffing: Staffing
    feasible: bool
    violation: float       # sum of the positive (relative) violations; 0 when feasible
    slack: float           # the smallest (relative) margin over all targets; < 0 when violated


#: judge(staffings, stage) -> one Judgement per staffing, same order
Judge = Callable[[list[Staffing], str], list[Judgement]]


@dataclass(frozen=True)
class Space:
    """Which staffings are allowed and what one agent of each team costs."""

    lower: Staffing
    upper: Staffing
    changeable: tuple[int, ...]       # team indices the search may change
    agent_cost: tuple[float, ...]     # payroll of one agent of each team (any fixed unit)

    def payroll(self, s: Staffing) -> float:
        return sum(n * c for n, c in zip(s, self.agent_cost))

    def moved(self, s: Staffing, minus: Optional[int] = None, plus: Optional[int] = None
              ) -> Optional[Staffing]:
        out = list(s)
        if minus is not None:
            out[minus] -= 1
        if plus is not None:
            out[plus] += 1
        if any(not lo <= n <= hi for n, lo, hi in zip(out, self.lower, self.upper)):
            return None
        return tuple(out)

    def clamp(self, s: Staffing) -> Staffing:
        return tuple(min(max(n, lo), hi) for n, lo, hi in zip(s, self.lower, self.upper))


def first_feasible(family: Sequence[Staffing], judge: Judge, start: int = 0
                   ) -> tuple[Optional[int], list[Judgement]]:
    """Index of the first family member the judge accepts (None if not even the last is).

    Members grow in every team along the family, so acceptance is (nearly)
    monotone.  The walk starts at ``start`` (the member nearest the current
    staffing, usually close to the answer), gallops upwards (1, 2, 4, ...
    members) while rejected, then bisects the last bracket: a handful of
    evaluations, and the very large members are only tried when needed.
    """
    seen: dict[int, Judgement] = {}

    def ok(i: int) -> bool:
        if i not in seen:
            seen[i] = judge([family[i]], "start")[0]
        return seen[i].feasible

    last = len(family) - 1
    start = min(max(start, 0), last)
    if ok(start):
        lo, hi = 0, start                  # answer in [lo, hi], hi accepted
    else:
        lo, step, hi = start + 1, 1, -1
        while lo <= last:
            probe = min(lo + step - 1, last)
            if ok(probe):
                hi = probe
                break
            lo, step = probe + 1, step * 2
        if hi < 0:
            return None, [seen[i] for i in sorted(seen)]
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi, [seen[i] for i in sorted(seen)]


def repair(start: Judgement, space: Space, judge: Judge) -> Judgement:
    """Add agents, one at a time, until the judge accepts (or no agent can be added).

    Each step tries one more agent in every changeable team (one batch) and
    keeps the cheapest candidate that is feasible, else the one with the largest
    reduction of the total violation per unit of payroll.
    """
    current = start
    while not current.feasible:
        cands = [m for k in space.changeable if (m := space.moved(current.staffing, plus=k))]
        if not cands:
            return current
        judged = judge(cands, "add")
        feasible = [j for j in judged if j.feasible]
        if feasible:
            return min(feasible, key=lambda j: (space.payroll(j.staffing), -j.slack))

        def gain(j: Judgement) -> float:
            cost = space.payroll(j.staffing) - space.payroll(current.staffing)
            drop = current.violation - j.violation
            return drop / cost if cost > 0 else (math.inf if drop > 0 else drop)

        current = max(judged, key=lambda j: (gain(j), -space.payroll(j.staffing)))
    return current


def descend(start: Judgement, space: Space, judge: Judge, max_steps: int = 10_000) -> Judgement:
    """From a feasible staffing, remove and move agents while payroll falls and the judge accepts.

    The result is locally minimal: removing one agent from any changeable team
    (within the bounds) was evaluated and broke a target or the cap, and no
    single move of an agent to a cheaper team keeps every target.
    """
    if not start.feasible:
        raise ValueError("descend needs a feasible start")
    current = start
    for _ in range(max_steps):
        here = space.payroll(current.staffing)
        removals = [m for k in space.changeable if (m := space.moved(current.staffing, minus=k))]
        ok = [j for j in judge(removals, "remove") if j.feasible] if removals else []
        if ok:
            current = max(ok, key=lambda j: (here - space.payroll(j.staffing), j.slack))
            continue
        swaps = [m for i in space.changeable for k in space.changeable
                 if i != k and space.agent_cost[k] < space.agent_cost[i]
                 and (m := space.moved(current.staffing, minus=i, plus=k))]
        ok = [j for j in judge(swaps, "swap") if j.feasible] if swaps else []
        if ok:
            current = min(ok, key=lambda j: (space.payroll(j.staffing), -j.slack))
            continue
        return current
    return current
