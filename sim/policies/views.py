"""Read-only views: what the engine hands to a policy's hooks.

A policy reads tickets, agents and teams through these thin wrappers, never
through the engine's own objects, so it cannot change a count, a clock or a
queue by accident (or on purpose): every attribute is a read-only property
and assigning one raises ``AttributeError``.  Only the attributes documented
in :mod:`sim.policies.base` (``TicketView``, ``AgentView``, ``TeamView``) exist.

Views cost nothing per decision: team and agent views are built once per run, and the engine
points one ticket view at the ticket each hook is about (:data:`retarget`), so a ticket view is
valid for the duration of the hook call; a policy that wants to remember something about a
ticket keeps the value (``ticket.id``, ``ticket.tier``), not the view.
"""
from __future__ import annotations

from operator import attrgetter
from typing import Any


class _View:
    __slots__ = ("_target",)

    def __init__(self, target: Any) -> None:
        object.__setattr__(self, "_target", target)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__}.{name}: policy views are read-only; "
                             "return a decision (HandOff, Swarm) instead")

    __delattr__ = __setattr__

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._target!r})"


def _read(name: str) -> property:
    # a C-level getter (no Python frame per read): hooks read these on every decision
    return property(attrgetter(f"_target.{name}"), doc=f"read-only ``{name}``")


#: point a view at another engine object (the engine's reused ticket view; not for policies)
retarget = _View._target.__set__   # type: ignore[attr-defined]


class TeamReadView(_View):
    """A team (see ``TeamView``); ``free_count`` is live."""

    __slots__ = ()
    name = _read("name")
    tier = _read("tier")
    skills = _read("skills")
    size = _read("size")
    free_count = _read("free_count")
    cost_per_min = _read("cost_per_min")

    def can_resolve(self, tier: int, skill: str) -> bool:
        return self._target.can_resolve(tier, skill)


class AgentReadView(_View):
    """An agent (see ``AgentView``)."""

    __slots__ = ("team",)

    def __init__(self, agent: Any, team: TeamReadView) -> None:
        super().__init__(agent)
        object.__setattr__(self, "team", team)

    id = _read("id")


class TicketReadView(_View):
    """A ticket (see ``TicketView``): its class, history so far and common uniforms."""

    __slots__ = ()
    id = _read("id")
    segment = _read("segment")
    issue = _read("issue")
    tier = _read("tier")
    skill = _read("skill")
    priority = _read("priority")
    arrival = _read("arrival")
    handoffs = _read("handoffs")
    repeats = _read("repeats")
    last_team = _read("last_team")
    queued_total = _read("queued_total")
    agent_min = _read("agent_min")
    rand = _read("rand")


def engine_object(view: Any) -> Any:
    """The engine object behind a view (for the engine and the conformance kit only)."""
    return view._target if isinstance(view, _View) else view
