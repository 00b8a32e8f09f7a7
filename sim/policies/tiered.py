"""Strict tiered support: L1 -> L2 -> L3, one tier at a time."""
from __future__ import annotations

from .base import AgentView, Decision, HandOff, Org, Policy, PolicyParams, TicketView
from .registry import register


class Tiered(Policy):
    """Every ticket enters the lowest tier's queue; a tier that cannot resolve it
    diagnoses and hands it to the next tier up (no skipping)."""

    name = "tiered"
    summary = "every ticket starts at tier 1 and escalates one tier at a time"
    route_by_kind = True     # every ticket enters the lowest tier
    decide_by_kind = True    # the next tier up: from the ticket kind and the team alone

    def __init__(self, params: PolicyParams, org: Org) -> None:
        super().__init__(params, org)
        self._entry = org.pool(org.by_tier()[0].name)
        self._up: dict[tuple[int, int, str], Decision] = {}   # decisions are immutable: reuse

    def route(self, ticket: TicketView) -> str:
        return self._entry

    def on_cannot_resolve(self, ticket: TicketView, agent: AgentView) -> Decision:
        key = (agent.team.tier, ticket.tier, ticket.skill)
        decision = self._up.get(key)
        if decision is None:
            decision = self._up[key] = self.handoff(self.next_team_up(ticket, agent.team.tier))
        return decision

    def handoff(self, queue: str) -> HandOff:
        """The handoff to the next tier's queue (a cold one: the customer re-explains)."""
        return HandOff(to=queue)

    def next_team_up(self, ticket: TicketView, tier: int) -> str:
        """The queue of the lowest team above ``tier``; among several at that tier, one that
        can resolve it (interchangeable teams share one queue: :meth:`Org.pool`).

        With no team above (several top-tier teams with different skills), the
        ticket goes sideways to the lowest-tier team able to resolve it.
        """
        above = [t for t in self.org.by_tier() if t.tier > tier]
        if not above:
            return self.org.pool(self.org.qualified(ticket.tier, ticket.skill)[0].name)
        next_tier = [t for t in above if t.tier == above[0].tier]
        for team in next_tier:
            if team.can_resolve(ticket.tier, ticket.skill):
                return self.org.pool(team.name)
        return self.org.pool(next_tier[0].name)


register(Tiered, builtin=True)
