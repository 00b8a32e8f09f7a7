"""Skills-based routing: triage at arrival sends each ticket straight to a team that fits."""
from __future__ import annotations

from pydantic import Field

from .base import AgentView, Decision, HandOff, Policy, PolicyParams, TicketView
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

    def route(self, ticket: TicketView) -> str:
        tier, skill = ticket.tier, ticket.skill
        if ticket.rand[0] >= self.params.triage_accuracy:
            tier, skill = self._misclassify(ticket)
        return self.org.pool(self.org.qualified(tier, skill)[0].name)

    def on_cannot_resolve(self, ticket: TicketView, agent: AgentView) -> Decision:
        return HandOff(to=self.org.pool(self.org.qualified(ticket.tier, ticket.skill)[0].name))

    def _misclassify(self, ticket: TicketView) -> tuple[int, str]:
        others = [i for i in self.org.scenario.issues if i.name != ticket.issue]
        if not others:
            return ticket.tier, ticket.skill
        total = sum(i.share for i in others)
        u, acc = ticket.rand[1] * total, 0.0
        for issue in others:
            acc += issue.share
            if u < acc:
                return issue.tier, issue.skill
        return others[-1].tier, others[-1].skill


register(SkillRouting, builtin=True)
