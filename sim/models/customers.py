"""Customers: the common random numbers every policy sees.

Each attribute of a ticket comes from its own random stream, keyed by
``(seed, replication, stream)`` through :class:`numpy.random.SeedSequence`.
Ticket *i* always takes the *i*-th draw of every stream, so under every policy
ticket 17 of replication 3 is the same customer with the same problem, the
same patience and the same luck in each diagnosis, handoff and repeat it may
need.  Draws are made in fixed-size numpy blocks (cheap) and transformed by
the inverse CDFs of the scenario's distributions.
"""
from __future__ import annotations

import math
from typing import Iterator

import numpy as np

from ..distributions import Dist
from ..scenario import Scenario

BLOCK = 4096          # tickets per block; fixed so draws never depend on run length
SLOTS = 4             # diagnose/handoff/repeat draws kept per ticket; more come from OVERFLOW
RAND_SLOTS = 4        # uniforms a policy may use for its own per-ticket decisions


class Stream:
    ARRIVAL, SEGMENT, ISSUE, WORK, PATIENCE, POLICY, DIAGNOSE, HANDOFF, REPEAT = range(9)
    OVERFLOW = 1000   # + stream id: per-(ticket, k) generators for rare extra draws


def stream_rng(seed: int, replication: int, *key: int) -> np.random.Generator:
    """A generator for one stream, independent of every other (seed, replication, key)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(replication, *key))))


class TicketDraws:
    """One block of pre-drawn ticket attributes, as Python lists (fast scalar access)."""

    __slots__ = ("start", "arrival", "segment", "issue", "work", "patience", "rand", "diagnose",
                 "handoff", "repeat")


class CustomerStream:
    """Generates the tickets of one replication in arrival order."""

    def __init__(self, scenario: Scenario, replication: int, seed: int) -> None:
        self.scenario = scenario
        self.replication = replication
        self.seed = seed
        self._rngs = {s: stream_rng(seed, replication, s) for s in range(9)}
        self._seg_cum = np.cumsum([s.share for s in scenario.segments])
        self._seg_cum[-1] = 1.0
        self._iss_cum = np.cumsum([i.share for i in scenario.issues])
        self._iss_cum[-1] = 1.0
        self._mean_gap = 60.0 / scenario.arrivals.per_hour
        self._clock = 0.0
        self._next_start = 0
        # distributions whose k-th per-ticket draw may be needed: friction + each team's diagnose
        self._diag_dists: list[Dist | None] = [t.diagnose for t in scenario.teams]

    def blocks(self) -> Iterator[TicketDraws]:
        while True:
            yield self._draw_block()

    def _draw_block(self) -> TicketDraws:
        scn, rng, n = self.scenario, self._rngs, BLOCK
        b = TicketDraws()
        b.start = self._next_start
        self._next_start += n
        gaps = -self._mean_gap * np.log1p(-rng[Stream.ARRIVAL].random(n))
        arrival = self._clock + np.cumsum(gaps)
        self._clock = float(arrival[-1])
        b.arrival = arrival.tolist()
        seg = np.searchsorted(self._seg_cum, rng[Stream.SEGMENT].random(n), side="right")
        iss = np.searchsorted(self._iss_cum, rng[Stream.ISSUE].random(n), side="right")
        seg = np.minimum(seg, len(scn.segments) - 1)
        iss = np.minimum(iss, len(scn.issues) - 1)
        b.segment = seg.tolist()
        b.issue = iss.tolist()
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
        b.rand = [tuple(r) for r in rng[Stream.POLICY].random((n, RAND_SLOTS)).tolist()]
        u_diag = rng[Stream.DIAGNOSE].random((n, SLOTS))
        b.diagnose = [d.from_uniform(u_diag).tolist() if d is not None else None for d in self._diag_dists]
        b.handoff = scn.frictions.handoff.from_uniform(rng[Stream.HANDOFF].random((n, SLOTS))).tolist()
        b.repeat = scn.frictions.repeat.from_uniform(rng[Stream.REPEAT].random((n, SLOTS))).tolist()
        return b

    def overflow(self, stream: int, ticket_id: int, k: int, dist: Dist) -> float:
        """The k-th draw (k >= SLOTS) of a per-ticket stream: rare, so built on demand."""
        u = stream_rng(self.seed, self.replication, Stream.OVERFLOW + stream, ticket_id, k).random(1)
        return float(dist.from_uniform(u)[0])
