"""Swarm helper modes: interrupting busy experts, context switches, idle-only helpers.

``Swarm.mode`` (the policy's decision) selects who may answer a request:

- ``when_free`` (default): the engine core's behaviour - the first qualified
  agent to finish their ticket takes the request before new work.
- ``interrupt``: if no qualified agent is free, qualified agents busy working
  on or diagnosing their own ticket stop (the part done is kept), help, and
  afterwards resume their own ticket after a ``frictions.context_switch`` draw
  (that ticket's k-th switch, common random numbers), charged to that ticket.
- ``idle_only``: the request waits in a help queue a team serves *after* its
  own queues, so only an agent with nothing else to do takes it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..models.customers import SLOTS, Stream
from ..models.queues import TicketQueue
from ..models.trace import INTERRUPTED
from .phases import Phase

if TYPE_CHECKING:
    from ..models.agents import Agent
    from ..models.tickets import Ticket


class InterruptionsMixin:
    """Mechanics of ``Swarm.mode`` and ``frictions.context_switch``."""

    def _idle_help_queue(self, t: "Ticket") -> TicketQueue:
        """Swarm requests a team serves only when its *own* queues are empty.

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
            for team in teams:
                serves = team.serves
                pos = 0
                for i, other in enumerate(serves):
                    if other.is_help or other.name.startswith("handover:") or _owns(team, other):
                        pos = i + 1
                serves.insert(pos, q)
        return q

    def _interrupt_helpers(self, t: "Ticket", owner: "Agent", q: TicketQueue, k: int) -> list["Agent"]:
        """Up to ``k`` qualified on-duty agents pulled off their own work (lowest tier first)."""
        helpers: list[Agent] = []
        for team in q.teams:
            if not team.on_duty:
                continue
            for agent in team.agents:
                if ((agent.phase == Phase.RESOLVE or agent.phase == Phase.DIAGNOSE)
                        and agent is not owner and agent.suspended is None):
                    if self._fit_p < 1.0 and not self._fits(t):   # asked, cannot resolve it:
                        self._trace_unfit(t, agent)              # stays on their own work
                        continue
                    self._suspend(agent, t)
                    helpers.append(agent)
                    if len(helpers) == k:
                        return helpers
        return helpers

    def _suspend(self, agent: "Agent", swarm_ticket: "Ticket") -> None:
        own = agent.ticket
        phase, rep_left = agent.phase, max(0.0, agent.rep_dur - (self.env.now - agent.phase_start))
        left = self._stop_activity(agent)
        if phase == Phase.RESOLVE:
            left = rep_left + own.work          # work done is already off own.work
        agent.suspended = (own, phase, left, rep_left)
        agent.ticket = None
        now = self.env.now
        self._count(own, "interruptions", 1)
        key = (agent.id, int(now // 1440))
        self.interruptions[key] = self.interruptions.get(key, 0) + 1
        if self.trace is not None:
            self._log(now, now, own.id, INTERRUPTED, agent, f"helps ticket {swarm_ticket.id}")

    def _resume(self, agent: "Agent") -> None:
        """After helping: back to the suspended ticket, first paying a context switch."""
        own, phase, left, rep_left = agent.suspended
        agent.suspended = None
        agent.ticket = own
        switch = 0.0
        if self._switch_dist is not None:
            k = self.extra["interruptions"][own.id] - 1        # this ticket's k-th switch
            switch = (own.draws.switch.item(own.row, k) if k < SLOTS else
                      self.customers.overflow(Stream.SWITCH, own.id, k, self._switch_dist))
        if switch > 0:
            self._count(own, "switch_min", switch)
            agent.resume = (phase, left, rep_left)
            self._begin(agent, Phase.SWITCH, switch)
        else:
            self._begin(agent, phase, left, rep_left)

    def _switch_done(self, agent: "Agent") -> None:
        phase, left, rep_left = agent.resume
        agent.resume = None
        team = agent.team
        if not team.on_duty and team.handover:
            t = agent.ticket
            self._start_handover(agent, t, t.queue)
        else:
            self._begin(agent, phase, left, rep_left)


def _owns(team, q: TicketQueue) -> bool:
    """Whether ``q`` is the team's own work: it is the lowest tier among the teams serving it."""
    return team.tier == min(tm.tier for tm in q.teams)
