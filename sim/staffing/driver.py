"""``staff``: for each policy, the cheapest whole-agent staffing that meets every target and the cap.

This is the part of the staffing package that runs simulations (through
:mod:`sim.staffing.runs`); the decisions are made by the pure modules
(:mod:`.queueing` for the start, :mod:`.search` for the walk, :mod:`.targets`
for what "meets" means).  Method and rules: docs/staffing.md.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import pandas as pd

from ..analysis import summarize
from ..scenario import Scenario, ScenarioError
from .payroll import window_hours
from .queueing import staffing_family
from .runs import Job, Runner
from .search import Judgement, Space, Staffing, descend, first_feasible, repair
from .store import RunStore, fingerprint, staffing_key
from .targets import Interval, Target, violation

__all__ = ["Options", "PolicyOutcome", "StaffingOutcome", "staff", "CONFIRM_SEED_OFFSET",
           "cap_targets", "window_hours", "agent_cost"]

#: the confirmation replications use seed S + this: other customers than the search's
CONFIRM_SEED_OFFSET = 1_000_000
PILOT_REPLICATIONS = 3
#: replications a candidate is screened on first: it is rejected early when a target's interval
#: over these lies entirely on the wrong side of the bound, else it gets the full replications
SCREEN_REPLICATIONS = 3
CENSORED_UTILISATION = 0.95      # a pilot team this busy may be hiding load in its queue
MAX_VIOLATION = 1e6              # a target that could not be measured (no resolved ticket, ...)

ProgressFn = Callable[[int, int], None]


@dataclass
class Options:
    """What the ``staff`` command was asked (its flags, see docs/staffing.md)."""

    targets: list[Target]
    max_utilisation: float = 0.9
    teams: Optional[list[str]] = None          # teams the search may change (None: all)
    min_agents: int = 1
    max_agents: Optional[int] = None           # None: per team max(3 x current, current + 5)
    replications: Optional[int] = None         # None: the scenario's
    seed: Optional[int] = None                 # None: the scenario's
    workers: Optional[int] = None
    scheduler: Optional[str] = None
    task_timeout: Optional[float] = None       # seconds one run may take (--task-timeout)


@dataclass
class Evaluation:
    """One staffing evaluated on one set of replications (one seed)."""

    policy: str
    staffing: Staffing
    seed: int
    replications: int
    stage: str
    role: str                                   # "search" or "confirm"
    per_rep: pd.DataFrame
    intervals: dict[str, Interval]
    feasible: bool
    violation: float
    order: int = 0


@dataclass
class PolicyOutcome:
    policy: str
    feasible: bool
    staffing: dict[str, int]
    evaluation: Evaluation                      # where the reported numbers come from
    evaluations: int
    note: str
    loads: dict[str, float] = field(default_factory=dict)

    @property
    def intervals(self) -> dict[str, Interval]:
        return self.evaluation.intervals


@dataclass
class StaffingOutcome:
    scenario: Scenario
    options: Options
    seed: int
    confirm_seed: int
    replications: int
    teams: list[str]
    changeable: list[str]
    policies: list[PolicyOutcome]
    evaluations: list[Evaluation]
    seconds: float
    runs_simulated: int
    runs_reused: int

    @property
    def any_feasible(self) -> bool:
        return any(p.feasible for p in self.policies)


def cap_targets(scenario: Scenario, max_utilisation: float) -> list[Target]:
    """The utilisation cap as one ``utilisation_<team> <= U`` target per team (every team)."""
    return [Target(f"utilisation_{t.name}", "<=", max_utilisation) for t in scenario.teams]


def _bounds(scenario: Scenario, opts: Options) -> tuple[Staffing, Staffing, tuple[int, ...]]:
    names = [t.name for t in scenario.teams]
    if opts.teams is not None:
        unknown = [t for t in opts.teams if t not in names]
        if unknown:
            raise ScenarioError([f"--teams: unknown team {', '.join(map(repr, unknown))}; "
                                 f"teams of this scenario: {', '.join(names)}"])
    changeable = tuple(i for i, n in enumerate(names) if opts.teams is None or n in opts.teams)
    if not changeable:
        raise ScenarioError(["--teams: no team left to change"])
    if opts.min_agents < 1:
        raise ScenarioError([f"--min-agents: must be >= 1 (a team needs an agent), got {opts.min_agents}"])
    if opts.max_agents is not None and opts.max_agents < opts.min_agents:
        raise ScenarioError([f"--max-agents {opts.max_agents}: below --min-agents {opts.min_agents}"])
    lower, upper = [], []
    for i, t in enumerate(scenario.teams):
        if i not in changeable:
            lower.append(t.agents)
            upper.append(t.agents)
            continue
        lower.append(opts.min_agents)
        upper.append(opts.max_agents if opts.max_agents is not None
                     else max(opts.min_agents, 3 * t.agents, t.agents + 5))
    return tuple(lower), tuple(upper), changeable


class _Evaluator:
    """Evaluates staffings of one policy, reusing saved replications, recording every evaluation."""

    def __init__(self, scenario: Scenario, policy: str, runner: Runner, store: RunStore,
                 constraints: list[Target], log: dict[tuple, Evaluation], counter: dict[str, Any],
                 progress: Optional[ProgressFn]) -> None:
        self.scenario = scenario
        self.policy = policy
        self.runner = runner
        self.store = store
        self.constraints = constraints
        self.log = log
        self.counter = counter
        self.progress = progress
        self.names = [t.name for t in scenario.teams]
        self.fp = fingerprint(scenario, policy)
        self.cache: dict[tuple[Staffing, int, int], Evaluation] = {}
        self.reused: set[tuple] = counter["reused"]   # keys of runs an earlier command made

    def scenario_for(self, s: Staffing) -> Scenario:
        teams = [{**t.model_dump(mode="json", by_alias=True, exclude_none=True), "agents": int(n)}
                 for t, n in zip(self.scenario.teams, s)]
        return self.scenario.replace(teams=teams)

    def evaluate(self, staffings: Sequence[Staffing], seed: int, reps: int, stage: str,
                 role: str = "search") -> list[Evaluation]:
        todo = [s for s in dict.fromkeys(staffings) if (s, seed, reps) not in self.cache]
        rows: dict[Staffing, dict[int, dict[str, float]]] = {s: {} for s in todo}
        fresh: dict[Staffing, dict[int, dict[str, float]]] = {s: {} for s in todo}
        jobs = []
        for s in todo:
            key = staffing_key(self.names, s)
            scn = None
            for r in range(reps):
                saved = self.store.get(self.fp, self.policy, key, seed, r)
                if saved is not None:
                    rows[s][r] = saved
                    if (self.fp, self.policy, key, seed, r) in self.store.loaded:
                        self.reused.add((self.fp, self.policy, key, seed, r))  # an earlier command's
                    continue
                scn = scn or self.scenario_for(s)
                jobs.append(Job((s, r), scn, self.policy, r, seed))
        self.counter["total"] += len(jobs)
        remaining = {s: sum(1 for j in jobs if j.key[0] == s) for s in todo}

        def done(job: Job, metrics: dict[str, float]) -> None:
            s, r = job.key
            rows[s][r] = fresh[s][r] = metrics
            remaining[s] -= 1
            self.counter["done"] += 1
            if remaining[s] == 0:      # this evaluation is complete: save it now (resumable)
                self.store.save(self.fp, self.policy, staffing_key(self.names, s), seed, fresh[s])
            if self.progress:
                self.progress(self.counter["done"], self.counter["total"])

        if jobs:
            self.runner.run(jobs, done)
        for s in todo:
            self.cache[(s, seed, reps)] = self._record(s, seed, reps, stage, role, rows[s])
        return [self.cache[(s, seed, reps)] for s in staffings]

    def _record(self, s: Staffing, seed: int, reps: int, stage: str, role: str,
                rows: dict[int, dict[str, float]]) -> Evaluation:
        per_rep = pd.DataFrame([{"policy": self.policy, "replication": r, **rows[r]} for r in range(reps)])
        summary = summarize(per_rep)
        intervals = {str(r.metric): Interval(float(r.mean), float(r.ci_low), float(r.ci_high))
                     for r in summary.itertuples(index=False)}
        vs = self._margins(intervals)
        key = (self.policy, s, seed)
        first = self.log.get(key)
        ev = Evaluation(self.policy, s, seed, reps, first.stage if first else stage, role, per_rep,
                        intervals, feasible=all(v <= 0 for v in vs),
                        violation=sum(max(v, 0.0) for v in vs),
                        order=first.order if first else len(self.log))
        if first is None or reps >= first.replications:   # one record per staffing and seed: the fullest
            self.log[key] = ev
        return ev

    def clearly_violated(self, ev: Evaluation) -> bool:
        """Some target's (or the cap's) whole interval lies on the wrong side of its bound."""
        for c in self.constraints:
            iv = ev.intervals.get(c.metric, Interval(math.nan, math.nan, math.nan))
            near = iv.low if c.upper else iv.high       # the interval's end nearest the bound
            if near == near and (near > c.bound if c.upper else near < c.bound):
                return True
        return False

    def screened(self, staffings: Sequence[Staffing], seed: int, reps: int, stage: str,
                 role: str = "search") -> list[Evaluation]:
        """Evaluate on ``reps`` replications, rejecting clear failures after SCREEN_REPLICATIONS."""
        if reps <= SCREEN_REPLICATIONS:
            return self.evaluate(staffings, seed, reps, stage, role)
        first = self.evaluate(staffings, seed, SCREEN_REPLICATIONS, stage, role)
        rest = [s for s, e in zip(staffings, first) if not self.clearly_violated(e)]
        full = dict(zip(rest, self.evaluate(rest, seed, reps, stage, role))) if rest else {}
        return [full.get(s, e) for s, e in zip(staffings, first)]

    def margins(self, ev: Evaluation) -> list[float]:
        return self._margins(ev.intervals)

    def _margins(self, intervals: dict[str, Interval]) -> list[float]:
        """Each constraint's relative violation (> 0: violated); an unmeasurable one counts as
        MAX_VIOLATION, so sums and differences of violations stay finite numbers."""
        missing = Interval(math.nan, math.nan, math.nan)
        return [min(violation(c, intervals.get(c.metric, missing)), MAX_VIOLATION)
                for c in self.constraints]


def staff(scenario: Scenario, policies: Optional[Sequence[str]], opts: Options,
          out: str | Path, progress: Optional[ProgressFn] = None) -> StaffingOutcome:
    """Find, per policy, the lowest-payroll staffing meeting ``opts.targets`` and the cap."""
    from ..policies import registry

    started = time.perf_counter()
    names = list(dict.fromkeys(policies if policies else scenario.policy_names()))
    unknown = [p for p in names if registry.get(p) is None]
    if unknown:
        raise ScenarioError([f"--policy {p}: unknown; available: {', '.join(registry.names())}"
                             for p in unknown])
    if not 0 < opts.max_utilisation <= 1:
        raise ScenarioError([f"--max-utilisation: must be in (0, 1], got {opts.max_utilisation:g}"])
    reps = scenario.replications if opts.replications is None else int(opts.replications)
    seed = scenario.seed if opts.seed is None else int(opts.seed)
    lower, upper, changeable = _bounds(scenario, opts)
    team_names = [t.name for t in scenario.teams]
    constraints = list(opts.targets) + cap_targets(scenario, opts.max_utilisation)
    store = RunStore(out)
    store.load()
    log: dict[tuple, Evaluation] = {}
    counter: dict[str, Any] = {"total": 0, "done": 0, "reused": set()}
    outcomes: list[PolicyOutcome] = []
    with Runner(opts.workers, opts.scheduler, opts.task_timeout) as runner:
        for policy in names:
            ev = _Evaluator(scenario, policy, runner, store, constraints, log, counter, progress)
            outcomes.append(_staff_policy(ev, scenario, reps, seed, lower, upper, changeable,
                                          opts.max_utilisation))
    return StaffingOutcome(scenario, opts, seed, seed + CONFIRM_SEED_OFFSET, reps, team_names,
                           [team_names[i] for i in changeable], outcomes,
                           sorted(log.values(), key=lambda e: e.order),
                           time.perf_counter() - started, counter["done"], len(counter["reused"]))


def _staff_policy(ev: _Evaluator, scenario: Scenario, reps: int, seed: int, lower: Staffing,
                  upper: Staffing, changeable: tuple[int, ...], max_utilisation: float
                  ) -> PolicyOutcome:
    names = ev.names
    current = tuple(t.agents for t in scenario.teams)
    # 1. pilot at the current staffing: the load the policy routes to each team
    pilot = ev.evaluate([current], seed, min(reps, PILOT_REPLICATIONS), "pilot")[0]
    util = {n: pilot.intervals[f"utilisation_{n}"].mean for n in names}
    if any(u >= CENSORED_UTILISATION for u in util.values()):
        # a saturated team under-reports its load (work is queued, not done): measure at the top
        pilot = ev.evaluate([upper], seed, min(reps, PILOT_REPLICATIONS), "pilot")[0]
        util = {n: pilot.intervals[f"utilisation_{n}"].mean for n in names}
    agents_of = dict(zip(names, pilot.staffing))
    # a team with no measured capacity (e.g. never on shift in the window) offers no load
    loads = {n: float(util[n]) * agents_of[n] if math.isfinite(util[n]) else 0.0 for n in names}
    # the cost of one agent of each team over the window (with shifts: paid hours per agent)
    space = Space(lower, upper, changeable, agent_cost(scenario))
    fixed = {n: current[i] for i, n in enumerate(names) if i not in changeable}
    family = [tuple(m[n] for n in names) for m in staffing_family(
        loads, max_utilisation, dict(zip(names, lower)), dict(zip(names, upper)), fixed)]

    seeds = [seed]

    def judge(staffings: list[Staffing], stage: str) -> list[Judgement]:
        per_seed = [ev.screened(staffings, s, reps, stage, "search" if s == seed else "confirm")
                    for s in seeds]
        out = []
        for i, s in enumerate(staffings):
            margins = [m for evs in per_seed for m in ev.margins(evs[i])]
            out.append(Judgement(s, all(m <= 0 for m in margins), sum(max(m, 0.0) for m in margins),
                                 -max(margins)))
        return out

    # 2. the cheapest grade of service that meets the targets, then agent by agent
    here = space.payroll(current)
    nearest = min(range(len(family)), key=lambda i: (abs(space.payroll(family[i]) - here), i))
    idx, seen = first_feasible(family, judge, nearest)
    note = ""
    if idx is None:
        top = judge([upper], "bound")[0]
        if not top.feasible:
            return _infeasible(ev, seed, reps, loads)
        start = repair(seen[-1], space, judge)
    else:
        start = {j.staffing: j for j in seen}[family[idx]]
    if not start.feasible:
        return _infeasible(ev, seed, reps, loads)
    best = descend(start, space, judge)
    # 3. confirm on fresh replications (other customers)
    confirm_seed = seed + CONFIRM_SEED_OFFSET
    check = ev.evaluate([best.staffing], confirm_seed, reps, "confirm", "confirm")[0]
    if check.feasible:
        note = "held on fresh replications"
    else:
        seeds.append(confirm_seed)      # from now on both sets of customers judge
        again = judge([best.staffing], "confirm")[0]
        again = repair(again, space, judge)
        if not again.feasible:
            return _infeasible(ev, seed, reps, loads, confirm_failed=True)
        best = descend(again, space, judge)
        check = ev.evaluate([best.staffing], confirm_seed, reps, "confirm", "confirm")[0]
        note = ("missed a target on the first fresh replications; the search went on judged on both "
                "sets of replications")
    return PolicyOutcome(ev.policy, True, dict(zip(names, best.staffing)), check,
                         _count(ev), note, loads)


def _count(ev: _Evaluator) -> int:
    return sum(1 for key in ev.log if key[0] == ev.policy)


def _infeasible(ev: _Evaluator, seed: int, reps: int, loads: dict[str, float],
                confirm_failed: bool = False) -> PolicyOutcome:
    """The best staffing reached: smallest total violation, then lowest payroll."""
    mine = [e for e in ev.log.values()
            if e.policy == ev.policy and e.replications == reps and e.seed == seed]
    if not mine:       # every candidate failed clearly on the screening replications
        mine = [e for e in ev.log.values() if e.policy == ev.policy and e.seed == seed]
    best = min(mine, key=lambda e: (e.violation, float(e.intervals["payroll"].mean)))
    note = ("no staffing within the bounds meets every target on both sets of replications"
            if confirm_failed else "no staffing within the bounds meets every target and the cap")
    return PolicyOutcome(ev.policy, False, dict(zip(ev.names, best.staffing)), best, _count(ev),
                         note, loads)


def agent_cost(scenario: Scenario) -> tuple[float, ...]:
    """Payroll of one agent of each team over the window (orders candidates before they run).

    With shifts, an agent is paid for their shift hours: the week's share of them
    (overtime, which depends on the load, is in the measured payroll only).
    """
    window_h = window_hours(scenario)
    out = []
    for t in scenario.teams:
        hours = window_h
        if t.shift is not None:
            hours = window_h * t.shift.length_h * len(set(t.shift.days)) / 168.0
        out.append(t.cost_per_hour * hours)
    return tuple(out)


