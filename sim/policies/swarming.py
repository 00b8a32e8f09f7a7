"""Swarming: whoever takes a ticket owns it to the end and pulls in help."""
from __future__ import annotations

from pydantic import Field

from .base import AgentView, Decision, Policy, PolicyParams, QueueSpec, Swarm, TicketView
from .registry import register


class SwarmingParams(PolicyParams):
    max_helpers: int = Field(default=1, ge=1, description="most helpers an owner pulls in")


class Swarming(Policy):
    """One intake queue served by every team, lowest tier first; the owner never
    hands off.  An owner who cannot resolve a ticket swarms it with up to
    ``max_helpers`` qualified agents (the engine gives swarm requests priority
    over new tickets and shares the work per ``frictions.swarm_overhead``)."""

    name = "swarming"
    summary = "one intake queue; the owner keeps the ticket and pulls in qualified helpers"
    Params = SwarmingParams

    def queues(self) -> list[QueueSpec]:
        return [QueueSpec("intake", tuple(t.name for t in self.org.by_tier()))]

    def route(self, ticket: TicketView) -> str:
        return "intake"

    def on_cannot_resolve(self, ticket: TicketView, agent: AgentView) -> Decision:
        return Swarm(max_helpers=self.params.max_helpers)


register(Swarming, builtin=True)
