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
every policy), and both are drawn only when switched on, so a scenario without them sees
exactly the same customers and results as before they existed.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..models.customers import SLOTS, Stream
from ..models.tickets import State
from ..models.trace import HELPER_UNFIT
from .phases import Phase

if TYPE_CHECKING:
    from ..models.agents import Agent
    from ..models.tickets import Ticket


class SwarmFrictionsMixin:
    """Mechanics of ``frictions.swarm_search`` and ``frictions.swarm_helper_fit``."""

    def _setup_swarm(self) -> None:
        fr = self.scn.frictions
        self._swarm_c = fr.swarm_c
        self._swarm_k = fr.swarm_k
        # swarm_overhead alone (no c, no k given): the duration keeps its historical form
        # work * (1 + o) / (1 + h), which is the formula with c = 1, k = o for one helper and
        # keeps every stored result of more helpers bit-identical (docs/model.md)
        self._swarm_legacy = fr.swarm_owner_contribution is None and fr.swarm_coordination is None
        self._search_dist = None if fr.swarm_search.is_zero else fr.swarm_search
        self._fit_p = fr.swarm_helper_fit

    def _swarm_duration(self, work: float, h: int) -> float:
        """Minutes a swarm of the owner and ``h`` helpers lasts (every participant occupied)."""
        if self._swarm_legacy:
            return work * (1.0 + self._swarm_k) / (1 + h)
        return work * (1.0 + self._swarm_k * h) / (h + self._swarm_c)

    # ---------------------------------------------------------------- search
    def _seek_help(self, owner: "Agent", t: "Ticket") -> None:
        """The owner looks for a helper (a search draw), or asks at once without search."""
        if self._search_dist is None:
            self._ask_for_help(owner, t)
            return
        k = t.n_search
        t.n_search += 1
        minutes = (t.draws.search.item(t.row, k) if k < SLOTS else
                   self.customers.overflow(Stream.SEARCH, t.id, k, self._search_dist))
        t.state = State.SEARCHING
        if self.swarm_wait_is_queue:
            t.enqueued_at = self.env.now
            t.visit += 1
            if t.patience != math.inf:
                self._arm_patience(t)
        self._begin(owner, Phase.SEARCH, minutes)

    def _search_done(self, owner: "Agent", t: "Ticket") -> None:
        if self.swarm_wait_is_queue:
            t.queued_total += self.env.now - t.enqueued_at
        t.state = State.IN_SERVICE
        self._ask_for_help(owner, t)

    def _abandon_search(self, t: "Ticket") -> None:
        """The customer gives up while the owner searches: the search stops, the owner is free."""
        owner = t.owner
        now = self.env.now
        owner.ev.callbacks = []          # cancelled (see ShiftsMixin._stop_activity)
        owner.ev = None
        self._charge(t, owner, now - owner.phase_start)
        self._trace_interval(owner.phase_start, now, t, owner, Phase.SEARCH)

    # ---------------------------------------------------------------- fit
    def _fits(self, t: "Ticket") -> bool:
        """Whether the next helper found for ``t`` can resolve it (the ticket's k-th fit draw)."""
        k = t.n_fit
        t.n_fit += 1
        u = t.draws.fit.item(t.row, k) if k < SLOTS else self.customers.overflow(Stream.FIT, t.id, k, None)
        return u < self._fit_p

    def _fitting(self, t: "Ticket", found: list["Agent"]) -> list["Agent"]:
        """The free helpers found who fit; the others go back to being free, first in line."""
        keep, unfit = [], []
        for helper in found:
            (keep if self._fits(t) else unfit).append(helper)
        for helper in reversed(unfit):
            self._trace_unfit(t, helper)
            helper.team.free.appendleft(helper)
        return keep

    def _unfit_held(self, t: "Ticket") -> None:
        """A helper took a held request and cannot resolve it: the owner stops holding, searches again."""
        owner = t.owner
        self._end_hold(t, owner)
        t.queue = owner.target
        owner.target = None
        t.state = State.IN_SERVICE
        self._seek_help(owner, t)

    def _trace_unfit(self, t: "Ticket", helper: "Agent") -> None:
        if self.trace is not None:
            now = self.env.now
            self._log(now, now, t.id, HELPER_UNFIT, helper)
