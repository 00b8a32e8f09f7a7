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


_KINDS: dict[tuple, type] = {}


class Ticket:
    """A ticket's fixed attributes (drawn from common random numbers) and its history.

    Why class-level defaults instead of ``__slots__``: a ticket is created per arrival on the
    hot path, and most of its history fields keep their initial value for most tickets
    (handoffs, helpers, counters of optional features).  Reading a class default costs the
    same as a slot; not writing 25 of them at creation saves about a third of a microsecond
    per ticket (issue 16).  Only the tickets in the system (and a batch of finished ones
    waiting to be recorded) are alive at any time, so the per-object ``__dict__`` does not
    grow memory with the run length.
    """

    # history and engine state: defaults shared by every new ticket (never mutated in place)
    state = State.NEW
    queue = None
    enqueued_at = 0.0
    visit = 0
    needs_repeat = False
    owner = None
    helpers_now = ()
    last_team: "str | None" = None
    hold_start = 0.0
    queued_total = 0.0
    first_touch = math.nan
    end = math.nan
    outcome = Outcome.OPEN
    handoffs = 0
    repeats = 0
    agent_min = 0.0
    cost = 0.0
    expert_min = 0.0
    helpers = 0
    n_diag = 0
    n_handoff = 0
    n_repeat = 0
    # swarm frictions: the pending request while the owner searches, draws used so far
    swarm_req = None
    n_search = 0
    n_fit = 0
    # distinct agents who worked on it: most tickets see one or two, so a set is made only for
    # the third (``Engine._touch``); ``n_touched`` is the ticket table's ``agents_touched``
    n_touched = 0
    first_agent = -1
    second_agent = -1
    touched: "set[int] | None" = None     # every agent id, once a third agent touched it

    #: every attribute a ticket has (for tools that compare states, e.g. the conformance kit)
    FIELDS = ("id", "segment", "segment_idx", "issue", "issue_idx", "tier", "skill", "priority",
              "arrival", "patience", "work", "rand", "measured", "draws", "row", "state", "queue",
              "enqueued_at", "visit", "needs_repeat", "owner", "helpers_now", "touched", "n_touched", "first_agent", "second_agent",
              "last_team", "hold_start", "queued_total", "first_touch", "end", "outcome",
              "handoffs", "repeats", "agent_min", "cost", "expert_min", "helpers", "n_diag",
              "n_handoff", "n_repeat", "swarm_req", "n_search", "n_fit", "entered")

    #: this kind's position in the run's list of kinds (``Engine._entry``: where its new
    #: tickets go, for policies with ``route_by_kind``)
    kind_ix = 0

    # a ticket's class (segment and issue type): class attributes of its kind (see kind())
    segment: str
    segment_idx: int
    issue: str
    issue_idx: int
    tier: int
    skill: str
    priority: int

    @classmethod
    def kind(cls, segment: str, segment_idx: int, issue: str, issue_idx: int, tier: int,
             skill: str, priority: int, kind_ix: int = 0) -> type["Ticket"]:
        """A subclass for tickets of one segment and issue type, carrying those attributes.

        Why: the seven attributes that follow from (segment, issue type) are then read from the
        class like any attribute but never written per ticket (issue 16).  The classes hold
        nothing but these values, so runs of the same scenario share them (making one costs
        about 12 us; a one-day run of the default scenario made six).
        """
        key = (cls, segment, segment_idx, issue, issue_idx, tier, skill, priority, kind_ix)
        made = _KINDS.get(key)
        if made is None:
            if len(_KINDS) >= 4096:      # many different scenarios in one process: start over
                _KINDS.clear()
            attrs = dict(segment=segment, segment_idx=segment_idx, issue=issue,
                         issue_idx=issue_idx, tier=tier, skill=skill, priority=priority,
                         kind_ix=kind_ix, __slots__=())
            made = _KINDS[key] = type(f"Ticket[{segment}/{issue}]", (cls,), attrs)
        return made

    #: whether the ticket counts in the results: False for arrivals in the warm-up (set by
    #: the engine then; a class default otherwise, not written per ticket)
    measured = True
    #: (arrivals so far - 1, 1, k) once the ticket came back into the system for the k-th
    #: re-entry of the run (a reopen, Engine.reenter); None: it entered once, on arrival
    entered: "tuple[int, int, int] | None" = None

    def __init__(self, tid: int, arrival: float, patience: float, work: float, draws,
                 row: int) -> None:
        # the engine creates tickets with these same six stores written out (Engine._arrive)
        self.id = tid
        self.arrival = arrival
        self.patience = patience
        self.work = work           # work still to do: reduced when work is handed over or
                                   # interrupted part-way, reset to the draw on a reopen
        self.draws = draws         # the block of pre-drawn uniforms this ticket's draws come from
        self.row = row

    @property
    def rand(self) -> tuple[float, ...]:
        """The ticket's uniforms for policy decisions (built only when a policy reads them)."""
        return tuple(self.draws.rand[self.row].tolist())

    def __repr__(self) -> str:
        return f"Ticket({self.id}, issue={self.issue!r}, tier={self.tier}, skill={self.skill!r})"
