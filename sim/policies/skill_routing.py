"""Skills-based routing: triage at arrival sends each ticket straight to a team that fits."""
from __future__ import annotations

from pydantic import Field

from .base import AgentView, Decision, HandOff, Org, Policy, PolicyParams, TicketView
from .registry import register


class SkillRoutingParams(PolicyParams):
    triage_accuracy: float = Field(default=0.85, ge=0, le=1,
                                   description="probability triage classifies a ticket correctly")


class SkillRouting(Policy):
    """Triage classifies the ticket's (tier, skill) correctly with probability
    ``triage_accuracy`` (the ticket's common uniform ``rand[0]``).  A wrong
    class is another issue type, drawn in proportion to the other types'
    shares with ``rand[1]``.  The ticket goes to the queue of the lowest-tier
    team qualified for its class (shared with identical teams, see
    :meth:`Org.pool`); a team that then cannot resolve it diagnoses and hands
    it to the lowest-tier team qualified for the true class."""

    name = "skill_routing"
    summary = "triage routes each ticket to the lowest-tier team with the right skill"
    Params = SkillRoutingParams
    decide_by_kind = True    # the true class's queue: from the ticket kind alone

    def __init__(self, params: SkillRoutingParams, org: Org) -> None:
        super().__init__(params, org)
        self._accuracy = params.triage_accuracy
        # the answer for each (tier, skill) never changes in a run: computed once (issue 16)
        self._queue_of: dict[tuple[int, str], str] = {}
        self._handoff_of: dict[tuple[int, str], HandOff] = {}

    def route(self, ticket: TicketView) -> str:
        rand = ticket.rand
        if rand[0] >= self._accuracy:
            return self._queue(*self._misclassify(ticket, rand[1]))
        return self._queue(ticket.tier, ticket.skill)

    def on_cannot_resolve(self, ticket: TicketView, agent: AgentView) -> Decision:
        key = (ticket.tier, ticket.skill)
        decision = self._handoff_of.get(key)
        if decision is None:
            decision = self._handoff_of[key] = HandOff(to=self._queue(*key))
        return decision

    def _queue(self, tier: int, skill: str) -> str:
        """The queue of the lowest-tier team qualified for (tier, skill)."""
        key = (tier, skill)
        queue = self._queue_of.get(key)
        if queue is None:
            queue = self._queue_of[key] = self.org.pool(self.org.qualified(tier, skill)[0].name)
        return queue

    def _misclassify(self, ticket: TicketView, u: float) -> tuple[int, str]:
        """The (tier, skill) triage wrongly gives the ticket, from its uniform ``u``."""
        others = [i for i in self.org.scenario.issues if i.name != ticket.issue]
        if not others:
            return ticket.tier, ticket.skill
        total = sum(i.share for i in others)
        u, acc = u * total, 0.0
        for issue in others:
            acc += issue.share
            if u < acc:
                return issue.tier, issue.skill
        return others[-1].tier, others[-1].skill


register(SkillRouting, builtin=True)
