"""Agents learning: owners of swarms and writers of escalations become able to resolve more.

After an agent has owned ``learning.swarms_to_learn`` swarms on tickets of a
skill (or written ``escalations_to_learn`` escalations of that skill), they
can resolve every issue type of that skill up to ``learning.up_to_tier``.
Capability is per agent (``agent.can``, initially the team's) and only ever
grows.  A learned agent resolves such tickets themselves when they take them;
helpers for other people's swarms are still chosen by team qualification.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .features import Feature

if TYPE_CHECKING:
    from ..models.agents import Agent
    from ..models.tickets import Ticket
    from ..scenario import Scenario


class Learning(Feature):
    """Mechanics of the ``learning`` block (moments: handoff_decided, swarm_finished)."""

    name = "learning"
    uses = frozenset({"scn", "env", "agents"})

    @classmethod
    def wanted(cls, scenario: "Scenario") -> bool:
        return scenario.learning is not None

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        spec = engine.scn.learning
        self.swarms = spec.swarms_to_learn
        self.escalations = spec.escalations_to_learn
        self.up_to = spec.up_to_tier
        #: (time_min, agent_id, team, skill, up_to_tier, how) for every skill an agent learned
        self.learned: list[tuple] = []
        for agent in engine.agents:
            agent.learn = {}

    def handoff_decided(self, agent: "Agent", t: "Ticket") -> None:
        if self.escalations:
            self._learn_from(agent, t, "escalation", self.escalations)

    def swarm_finished(self, owner: "Agent", t: "Ticket") -> None:
        if self.swarms:
            self._learn_from(owner, t, "swarm", self.swarms)

    def _learn_from(self, agent: "Agent", t: "Ticket", how: str, needed: int) -> None:
        key = (how, t.skill)
        seen = agent.learn.get(key, 0) + 1
        agent.learn[key] = seen
        if seen != needed:
            return
        up_to = self.up_to
        new = [can or (iss.skill == t.skill and iss.tier <= up_to)
               for can, iss in zip(agent.can, self.engine.scn.issues)]
        if new != agent.can:
            agent.can = new                      # a new list: the team's stays untouched
            self.learned.append((self.engine.env.now, agent.id, agent.team.name, t.skill, up_to, how))

    def result(self) -> dict[str, Any]:
        return {"learned": self.learned}
