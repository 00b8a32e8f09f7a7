"""Team shifts: agents go off duty, finish or hand over their work, come back and pick up.

Rules (``docs/model.md``, "Shifts"): an off-duty agent takes no new work.  At
shift end idle agents leave at once; a busy agent either finishes their
ticket in overtime (``shift_end: finish``) or stops working on it and hands it
over (``handover``: a handoff write-up in overtime, then the ticket re-enters
the queue it was taken from and the next agent hears the customer repeat).
Activities shared with other agents (a swarm, helping) and a handoff already
being written up always finish.  A swarm owner *holding* a ticket for a
helper is not working on it, so in both modes they hand it over: the ticket
waits in a hand-over queue served, before new work, by the teams able to
resolve it, and whoever takes it resolves it alone.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..models.customers import Stream
from ..models.queues import TicketQueue
from ..models.tickets import State
from .calendar import overlap, shift_windows
from .phases import Phase

if TYPE_CHECKING:
    from ..models.agents import Agent
    from ..models.tickets import Ticket


class ShiftsMixin:
    """Mechanics of ``teams[].shift`` (mixed into :class:`sim.engine.Engine`)."""

    def _setup_shifts(self) -> None:
        """Schedule every team's on/off-duty changes; work out on-shift capacity."""
        week0, clock_off = self.scn.clock
        window = self.horizon - self.warmup
        for team in self.teams:
            spec = team.spec.shift
            if spec is None:
                team.capacity_min = team.size * window
                continue
            self._hooked = True
            windows = shift_windows(spec, week0, clock_off, self.horizon)
            team.handover = spec.shift_end == "handover"
            team.capacity_min = team.size * overlap(windows, self.warmup, self.horizon)
            if not windows or windows[0][0] > 0:
                team.on_duty = False
                team.free.clear()
            for start, end in windows:
                if start > 0:
                    self.env.timeout(start, team).callbacks.append(self._shift_start)
                if end < self.horizon:
                    self.env.timeout(end, team).callbacks.append(self._shift_end)

    def _shift_start(self, event) -> None:
        team = event.value
        team.on_duty = True
        now = self.env.now
        for agent in team.agents:
            if agent.ticket is None:          # off duty (agents still in overtime carry on)
                agent.busy_since = now
                self._release(agent)          # take waiting work, or wait idle

    def _shift_end(self, event) -> None:
        team = event.value
        team.on_duty = False
        team.off_since = self.env.now
        team.free.clear()                      # idle agents go home
        for agent in team.agents:
            if agent.ticket is None:
                continue
            phase = agent.phase
            if phase == Phase.HOLD:
                self._hand_over_hold(agent)
            elif team.handover and (phase == Phase.RESOLVE or phase == Phase.DIAGNOSE):
                self._stop_activity(agent)
                self._start_handover(agent, agent.ticket, agent.ticket.queue)
            # otherwise the agent finishes in overtime; _release sends them home

    # ---------------------------------------------------------------- helpers
    def _go_off(self, agent: "Agent") -> None:
        """An agent whose team is off duty has finished: account busy time, leave."""
        now = self.env.now
        lo = self.warmup if agent.busy_since < self.warmup else agent.busy_since
        if now > lo:
            agent.busy_min += now - lo
        team = agent.team
        lo = max(self.warmup, team.off_since)
        if now > lo:
            team.overtime_min += now - lo

    def _stop_activity(self, agent: "Agent") -> float:
        """Cut the agent's running work/diagnosis short at ``now``: charge and trace the part done.

        Work done is taken off the ticket's remaining work (a handover note or the agent's
        own memory carries it); a diagnosis cut short is lost.  Returns the minutes of the
        activity still to go (repeat included).
        """
        now = self.env.now
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

    def _start_handover(self, agent: "Agent", t: "Ticket", q: TicketQueue) -> None:
        """The agent writes a handover note (a handoff draw, overtime) and passes ``t`` to ``q``."""
        agent.ticket = t
        t.needs_repeat = True
        agent.target = q
        self._count(t, "handovers", 1)
        h = self._draw(t, Stream.HANDOFF, t.n_handoff, self.handoff_dist)
        t.n_handoff += 1
        self._begin(agent, Phase.HANDOFF, h)

    def _hand_over_hold(self, owner: "Agent") -> None:
        t = owner.ticket
        t.queue.discard(t)
        self._end_hold(t, owner)
        t.state = State.IN_SERVICE
        t.queue = None
        self._start_handover(owner, t, self._handover_queue(t))

    def _handover_queue(self, t: "Ticket") -> TicketQueue:
        """Where a swarm owner's held ticket waits: served first by the teams able to resolve it."""
        q = self.handover_queues.get(t.issue_idx)
        if q is None:
            teams = [tm for tm in sorted(self.teams, key=lambda tm: (tm.tier, tm.index))
                     if tm.can[t.issue_idx]]
            q = TicketQueue(f"handover:{t.issue}", self._n_levels, teams)
            self.handover_queues[t.issue_idx] = q
            for team in teams:
                team.serves.insert(0, q)
        return q
