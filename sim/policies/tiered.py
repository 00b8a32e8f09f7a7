"""Strict tiered support: L1 -> L2 -> L3, one tier at a time."""
from __future__ import annotations

from .base import AgentView, Decision, HandOff, Policy, TicketView
from .registry import register


class Tiered(Policy):
    """Every ticket enters the lowest tier's queue; a tier that cannot resolve it
    diagnoses and hands it to the next tier up (no skipping)."""

    name = "tiered"
    summary = "every ticket starts at tier 1 and escalates one tier at a time"

    def route(self, ticket: TicketView) -> str:
        return self.org.by_tier()[0].name

    def on_cannot_resolve(self, ticket: TicketView, agent: AgentView) -> Decision:
        return HandOff(to=self.next_team_up(ticket, agent.team.tier))

    def next_team_up(self, ticket: TicketView, tier: int) -> str:
        """The lowest team above ``tier``; among several at that tier, one that can resolve it."""
        above = [t for t in self.org.by_tier() if t.tier > tier]
        next_tier = [t for t in above if t.tier == above[0].tier]
        for team in next_tier:
            if team.can_resolve(ticket.tier, ticket.skill):
                return team.name
        return next_tier[0].name


register(Tiered, builtin=True)
