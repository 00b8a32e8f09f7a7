"""Tickets: one customer's problem as it moves through the organisation."""
from __future__ import annotations

import math
from enum import IntEnum


class Outcome(IntEnum):
    OPEN = 0
    RESOLVED = 1
    ABANDONED = 2


class State(IntEnum):
    NEW = 0
    QUEUED = 1        # waiting in a queue for an agent
    IN_SERVICE = 2    # an agent is working on it
    AWAIT_HELP = 3    # swarm owner holds it while waiting for a helper
    DONE = 4
    SEARCHING = 5     # swarm owner looks for a helper before asking (frictions.swarm_search)


class Ticket:
    """A ticket's fixed attributes (drawn from common random numbers) and its history.

    ``__slots__`` keeps the per-ticket footprint small; a ticket lives only
    while it is in the system and is folded into column arrays when it ends.
    """

    __slots__ = (
        # identity and attributes (common across policies)
        "id", "segment", "segment_idx", "issue", "issue_idx", "tier", "skill", "priority", "arrival",
        "patience", "work", "rand", "measured", "draws", "row",
        # engine state
        "state", "queue", "enqueued_at", "visit", "needs_repeat", "owner", "helpers_now",
        "touched", "last_team", "hold_start",
        # metrics
        "queued_total", "first_touch", "end", "outcome", "handoffs", "repeats", "agent_min",
        "cost", "expert_min", "helpers", "n_diag", "n_handoff", "n_repeat",
        # swarm frictions: the pending request while the owner searches, draws used so far
        "swarm_req", "n_search", "n_fit",
    )

    def __init__(self, tid: int, segment: str, segment_idx: int, issue: str, issue_idx: int,
                 tier: int, skill: str, priority: int, arrival: float, patience: float,
                 work: float, rand: tuple[float, ...], measured: bool) -> None:
        self.id = tid
        self.segment = segment
        self.segment_idx = segment_idx
        self.issue = issue
        self.issue_idx = issue_idx
        self.tier = tier
        self.skill = skill
        self.priority = priority
        self.arrival = arrival
        self.patience = patience
        self.work = work           # work still to do: reduced when work is handed over or
                                   # interrupted part-way, reset to the draw on a reopen
        self.rand = rand
        self.measured = measured
        self.draws = None          # the block of pre-drawn uniforms this ticket's draws come from
        self.row = 0
        self.state = State.NEW
        self.queue = None
        self.enqueued_at = 0.0
        self.visit = 0
        self.needs_repeat = False
        self.owner = None
        self.helpers_now = ()
        self.touched: set[int] = set()
        self.last_team: str | None = None
        self.hold_start = 0.0
        self.queued_total = 0.0
        self.first_touch = math.nan
        self.end = math.nan
        self.outcome = Outcome.OPEN
        self.handoffs = 0
        self.repeats = 0
        self.agent_min = 0.0
        self.cost = 0.0
        self.expert_min = 0.0
        self.helpers = 0
        self.n_diag = 0
        self.n_handoff = 0
        self.n_repeat = 0
        self.swarm_req = None
        self.n_search = 0
        self.n_fit = 0

    def __repr__(self) -> str:
        return f"Ticket({self.id}, issue={self.issue!r}, tier={self.tier}, skill={self.skill!r})"
