"""Tiered support with skip-level escalation: tier 1 diagnoses, then sends the ticket straight up."""
from __future__ import annotations

from .base import AgentView, Decision, Org, PolicyParams, TicketView
from .registry import register
from .tiered import Tiered


class TieredSkip(Tiered):
    """Exactly ``tiered`` at the entry (every ticket starts at tier 1, same queues), but an
    agent who has diagnosed that they cannot resolve a ticket hands it straight to the
    lowest-tier team able to resolve it, skipping any tier in between that could not.

    It is the strongest fair reading of a tiered desk with a good diagnosis: the tier-1
    agent's diagnosis is trusted, so a defect that only engineering can fix never waits
    in (and is never re-diagnosed by) the tier-2 queue.  Handoffs stay cold (the customer
    re-explains), as in ``tiered``; compare with ``tiered_warm_handoff`` for that part.
    """

    name = "tiered_skip"
    summary = "every ticket starts at tier 1; escalation goes straight to the lowest tier able to resolve it"
    decide_by_kind = True    # the lowest qualified tier: from the ticket kind alone

    def __init__(self, params: PolicyParams, org: Org) -> None:
        super().__init__(params, org)
        self._skip: dict[tuple[int, str], Decision] = {}     # decisions are immutable: reuse

    def on_cannot_resolve(self, ticket: TicketView, agent: AgentView) -> Decision:
        key = (ticket.tier, ticket.skill)
        decision = self._skip.get(key)
        if decision is None:
            # the lowest-tier qualified team (never the agent's own pool: it cannot resolve it)
            target = self.org.qualified(ticket.tier, ticket.skill)[0]
            decision = self._skip[key] = self.handoff(self.org.pool(target.name))
        return decision


register(TieredSkip, builtin=True)
