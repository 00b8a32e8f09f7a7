"""Tiered support where idle higher tiers pull waiting lower-tier work."""
from __future__ import annotations

from .base import QueueSpec
from .registry import register
from .tiered import Tiered


class TieredPull(Tiered):
    """Exactly ``tiered`` (entry at tier 1, one tier up at a time, cold handoffs), except that
    an agent of a higher tier whose own queue is empty takes work waiting in a lower tier's
    queue instead of sitting idle.

    A team pulls only from lower pools whose skills it holds all of, so it can do anything
    that pool could (a pulled ticket it cannot resolve goes up or to a team that can, never
    back into a queue it would pull it from again).

    Expressed with queue declaration alone (no new engine mechanics): each pool's queue is
    served by the pool's own teams and then by every team of a higher tier, and queues are
    declared highest tier first.  A free agent takes the head of the first non-empty queue
    its team serves in declaration order, so an expert always serves their own tier's queue
    first and only pulls lower-tier work when it is empty; a newly queued ticket is offered
    to its own tier first, then to higher tiers, lowest first (cheapest idle capacity).
    A pulled ticket is handled like any other: resolved if the agent can, else diagnosed and
    escalated from the agent's tier.

    This is the "inefficient collaboration only fills idle time" idea applied to tiering:
    it uses expert idle time without ever delaying an expert's own queue.
    """

    name = "tiered_pull"
    summary = "tiered escalation, but idle agents of higher tiers take waiting lower-tier work"

    def queues(self) -> list[QueueSpec]:
        pools = list(self.org.pools.items())          # lowest tier first
        specs = []
        for name, teams in pools:
            tier = teams[0].tier
            skills = frozenset(teams[0].skills)
            higher = [t.name for _, g in pools for t in g
                      if t.tier > tier and skills <= frozenset(t.skills)]
            specs.append(QueueSpec(name, tuple(t.name for t in teams) + tuple(higher)))
        # declared highest tier first: a team serves its own tier's queue before lower ones
        specs.sort(key=lambda s: -self.org.team(s.teams[0]).tier)
        return specs


register(TieredPull, builtin=True)
