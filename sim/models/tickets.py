"""Tickets: one customer's problem as it moves through the organisation."""
from __future__ import annotations

import math
from enum import IntEnum
from typing import Any


class Outcome(IntEnum):
    OPEN = 0
    RESOLVED = 1
    ABANDONED = 2


class State:
    """A ticket's state: plain ints, not an ``IntEnum``, so that the engine's comparisons of
    ``t.state`` specialise to integer compares (CPython 3.11+, issue 16)."""

    NEW = 0
    QUEUED = 1        # waiting in a queue for an agent
    IN_SERVICE = 2    # an agent is working on it
    AWAIT_HELP = 3    # swarm owner holds it while waiting for a helper
    DONE = 4
    SEARCHING = 5     # swarm owner looks for a helper before asking (frictions.swarm_search)


class Ticket:
    """A ticket's fixed attributes (drawn from common random numbers) and its history.

    Why ``__slots__`` and one class for every ticket (issue 16): CPython 3.11+ speeds an
    attribute access up by specialising the instruction to the type it saw, for a slot a
    fixed offset.  Tickets used to be instances of one subclass per (segment, issue type),
    holding those attributes as class attributes and the history as class defaults, which
    saved stores at creation but left every ``t.<attr>`` of the engine's hot path
    unspecialised (six kinds of ticket seen by every instruction, and reads falling through
    to class defaults): one class with every field in a slot made a default-scenario run
    about a tenth faster although a new ticket now writes every field (:meth:`__init__`).
    """

    __slots__ = ("id", "segment", "segment_idx", "issue", "issue_idx", "tier", "skill",
                 "priority", "kind_ix", "arrival", "patience", "work", "measured", "draws",
                 "row", "state", "queue", "enqueued_at", "visit", "needs_repeat", "owner",
                 "helpers_now", "touched", "n_touched", "first_agent", "second_agent",
                 "last_team", "hold_start", "queued_total", "first_touch", "end", "outcome",
                 "handoffs", "repeats", "agent_min", "cost", "expert_min", "helpers", "n_diag",
                 "n_handoff", "n_repeat", "swarm_req", "n_search", "n_fit", "entered")

    #: every attribute a ticket has (for tools that compare states, e.g. the conformance kit)
    FIELDS = (*__slots__[:9], "rand", *__slots__[9:])

    id: int
    # a ticket's class (segment and issue type): the ticket's kind (see kind())
    segment: str
    segment_idx: int
    issue: str
    issue_idx: int
    tier: int
    skill: str
    priority: int
    #: this kind's position in the run's list of kinds (``Engine._entry``: where its new
    #: tickets go, for policies with ``route_by_kind``)
    kind_ix: int
    arrival: float
    patience: float
    #: work still to do: reduced when work is handed over or interrupted part-way, reset to
    #: the draw on a reopen
    work: float
    #: whether the ticket counts in the results: False for arrivals in the warm-up
    measured: bool
    draws: Any                 # the block of pre-drawn uniforms this ticket's draws come from
    row: int
    # history and engine state
    state: int
    queue: Any
    enqueued_at: float
    visit: int
    needs_repeat: bool
    owner: Any
    helpers_now: Any
    #: distinct agents who worked on it: most tickets see one or two, so a set is made only
    #: for the third (``Engine._touch``); ``n_touched`` is the ticket table's ``agents_touched``
    touched: set[int] | None
    n_touched: int
    first_agent: int
    second_agent: int
    last_team: str | None
    hold_start: float
    queued_total: float
    first_touch: float
    end: float
    outcome: int
    handoffs: int
    repeats: int
    agent_min: float
    cost: float
    expert_min: float
    helpers: int
    n_diag: int
    n_handoff: int
    n_repeat: int
    #: swarm frictions: the pending request while the owner searches, draws used so far
    swarm_req: Any
    n_search: int
    n_fit: int
    #: (arrivals so far - 1, 1, k) once the ticket came back into the system for the k-th
    #: re-entry of the run (a reopen, Engine.reenter); None: it entered once, on arrival
    entered: tuple[int, int, int] | None

    @staticmethod
    def kind(segment: str, segment_idx: int, issue: str, issue_idx: int, tier: int,
             skill: str, priority: int, kind_ix: int = 0) -> tuple:
        """The attributes that follow from (segment, issue type), in the order
        :meth:`__init__` takes them as ``kind``."""
        return (segment, segment_idx, issue, issue_idx, tier, skill, priority, kind_ix)

    def __init__(self, tid: int, arrival: float, patience: float, work: float, draws,
                 row: int, kind: tuple, measured: bool = True) -> None:
        # every slot, in one place (the engine allocates with object.__new__ and calls this
        # directly: Engine._arrive)
        self.id = tid
        (self.segment, self.segment_idx, self.issue, self.issue_idx, self.tier, self.skill,
         self.priority, self.kind_ix) = kind
        self.arrival = arrival
        self.patience = patience
        self.work = work
        self.measured = measured
        self.draws = draws
        self.row = row
        self.state = _NEW
        self.queue = None
        self.enqueued_at = 0.0
        self.visit = 0
        self.needs_repeat = False
        self.owner = None
        self.helpers_now = ()
        self.touched = None
        self.n_touched = 0
        self.first_agent = -1
        self.second_agent = -1
        self.last_team = None
        self.hold_start = 0.0
        self.queued_total = 0.0
        self.first_touch = _NAN
        self.end = _NAN
        self.outcome = _OPEN
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
        self.entered = None

    @property
    def rand(self) -> tuple[float, ...]:
        """The ticket's uniforms for policy decisions (built only when a policy reads them)."""
        return tuple(self.draws.rand[self.row].tolist())

    def __repr__(self) -> str:
        return f"Ticket({self.id}, issue={self.issue!r}, tier={self.tier}, skill={self.skill!r})"


_NEW = State.NEW
_OPEN = Outcome.OPEN
_NAN = math.nan
