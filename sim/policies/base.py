"""The policy plug-in API.

A policy makes *decisions*; the engine owns every mechanic (time, queues,
agents, draws, metrics).  The engine asks a policy exactly three questions:

1. :meth:`Policy.queues` - once per run: which queues exist, which teams take
   work from each, and in what order (first queue listed is served first;
   first team listed is offered a new ticket first).
2. :meth:`Policy.route` - where a newly arrived ticket goes.
3. :meth:`Policy.on_cannot_resolve` - what an agent who has just diagnosed
   that they cannot resolve a ticket does: :class:`HandOff` it to a queue, or
   :class:`Swarm` (keep ownership and pull in qualified helpers).

Which waiting ticket a free agent takes is decided by the queue order the
policy declares (highest priority first, FIFO within a priority, from the
first non-empty queue the agent's team serves).

Whether an agent *can* resolve a ticket is not a policy decision: it follows
from tier and skill (see ``docs/model.md``).  Handoffs, repeats, costs and
durations are counted by the engine, never by the policy, so every policy is
measured by the same ruler.

Policies see engine objects (tickets, agents, teams) as read-only views and an
:class:`Org` describing the organisation; they must not assign to them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol, Sequence, Union

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from ..scenario import Scenario

__all__ = [
    "Policy", "PolicyParams", "QueueSpec", "HandOff", "Swarm", "Decision", "Org",
    "TicketView", "AgentView", "TeamView", "PolicyError",
]


class PolicyError(RuntimeError):
    """A policy made a decision the engine cannot carry out (names ticket, time and rule)."""


class PolicyParams(BaseModel):
    """Base for a policy's parameters: unknown or mistyped keys are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """A queue and the teams that take work from it, in the order they are offered it."""

    name: str
    teams: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HandOff:
    """Pass the ticket to queue ``to``.

    The passing agent spends a handoff draw writing it up; the engine counts
    ``handoffs += 1``.  Unless ``warm`` is true the next agent to take the
    ticket hears the customer re-explain (a repeat draw, ``repeats += 1``);
    a warm handoff means the context travels with the ticket.
    """

    to: str
    warm: bool = False


@dataclass(frozen=True, slots=True)
class Swarm:
    """Keep the ticket and pull in up to ``max_helpers`` agents able to resolve it.

    Free qualified agents join at once (lowest tier first); if none is free the
    owner holds the ticket until the first qualified agent becomes free.  The
    swarm then shares ``work * (1 + swarm_overhead)`` agent-minutes equally.
    """

    max_helpers: int = 1


Decision = Union[HandOff, Swarm]


class TeamView(Protocol):
    name: str
    tier: int
    skills: frozenset[str]
    size: int
    free_count: int

    def can_resolve(self, tier: int, skill: str) -> bool: ...


class AgentView(Protocol):
    id: int
    team: TeamView


class TicketView(Protocol):
    """What a policy may read about a ticket."""

    id: int
    segment: str
    issue: str
    tier: int
    skill: str
    priority: int
    arrival: float
    handoffs: int
    repeats: int
    last_team: str | None
    rand: tuple[float, ...]   # common uniforms for the policy's own random choices


@dataclass(frozen=True)
class Org:
    """The organisation as a policy sees it: teams sorted by tier, issue types, and live state."""

    scenario: "Scenario"
    teams: Sequence[TeamView]
    _queue_len: object = field(repr=False, default=None)
    _now: object = field(repr=False, default=None)

    @property
    def now(self) -> float:
        return self._now()  # type: ignore[operator]

    def queue_length(self, name: str) -> int:
        return self._queue_len(name)  # type: ignore[operator]

    def team(self, name: str) -> TeamView:
        for t in self.teams:
            if t.name == name:
                return t
        raise KeyError(name)

    def by_tier(self) -> list[TeamView]:
        return sorted(self.teams, key=lambda t: t.tier)

    def qualified(self, tier: int, skill: str) -> list[TeamView]:
        """Teams able to resolve an issue of this tier and skill, lowest tier first."""
        return [t for t in self.by_tier() if t.can_resolve(tier, skill)]


class Policy:
    """Base class of every policy; subclass it, set ``name`` and implement the hooks."""

    name: ClassVar[str] = ""
    Params: ClassVar[type[PolicyParams]] = PolicyParams
    summary: ClassVar[str] = ""

    def __init__(self, params: PolicyParams, org: Org) -> None:
        self.params = params
        self.org = org

    def queues(self) -> list[QueueSpec]:
        """Declare the queues; default: one per team, served by that team alone."""
        return [QueueSpec(t.name, (t.name,)) for t in self.org.by_tier()]

    def route(self, ticket: TicketView) -> str:
        """Name of the queue a newly arrived ticket joins."""
        raise NotImplementedError

    def on_cannot_resolve(self, ticket: TicketView, agent: AgentView) -> Decision:
        """What ``agent`` does after diagnosing that they cannot resolve ``ticket``."""
        raise NotImplementedError
