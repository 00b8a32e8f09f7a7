"""Re-contacts: a resolution fails, the customer comes back later, the same ticket reopens.

The k-th resolution of a ticket fails when its uniform (stream REOPEN) is below
the issue's ``reopen_probability`` (or ``reopen_probability_by_tier`` for the
tier of the team that resolved it: in a swarm, the highest tier taking part); the customer returns after the issue's
``reopen_delay`` draw (stream REOPEN_DELAY).  The ticket keeps its identity:
it is recorded once, when it finally ends, with ``reopens`` returns.  While
the customer is away the ticket is out of the system (not waiting, not in
service); a customer still away at the horizon is recorded as resolved.
On return the customer explains again (a repeat), the work starts over (the
fix failed), and the ticket goes where ``reopen_to`` says.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..models.customers import SLOTS, Stream
from ..models.tickets import Outcome, State
from ..models.trace import REOPENED
from .features import Feature

if TYPE_CHECKING:
    from ..models.tickets import Ticket
    from ..scenario import Scenario


class Reopens(Feature):
    """Mechanics of ``issues[].reopen_probability`` (moments: ticket_resolved, horizon)."""

    name = "reopens"
    uses = frozenset({"scn", "env", "customers", "extra", "reenter", "trace", "_count", "_log",
                      "_enqueue", "_route", "_record"})

    @classmethod
    def wanted(cls, scenario: "Scenario") -> bool:
        return any(i.can_reopen for i in scenario.issues)

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        scn = engine.scn
        top = max(t.tier for t in scn.teams)
        self.p = [i.reopen_probabilities(top) for i in scn.issues]   # [issue][resolver tier]
        self.to_last = [i.reopen_to == "last_queue" for i in scn.issues]
        #: resolved tickets whose customer will come back: ticket id -> ticket
        self.dormant: dict[int, "Ticket"] = {}

    def ticket_resolved(self, t: "Ticket") -> bool:
        """Whether this resolution fails (then schedule the customer's return)."""
        e = self.engine
        tier = t.owner.team.tier
        for helper in t.helpers_now:                  # a swarm's fix is its best expert's
            if helper.team.tier > tier:
                tier = helper.team.tier
        p = self.p[t.issue_idx][tier]
        if p <= 0:
            return False
        k = e.extra["reopens"].get(t.id, 0)
        u = t.draws.reopen.item(t.row, k) if k < SLOTS else e.customers.overflow(Stream.REOPEN, t.id, k, None)
        if u >= p:
            return False
        delay = (t.draws.reopen_delay.item(t.row, k) if k < SLOTS else e.customers.overflow(
            Stream.REOPEN_DELAY, t.id, k, e.scn.issues[t.issue_idx].reopen_delay))
        self.dormant[t.id] = t
        e.env.timeout(delay, t).callbacks.append(self._comes_back)
        return True

    def _comes_back(self, event) -> None:
        e = self.engine
        t = event.value
        del self.dormant[t.id]
        now = e.env.now
        e._count(t, "reopens", 1)
        t.outcome = Outcome.OPEN
        t.end = math.nan
        t.state = State.NEW
        t.owner = None
        t.needs_repeat = True
        t.work = t.draws.work[t.row]          # the fix failed: the work starts over
        e.reenter(t)
        if e.trace is not None:
            e._log(now, now, t.id, REOPENED)
        last = t.queue
        if self.to_last[t.issue_idx] and last is not None and not last.is_help:
            e._enqueue(t, last)
        else:
            e._enqueue(t, e._route(t))

    def horizon(self) -> None:
        """Customers still away at the horizon: their ticket counts as resolved."""
        for t in self.dormant.values():
            if t.measured:
                self.engine._record(t)
        self.dormant.clear()
