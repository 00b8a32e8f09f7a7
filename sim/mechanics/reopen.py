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
from typing import TYPE_CHECKING

from ..models.customers import SLOTS, Stream
from ..models.tickets import Outcome, State
from ..models.trace import REOPENED

if TYPE_CHECKING:
    from ..models.tickets import Ticket


class ReopenMixin:
    """Mechanics of ``issues[].reopen_probability``."""

    def _setup_reopen(self) -> None:
        issues = self.scn.issues
        top = max(t.tier for t in self.scn.teams)
        self._reopen_p = [i.reopen_probabilities(top) for i in issues]   # [issue][resolver tier]
        self._reopen_last = [i.reopen_to == "last_queue" for i in issues]
        self._reopens = any(i.can_reopen for i in issues)
        self.dormant: dict[int, "Ticket"] = {}

    def _try_reopen(self, t: "Ticket") -> bool:
        """Whether this resolution fails (then schedule the customer's return)."""
        tier = t.owner.team.tier
        for helper in t.helpers_now:                  # a swarm's fix is its best expert's
            if helper.team.tier > tier:
                tier = helper.team.tier
        p = self._reopen_p[t.issue_idx][tier]
        if p <= 0:
            return False
        k = self.extra["reopens"].get(t.id, 0)
        u = t.draws.reopen[t.row][k] if k < SLOTS else self.customers.overflow(Stream.REOPEN, t.id, k, None)
        if u >= p:
            return False
        delay = (t.draws.reopen_delay[t.row][k] if k < SLOTS else self.customers.overflow(
            Stream.REOPEN_DELAY, t.id, k, self.scn.issues[t.issue_idx].reopen_delay))
        self.dormant[t.id] = t
        self.env.timeout(delay, t).callbacks.append(self._reopen)
        return True

    def _reopen(self, event) -> None:
        t = event.value
        del self.dormant[t.id]
        now = self.env.now
        self._count(t, "reopens", 1)
        t.outcome = Outcome.OPEN
        t.end = math.nan
        t.state = State.NEW
        t.owner = None
        t.needs_repeat = True
        t.work = t.draws.work[t.row]          # the fix failed: the work starts over
        self.live[t.id] = t
        if self.trace is not None:
            self._log(now, now, t.id, REOPENED)
        last = t.queue
        if self._reopen_last[t.issue_idx] and last is not None and not last.is_help:
            self._enqueue(t, last)
        else:
            self._enqueue(t, self._route(t))
