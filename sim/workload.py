"""How much work a run plan is, before running it: warn when big, refuse when too big.

A scenario that validates can still ask for hours of silence or more memory than the
machine has (``per_hour: 1e4`` over a year, ``replications: 100000``).  Every command
that simulates estimates first, from the scenario alone:

- **tickets**: expected arrivals per run (mean rate x measured-and-warm-up horizon, plus
  expected re-contacts) x policies x replications (the "ticket-runs");
- **runs**: policies x replications (each run has a fixed set-up cost);
- **memory**: the result tables kept for every ticket (and the event trace with
  ``--events``), plus the agents and issue types of one run;
- **seconds**: a rough single-core time (measured on the default scenario, about 20 us
  per ticket; the estimate is for orders of magnitude, not a promise).

Above :data:`WARN` the command says so on stderr and goes on; above :data:`REFUSE` it
stops with one line unless ``--force`` is given (docs/safety.md lists the numbers).
This module is pure (spec layer): the CLI turns the verdict into a warning or an error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from .scenario import Scenario

__all__ = ["WorkEstimate", "Limits", "WARN", "REFUSE", "estimate_work", "estimate_plan", "check_work"]

#: bytes kept per simulated ticket in the result tables (measured ~140 for the tickets
#: frame; x4 for the engine's column arrays, the analysis copies and pandas overhead)
BYTES_PER_TICKET = 600
#: extra bytes per ticket when the per-event trace is kept (``--events``)
BYTES_PER_TICKET_TRACED = 1500
BASE_BYTES = 300 * 2**20            # interpreter, numpy, pandas, SimPy
BYTES_PER_AGENT = 4096
SECONDS_PER_TICKET = 25e-6
SECONDS_PER_RUN = 5e-3


@dataclass(frozen=True)
class Limits:
    """Thresholds on a run plan; exceeding any one of them trips the level."""

    tickets: float
    runs: float
    memory_bytes: float
    agents: float


WARN = Limits(tickets=5e6, runs=1e4, memory_bytes=2 * 2**30, agents=1e4)
REFUSE = Limits(tickets=5e7, runs=1e6, memory_bytes=16 * 2**30, agents=1e5)


@dataclass(frozen=True)
class WorkEstimate:
    tickets: float               # ticket-runs: tickets per run x runs
    tickets_per_run: float
    runs: int
    agents: int
    issue_types: int
    memory_bytes: float
    seconds: float

    def describe(self) -> str:
        return (f"about {_count(self.tickets)} simulated tickets ({_count(self.tickets_per_run)} "
                f"per run x {self.runs} runs), {self.agents} agents, {self.issue_types} issue types, "
                f"~{_bytes(self.memory_bytes)} of memory, ~{_duration(self.seconds)} on one core")

    def exceeded(self, limits: Limits) -> list[str]:
        """What exceeds ``limits``, as short phrases (empty when within)."""
        out = []
        if self.tickets > limits.tickets:
            out.append(f"more than {_count(limits.tickets)} simulated tickets")
        if self.runs > limits.runs:
            out.append(f"more than {_count(limits.runs)} runs")
        if self.memory_bytes > limits.memory_bytes:
            out.append(f"more than {_bytes(limits.memory_bytes)} of memory")
        if self.agents > limits.agents:
            out.append(f"more than {_count(limits.agents)} agents")
        return out


def estimate_work(scenario: Scenario, policies: int = 0, replications: Optional[int] = None,
                  events: bool = False, keep_tickets: bool = True) -> WorkEstimate:
    """The size of running ``policies`` (count; 0 = the scenario's) x ``replications``.

    ``keep_tickets=False`` for commands that keep only per-run metrics (a sweep without
    ``--tickets``): memory then holds one run's tickets at a time.
    """
    n_pol = policies or len(scenario.policies) or 3
    reps = scenario.replications if replications is None else int(replications)
    runs = n_pol * reps
    reopen = max((i.share * max([i.reopen_probability, *(i.reopen_probability_by_tier or [])])
                  for i in scenario.issues), default=0.0)
    # a ticket that can fail comes back on average p / (1 - p) times
    per_run = scenario.arrivals.mean_per_hour * 24.0 * scenario.horizon.days * (1 + reopen / (1 - reopen))
    tickets = per_run * runs
    agents = sum(t.agents for t in scenario.teams)
    per_ticket = BYTES_PER_TICKET + (BYTES_PER_TICKET_TRACED if events else 0)
    kept = tickets if keep_tickets else per_run
    memory = BASE_BYTES + kept * per_ticket + agents * BYTES_PER_AGENT
    seconds = tickets * SECONDS_PER_TICKET + runs * SECONDS_PER_RUN
    return WorkEstimate(tickets=tickets, tickets_per_run=per_run, runs=runs, agents=agents,
                        issue_types=len(scenario.issues), memory_bytes=memory, seconds=seconds)


def estimate_plan(parts, keep_tickets: bool = False, events: bool = False) -> WorkEstimate:
    """The size of a plan of several scenarios: ``parts`` is an iterable of
    ``(scenario, n_policies, replications)`` (a sweep's points).  Tickets, runs and time add
    up; agents and issue types are the largest of one scenario; memory holds all kept
    tickets (``keep_tickets``) or only the largest single run's."""
    ests = [estimate_work(s, n, r, events=events, keep_tickets=keep_tickets) for s, n, r in parts]
    if not ests:
        return WorkEstimate(0.0, 0.0, 0, 0, 0, float(BASE_BYTES), 0.0)
    per_ticket = BYTES_PER_TICKET + (BYTES_PER_TICKET_TRACED if events else 0)
    tickets = sum(e.tickets for e in ests)
    agents = max(e.agents for e in ests)
    kept = tickets if keep_tickets else max(e.tickets_per_run for e in ests)
    return WorkEstimate(
        tickets=tickets, tickets_per_run=max(e.tickets_per_run for e in ests),
        runs=sum(e.runs for e in ests), agents=agents, issue_types=max(e.issue_types for e in ests),
        memory_bytes=BASE_BYTES + kept * per_ticket + agents * BYTES_PER_AGENT,
        seconds=sum(e.seconds for e in ests))


def check_work(estimate: WorkEstimate, force: bool = False, warn: Optional[Limits] = None,
               refuse: Optional[Limits] = None) -> tuple[Optional[str], Optional[str]]:
    """``(warning, error)`` lines for a plan: error when above ``refuse`` (default
    :data:`REFUSE`) and not ``force``; warning when above ``warn`` (default :data:`WARN`)."""
    warn = WARN if warn is None else warn
    refuse = REFUSE if refuse is None else refuse
    too_big = estimate.exceeded(refuse)
    if too_big and not force:
        return None, (f"this run is too big: {estimate.describe()} ({'; '.join(too_big)}); "
                      "shorten horizon.days, lower replications or per_hour, or add --force "
                      "(see docs/safety.md)")
    big = too_big or estimate.exceeded(warn)
    if big:
        return (f"large run: {estimate.describe()} ({'; '.join(big)})"
                + ("; going on because of --force" if too_big else "")), None
    return None, None


def _count(x: float) -> str:
    for unit, size in (("billion", 1e9), ("million", 1e6)):
        if x >= size:
            return f"{x / size:.3g} {unit}"
    return f"{x:,.0f}" if math.isfinite(x) else "inf"


def _bytes(x: float) -> str:
    for unit, size in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20)):
        if x >= size:
            return f"{x / size:.3g} {unit}"
    return f"{x / 1024:.3g} KB"


def _duration(s: float) -> str:
    if s >= 86400:
        return f"{s / 86400:.3g} days"
    if s >= 3600:
        return f"{s / 3600:.3g} h"
    if s >= 60:
        return f"{s / 60:.3g} min"
    return f"{s:.2g} s"
