"""Swarming: whoever takes a ticket owns it to the end and pulls in help."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import AgentView, Decision, Org, Policy, PolicyParams, QueueSpec, Swarm, TicketView
from .registry import register


class SwarmingParams(PolicyParams):
    max_helpers: int = Field(default=1, ge=1, description="most helpers an owner pulls in")
    helper_mode: Literal["when_free", "interrupt", "idle_only"] = Field(
        default="when_free",
        description="when_free: helpers come when free, before new work; interrupt: busy helpers "
                    "drop their own ticket; idle_only: only helpers whose queues are empty")


class Swarming(Policy):
    """One intake queue served by every team, lowest tier first; the owner never
    hands off.  An owner who cannot resolve a ticket swarms it with up to
    ``max_helpers`` qualified agents (the engine gives swarm requests priority
    over new tickets and shares the work per ``frictions.swarm_overhead``)."""

    name = "swarming"
    summary = "one intake queue; the owner keeps the ticket and pulls in qualified helpers"
    Params = SwarmingParams
    route_by_kind = True     # every ticket enters the one intake queue
    decide_by_kind = True    # the same swarm request for every ticket

    def __init__(self, params: SwarmingParams, org: Org) -> None:
        super().__init__(params, org)
        self._swarm = Swarm(max_helpers=params.max_helpers, mode=params.helper_mode)   # immutable

    def queues(self) -> list[QueueSpec]:
        return [QueueSpec("intake", tuple(t.name for t in self.org.by_tier()))]

    def route(self, ticket: TicketView) -> str:
        return "intake"

    def on_cannot_resolve(self, ticket: TicketView, agent: AgentView) -> Decision:
        return self._swarm


register(Swarming, builtin=True)
