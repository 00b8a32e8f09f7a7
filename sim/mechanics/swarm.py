"""The contested parts of a swarm: finding a helper, and whether the helper found fits.

``docs/model.md`` ("Swarm duration", "Finding a helper"):

- **Search** (``frictions.swarm_search``, a distribution, default 0): before asking, the owner
  spends a draw of it finding a helper.  The owner is occupied (the minutes are charged to the
  ticket, traced as ``swarm_search``); the customer is waiting when
  ``frictions.swarm_wait_is_queue`` (the minutes count to ``wait_min`` and to patience, and a
  customer may give up during a search).
- **Fit** (``frictions.swarm_helper_fit`` p, default 1): each helper the owner finds can
  resolve the ticket with probability p.  One who cannot goes back to what they were doing at
  no cost (traced as ``helper_unfit``); if no helper found fits, the owner searches again (a new
  search draw) and asks again.

Both draw from common-random-number streams keyed per ticket (``Stream.SEARCH``,
``Stream.FIT``: the k-th search and the k-th helper checked for ticket i are the same under
every policy), and both are features (:mod:`.features`) created only when switched on, so a
scenario without them sees exactly the same customers and results as before they existed.
The swarm's duration itself is the engine's (``Engine._swarm_duration``).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..models.customers import SLOTS, Stream
from ..models.tickets import State
from ..models.trace import HELPER_UNFIT
from .features import Feature
from .phases import Phase

if TYPE_CHECKING:
    from ..models.agents import Agent
    from ..models.tickets import Ticket
    from ..scenario import Scenario


class SwarmSearch(Feature):
    """``frictions.swarm_search`` (moments: help_wanted, search_done, search_abandoned)."""

    name = "swarm_search"
    uses = frozenset({"scn", "env", "customers", "swarm_wait_is_queue", "_arm_patience", "_begin",
                      "_ask_for_help", "_charge", "_trace_interval"})

    @classmethod
    def wanted(cls, scenario: "Scenario") -> bool:
        return not scenario.frictions.swarm_search.is_zero

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self.dist = engine.scn.frictions.swarm_search

    def help_wanted(self, owner: "Agent", t: "Ticket") -> bool:
        """The owner looks for a helper first: a search draw of their time (True: started)."""
        e = self.engine
        k = t.n_search
        t.n_search += 1
        minutes = (t.draws.search.item(t.row, k) if k < SLOTS else
                   e.customers.overflow(Stream.SEARCH, t.id, k, self.dist))
        t.state = State.SEARCHING
        if e.swarm_wait_is_queue:
            t.enqueued_at = e.env.now
            t.visit += 1
            if t.patience != math.inf:
                e._arm_patience(t)
        e._begin(owner, Phase.SEARCH, minutes)
        return True

    def search_done(self, owner: "Agent", t: "Ticket") -> None:
        e = self.engine
        if e.swarm_wait_is_queue:
            t.queued_total += e.env.now - t.enqueued_at
        t.state = State.IN_SERVICE
        e._ask_for_help(owner, t)

    def search_abandoned(self, t: "Ticket") -> None:
        """The customer gives up while the owner searches: the search stops, the owner is free."""
        e = self.engine
        owner = t.owner
        now = e.env.now
        owner.ev.callbacks = []          # cancelled (see Engine._stop_activity)
        owner.ev = None
        e._charge(t, owner, now - owner.phase_start)
        e._trace_interval(owner.phase_start, now, t, owner, Phase.SEARCH)


class HelperFit(Feature):
    """``frictions.swarm_helper_fit`` (moments: helpers_found, help_taken, helper_asked)."""

    name = "helper_fit"
    uses = frozenset({"scn", "env", "customers", "trace", "_log", "_end_hold", "_seek_help"})

    @classmethod
    def wanted(cls, scenario: "Scenario") -> bool:
        return scenario.frictions.swarm_helper_fit < 1.0

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self.p = engine.scn.frictions.swarm_helper_fit

    def helpers_found(self, t: "Ticket", found: list["Agent"]) -> list["Agent"]:
        """The free helpers found who fit; the others go back to being free, first in line."""
        keep, unfit = [], []
        for helper in found:
            (keep if self._fits(t) else unfit).append(helper)
        for helper in reversed(unfit):
            self._trace_unfit(t, helper)
            helper.team.free.appendleft(helper)
        return keep

    def help_taken(self, helper: "Agent", t: "Ticket") -> bool:
        """A free agent took the held request for ``t``: False if they cannot resolve it (the
        owner then stops holding and searches again)."""
        if self._fits(t):
            return True
        self._trace_unfit(t, helper)
        e = self.engine
        owner = t.owner
        e._end_hold(t, owner)
        t.queue = owner.target
        owner.target = None
        t.state = State.IN_SERVICE
        e._seek_help(owner, t)
        return False

    def helper_asked(self, t: "Ticket", agent: "Agent") -> bool:
        """Whether a busy agent asked to interrupt their work for ``t`` can resolve it."""
        if self._fits(t):
            return True
        self._trace_unfit(t, agent)        # asked, cannot resolve it: stays on their own work
        return False

    def _fits(self, t: "Ticket") -> bool:
        """Whether the next helper found for ``t`` can resolve it (the ticket's k-th fit draw)."""
        k = t.n_fit
        t.n_fit += 1
        u = (t.draws.fit.item(t.row, k) if k < SLOTS else
             self.engine.customers.overflow(Stream.FIT, t.id, k, None))
        return u < self.p

    def _trace_unfit(self, t: "Ticket", helper: "Agent") -> None:
        e = self.engine
        if e.trace is not None:
            now = e.env.now
            e._log(now, now, t.id, HELPER_UNFIT, helper)
