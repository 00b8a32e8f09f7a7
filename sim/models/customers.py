"""Customers: the common random numbers every policy sees.

Each attribute of a ticket comes from its own random stream, keyed by
``(seed, replication, stream)`` through :class:`numpy.random.SeedSequence`.
Ticket *i* always takes the *i*-th draw of every stream, so under every policy
ticket 17 of replication 3 is the same customer with the same problem, the
same patience and the same luck in each diagnosis, handoff and repeat it may
need.  Draws are made in numpy blocks (cheap) and transformed by the inverse
CDFs of the scenario's distributions.
"""
from __future__ import annotations

import math
from typing import Iterator

import numpy as np

from ..distributions import Dist, libm_log1p
from ..scenario import Scenario

BLOCK = 4096          # tickets per block, once a run is under way
FIRST_BLOCK = 64      # the first blocks are smaller (doubling up to BLOCK) so short runs draw
                      # little; every stream is consumed in order, so ticket i's draws do not
                      # depend on block sizes (tests/test_engine.py checks this)
SLOTS = 4             # diagnose/handoff/repeat draws kept per ticket; more come from OVERFLOW
RAND_SLOTS = 4        # uniforms a policy may use for its own per-ticket decisions


class Stream:
    ARRIVAL, SEGMENT, ISSUE, WORK, PATIENCE, POLICY, DIAGNOSE, HANDOFF, REPEAT = range(9)
    # streams of optional features: drawn only when the feature is on, so they never shift
    # the draws above (a scenario without the feature sees exactly the same customers)
    THINNING = 9        # acceptance uniforms of the arrival-profile thinning
    REOPEN = 10         # k-th resolution of a ticket fails if its uniform < reopen_probability
    REOPEN_DELAY = 11   # k-th reopen's delay
    SWITCH = 12         # k-th context switch paid on resuming a ticket after an interruption
    SEARCH = 13         # k-th search of a swarm owner for a helper (frictions.swarm_search)
    FIT = 14            # k-th helper found fits if its uniform < frictions.swarm_helper_fit
    OVERFLOW = 1000   # + stream id: per-(ticket, k) generators for rare extra draws


def stream_rng(seed: int, replication: int, *key: int) -> np.random.Generator:
    """A generator for one stream, independent of every other (seed, replication, key)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(replication, *key))))


class TicketDraws:
    """One block of pre-drawn ticket attributes.

    The per-ticket attributes every ticket uses (arrival, segment, issue, work, patience) are
    Python lists (fast scalar access).  The per-ticket *slots* (``rand``, ``diagnose[team]``,
    ``handoff``, ``repeat`` and the optional mechanics' draws) stay ``(n, SLOTS)`` numpy arrays
    read one value at a time with ``.item(row, k)`` (a Python float, the same double): most
    tickets never read most of them, and turning them into lists of lists cost about 4 us per
    ticket, a third of an M/M/c run (issue 16).
    """

    __slots__ = ("start", "arrival", "segment", "issue", "work", "patience", "rand", "diagnose",
                 "handoff", "repeat", "reopen", "reopen_delay", "switch", "search", "fit",
                 "kind", "columns")


class CustomerStream:
    """Generates the tickets of one replication in arrival order."""

    def __init__(self, scenario: Scenario, replication: int, seed: int) -> None:
        self.scenario = scenario
        self.replication = replication
        self.seed = seed
        self._rngs = {s: stream_rng(seed, replication, s) for s in range(9)}
        arr = scenario.arrivals
        self._profile = None
        if arr.has_profile:
            hourly = np.asarray(arr.hourly_profile if arr.hourly_profile is not None else [1.0] * 24)
            weekly = np.asarray(arr.weekday_profile if arr.weekday_profile is not None else [1.0] * 7)
            # multiplier of each hour of the week (168 values, Monday 00:00 first)
            week = (weekly[:, None] * hourly[None, :]).ravel()
            self._profile = week / week.max()              # acceptance probability by hour of week
            self._week0 = scenario.clock[0]                # minute of the week of simulated minute 0
            self._rngs[Stream.THINNING] = stream_rng(seed, replication, Stream.THINNING)
            self._pending = np.empty(0)
            self._cand_clock = 0.0
            self._cand_gap = 60.0 / (arr.per_hour * float(week.max()))
        self._reopen = any(i.can_reopen for i in scenario.issues)
        if self._reopen:
            for s in (Stream.REOPEN, Stream.REOPEN_DELAY):
                self._rngs[s] = stream_rng(seed, replication, s)
        self._switch = not scenario.frictions.context_switch.is_zero
        if self._switch:
            self._rngs[Stream.SWITCH] = stream_rng(seed, replication, Stream.SWITCH)
        fr = scenario.frictions
        self._search = not fr.swarm_search.is_zero
        if self._search:
            self._rngs[Stream.SEARCH] = stream_rng(seed, replication, Stream.SEARCH)
        self._fit = fr.swarm_helper_fit < 1.0
        if self._fit:
            self._rngs[Stream.FIT] = stream_rng(seed, replication, Stream.FIT)
        self._seg_cum = np.cumsum([s.share for s in scenario.segments])
        self._seg_cum[-1] = 1.0
        self._iss_cum = np.cumsum([i.share for i in scenario.issues])
        self._iss_cum[-1] = 1.0
        self._mean_gap = 60.0 / scenario.arrivals.per_hour
        self._clock = 0.0
        self._next_start = 0
        self._block_size = FIRST_BLOCK
        self._pending_arrivals = np.empty(0)
        # distributions whose k-th per-ticket draw may be needed: friction + each team's diagnose
        self._diag_dists: list[Dist | None] = [t.diagnose for t in scenario.teams]

    def blocks(self) -> Iterator[TicketDraws]:
        while True:
            yield self._draw_block()

    def _draw_block(self) -> TicketDraws:
        scn, rng, n = self.scenario, self._rngs, self._block_size
        self._block_size = min(2 * n, BLOCK)
        b = TicketDraws()
        b.start = self._next_start
        self._next_start += n
        arrival = self._homogeneous(n) if self._profile is None else self._thinned(n)
        b.arrival = arrival.tolist()
        seg = np.searchsorted(self._seg_cum, rng[Stream.SEGMENT].random(n), side="right")
        iss = np.searchsorted(self._iss_cum, rng[Stream.ISSUE].random(n), side="right")
        seg = np.minimum(seg, len(scn.segments) - 1)
        iss = np.minimum(iss, len(scn.issues) - 1)
        b.segment = seg.tolist()
        b.issue = iss.tolist()
        #: each ticket's kind: segment * number of issue types + issue type (Engine._kind_list)
        b.kind = (seg * len(scn.issues) + iss).tolist()
        #: (arrival, segment, issue) as numpy arrays, for the ticket table (TicketRecorder)
        b.columns = (arrival, seg, iss)
        u_work = rng[Stream.WORK].random(n)
        work = np.empty(n)
        for j, issue in enumerate(scn.issues):
            mask = iss == j
            work[mask] = issue.work.from_uniform(u_work[mask])
        b.work = work.tolist()
        u_pat = rng[Stream.PATIENCE].random(n)
        patience = np.full(n, math.inf)
        for j, segment in enumerate(scn.segments):
            if segment.patience is not None:
                mask = seg == j
                patience[mask] = segment.patience.from_uniform(u_pat[mask])
        b.patience = patience.tolist()
        b.rand = rng[Stream.POLICY].random((n, RAND_SLOTS))   # Ticket.rand: a tuple of a row
        u_diag = rng[Stream.DIAGNOSE].random((n, SLOTS))
        b.diagnose = [d.from_uniform(u_diag) if d is not None else None for d in self._diag_dists]
        b.handoff = scn.frictions.handoff.from_uniform(rng[Stream.HANDOFF].random((n, SLOTS)))
        b.repeat = scn.frictions.repeat.from_uniform(rng[Stream.REPEAT].random((n, SLOTS)))
        if self._reopen:
            b.reopen = rng[Stream.REOPEN].random((n, SLOTS))
            u_delay = rng[Stream.REOPEN_DELAY].random((n, SLOTS))
            delay = np.zeros((n, SLOTS))
            for j, issue in enumerate(scn.issues):
                if issue.reopen_delay is not None:
                    mask = iss == j
                    delay[mask] = issue.reopen_delay.from_uniform(u_delay[mask])
            b.reopen_delay = delay
        if self._switch:
            b.switch = scn.frictions.context_switch.from_uniform(
                rng[Stream.SWITCH].random((n, SLOTS)))
        if self._search:
            b.search = scn.frictions.swarm_search.from_uniform(rng[Stream.SEARCH].random((n, SLOTS)))
        if self._fit:
            b.fit = rng[Stream.FIT].random((n, SLOTS))
        return b

    def _homogeneous(self, n: int) -> np.ndarray:
        """The next ``n`` arrival times of the Poisson process.

        Gaps are accumulated in fixed chunks of BLOCK (``clock + cumsum``), whatever
        the attribute block size, so the floating-point sums - and with them every
        arrival time - are the same for any ``n`` sequence.
        """
        out = self._pending_arrivals
        while len(out) < n:
            gaps = -self._mean_gap * libm_log1p(-self._rngs[Stream.ARRIVAL].random(BLOCK))
            chunk = self._clock + np.cumsum(gaps)
            self._clock = float(chunk[-1])
            out = np.concatenate((out, chunk))
        self._pending_arrivals = out[n:]
        return out[:n]

    def _thinned(self, n: int) -> np.ndarray:
        """The next ``n`` arrival times of the non-homogeneous Poisson process, by thinning.

        Candidates come from a Poisson process at the peak rate (stream ARRIVAL); each is
        kept with probability rate(t) / peak (stream THINNING).  Candidates are drawn in
        fixed-size chunks and surplus accepted times carry over to the next block, so the
        i-th arrival never depends on the run length.
        """
        rng = self._rngs
        out = self._pending
        while len(out) < n:
            gaps = -self._cand_gap * libm_log1p(-rng[Stream.ARRIVAL].random(BLOCK))
            cand = self._cand_clock + np.cumsum(gaps)
            self._cand_clock = float(cand[-1])
            hour = ((cand + self._week0) // 60.0).astype(np.int64) % 168
            keep = rng[Stream.THINNING].random(BLOCK) < self._profile[hour]
            out = np.concatenate((out, cand[keep]))
        self._pending = out[n:]
        return out[:n]

    def overflow(self, stream: int, ticket_id: int, k: int, dist: Dist | None) -> float:
        """The k-th draw (k >= SLOTS) of a per-ticket stream: rare, so built on demand.

        ``dist=None`` returns the raw uniform.
        """
        u = stream_rng(self.seed, self.replication, Stream.OVERFLOW + stream, ticket_id, k).random(1)
        return float(u[0]) if dist is None else float(dist.from_uniform(u)[0])
