"""Swarm helper modes: interrupting busy experts and the context switch they pay.

``Swarm.mode`` (the policy's decision) selects who may answer a request:

- ``when_free`` (default): the engine core's behaviour - the first qualified
  agent to finish their ticket takes the request before new work.
- ``interrupt``: if no qualified agent is free, qualified agents busy working
  on or diagnosing their own ticket stop (the part done is kept), help, and
  afterwards resume their own ticket after a ``frictions.context_switch`` draw
  (that ticket's k-th switch, common random numbers), charged to that ticket.
  This module: the :class:`Interruptions` feature, attached by the engine the first
  time a policy asks for an ``interrupt`` swarm (a policy decision, not a scenario key).
- ``idle_only``: the request waits in a help queue a team serves *after* its
  own queues, so only an agent with nothing else to do takes it (queue plumbing:
  ``Engine._idle_help_queue``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..models.customers import SLOTS, Stream
from ..models.trace import INTERRUPTED
from .features import Feature
from .phases import Phase

if TYPE_CHECKING:
    from ..models.agents import Agent
    from ..models.queues import TicketQueue
    from ..models.tickets import Ticket
    from ..scenario import Scenario


class Interruptions(Feature):
    """``Swarm(mode="interrupt")`` and ``frictions.context_switch`` (moments: agent_released,
    no_helper_free, switch_done)."""

    name = "interruptions"
    uses = frozenset({"scn", "env", "customers", "extra", "trace", "interruptions", "_log",
                      "_count", "_begin", "_stop_activity", "_start_handover", "_helper_fits"})

    @classmethod
    def wanted(cls, scenario: "Scenario") -> bool:
        return False          # attached on the first interrupt swarm (Engine._attach)

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        cs = engine.scn.frictions.context_switch
        self.switch_dist = None if cs.is_zero else cs

    def agent_released(self, agent: "Agent") -> bool:
        """An agent who helped goes back to the ticket they were pulled off (True: handled)."""
        if agent.suspended is None:
            return False
        if agent.team.on_duty or not agent.team.handover:
            self._resume(agent)
        else:                                # their shift ended meanwhile: hand it over
            own = agent.suspended[0]
            agent.suspended = None
            self.engine._start_handover(agent, own, own.queue)
        return True

    def no_helper_free(self, t: "Ticket", owner: "Agent", q: "TicketQueue",
                       k: int) -> list["Agent"]:
        """Up to ``k`` qualified on-duty agents pulled off their own work (lowest tier first)."""
        e = self.engine
        helpers: list[Agent] = []
        for team in q.teams:
            if not team.on_duty:
                continue
            for agent in team.agents:
                if ((agent.phase == Phase.RESOLVE or agent.phase == Phase.DIAGNOSE)
                        and agent is not owner and agent.suspended is None):
                    if not e._helper_fits(t, agent):
                        continue
                    self._suspend(agent, t)
                    helpers.append(agent)
                    if len(helpers) == k:
                        return helpers
        return helpers

    def switch_done(self, agent: "Agent") -> None:
        """The context switch is paid: back to the work (or hand it over after shift end)."""
        e = self.engine
        phase, left, rep_left = agent.resume
        agent.resume = None
        team = agent.team
        if not team.on_duty and team.handover:
            t = agent.ticket
            e._start_handover(agent, t, t.queue)
        else:
            e._begin(agent, phase, left, rep_left)

    def _suspend(self, agent: "Agent", swarm_ticket: "Ticket") -> None:
        e = self.engine
        own = agent.ticket
        phase, rep_left = agent.phase, max(0.0, agent.rep_dur - (e.env.now - agent.phase_start))
        left = e._stop_activity(agent)
        if phase == Phase.RESOLVE:
            left = rep_left + own.work          # work done is already off own.work
        agent.suspended = (own, phase, left, rep_left)
        agent.ticket = None
        now = e.env.now
        e._count(own, "interruptions", 1)
        key = (agent.id, int(now // 1440))
        e.interruptions[key] = e.interruptions.get(key, 0) + 1
        if e.trace is not None:
            e._log(now, now, own.id, INTERRUPTED, agent, f"helps ticket {swarm_ticket.id}")

    def _resume(self, agent: "Agent") -> None:
        """After helping: back to the suspended ticket, first paying a context switch."""
        e = self.engine
        own, phase, left, rep_left = agent.suspended
        agent.suspended = None
        agent.ticket = own
        switch = 0.0
        if self.switch_dist is not None:
            k = e.extra["interruptions"][own.id] - 1        # this ticket's k-th switch
            switch = (own.draws.switch.item(own.row, k) if k < SLOTS else
                      e.customers.overflow(Stream.SWITCH, own.id, k, self.switch_dist))
        if switch > 0:
            e._count(own, "switch_min", switch)
            agent.resume = (phase, left, rep_left)
            e._begin(agent, Phase.SWITCH, switch)
        else:
            e._begin(agent, phase, left, rep_left)
