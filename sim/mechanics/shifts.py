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

The :class:`Shifts` feature schedules each team's on/off-duty changes when the run is set up
and acts when an agent is released (an off-duty agent goes home).  Cutting work short and
writing a hand-over are the engine's (``Engine._stop_activity``, ``Engine._start_handover``):
helpers pulled off their work use them too.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..models.tickets import State
from .calendar import overlap, shift_windows
from .features import Feature
from .phases import Phase

if TYPE_CHECKING:
    from ..models.agents import Agent
    from ..scenario import Scenario


class Shifts(Feature):
    """``teams[].shift`` (moment: agent_released)."""

    name = "shifts"
    uses = frozenset({"scn", "env", "teams", "horizon", "warmup", "_hooked", "_release",
                      "_end_hold", "_stop_activity", "_start_handover", "_handover_queue"})

    @classmethod
    def wanted(cls, scenario: "Scenario") -> bool:
        return any(t.shift is not None for t in scenario.teams)

    def __init__(self, engine: Any) -> None:
        """Schedule every shifted team's on/off-duty changes; work out its on-shift capacity."""
        super().__init__(engine)
        e = engine
        e._hooked = True                       # the engine must ask when an agent is released
        week0, clock_off = e.scn.clock
        for team in e.teams:
            spec = team.spec.shift
            if spec is None:
                continue
            windows = shift_windows(spec, week0, clock_off, e.horizon)
            team.handover = spec.shift_end == "handover"
            team.capacity_min = team.size * overlap(windows, e.warmup, e.horizon)
            if not windows or windows[0][0] > 0:
                team.on_duty = False
                team.free.clear()
            for start, end in windows:
                if start > 0:
                    e.env.timeout(start, team).callbacks.append(self._shift_start)
                if end < e.horizon:
                    e.env.timeout(end, team).callbacks.append(self._shift_end)

    def agent_released(self, agent: "Agent") -> bool:
        """An agent whose team is off duty has finished: account busy time, leave (True)."""
        team = agent.team
        if team.on_duty:
            return False
        e = self.engine
        now = e.env.now
        lo = e.warmup if agent.busy_since < e.warmup else agent.busy_since
        if now > lo:
            agent.busy_min += now - lo
        lo = max(e.warmup, team.off_since)
        if now > lo:
            team.overtime_min += now - lo
        return True

    def _shift_start(self, event) -> None:
        e = self.engine
        team = event.value
        team.on_duty = True
        now = e.env.now
        for agent in team.agents:
            if agent.ticket is None:          # off duty (agents still in overtime carry on)
                agent.busy_since = now
                e._release(agent)             # take waiting work, or wait idle

    def _shift_end(self, event) -> None:
        e = self.engine
        team = event.value
        team.on_duty = False
        team.off_since = e.env.now
        team.free.clear()                      # idle agents go home
        for agent in team.agents:
            if agent.ticket is None:
                continue
            phase = agent.phase
            if phase == Phase.HOLD:
                self._hand_over_hold(agent)
            elif team.handover and (phase == Phase.RESOLVE or phase == Phase.DIAGNOSE):
                e._stop_activity(agent)
                e._start_handover(agent, agent.ticket, agent.ticket.queue)
            # otherwise the agent finishes in overtime; the release sends them home

    def _hand_over_hold(self, owner: "Agent") -> None:
        e = self.engine
        t = owner.ticket
        t.queue.discard(t)
        e._end_hold(t, owner)
        t.state = State.IN_SERVICE
        t.queue = None
        e._start_handover(owner, t, e._handover_queue(t))
