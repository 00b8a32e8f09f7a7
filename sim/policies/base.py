"""The policy plug-in API.

A policy makes *decisions*; the engine owns every mechanic (time, queues,
agents, random draws, metrics).  The engine asks a policy three questions:

1. :meth:`Policy.queues` - once per run: which queues exist, which teams take
   work from each, and in what order.  This also answers "which waiting
   ticket does a free agent take": the head of the first non-empty queue its
   team serves, in declaration order (highest priority first, FIFO within a
   priority).  A new or handed-off ticket is offered to a free agent of the
   queue's teams in the order the :class:`QueueSpec` lists them.
2. :meth:`Policy.route` - where a newly arrived ticket goes.
3. :meth:`Policy.on_cannot_resolve` - what an agent who has just diagnosed
   that they cannot resolve a ticket does: :class:`HandOff` it to a queue, or
   :class:`Swarm` (keep ownership and pull in qualified helpers).

Whether an agent *can* resolve a ticket is not a policy decision: it follows
from tier and skill (``docs/model.md``).  Handoffs, repeats, durations and
costs are counted by the engine, never by the policy, so every policy is
measured by the same ruler.

Read-only views
---------------
Hooks receive tickets, agents and teams as thin read-only wrappers
(:mod:`sim.policies.views`) implementing the protocols :class:`TicketView`,
:class:`AgentView` and :class:`TeamView`: only the documented attributes
exist, and assigning one raises ``AttributeError`` (the run stops with a
:class:`PolicyError`), so a policy cannot change a count, a clock or a queue.
The wrappers cost no allocation per decision: one ticket view is reused
and pointed at the ticket each hook is about, so a view is valid during
the hook call only (keep ``ticket.id``, not the view, to remember a ticket).  The conformance kit (:mod:`sim.testing`)
also fails a policy that changes any engine state inside a hook.  What the
engine checks on every decision (raising :class:`PolicyError` naming the
ticket, the time and the rule) is that each decision can be carried out:
known queues, valid :class:`HandOff`/:class:`Swarm` values, no endless
handoff loop, and no exception escaping a hook.

Randomness
----------
A policy that needs chance (a triage error, a random tie-break) must use the
ticket's own uniforms ``ticket.rand`` (common random numbers: the same
customer gets the same luck under every policy), never :mod:`random` or a
generator of its own, or comparisons between policies get noisier and runs
stop being reproducible.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, ClassVar, Protocol, Sequence, Union

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from ..scenario import Scenario

__all__ = [
    "Policy", "PolicyParams", "QueueSpec", "HandOff", "Swarm", "Decision", "Org",
    "TicketView", "AgentView", "TeamView", "PolicyError", "policy_problems", "HELPER_MODES",
]


class PolicyError(RuntimeError):
    """A policy made a decision the engine cannot carry out.

    The message names the policy, replication, ticket, simulated time and the
    rule broken, e.g. ``policy 'x', replication 0, ticket 17 at t=93.500 min:
    route() returned unknown queue 'L9'; queues: ['L1', 'L2']``.
    """


class PolicyParams(BaseModel):
    """Base for a policy's parameters (``policies.<name>.<param>`` in a scenario).

    Subclass it and declare fields with :func:`pydantic.Field` (default,
    bounds, ``description`` - shown by ``run_sim.py policies``).  Models are
    strict (no coercion: ``"0.9"`` is not a number), forbid unknown keys and
    are frozen, so an unknown or mistyped parameter in a scenario is a
    validation error naming ``policies.<name>.<param>``.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """A queue and the teams that take work from it.

    ``teams`` are team names in the order they are offered a newly queued
    ticket when several have a free agent.  A team serves every queue that
    lists it, in the order :meth:`Policy.queues` declares the queues.
    """

    name: str
    teams: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HandOff:
    """Pass the ticket to queue ``to``.

    The passing agent spends a handoff draw (``frictions.handoff``) times
    ``effort`` writing it up; the engine counts ``handoffs += 1``.  Unless
    ``warm`` is true the next agent to take the ticket hears the customer
    re-explain (a ``frictions.repeat`` draw of their time; ``repeats += 1``);
    a warm handoff means the context travels with the ticket.

    ``effort`` (>= 1) lets a policy model a handoff that takes *more* care
    than the scenario's standard one (e.g. a warm handoff's fuller write-up);
    a policy can never make a handoff cheaper than the scenario says.
    Decisions are immutable: a policy may build them once and reuse them.
    """

    to: str
    warm: bool = False
    effort: float = 1.0


@dataclass(frozen=True, slots=True)
class Swarm:
    """Keep the ticket and pull in up to ``max_helpers`` (>= 1) agents able to resolve it.

    Free qualified agents join at once (lowest tier first); if none is free the
    owner holds the ticket until the first qualified agent becomes free
    (helpers take swarm requests before new tickets).  The swarm then shares
    ``work * (1 + frictions.swarm_overhead)`` agent-minutes equally.

    ``mode`` says whom the request may pull in (the engine does the mechanics,
    ``docs/model.md``): ``"when_free"`` (default, as above), ``"interrupt"``
    (if no qualified agent is free, busy qualified agents drop their own
    ticket to help and resume it afterwards, paying a
    ``frictions.context_switch`` draw) or ``"idle_only"`` (helpers take the
    request only once their own queues are empty).
    """

    max_helpers: int = 1
    mode: str = "when_free"


HELPER_MODES = ("when_free", "interrupt", "idle_only")

Decision = Union[HandOff, Swarm]


class TeamView(Protocol):
    """What a policy may read about a team (live: ``free_count`` changes as agents work)."""

    @property
    def name(self) -> str: ...
    @property
    def tier(self) -> int: ...
    @property
    def skills(self) -> frozenset[str]: ...
    @property
    def size(self) -> int:
        """Number of agents."""
    @property
    def free_count(self) -> int:
        """Agents idle right now (an idle agent's queues are all empty)."""
    @property
    def cost_per_min(self) -> float: ...

    def can_resolve(self, tier: int, skill: str) -> bool:
        """Whether this team may resolve an issue of that tier and skill (tier >= it, skill held)."""


class AgentView(Protocol):
    """The agent a hook is about (e.g. the one who could not resolve a ticket)."""

    @property
    def id(self) -> int:
        """Unique within a run; agents of a team have consecutive ids."""
    @property
    def team(self) -> TeamView: ...


class TicketView(Protocol):
    """What a policy may read about a ticket.

    ``tier`` and ``skill`` are the ticket's *true* class (which team could
    resolve it).  A policy modelling imperfect triage must add its own error
    from ``rand`` (as ``skill_routing`` does).  The ticket's work and the
    customer's patience are deliberately not part of the view: no policy
    knows them in advance.
    """

    @property
    def id(self) -> int:
        """Arrival index within the replication: the same customer under every policy."""
    @property
    def segment(self) -> str: ...
    @property
    def issue(self) -> str:
        """Issue type name (``issues[].name``)."""
    @property
    def tier(self) -> int: ...
    @property
    def skill(self) -> str: ...
    @property
    def priority(self) -> int:
        """Priority *level* (0 = served first), derived from the segment's priority."""
    @property
    def arrival(self) -> float:
        """Arrival time, minutes since the start of the replication."""
    @property
    def handoffs(self) -> int:
        """Handoffs completed so far."""
    @property
    def repeats(self) -> int:
        """Times the customer has had to re-explain so far."""
    @property
    def last_team(self) -> str | None:
        """Name of the team of the last agent who took the ticket (None before the first)."""
    @property
    def queued_total(self) -> float:
        """Minutes spent waiting in queues so far (excluding the current visit)."""
    @property
    def agent_min(self) -> float:
        """Agent-minutes spent on the ticket in completed activities so far."""
    @property
    def rand(self) -> tuple[float, ...]:
        """Four uniforms in [0, 1) for the policy's own random choices (common across policies)."""


class Org:
    """The organisation as a policy sees it: teams, issue types, the clock, queue lengths.

    Built once per run by the engine.  Lookups a policy makes on every
    decision (:meth:`by_tier`, :meth:`team`, :meth:`qualified`) are
    precomputed or cached, so they cost no allocation per call.
    """

    __slots__ = ("scenario", "teams", "_by_name", "_qualified", "_queue_len", "_now", "queue_names",
                 "_pool_of", "pools")

    def __init__(self, scenario: "Scenario", teams: Sequence[TeamView],
                 _queue_len: Callable[[str], int] | None = None,
                 _now: Callable[[], float] | None = None) -> None:
        self.scenario = scenario
        #: teams sorted by tier (stable: scenario order within a tier)
        self.teams: tuple[TeamView, ...] = tuple(sorted(teams, key=lambda t: t.tier))
        self._by_name = {t.name: t for t in self.teams}
        self._qualified: dict[tuple[int, str], tuple[TeamView, ...]] = {}
        self._queue_len = _queue_len
        self._now = _now
        #: names of the queues the policy declared (filled in by the engine after queues())
        self.queue_names: tuple[str, ...] = ()
        # pools: teams with the same tier and skills (e.g. regional copies of L1 working
        # different shifts) are interchangeable, so tier-based policies give them one queue
        groups: dict[tuple[int, frozenset[str]], list[TeamView]] = {}
        for t in self.teams:
            groups.setdefault((t.tier, frozenset(t.skills)), []).append(t)
        #: pool name -> its teams, lowest tier first; a one-team pool is named after its team
        self.pools: dict[str, tuple[TeamView, ...]] = {
            "+".join(t.name for t in g): tuple(g) for g in groups.values()}
        self._pool_of = {t.name: name for name, g in self.pools.items() for t in g}

    @property
    def now(self) -> float:
        """Current simulated time in minutes."""
        return self._now() if self._now is not None else 0.0

    def queue_length(self, name: str) -> int:
        """Tickets waiting in queue ``name`` right now."""
        if self._queue_len is None:
            return 0
        return self._queue_len(name)

    def team(self, name: str) -> TeamView:
        """The team called ``name`` (KeyError if there is none)."""
        return self._by_name[name]

    def pool(self, team: str) -> str:
        """Name of the pool (see :attr:`pools`) that team ``team`` belongs to."""
        return self._pool_of[team]

    def by_tier(self) -> tuple[TeamView, ...]:
        """All teams, lowest tier first."""
        return self.teams

    def qualified(self, tier: int, skill: str) -> tuple[TeamView, ...]:
        """Teams able to resolve an issue of this tier and skill, lowest tier first.

        Never empty for an issue type of the scenario (validation guarantees a
        team for each).
        """
        key = (tier, skill)
        found = self._qualified.get(key)
        if found is None:
            found = self._qualified[key] = tuple(t for t in self.teams if t.can_resolve(tier, skill))
        return found

    def __repr__(self) -> str:
        return f"Org(teams={[t.name for t in self.teams]}, queues={list(self.queue_names)})"


class Policy:
    """Base class of every policy: subclass it, set ``name``, implement the hooks.

    Class attributes:

    ``name``
        The policy's name in scenarios (``policies: {name: {...}}``) and on the
        command line (``--policy name``).  Lower-case, unique.
    ``Params``
        A :class:`PolicyParams` subclass declaring the parameters; the engine
        passes a validated instance as ``self.params``.
    ``summary``
        One line shown by ``run_sim.py policies``.
    ``route_by_kind``
        ``True`` declares that :meth:`route` answers from the ticket's segment and issue
        type alone (``segment``, ``issue``, ``tier``, ``skill``, ``priority``) and the
        organisation - never from the clock, queue lengths, ``ticket.rand``, the ticket's
        history or the policy's own state.  The engine then asks once per (segment, issue
        type) in a run and reuses the answer, which saves a hook call per arrival (issue 16).
        The conformance kit (:func:`sim.testing.check_policy`) checks that the declaration
        holds.  Default ``False``: ``route`` is called for every ticket.  A subclass that
        overrides ``route`` does not inherit the declaration: it must declare it again
        (:func:`routes_by_kind`).
    ``decide_by_kind``
        ``True`` declares the same of :meth:`on_cannot_resolve`: its decision follows from the
        ticket's segment and issue type and the *team* of the agent asking (``agent.team``),
        never from the agent's identity, the clock, queue lengths, ``ticket.rand``, the
        ticket's history or the policy's own state.  The engine then asks once per (kind,
        team) in a run and reuses the checked decision (issue 16); the kit checks that the
        declaration holds; a subclass that overrides ``on_cannot_resolve`` must declare it
        again (:func:`decides_by_kind`).

    One instance is created per (replication, policy) run, after the
    organisation is set up, so per-run state (counters, learned estimates)
    may live on ``self``; nothing may be shared between runs through class
    attributes or module globals (runs happen in any order, in several
    processes, and must be reproducible one by one).
    """

    name: ClassVar[str] = ""
    Params: ClassVar[type[PolicyParams]] = PolicyParams
    summary: ClassVar[str] = ""
    route_by_kind: ClassVar[bool] = False
    decide_by_kind: ClassVar[bool] = False

    def __init__(self, params: PolicyParams, org: Org) -> None:
        self.params = params
        self.org = org

    def queues(self) -> list[QueueSpec]:
        """Declare the queues (called once per run, before the first arrival).

        Default: one queue per pool of interchangeable teams (same tier and
        skills; see :attr:`Org.pools`), named after its team when the pool has
        one, served by the pool's teams.  Queue names must be unique; every
        team named must exist.
        """
        return [QueueSpec(name, tuple(t.name for t in teams))
                for name, teams in self.org.pools.items()]

    def route(self, ticket: TicketView) -> str:
        """Name of the queue a newly arrived ticket joins.

        Called when the ticket arrives, and again when a resolved ticket is
        reopened by a returning customer with ``issues[].reopen_to: entry``
        (then ``ticket.handoffs``/``repeats`` are those of its history so far).
        """
        raise NotImplementedError

    def on_cannot_resolve(self, ticket: TicketView, agent: AgentView) -> Decision:
        """What ``agent`` does after diagnosing that they cannot resolve ``ticket``.

        Return :class:`HandOff` (to any declared queue, including the one the
        ticket came from) or :class:`Swarm`.  Called each time an agent who
        cannot resolve the ticket has finished diagnosing it.
        """
        raise NotImplementedError


def _owner(cls: type, attr: str) -> type | None:
    return next((c for c in cls.__mro__ if attr in c.__dict__), None)


def routes_by_kind(cls: type[Policy]) -> bool:
    """Whether the engine may ask ``cls.route`` once per (segment, issue type).

    True only when ``route_by_kind is True`` was declared by the class that defines
    ``route`` or by a subclass of it, so a subclass with a new ``route`` of its own never
    inherits a promise made about its parent's.
    """
    if getattr(cls, "route_by_kind", False) is not True:
        return False
    declared, defined = _owner(cls, "route_by_kind"), _owner(cls, "route")
    return declared is not None and defined is not None and issubclass(declared, defined)


def decides_by_kind(cls: type[Policy]) -> bool:
    """Whether the engine may ask ``cls.on_cannot_resolve`` once per (kind, team): declared
    ``decide_by_kind = True`` by the class defining ``on_cannot_resolve`` or a subclass of it
    (as :func:`routes_by_kind`)."""
    if getattr(cls, "decide_by_kind", False) is not True:
        return False
    declared, defined = _owner(cls, "decide_by_kind"), _owner(cls, "on_cannot_resolve")
    return declared is not None and defined is not None and issubclass(declared, defined)


def policy_problems(cls: object) -> list[str]:
    """Why ``cls`` cannot be used as a policy class (empty list: it can).

    Checked when a policy is registered or loaded as a plug-in, so a broken
    plug-in is reported by name before any simulation starts.
    """
    label = getattr(cls, "__qualname__", repr(cls))
    if not isinstance(cls, type) or not issubclass(cls, Policy):
        return [f"{label} is not a subclass of sim.policies.Policy"]
    problems = []
    name = cls.name
    if not isinstance(name, str) or not name or not name.replace("_", "").replace("-", "").isalnum():
        problems.append(f"{label}.name must be a non-empty word (letters, digits, _ or -), "
                        f"got {name!r}")
    params = getattr(cls, "Params", None)
    if not (isinstance(params, type) and issubclass(params, PolicyParams)):
        problems.append(f"{label}.Params must be a subclass of sim.policies.PolicyParams")
    for hook in ("route", "on_cannot_resolve"):
        if getattr(cls, hook) is getattr(Policy, hook):
            problems.append(f"{label} does not implement {hook}()")
    return problems
