"""The simulation engine: all SimPy mechanics of one (policy, replication) run.

Design
------
SimPy's :class:`~simpy.Environment` is the event calendar.  Rather than one
generator process per ticket, every activity is a single ``Timeout`` whose
callback advances the state machine of the agent doing it.  That keeps the
per-ticket cost at a handful of events (arrival, one timeout per activity,
one patience timer per queue visit) and lets activities be reasoned about
one at a time:

    arrive -> route (policy) -> queue -> agent takes it
        can resolve:    [repeat] + work                      -> resolved
        cannot resolve: [repeat] + diagnose -> policy decides
            HandOff:   handoff write-up -> next queue (repeat owed)
            Swarm:     wait for a qualified helper (owner holds) -> joint work -> resolved

The engine keeps two invariants the policies rely on and the tests check:
an on-duty agent is idle only while every queue its team serves is empty,
and an agent is occupied by at most one ticket at any time.

Optional "operating reality" mechanics live in :mod:`sim.mechanics` as *features*
attached to named moments of the run (:data:`sim.mechanics.features.MOMENTS`: an agent
released, a swarm owner wanting help, helpers found, a ticket resolved, the horizon ...),
each with its own state and a declared list of the engine attributes it uses: shifts,
interruptions and context switches, the swarm's search and helper fit, reopens and learning
(arrival profiles in :mod:`sim.models.customers`).  The mechanics several features share
(cutting an activity short, a hand-over, the help queues, the swarm's duration) are the
engine's own methods.  Switched off, a feature is not created and its moments cost one
empty check, so results stay bit-identical.

Speed (issue 16, ``docs/performance.md``): each agent and the arrival stream
reuse one SimPy ``Timeout`` (rescheduled the way ``Environment.schedule`` does it),
:class:`Calendar` runs SimPy's event loop without a method call per event, an
arrival whose successor is then the calendar's first event handles it at once
(popped from SimPy's heap exactly as the loop would pop it), hooks see one reused
ticket view, a policy that routes or decides by kind alone is asked once per kind
(``Policy.route_by_kind``, ``Policy.decide_by_kind``), tickets in the system are
found where they are (a queue, an agent) instead of kept in a registry, a finished
ticket's row is read in one C call and converted in batches
(:mod:`sim.models.recorder`), and the commonest paths (a new ticket served at once
or queued, a plain resolved finish) are inlined.

Results of finished tickets go straight into compact typed columns
(:mod:`array`), so memory grows with the number of tickets only by the
bytes of their result row.
"""
from __future__ import annotations

import contextlib
import gc
import math
from array import array
from heapq import heappop, heappush
from operator import attrgetter
from dataclasses import dataclass, field

import simpy
from simpy.core import EmptySchedule
from simpy.events import NORMAL, URGENT, Event, Timeout

from .mechanics.features import Feature, feature_classes, moment_handlers
from .mechanics.interruptions import Interruptions
from .mechanics.phases import Phase
from .models.agents import Agent, TeamRuntime
from .models.customers import SLOTS, CustomerStream, Stream, TicketDraws
from .models.queues import TicketQueue
from .models.recorder import BATCH, TICKET_COLUMNS, TicketRecorder, row as _row
from .models.tickets import Outcome, State, Ticket
from .models.trace import (ABANDONED, CREATED, HELPER_JOINED, OPEN, QUEUED, REPEAT, RESOLVED,
                           SWARM_REQUESTED, TAKEN, TraceRecord, check_phase_names)
from .models.trace import record as _rec
from .policies.views import AgentReadView, TeamReadView, TicketReadView, retarget
from .policies.base import (HELPER_MODES, HandOff, Org, Policy, PolicyError, PolicyParams, QueueSpec,
                            Swarm, decides_by_kind, routes_by_kind)
from .scenario import Scenario

check_phase_names(Phase.NAMES)

MAX_HANDOFFS = 1000   # a ticket passed on this often means the policy loops forever


# hot-path constants (module globals: one dict lookup, no class attribute lookups)
_QUEUED, _IN_SERVICE, _DONE = State.QUEUED, State.IN_SERVICE, State.DONE
_RESOLVED = int(Outcome.RESOLVED)   # a plain int: a batch of rows converts faster than IntEnums
_IDLE, _RESOLVE, _DIAGNOSE, _HANDOFF = Phase.IDLE, Phase.RESOLVE, Phase.DIAGNOSE, Phase.HANDOFF
_HELP, _SWARM, _HOLD = Phase.HELP, Phase.SWARM, Phase.HOLD
_AWAIT_HELP, _SEARCHING = State.AWAIT_HELP, State.SEARCHING
_INF = math.inf
_size = attrgetter("size")   # a queue's live length (TicketQueue.size), read in C
_new = object.__new__        # an allocation without the class call (tickets, timeouts)
_init_ticket = Ticket.__init__

#: per-ticket values of optional features, kept as {ticket_id: value} only for the tickets
#: concerned (``RunResult.extra``) and joined onto the ticket table; absent means 0
EXTRA_COLUMNS = {"reopens": "i", "handovers": "i", "interruptions": "i", "switch_min": "d",
                 "repeat_min": "d"}


@dataclass
class RunResult:
    """Raw output of one run: ticket columns, per-team busy time, backlog samples, trace."""

    policy: str
    replication: int
    columns: dict[str, array]
    team_busy_min: list[float]
    window_min: float
    backlog: dict[str, array]
    trace: list[TraceRecord] | None = None   # (TraceTable once packed by the runner)
    arrivals: int = 0
    #: EXTRA_COLUMNS name -> {ticket_id: value}; "repeat_min" only when tracked
    extra: dict[str, dict[int, float]] = field(default_factory=dict)
    #: on-shift agent-minutes per team in the measured window (capacity for utilisation)
    team_capacity_min: list[float] | None = None
    team_overtime_min: list[float] | None = None
    #: (time_min, agent_id, team, skill, up_to_tier, how) for every skill an agent learned
    learned: list[tuple] = field(default_factory=list)
    #: {(agent_id, day): times the agent was pulled off their own work to help a swarm}
    interruptions: dict[tuple[int, int], int] = field(default_factory=dict)
    agent_teams: list[str] = field(default_factory=list)


class Calendar(simpy.Environment):
    """SimPy's environment with the event loop of :meth:`run` written out for one stop time.

    Why: ``Environment.run(until=t)`` calls :meth:`step` once per event, and a method call
    plus its ``try`` is a measurable share of a run that costs two events per ticket
    (issue 16).  :meth:`run_until` does exactly what ``run(until=t)`` does - the same stop
    event (scheduled ``URGENT`` at ``t``, so events due at ``t`` itself do not run), the same
    order (SimPy's heap, ``(time, priority, id)``), callbacks detached before they run, a failed
    event that nobody defused re-raised - with the loop's lookups bound once.  Everything else
    (events, processes, ``schedule``) is SimPy's own.

    ``hot``: the callback list shared by the engine's reused activity events and its one
    callback (:class:`Engine`); such an event (a ``Timeout``: never failed) is detached and
    dispatched directly, without the loop over its list and the failure check.
    """

    hot: tuple[list, object] | None = None

    def run_until(self, at: float) -> None:
        if at <= self._now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        stop = Event(self)
        stop._ok = True
        stop._value = None
        self.schedule(stop, URGENT, at - self._now)
        queue = self._queue
        pop = heappop
        hot_cbs, hot_fn = self.hot if self.hot is not None else (None, None)
        while True:
            try:
                self._now, _, _, event = pop(queue)
            except IndexError:
                raise EmptySchedule from None     # cannot happen: the stop event is queued
            if event.callbacks is hot_cbs:        # an agent's activity ends (most events)
                event.callbacks = None
                hot_fn(event)
                continue
            if event is stop:
                return
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc


class Engine:
    """One replication of one policy on one scenario.

    The optional mechanics live in :mod:`sim.mechanics` as features attached to the moments
    this engine names (:data:`sim.mechanics.features.MOMENTS`); a moment no feature acts on
    costs one empty check.

    Why ``__slots__``: with its ~80 attributes an engine's ``__dict__`` is a plain dict, and
    CPython 3.11 then leaves every ``self._method(...)`` load of the hot path unspecialised;
    with slots each ``self.x`` is a fixed offset (issue 16).  A feature or a subclass needing
    a new attribute adds it here (a subclass may also just declare no ``__slots__``).
    """

    __slots__ = ("_agent_views", "_all_queues", "_arrival_ev", "_arrive_cbs",
                 "_backlog_cbs", "_block", "_block_kinds", "_block_len", "_blocks",
                 "_decide_by_kind", "_decide_hook", "_decisions", "_done", "_eid", "_entry",
                 "_heap", "_hooked", "_iss", "_kind_list", "_kinds", "_level_of",
                 "_n_levels", "_n_teams", "_on_handoff", "_on_help_taken",
                 "_on_help_wanted", "_on_helper_asked", "_on_helpers_found", "_on_horizon",
                 "_on_no_helper_free", "_on_released", "_on_resolved",
                 "_on_search_abandoned", "_on_search_done", "_on_swarm_finished",
                 "_on_switch_done", "_patience_cbs", "_phase_cbs", "_plain_finish",
                 "_reentries", "_route_by_kind", "_route_hook", "_row", "_seg_level",
                 "_seg_names", "_swarm_c", "_swarm_k", "_swarm_legacy", "_team_views",
                 "_ticket_view", "_track_repeat", "_unrecorded", "agents", "backlog",
                 "backlog_every", "customers", "env", "extra", "features", "handoff_dist",
                 "handover_queues", "help_queues", "horizon", "interruptions", "org",
                 "policy", "policy_name", "queues", "recorder", "repeat_dist",
                 "replication", "scn", "seed", "swarm_wait_is_queue", "team_by_name",
                 "teams", "top_tier", "trace", "warmup")

    def __init__(self, scenario: Scenario, policy_cls: type[Policy], params: PolicyParams,
                 replication: int, seed: int, trace: bool = False,
                 backlog_every: float = 60.0) -> None:
        self.scn = scenario
        self.replication = replication
        self.seed = seed
        self.env = env = Calendar()
        # SimPy is the calendar.  Each agent's activities reuse one Timeout event, rescheduled
        # as Environment.schedule (what Timeout() itself calls) does it, written out where it
        # runs once per activity: the same (time, priority, id, event) entry on SimPy's own
        # heap, ids from SimPy's own counter, so an activity costs one heap push and no event
        # allocation (issue 16); the arrival stream too.
        self._heap = env._queue
        self._eid = env._eid
        self.horizon = scenario.horizon_min
        self.warmup = scenario.warmup_min
        self.swarm_wait_is_queue = scenario.frictions.swarm_wait_is_queue
        self.handoff_dist = scenario.frictions.handoff
        self.repeat_dist = scenario.frictions.repeat
        self.top_tier = scenario.top_tier
        self.trace: list[TraceRecord] | None = [] if trace else None
        self.backlog_every = backlog_every

        # organisation
        self.teams: list[TeamRuntime] = []
        aid = 0
        for i, spec in enumerate(scenario.teams):
            team = TeamRuntime(i, spec, is_top=spec.tier == self.top_tier)
            team.can = [team.can_resolve(iss.tier, iss.skill) for iss in scenario.issues]
            for _ in range(spec.agents):
                agent = Agent(aid, team)
                aid += 1
                team.agents.append(agent)
                team.free.append(agent)
            self.teams.append(team)
        self.agents = [a for t in self.teams for a in t.agents]
        self.team_by_name = {t.name: t for t in self.teams}

        self.queues: dict[str, TicketQueue] = {}
        self._all_queues: list[TicketQueue] = []   # declared, help and hand-over queues
        self.help_queues: dict[int, TicketQueue] = {}
        self._n_levels = len(set(s.priority for s in scenario.segments))
        self._level_of = {p: i for i, p in enumerate(sorted(set(s.priority for s in scenario.segments)))}

        # policies see read-only views (sim/policies/views.py), never the engine's objects
        self._team_views = {t.name: TeamReadView(t) for t in self.teams}
        self._agent_views = [AgentReadView(a, self._team_views[a.team.name]) for a in self.agents]
        self.org = Org(scenario=scenario,
                       teams=[self._team_views[t.name]
                              for t in sorted(self.teams, key=lambda t: (t.tier, t.index))],
                       _queue_len=lambda name: len(self.queues[name]), _now=lambda: self.env._now)
        self.policy = policy_cls(params, self.org)
        # hooks see one ticket view, pointed at the ticket each call is about (no allocation)
        self._ticket_view = TicketReadView(None)
        self._route_hook = self.policy.route
        self._route_by_kind = routes_by_kind(policy_cls)
        self._decide_by_kind = decides_by_kind(policy_cls)
        # callback lists shared by every reused event: SimPy only iterates them (a cancelled
        # activity gets an empty list of its own instead, never a change to these)
        self._phase_cbs = [self._phase_done]
        env.hot = (self._phase_cbs, self._phase_done)
        self._arrive_cbs = [self._arrive]
        self._patience_cbs = [self._patience_expired]
        self._decide_hook = self.policy.on_cannot_resolve
        self.policy_name = policy_cls.name
        self._declare_queues()

        # customers
        self.customers = CustomerStream(scenario, replication, seed)
        self._blocks = self.customers.blocks()
        # tickets in the system are not kept in a registry (a dict insert and delete per
        # ticket): they are where the engine put them - a queue or an agent - and
        # _open_tickets() finds them there at the horizon; the hourly backlog counts them
        # (entries less exits, _sample_backlog)
        self._reentries = 0          # tickets that came back (reopens): see reenter()
        self._unrecorded = 0         # tickets that left with no row (yet): warm-up arrivals, reopens
        self._seg_names = [s.name for s in scenario.segments]
        self._seg_level = [self._level_of[s.priority] for s in scenario.segments]
        self._iss = [(i.name, i.tier, i.skill) for i in scenario.issues]
        n_iss = len(scenario.issues)
        self._kinds = [[Ticket.kind(s.name, si, i.name, ii, i.tier, i.skill, self._seg_level[si],
                                    si * n_iss + ii)
                        for ii, i in enumerate(scenario.issues)]
                       for si, s in enumerate(scenario.segments)]
        #: the queue new tickets of each kind join, once asked (policies with route_by_kind)
        self._entry: list[TicketQueue | None] = [None] * (len(scenario.segments) * n_iss)
        self._kind_list = [k for row in self._kinds for k in row]   # index: segment * n_iss + issue
        #: each (kind, team)'s checked decision, once asked (policies with decide_by_kind)
        self._n_teams = len(self.teams)
        self._decisions: list[tuple | None] = [None] * (len(self._kind_list) * self._n_teams)

        # expected measured tickets (a size hint: the recorder grows past it if needed)
        per_min = scenario.arrivals.per_hour / 60.0
        self.recorder = TicketRecorder(int(per_min * (self.horizon - self.warmup) * 1.05) + 64,
                                       issue_tiers=[i.tier for i in scenario.issues],
                                       expected_arrivals=int(per_min * self.horizon * 1.05) + 64)
        self._done = self.recorder.done          # finished tickets: one append each
        self._row = 0
        self._next_block()                       # the first block of customers
        self.backlog = {"time_min": array("d"), "waiting": array("i"), "in_system": array("i")}

        # optional mechanics (sim/mechanics): each off unless the scenario switches it on
        self.extra: dict[str, dict[int, float]] = {name: {} for name in EXTRA_COLUMNS if name != "repeat_min"}
        self._track_repeat = scenario.operating_features
        if self._track_repeat:
            self.extra["repeat_min"] = {}
        #: whether _release must ask the agent_released features (shifts; suspended helpers)
        self._hooked = False
        self.handover_queues: dict[int, TicketQueue] = {}
        self.interruptions: dict[tuple[int, int], int] = {}
        window = self.horizon - self.warmup
        for team in self.teams:                 # on-shift capacity (the shifts feature's teams: its own)
            team.capacity_min = team.size * window
        # the swarm's duration: work * (1 + k*h) / (h + c); swarm_overhead alone (no c, no k
        # given) keeps its historical form work * (1 + o) / (1 + h), which is the formula with
        # c = 1, k = o for one helper and keeps every stored result of more helpers bit-identical
        fr = scenario.frictions
        self._swarm_c = fr.swarm_c
        self._swarm_k = fr.swarm_k
        self._swarm_legacy = fr.swarm_owner_contribution is None and fr.swarm_coordination is None
        # optional features (sim/mechanics/features.py): created only when the scenario wants
        # them, attached to the moments they act on; a moment nobody uses costs one empty check
        self.features: list[Feature] = []
        for cls in feature_classes():
            if cls.wanted(scenario):
                self.features.append(cls(self))
        self._bind_moments()

    # ------------------------------------------------------------------ setup
    def _bind_moments(self) -> None:
        """Point each moment at the features acting on it (in :func:`feature_classes` order)."""
        order = {cls: i for i, cls in enumerate(feature_classes())}
        self.features.sort(key=lambda f: order[type(f)])
        on = moment_handlers(self.features)
        self._on_resolved = on["ticket_resolved"]
        self._on_handoff = on["handoff_decided"]
        self._on_swarm_finished = on["swarm_finished"]
        self._on_horizon = on["horizon"]
        self._on_released = on["agent_released"]
        self._on_help_wanted = on["help_wanted"]
        self._on_search_done = on["search_done"]
        self._on_search_abandoned = on["search_abandoned"]
        self._on_helpers_found = on["helpers_found"]
        self._on_help_taken = on["help_taken"]
        self._on_helper_asked = on["helper_asked"]
        self._on_no_helper_free = on["no_helper_free"]
        self._on_switch_done = on["switch_done"]
        self._plain_finish = self.trace is None and not self._on_resolved

    def _attach(self, cls: type[Feature]) -> Feature:
        """The feature ``cls``, created now if the run did not have it yet (a policy decision
        switched it on, e.g. the first ``interrupt`` swarm)."""
        for f in self.features:
            if type(f) is cls:
                return f
        feature = cls(self)
        self.features.append(feature)
        self._bind_moments()
        return feature

    def _declare_queues(self) -> None:
        try:
            specs = list(self.policy.queues())
        except Exception as exc:
            raise PolicyError(f"policy {self.policy_name!r}: queues() raised "
                              f"{type(exc).__name__}: {exc}") from exc
        if not specs:
            raise PolicyError(f"policy {self.policy_name!r} declared no queues")
        for spec in specs:
            if not isinstance(spec, QueueSpec) or not isinstance(spec.name, str):
                raise PolicyError(f"policy {self.policy_name!r}: queues() must return QueueSpec "
                                  f"items with a str name, got {spec!r}")
            if spec.name in self.queues:
                raise PolicyError(f"policy {self.policy_name!r} declared queue {spec.name!r} twice")
            unknown = [n for n in spec.teams if n not in self.team_by_name]
            if unknown or not spec.teams:
                raise PolicyError(
                    f"policy {self.policy_name!r}: queue {spec.name!r} is served by unknown teams "
                    f"{unknown or '(none)'}; teams: {list(self.team_by_name)}")
            teams = [self.team_by_name[n] for n in spec.teams]
            q = TicketQueue(spec.name, self._n_levels, teams)
            self.queues[spec.name] = q
            self._all_queues.append(q)
            for team in teams:
                team.serves.append(q)
        self.org.queue_names = tuple(self.queues)

    def _help_queue(self, ticket: Ticket) -> TicketQueue:
        """Swarm requests for one issue type: served first by every team able to resolve it."""
        q = self.help_queues.get(ticket.issue_idx)
        if q is None:
            teams = [t for t in sorted(self.teams, key=lambda t: (t.tier, t.index))
                     if t.can[ticket.issue_idx]]
            q = TicketQueue(f"help:{ticket.issue}", self._n_levels, teams, is_help=True)
            self.help_queues[ticket.issue_idx] = q
            self._all_queues.append(q)
            for team in teams:
                team.serves.insert(0, q)
        return q

    def _handover_queue(self, t: Ticket) -> TicketQueue:
        """Where a swarm owner's held ticket waits at shift end: served first by the teams able
        to resolve it."""
        q = self.handover_queues.get(t.issue_idx)
        if q is None:
            teams = [tm for tm in sorted(self.teams, key=lambda tm: (tm.tier, tm.index))
                     if tm.can[t.issue_idx]]
            q = TicketQueue(f"handover:{t.issue}", self._n_levels, teams)
            self.handover_queues[t.issue_idx] = q
            self._all_queues.append(q)
            for team in teams:
                team.serves.insert(0, q)
        return q

    def _idle_help_queue(self, t: Ticket) -> TicketQueue:
        """Swarm requests (``Swarm(mode="idle_only")``) a team serves only when its *own* queues
        are empty.

        A team's own queues are those it is the lowest tier serving: its work, which nobody
        below it would take.  Tickets it could take from a queue a lower tier serves (swarming's
        shared intake, served by every team) are themselves filling idle time, so an idle_only
        request comes before them.  (Placed after *every* queue, requests starved behind the
        shared intake at moderate load while their owners held them, which took the owners'
        capacity and made the intake grow: issue 13.)
        """
        key = -1 - t.issue_idx
        q = self.help_queues.get(key)
        if q is None:
            teams = [tm for tm in sorted(self.teams, key=lambda tm: (tm.tier, tm.index))
                     if tm.can[t.issue_idx]]
            q = TicketQueue(f"help_when_idle:{t.issue}", self._n_levels, teams, is_help=True)
            self.help_queues[key] = q
            self._all_queues.append(q)
            for team in teams:
                serves = team.serves
                pos = 0
                for i, other in enumerate(serves):
                    if other.is_help or other.name.startswith("handover:") or _owns(team, other):
                        pos = i + 1
                serves.insert(pos, q)
        return q

    # ------------------------------------------------------------------ run
    def run(self) -> RunResult:
        env = self.env
        first = self._block.arrival[0]
        self._arrival_ev = Timeout(env, first)
        self._arrival_ev.callbacks.append(self._arrive)
        if self.backlog_every > 0:
            self._backlog_cbs = [self._sample_backlog]
            env.timeout(self.warmup).callbacks.append(self._sample_backlog)
        with _relaxed_gc():
            env.run_until(self.horizon)
        self._close_horizon()
        return RunResult(
            policy=self.policy_name, replication=self.replication, columns=self.recorder.columns(),
            team_busy_min=[sum(a.busy_min for a in t.agents) for t in self.teams],
            window_min=self.horizon - self.warmup, backlog=self.backlog, trace=self.trace,
            arrivals=self.n_arrivals, extra=self.extra,
            team_capacity_min=[t.capacity_min for t in self.teams],
            team_overtime_min=[t.overtime_min for t in self.teams],
            interruptions=self.interruptions,
            agent_teams=[a.team.name for a in self.agents],
            **{k: v for f in self.features for k, v in f.result().items()},
        )

    # ------------------------------------------------------------------ arrivals
    def _arrive(self, event) -> None:
        """A new ticket arrives; the next arrival is scheduled (the same event, reused).

        When that next arrival is then the first event on SimPy's calendar - nothing else is
        due before it - it is popped and handled here, in a loop, exactly as the event loop
        would pop it next (same time, same order: it is the heap's minimum); this saves the
        loop's dispatch for about half the arrivals of a busy queue (issue 16).
        """
        heap = self._heap
        env = self.env
        while True:
            b, r = self._block, self._row
            now = env._now
            tid = b.start + r
            # Ticket(...) without the class call (allocation, then __init__ as a plain
            # function call: the interpreter runs it without a C-level call)
            t = _new(Ticket)
            _init_ticket(t, tid, now, b.patience[r], b.work[r], b, r, self._block_kinds[r],
                         now >= self.warmup)
            # schedule the next arrival: the same event, rescheduled
            r += 1
            if r == self._block_len:
                b = self._next_block()
                r = 0
            self._row = r
            event.callbacks = self._arrive_cbs
            entry = (now + (b.arrival[r] - now), NORMAL, next(self._eid), event)
            heappush(heap, entry)
            if self.trace is not None:
                self._log(now, now, tid, CREATED)
            # self._enqueue(t, self._route(t)), with a free agent inlined; a policy that routes
            # by kind alone is asked once per kind (Policy.route_by_kind)
            q = self._entry[t.kind_ix]
            if q is None:
                q = self._route(t)
                if self._route_by_kind:
                    self._entry[t.kind_ix] = q
            t.queue = q
            for team in q.teams:
                free = team.free
                if free:
                    agent = free.popleft()
                    agent.busy_since = now
                    if self.trace is None and agent.can[t.issue_idx]:
                        # _take(agent, t, now) for a new ticket its first agent resolves,
                        # inlined: nothing waited, no repeat is owed, nobody touched it before
                        t.state = _IN_SERVICE
                        t.owner = agent
                        t.first_touch = now
                        t.first_agent = agent.id
                        t.n_touched = 1
                        t.last_team = team.name
                        agent.ticket = t
                        agent.phase = _RESOLVE
                        agent.phase_start = now
                        agent.phase_dur = duration = t.work
                        agent.rep_dur = 0.0
                        ev = agent.ev
                        if ev is None:
                            agent.ev = ev = Timeout(env, duration, agent)
                            ev.callbacks.append(self._phase_done)
                        else:
                            ev.callbacks = self._phase_cbs
                            heappush(heap, (now + duration, NORMAL, next(self._eid), ev))
                    else:
                        self._take(agent, t, now)
                    break
            else:
                # self._enqueue(t, q) when nobody is free, inlined (two calls fewer for most
                # tickets of a busy queue): the ticket waits
                t.state = _QUEUED
                t.enqueued_at = now
                t.visit = 1
                q.levels[t.priority].append(t)      # q.push(t)
                q.size += 1
                if self.trace is not None:
                    self._log(now, now, tid, QUEUED, detail=q.name)
                if t.patience != _INF:
                    self._arm_patience(t)
            # the calendar's next event is this ticket's successor: run it now, as SimPy would
            if heap[0] is not entry:
                return
            heappop(heap)
            env._now = entry[0]

    def _next_block(self) -> TicketDraws:
        """Move on to the next block of pre-drawn customers (every BLOCK arrivals).

        Also where finished tickets' rows are converted (:meth:`TicketRecorder.flush`): between
        two blocks at most a block's arrivals plus the tickets then in the system finish, so
        the batch stays bounded without a length check per finished ticket.
        """
        self._block = b = next(self._blocks)
        self._block_len = len(b.arrival)
        kinds = self._kind_list
        if len(kinds) == 1:
            self._block_kinds = kinds * self._block_len
        else:                       # each ticket's kind, looked up in C
            self._block_kinds = list(map(kinds.__getitem__, b.kind))
        self.recorder.flush()
        self.recorder.add_customers(b.start, *b.columns)
        b.columns = None            # the recorder has them
        return b

    @property
    def n_arrivals(self) -> int:
        """Tickets that have arrived so far (ids are given in arrival order from 0)."""
        return self._block.start + self._row

    def _route(self, t: Ticket) -> TicketQueue:
        """The queue the policy sends a new (or returning) ticket to."""
        view = self._ticket_view
        retarget(view, t)
        try:
            qname = self._route_hook(view)
        except Exception as exc:
            raise PolicyError(self._where(t, f"route() raised {type(exc).__name__}: {exc}")) from exc
        q = self.queues.get(qname) if qname.__class__ is str else None
        if q is None:
            self._bad_route(t, qname)
        return q

    def _bad_route(self, t: Ticket, qname: object) -> None:
        raise PolicyError(self._where(t, f"route() returned unknown queue {qname!r}; "
                                         f"queues: {list(self.queues)}"))

    def _where(self, t: Ticket, rule: str) -> str:
        return (f"policy {self.policy_name!r}, replication {self.replication}, ticket {t.id} "
                f"at t={self.env._now:.3f} min: {rule}")

    # ------------------------------------------------------------------ queues
    def _enqueue(self, t: Ticket, q: TicketQueue) -> None:
        """Give the ticket to a free agent of the queue's teams, else make it wait."""
        t.queue = q                     # kept while in service: where a handover returns it
        for team in q.teams:
            if team.free:
                agent = team.free.popleft()
                agent.busy_since = now = self.env._now
                self._take(agent, t, now)
                return
        now = self.env._now
        t.state = _QUEUED
        t.enqueued_at = now
        t.visit += 1
        q.push(t)
        if self.trace is not None:
            self._log(now, now, t.id, QUEUED, detail=q.name)
        if t.patience != _INF:
            self._arm_patience(t)

    def _arm_patience(self, t: Ticket) -> None:
        """The customer's patience for this queue visit: a Timeout carrying (ticket, visit).

        Written out as ``Timeout.__init__`` and ``Environment.schedule`` do it (the same
        fields, the same heap entry and id), with one callback list shared by every patience
        timer (SimPy only iterates it): one per queued visit, so the two calls are worth saving.
        """
        delay = t.patience - t.queued_total
        if delay < 0.0:
            delay = 0.0
        ev = _new(Timeout)
        ev.env = env = self.env
        ev.callbacks = self._patience_cbs
        ev._value = (t, t.visit)
        ev._delay = delay
        ev._ok = True
        heappush(self._heap, (env._now + delay, NORMAL, next(self._eid), ev))

    def _patience_expired(self, event) -> None:
        t, visit = event.value
        if t.visit != visit or t.state not in (_QUEUED, _AWAIT_HELP, _SEARCHING):
            return
        now = self.env._now
        t.queued_total += now - t.enqueued_at
        if t.state == _SEARCHING:      # the owner is looking for a helper: stops, is free
            t.queue = None
            for hook in self._on_search_abandoned:
                hook(t)
            self._finish(t, Outcome.ABANDONED)
            self._release(t.owner)
            return
        t.queue.discard(t)
        t.queue = None
        if t.state == _AWAIT_HELP:     # the owner stops holding
            owner = t.owner
            self._charge(t, owner, now - t.hold_start)
            self._trace_interval(t.hold_start, now, t, owner, _HOLD)
            self._finish(t, Outcome.ABANDONED)
            self._release(owner)
        else:
            self._finish(t, Outcome.ABANDONED)

    # ------------------------------------------------------------------ agents
    def _take(self, agent: Agent, t: Ticket, now: float) -> None:
        """``agent`` (already marked busy) starts on ticket ``t`` at ``now``."""
        if t.state == _QUEUED:
            t.queued_total += now - t.enqueued_at
        t.state = _IN_SERVICE
        t.owner = agent
        if t.first_touch != t.first_touch:  # NaN: first time anyone touches it
            t.first_touch = now
        aid = agent.id
        if t.n_touched == 0:
            t.first_agent = aid
            t.n_touched = 1
        elif aid != t.first_agent:
            _touch(t, aid)
        team = agent.team
        t.last_team = team.name
        agent.ticket = t
        rep = 0.0
        if t.needs_repeat:
            t.needs_repeat = False
            k = t.n_repeat
            rep = (t.draws.repeat.item(t.row, k) if k < SLOTS else
                   self.customers.overflow(Stream.REPEAT, t.id, k, self.repeat_dist))
            t.n_repeat = k + 1
            t.repeats += 1
            if self._track_repeat:
                self._count(t, "repeat_min", rep)
        if self.trace is not None:
            self._log(now, now, t.id, TAKEN, agent)
        if agent.can[t.issue_idx]:
            phase = _RESOLVE
            duration = rep + t.work
        else:
            k = t.n_diag
            diag = (t.draws.diagnose[team.index].item(t.row, k) if k < SLOTS else
                    self.customers.overflow(Stream.DIAGNOSE, t.id, k, team.diagnose))
            t.n_diag = k + 1
            phase = _DIAGNOSE
            duration = rep + diag
        # _begin(agent, phase, duration, rep), inlined: every ticket taken starts one of these
        agent.phase = phase
        agent.phase_start = now
        agent.phase_dur = duration
        agent.rep_dur = rep
        ev = agent.ev
        if ev is None:
            agent.ev = ev = Timeout(self.env, duration, agent)
            ev.callbacks.append(self._phase_done)
        else:
            ev.callbacks = self._phase_cbs
            heappush(self._heap, (now + duration, NORMAL, next(self._eid), ev))

    def _begin(self, agent: Agent, phase: int, duration: float, rep: float = 0.0) -> None:
        """Start an activity of ``duration`` minutes; ``_phase_done`` runs when it ends.

        The agent's event is reused (it has fired: an agent does one thing at a time); an
        activity cut short (shift end, interruption) drops it (``agent.ev = None``), since the
        cancelled entry is still in SimPy's heap.
        """
        agent.phase = phase
        agent.phase_start = now = self.env._now
        agent.phase_dur = duration
        agent.rep_dur = rep
        ev = agent.ev
        if ev is None:
            agent.ev = ev = Timeout(self.env, duration, agent)
            ev.callbacks.append(self._phase_done)
        else:
            ev.callbacks = self._phase_cbs
            heappush(self._heap, (now + duration, NORMAL, next(self._eid), ev))

    def _phase_done(self, event) -> None:
        agent: Agent = event._value
        t = agent.ticket
        phase = agent.phase
        dur = agent.phase_dur
        # _charge(t, agent, dur), inlined
        team = agent.team
        t.agent_min += dur
        t.cost += dur * team.cost_per_min
        if team.is_top and t.tier < self.top_tier:
            t.expert_min += dur
        if self.trace is not None:
            self._trace_phase(agent, t)
        if phase == _RESOLVE:
            if self._plain_finish:
                # _finish(t, RESOLVED) without trace or reopens, inlined: every ticket ends here
                t.state = _DONE
                t.outcome = _RESOLVED
                t.end = now = self.env._now
                if t.measured:
                    self._done.append(_row(t))    # converted at the next block (_next_block)
                else:
                    self._unrecorded += 1
                self._release(agent, now)
            else:
                self._finish(t, _RESOLVED)
                self._release(agent)
        elif phase == _DIAGNOSE:
            self._decide(agent, t)
        elif phase == _HANDOFF:
            q = agent.target
            agent.target = None
            t.handoffs += 1
            if t.handoffs > MAX_HANDOFFS:
                raise PolicyError(self._where(t, f"handed off more than {MAX_HANDOFFS} times; "
                                                 "the policy never lets it be resolved"))
            agent.ticket = None
            self._enqueue(t, q)
            self._release(agent)
        elif phase == _SWARM:
            for helper in t.helpers_now:
                self._charge(t, helper, dur)
                if self.trace is not None:
                    self._trace_interval(helper.phase_start, self.env._now, t, helper, _HELP)
            helpers = t.helpers_now
            for hook in self._on_swarm_finished:
                hook(agent, t)
            self._finish(t, _RESOLVED)
            t.helpers_now = ()
            for helper in helpers:
                self._release(helper)
            self._release(agent)
        elif phase == Phase.SWITCH:
            for hook in self._on_switch_done:
                hook(agent)
        elif phase == Phase.SEARCH:
            for hook in self._on_search_done:
                hook(agent, t)
        else:  # pragma: no cover
            raise AssertionError(f"unexpected phase {phase}")

    def _decide(self, agent: Agent, t: Ticket) -> None:
        """The agent cannot resolve ``t``: act on the policy's (checked) decision.

        A policy declaring ``decide_by_kind`` is asked once per (ticket kind, team) in a run;
        its checked answer is reused (:func:`~sim.policies.base.decides_by_kind`).
        """
        if self._decide_by_kind:
            key = t.kind_ix * self._n_teams + agent.team.index
            d = self._decisions[key]
            if d is None:
                d = self._decisions[key] = self._ask_decision(agent, t)
        else:
            d = self._ask_decision(agent, t)
        q = d[0]
        if q is not None:                       # HandOff(to=q, effort, warm)
            effort = d[1]
            t.needs_repeat = not d[2]
            agent.target = q
            for hook in self._on_handoff:
                hook(agent, t)
            k = t.n_handoff
            h = (t.draws.handoff.item(t.row, k) if k < SLOTS else
                 self.customers.overflow(Stream.HANDOFF, t.id, k, self.handoff_dist))
            t.n_handoff = k + 1
            self._begin(agent, _HANDOFF, h if effort == 1.0 else h * effort)
        else:                                   # Swarm(max_helpers, mode)
            req = d[1]
            if req[1] == "interrupt" and not self._on_no_helper_free:
                self._attach(Interruptions)
                self._hooked = True
            t.swarm_req = req
            self._seek_help(agent, t)

    def _ask_decision(self, agent: Agent, t: Ticket) -> tuple:
        """Ask ``on_cannot_resolve`` and check the answer: ``(queue, effort, warm)`` for a
        HandOff, ``(None, (max_helpers, mode))`` for a Swarm; anything else is a PolicyError."""
        try:
            view = self._ticket_view
            retarget(view, t)
            decision = self._decide_hook(view, self._agent_views[agent.id])
        except Exception as exc:
            raise PolicyError(self._where(t, f"on_cannot_resolve() raised "
                                             f"{type(exc).__name__}: {exc}")) from exc
        if decision.__class__ is HandOff or isinstance(decision, HandOff):
            q = self.queues.get(decision.to) if decision.to.__class__ is str else None
            if q is None:
                raise PolicyError(self._where(t, f"on_cannot_resolve() handed off to unknown queue "
                                                 f"{decision.to!r}; queues: {list(self.queues)}"))
            effort = decision.effort
            if effort != 1.0 and not (effort.__class__ in (int, float) and 1.0 <= effort < math.inf):
                raise PolicyError(self._where(t, f"HandOff(effort={effort!r}): must be a finite "
                                                 "number >= 1 (a handoff never costs less than "
                                                 "the scenario's friction)"))
            return (q, effort, decision.warm)
        if isinstance(decision, Swarm):
            if decision.max_helpers.__class__ is not int or decision.max_helpers < 1:
                raise PolicyError(self._where(t, f"Swarm(max_helpers={decision.max_helpers!r}): "
                                                 "must be a whole number >= 1"))
            mode = decision.mode
            if mode not in HELPER_MODES:
                raise PolicyError(self._where(t, f"Swarm(mode={mode!r}): must be one of "
                                                 f"{', '.join(HELPER_MODES)}"))
            return (None, (decision.max_helpers, mode))
        raise PolicyError(self._where(t, f"on_cannot_resolve() must return HandOff or Swarm, "
                                         f"got {decision!r}"))

    def _ask_for_help(self, owner: Agent, t: Ticket) -> None:
        """The owner asks for the helpers of the ticket's pending request (``t.swarm_req``)."""
        max_helpers, mode = t.swarm_req
        if mode == "when_free":
            self._request_swarm(owner, t, max_helpers)
        elif mode == "idle_only":
            self._request_swarm(owner, t, max_helpers, self._idle_help_queue(t))
        else:
            self._request_swarm(owner, t, max_helpers, interrupt=True)

    def _request_swarm(self, owner: Agent, t: Ticket, max_helpers: int,
                       q: TicketQueue | None = None, interrupt: bool = False) -> None:
        if q is None:
            q = self._help_queue(t)
        now = self.env._now
        while True:
            if self.trace is not None:
                self._log(now, now, t.id, SWARM_REQUESTED, owner, q.name)
            helpers: list[Agent] = []
            checked = t.n_fit
            for team in q.teams:
                while team.free and len(helpers) < max_helpers:
                    helper = team.free.popleft()
                    helper.busy_since = now
                    helpers.append(helper)
            if helpers and self._on_helpers_found:
                for hook in self._on_helpers_found:
                    helpers = hook(t, helpers)
            if not helpers and interrupt:
                for hook in self._on_no_helper_free:
                    helpers = hook(t, owner, q, max_helpers)
                    if helpers:
                        break
            if helpers:
                self._start_swarm(t, owner, helpers)
                return
            if t.n_fit == checked:
                break
            # every helper found was unfit: search again (a search takes time: an event), or,
            # without search time, ask again at once - a loop, not recursion, however small p is
            if self._on_help_wanted:
                self._seek_help(owner, t)
                return
        if not owner.team.on_duty:      # in overtime after shift end: hand over, do not wait
            self._start_handover(owner, t, self._handover_queue(t))
            return
        t.state = _AWAIT_HELP
        owner.target = t.queue          # remember where the ticket came from while it waits
        t.queue = q
        t.hold_start = now
        t.enqueued_at = now
        t.visit += 1
        owner.phase = _HOLD
        owner.phase_start = now
        q.push(t)
        if self.swarm_wait_is_queue and t.patience != math.inf:
            self._arm_patience(t)

    def _end_hold(self, t: Ticket, owner: Agent) -> None:
        """The owner stops holding ``t`` for a helper: pay the hold, count the customer's wait."""
        now = self.env._now
        self._charge(t, owner, now - t.hold_start)
        self._trace_interval(t.hold_start, now, t, owner, _HOLD)
        if self.swarm_wait_is_queue:
            t.queued_total += now - t.enqueued_at

    def _start_swarm(self, t: Ticket, owner: Agent, helpers: list[Agent]) -> None:
        now = self.env._now
        if t.state == _AWAIT_HELP:
            self._end_hold(t, owner)
            t.queue = owner.target
            owner.target = None
        t.state = _IN_SERVICE
        for helper in helpers:
            helper.ticket = t
            helper.phase = _HELP
            helper.phase_start = now
            _touch(t, helper.id)
            if self.trace is not None:
                self._log(now, now, t.id, HELPER_JOINED, helper)
        t.helpers += len(helpers)
        t.helpers_now = helpers
        self._begin(owner, _SWARM, self._swarm_duration(t.work, len(helpers)))

    def _swarm_duration(self, work: float, h: int) -> float:
        """Minutes a swarm of the owner and ``h`` helpers lasts (every participant occupied)."""
        if self._swarm_legacy:
            return work * (1.0 + self._swarm_k) / (1 + h)
        return work * (1.0 + self._swarm_k * h) / (h + self._swarm_c)

    def _seek_help(self, owner: Agent, t: Ticket) -> None:
        """The owner wants helpers: a feature may act first (a search), else ask at once."""
        for hook in self._on_help_wanted:
            if hook(owner, t):
                return
        self._ask_for_help(owner, t)

    def _help_taken(self, agent: Agent, t: Ticket) -> bool:
        """Whether ``agent``, who took the held request for ``t``, may help (features decide)."""
        for hook in self._on_help_taken:
            if not hook(agent, t):
                return False
        return True

    def _helper_fits(self, t: Ticket, agent: Agent) -> bool:
        """Whether a busy agent asked to help with ``t`` can resolve it (features decide)."""
        for hook in self._on_helper_asked:
            if not hook(t, agent):
                return False
        return True

    def _stop_activity(self, agent: Agent) -> float:
        """Cut the agent's running work/diagnosis short at ``now``: charge and trace the part done.

        Work done is taken off the ticket's remaining work (a handover note or the agent's
        own memory carries it); a diagnosis cut short is lost.  Returns the minutes of the
        activity still to go (repeat included).
        """
        now = self.env._now
        t = agent.ticket
        agent.ev.callbacks = []          # cancelled: the entry stays in the heap, does nothing
        agent.ev = None                  # so the next activity gets a fresh event
        elapsed = now - agent.phase_start
        self._charge(t, agent, elapsed)
        if self.trace is not None:
            self._trace_partial(agent, t, now)
        if agent.phase == Phase.RESOLVE and elapsed > agent.rep_dur:
            t.work -= elapsed - agent.rep_dur
        return agent.phase_dur - elapsed

    def _start_handover(self, agent: Agent, t: Ticket, q: TicketQueue) -> None:
        """The agent writes a handover note (a handoff draw, overtime) and passes ``t`` to ``q``."""
        agent.ticket = t
        t.needs_repeat = True
        agent.target = q
        self._count(t, "handovers", 1)
        h = self._draw(t, Stream.HANDOFF, t.n_handoff, self.handoff_dist)
        t.n_handoff += 1
        self._begin(agent, Phase.HANDOFF, h)

    def _release(self, agent: Agent, now: float | None = None) -> None:
        """``agent`` is done with their ticket: take the next piece of work or go idle.

        ``now`` saves a clock read when the caller has it (this runs once per activity).
        """
        agent.ticket = None
        agent.phase = _IDLE
        if self._hooked:                 # suspended helpers go back, off-duty agents go home
            for hook in self._on_released:
                if hook(agent):
                    return
        while True:
            for q in agent.team.serves:
                if q.size:
                    t = q.pop()
                    if t is not None:
                        if q.is_help:
                            if self._on_help_taken and not self._help_taken(agent, t):
                                break                # look again for work (a loop, not recursion)
                            self._start_swarm(t, t.owner, [agent])
                        else:
                            self._take(agent, t, self.env._now if now is None else now)
                        return
            else:
                break                                # nothing to take: go idle
        if now is None:
            now = self.env._now
        lo = self.warmup if agent.busy_since < self.warmup else agent.busy_since
        if now > lo:
            agent.busy_min += now - lo
        agent.team.free.append(agent)

    # ------------------------------------------------------------------ bookkeeping
    def _charge(self, t: Ticket, agent: Agent, minutes: float) -> None:
        team = agent.team
        t.agent_min += minutes
        t.cost += minutes * team.cost_per_min
        if team.is_top and t.tier < self.top_tier:
            t.expert_min += minutes

    def _draw(self, t: Ticket, stream: int, k: int, dist, team_index: int = 0) -> float:
        """The ticket's k-th draw of a per-ticket stream (common across policies)."""
        if k < SLOTS:
            if stream == Stream.DIAGNOSE:
                return t.draws.diagnose[team_index].item(t.row, k)
            if stream == Stream.HANDOFF:
                return t.draws.handoff.item(t.row, k)
            return t.draws.repeat.item(t.row, k)
        return self.customers.overflow(stream, t.id, k, dist)

    def _finish(self, t: Ticket, outcome: Outcome) -> None:
        now = self.env._now
        t.state = _DONE
        t.outcome = outcome
        t.end = now
        if self.trace is not None:
            self._log(now, now, t.id, RESOLVED if outcome == _RESOLVED else ABANDONED)
        if outcome == _RESOLVED and self._on_resolved and any(h(t) for h in self._on_resolved):
            self._unrecorded += 1           # the customer will be back: recorded when it ends
            return
        if t.measured:
            done = self._done
            done.append(_row(t))
            if len(done) >= BATCH:
                self.recorder.flush()
        else:
            self._unrecorded += 1

    def _count(self, t: Ticket, column: str, amount: float) -> None:
        """Add to an optional per-ticket column (EXTRA_COLUMNS)."""
        d = self.extra[column]
        d[t.id] = d.get(t.id, 0) + amount

    def _record(self, t: Ticket) -> None:
        """Keep a finished ticket's result row (converted to columns in batches)."""
        done = self._done
        done.append(_row(t))
        if len(done) >= BATCH:
            self.recorder.flush()

    def _sample_backlog(self, event) -> None:
        now = self.env._now
        backlog = self.backlog
        backlog["time_min"].append(now)
        backlog["waiting"].append(sum(map(_size, self._all_queues)))
        # in the system: every entry (arrivals, returns) less every exit (a row, or none)
        backlog["in_system"].append(self.n_arrivals + self._reentries - self._unrecorded
                                    - self.recorder.count())
        if now + self.backlog_every <= self.horizon:
            # the same event again, rescheduled as env.timeout(backlog_every) would schedule one
            event.callbacks = self._backlog_cbs
            heappush(self._heap, (now + self.backlog_every, NORMAL, next(self._eid), event))

    def _close_horizon(self) -> None:
        """Stop the clock: charge work in progress up to the horizon, record open tickets."""
        now = self.horizon
        for agent in self.agents:
            if agent.ticket is not None:
                t = agent.ticket
                if agent.phase == _HOLD:
                    self._charge(t, agent, now - t.hold_start)
                    self._trace_interval(t.hold_start, now, t, agent, _HOLD)
                else:
                    self._charge(t, agent, now - agent.phase_start)
                    if self.trace is not None:
                        self._trace_partial(agent, t, now)
                lo = max(self.warmup, agent.busy_since)
                if now > lo:
                    agent.busy_min += now - lo
                if not agent.team.on_duty:       # overtime still running at the horizon
                    lo = max(self.warmup, agent.team.off_since)
                    if now > lo:
                        agent.team.overtime_min += now - lo
        for hook in self._on_horizon:            # e.g. resolved, customer not back yet
            hook()
        for t in self._open_tickets():
            if t.state == _QUEUED or (self.swarm_wait_is_queue and (
                    t.state == _AWAIT_HELP or t.state == _SEARCHING)):
                t.queued_total += now - t.enqueued_at
            t.end = math.nan
            t.state = State.DONE
            if self.trace is not None:
                self._log(now, now, t.id, OPEN)
            if t.measured:
                self._record(t)

    def reenter(self, t: Ticket) -> None:
        """A finished ticket is back in the system (a reopen): it ranks after every ticket
        that entered before it (the order in which open tickets are reported at the horizon)."""
        self._reentries += 1
        t.entered = (self.n_arrivals - 1, 1, self._reentries)

    def _open_tickets(self) -> list[Ticket]:
        """Every ticket in the system now: waiting in a queue, or with an agent (worked on,
        held for a helper, searched for, being handed on, or suspended by an interruption),
        in the order they (last) entered the system - arrival order, a reopened ticket placed
        where it came back (:meth:`reenter`)."""
        found: dict[int, Ticket] = {}
        for q in self._all_queues:
            if q.size:
                want = q.want
                for level in q.levels:
                    for t in level:
                        if t.state == want and t.queue is q:
                            found[t.id] = t
        for agent in self.agents:
            if agent.ticket is not None:
                found[agent.ticket.id] = agent.ticket
            if agent.suspended is not None:
                own = agent.suspended[0]
                found[own.id] = own
        return sorted(found.values(), key=_entered)

    # ------------------------------------------------------------------ tracing
    def _trace_phase(self, agent: Agent, t: Ticket) -> None:
        start, end = agent.phase_start, self.env._now
        if agent.rep_dur > 0:
            self._log(start, start + agent.rep_dur, t.id, REPEAT, agent)
            start += agent.rep_dur
        detail = agent.target.name if agent.phase == Phase.HANDOFF and agent.target else ""
        self._log(start, end, t.id, Phase.NAMES[agent.phase], agent, detail)

    def _trace_partial(self, agent: Agent, t: Ticket, now: float) -> None:
        """Trace an activity cut short at ``now`` (horizon, shift end, interruption)."""
        start = agent.phase_start
        if agent.rep_dur > 0 and agent.phase in (Phase.RESOLVE, Phase.DIAGNOSE):
            # a repeat in progress or done: traced like a completed phase's
            rep_end = min(start + agent.rep_dur, now)
            self._log(start, rep_end, t.id, REPEAT, agent)
            start = rep_end
        self._trace_interval(start, now, t, agent, agent.phase)

    def _log(self, start: float, end: float, ticket: int, activity: str, agent: Agent | None = None,
             detail: str = "") -> None:
        """Append one trace record: the only place the engine and its mechanics build them."""
        if agent is None:
            self.trace.append(_rec((start, end, ticket, activity, -1, "", detail)))
        else:
            self.trace.append(_rec((start, end, ticket, activity, agent.id, agent.team.name, detail)))

    def _trace_interval(self, start: float, end: float, t: Ticket, agent: Agent, phase: int) -> None:
        if self.trace is not None:
            self._log(start, end, t.id, Phase.NAMES[phase], agent)


def _touch(t: Ticket, aid: int) -> None:
    """Count agent ``aid`` among the distinct agents who worked on ``t`` (a set is made
    only for a third agent: most tickets see one or two)."""
    n = t.n_touched
    if n == 0:
        t.first_agent = aid
        t.n_touched = 1
    elif n == 1:
        if aid != t.first_agent:
            t.second_agent = aid
            t.n_touched = 2
    elif n == 2:
        if aid != t.first_agent and aid != t.second_agent:
            t.touched = {t.first_agent, t.second_agent, aid}
            t.n_touched = 3
    elif aid not in t.touched:
        t.touched.add(aid)
        t.n_touched = n + 1


def _entered(t: Ticket) -> tuple[int, int, int]:
    """When ``t`` (last) entered the system, as a sort key (:meth:`Engine.reenter`)."""
    return (t.id, 0, 0) if t.entered is None else t.entered


def _owns(team: TeamRuntime, q: TicketQueue) -> bool:
    """Whether ``q`` is the team's own work: it is the lowest tier among the teams serving it."""
    return team.tier == min(tm.tier for tm in q.teams)


@contextlib.contextmanager
def _relaxed_gc(gen0: int = 50_000):
    """Collect cyclic garbage less often while the event loop runs.

    The engine allocates a few short-lived container objects per event (timeouts,
    tickets) and creates no reference cycles per ticket, so CPython's default
    generation-0 threshold (700) makes the cyclic collector run every few
    tickets for nothing: profiling showed it at about 20 % of run time.  Cycles
    (e.g. from a plug-in policy) are still collected, just in larger batches.
    """
    old = gc.get_threshold()
    gc.set_threshold(max(gen0, old[0]), max(old[1], 20), max(old[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*old)


def run_replication(scenario: Scenario, policy: str, replication: int, seed: int | None = None,
                    trace: bool = False, policy_cls: type[Policy] | None = None) -> RunResult:
    """Simulate one replication of one policy (the unit of work for parallel runs)."""
    from .policies import registry

    cls = policy_cls or registry.get(policy)
    if cls is None:
        raise KeyError(f"unknown policy {policy!r}; available: {registry.names()}")
    params = cls.Params.model_validate(scenario.policies.get(policy) or {})
    engine = Engine(scenario, cls, params, replication, scenario.seed if seed is None else seed, trace)
    return engine.run()
